#pragma once

// A small W3C WebDriver client for the dashboard tests: it starts Debian's
// chromedriver on a free port of 127.0.0.1, opens one headless Chromium
// session, and speaks JSON over HTTP to it. Every call has a deadline; a
// failing call throws std::runtime_error with WebDriver's own message.

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/weir_process.hpp"
#include "support/temp_dir.hpp"

namespace weir::test {

/// Where Debian's packages put the browser and its driver.
constexpr const char* chromium_binary = "/usr/bin/chromium";
constexpr const char* chromedriver_binary = "/usr/bin/chromedriver";

/// One headless Chromium, driven through chromedriver; both end with it.
class browser {
public:
  /// Starts chromedriver and a session with a window of `width` x
  /// `height` CSS pixels; throws if either does not come up.
  browser(int width = 1440, int height = 1000);

  ~browser();

  browser(const browser&) = delete;
  browser& operator=(const browser&) = delete;

  /// Loads `url` (returns once the page's load event fired).
  void open(const std::string& url);

  /// Runs `script` (a function body: `return ...;`) in the page; returns
  /// its result.
  nlohmann::json run(const std::string& script,
                     const nlohmann::json& args = nlohmann::json::array());

  /// Polls `script` until it returns true (true) or `timeout` passes
  /// (false).
  bool wait_until(const std::string& script,
                  std::chrono::milliseconds timeout = std::chrono::seconds{20});

  /// Clicks the first element matching CSS `selector` as a user would
  /// (WebDriver's element click: scrolled into view, hit-tested).
  void click(const std::string& selector);

  /// Saves a PNG of the whole page (the window grown to the page's
  /// height, then restored) to `path`.
  void screenshot(const std::string& path);

private:
  nlohmann::json call(const std::string& method, const std::string& path,
                      const nlohmann::json& body = nullptr);

  temp_dir dir_;
  uint16_t port_ = 0;
  std::unique_ptr<weir_process> driver_;
  std::string session_;
  int width_;
  int height_;
};

/// Decodes standard base64 (WebDriver's screenshots).
std::string decode_base64(const std::string& text);

/// Where tests leave files for people to look at: the build tree's
/// test-artifacts/<name>/ (created).
std::string artifact_dir(const std::string& name);

} // namespace weir::test
