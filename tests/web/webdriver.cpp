#include "web/webdriver.hpp"

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include <httplib.h>
#include <openssl/evp.h>

#include "cluster/cluster_fixture.hpp"

namespace weir::test {

namespace {

/// WebDriver's key for element references.
constexpr const char* element_key = "element-6066-11e4-a52e-4f735466cecf";

std::string shell_quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
  return out + "'";
}

} // namespace

browser::browser(int width, int height) : width_(width), height_(height) {
  for (const char* binary : {chromium_binary, chromedriver_binary})
    if (!std::filesystem::exists(binary))
      throw std::runtime_error(std::string{binary}
                               + " is missing: scripts/install-deps.sh "
                                 "installs chromium and chromium-driver");
  port_ = free_port();
  // chromedriver and the browser it starts write their logs to a file: a
  // pipe nobody reads could fill up and stall them.
  auto log = dir_ / "chromedriver.log";
  driver_ = std::make_unique<weir_process>(
    program_path{"/bin/sh"},
    std::vector<std::string>{"-c", "exec " + std::string{chromedriver_binary}
                                     + " --port=" + std::to_string(port_)
                                     + " --allowed-ips=127.0.0.1" + " >"
                                     + shell_quoted(log) + " 2>&1"},
    std::chrono::minutes{5});
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{20};
  for (;;) {
    httplib::Client c{"127.0.0.1", port_};
    c.set_connection_timeout(std::chrono::seconds{1});
    auto res = c.Get("/status");
    if (res && res->status == 200
        && nlohmann::json::parse(res->body, nullptr, false)["value"]["ready"]
             == true)
      break;
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("chromedriver did not start on port "
                               + std::to_string(port_));
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
  // As root in a container: no sandbox. No background networking: the
  // machine may have no route out, and the test needs none.
  nlohmann::json args
    = {"--headless=new",
       "--no-sandbox",
       "--disable-gpu",
       "--disable-dev-shm-usage",
       "--disable-background-networking",
       "--disable-component-update",
       "--disable-sync",
       "--disable-quic",
       "--no-first-run",
       "--hide-scrollbars",
       "--force-device-scale-factor=1",
       "--user-data-dir=" + (dir_ / "profile"),
       "--window-size=" + std::to_string(width) + "," + std::to_string(height)};
  nlohmann::json caps
    = {{"capabilities",
        {{"alwaysMatch",
          {{"browserName", "chrome"},
           {"goog:chromeOptions",
            {{"binary", chromium_binary}, {"args", args}}}}}}}};
  auto v = call("POST", "/session", caps);
  session_ = v.value("sessionId", "");
  if (session_.empty())
    throw std::runtime_error("no WebDriver session: " + v.dump());
}

browser::~browser() {
  if (!session_.empty()) {
    try {
      call("DELETE", "/session/" + session_);
    } catch (const std::exception&) {
      // The driver goes away below either way.
    }
  }
}

nlohmann::json browser::call(const std::string& method, const std::string& path,
                             const nlohmann::json& body) {
  httplib::Client c{"127.0.0.1", port_};
  c.set_connection_timeout(std::chrono::seconds{5});
  c.set_read_timeout(std::chrono::seconds{90});
  httplib::Result res{nullptr, httplib::Error::Unknown};
  auto text = body.is_null() ? std::string{"{}"} : body.dump();
  if (method == "GET")
    res = c.Get(path.c_str());
  else if (method == "DELETE")
    res = c.Delete(path.c_str());
  else
    res = c.Post(path.c_str(), text, "application/json");
  if (!res)
    throw std::runtime_error("WebDriver " + method + " " + path
                             + ": no answer from chromedriver");
  auto j = nlohmann::json::parse(res->body, nullptr, false);
  if (j.is_discarded() || !j.contains("value"))
    throw std::runtime_error("WebDriver " + method + " " + path
                             + ": not a WebDriver answer: " + res->body);
  const auto& v = j["value"];
  if (res->status != 200) {
    auto what = v.is_object()
                  ? v.value("error", "") + ": " + v.value("message", "")
                  : v.dump();
    throw std::runtime_error("WebDriver " + method + " " + path + ": " + what);
  }
  return v;
}

void browser::open(const std::string& url) {
  call("POST", "/session/" + session_ + "/url", {{"url", url}});
}

nlohmann::json browser::run(const std::string& script,
                            const nlohmann::json& args) {
  return call("POST", "/session/" + session_ + "/execute/sync",
              {{"script", script}, {"args", args}});
}

bool browser::wait_until(const std::string& script,
                         std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (run(script) == true)
      return true;
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
}

void browser::click(const std::string& selector) {
  // The dashboard redraws what changed on every refresh: an element found
  // just before a redraw is gone when the click comes. Find it again.
  for (int attempt = 1;; ++attempt) {
    try {
      auto e = call("POST", "/session/" + session_ + "/element",
                    {{"using", "css selector"}, {"value", selector}});
      auto id = e.value(element_key, "");
      // Into the middle of the window, clear of the page's sticky header.
      run("arguments[0].scrollIntoView({block: 'center', inline: 'center'});",
          nlohmann::json::array({e}));
      call("POST", "/session/" + session_ + "/element/" + id + "/click",
           nlohmann::json::object());
      return;
    } catch (const std::runtime_error& err) {
      std::string what = err.what();
      bool transient = what.find("stale element") != std::string::npos
                       || what.find("no such element") != std::string::npos
                       || what.find("click intercepted") != std::string::npos;
      if (attempt == 10 || !transient)
        throw;
      std::this_thread::sleep_for(std::chrono::milliseconds{100});
    }
  }
}

void browser::screenshot(const std::string& path) {
  auto rect = "/session/" + session_ + "/window/rect";
  auto height = run("return Math.ceil(document.documentElement"
                    ".getBoundingClientRect().height);");
  auto h = std::max(height_, height.is_number() ? height.get<int>() : 0);
  call("POST", rect, {{"width", width_}, {"height", h}});
  auto png = call("GET", "/session/" + session_ + "/screenshot");
  call("POST", rect, {{"width", width_}, {"height", height_}});
  std::ofstream out{path, std::ios::binary};
  out << decode_base64(png.get<std::string>());
  if (!out)
    throw std::runtime_error("cannot write " + path);
}

std::string decode_base64(const std::string& text) {
  std::string out(3 * (text.size() / 4) + 3, '\0');
  auto n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                           reinterpret_cast<const unsigned char*>(text.data()),
                           static_cast<int>(text.size()));
  if (n < 0)
    throw std::runtime_error("not base64");
  // EVP_DecodeBlock counts the padding as zero bytes.
  size_t pad = 0;
  for (auto i = text.rbegin(); i != text.rend() && *i == '='; ++i)
    ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string artifact_dir(const std::string& name) {
  const char* build = std::getenv("WEIR_BUILD_DIR");
  std::filesystem::path dir = build ? build : ".";
  dir = dir / "test-artifacts" / name;
  std::filesystem::create_directories(dir);
  return dir.string();
}

} // namespace weir::test
