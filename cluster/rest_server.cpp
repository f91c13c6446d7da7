#include "cluster/rest_server.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include <httplib.h>

#include "cluster/error.hpp"

namespace weir {

namespace {

void serve(const rest_server::handler_fn& api, const httplib::Request& req,
           httplib::Response& res) {
  http_request r;
  r.method = req.method;
  r.path = req.path;
  for (const auto& [k, v] : req.params)
    r.query[k] = v;
  r.body = req.body;
  auto out = api(r);
  res.status = out.status;
  res.set_content(out.body, out.content_type);
}

} // namespace

caf::expected<std::unique_ptr<rest_server>>
rest_server::start(std::shared_ptr<rest_api> api, const std::string& address,
                   uint16_t port, uint64_t max_body) {
  return start([api](const http_request& req) { return api->handle(req); },
               address, port, max_body, "rest.port");
}

caf::expected<std::unique_ptr<rest_server>>
rest_server::start(handler_fn fn, const std::string& address, uint16_t port,
                   uint64_t max_body, const std::string& setting) {
  std::unique_ptr<rest_server> srv{new rest_server};
  srv->handler_ = std::move(fn);
  srv->server_ = std::make_unique<httplib::Server>();
  auto& s = *srv->server_;
  s.set_payload_max_length(max_body);
  const auto* a = &srv->handler_;
  auto handler = [a](const httplib::Request& req, httplib::Response& res) {
    serve(*a, req, res);
  };
  // Before httplib reads a body: it enforces the size limit only through
  // Content-Length, so a chunked body is refused here, and a request with
  // no body announced at all (`curl -X PATCH .../jobs/ID?mode=cancel`) is
  // served at once instead of waiting for a body that never comes.
  s.set_pre_routing_handler(
    [a](const httplib::Request& req, httplib::Response& res) {
      using hr = httplib::Server::HandlerResponse;
      if (req.method == "GET" || req.method == "HEAD"
          || req.has_header("Content-Length"))
        return hr::Unhandled;
      if (req.get_header_value("Transfer-Encoding").find("chunked")
          != std::string::npos) {
        res.status = 411;
        res.set_content("{\"errors\":[\"chunked request bodies are not "
                        "accepted; send Content-Length\"]}",
                        "application/json");
        return hr::Handled;
      }
      serve(*a, req, res);
      return hr::Handled;
    });
  s.Get(".*", handler);
  s.Post(".*", handler);
  s.Patch(".*", handler);
  s.Put(".*", handler);
  s.Delete(".*", handler);
  s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    // Errors httplib raises itself (413 for a body over the limit, 400 for
    // a malformed request) get a JSON body like ours.
    if (!res.body.empty())
      return;
    std::string what = res.status == 413 ? "the request body exceeds "
                                           "rest.server.max-content-length"
                                         : "bad request (HTTP "
                                             + std::to_string(res.status) + ")";
    res.set_content("{\"errors\":[\"" + what + "\"]}", "application/json");
  });
  int bound = 0;
  if (port == 0)
    bound = s.bind_to_any_port(address);
  else
    bound = s.bind_to_port(address, port) ? port : -1;
  if (bound <= 0)
    return make_error(cluster_errc::cannot_listen,
                      setting + " " + std::to_string(port) + " on " + address
                        + ": cannot listen");
  srv->port_ = static_cast<uint16_t>(bound);
  auto ended = std::make_shared<std::atomic<bool>>(false);
  srv->thread_ = std::thread{[&s, ended] {
    s.listen_after_bind();
    *ended = true;
  }};
  // stop() only works on a running server: wait until it runs.
  while (!s.is_running() && !*ended)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  return srv;
}

rest_server::~rest_server() {
  stop();
}

void rest_server::stop() {
  if (server_)
    server_->stop();
  if (thread_.joinable())
    thread_.join();
}

} // namespace weir
