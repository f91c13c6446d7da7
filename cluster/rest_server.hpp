#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <caf/expected.hpp>

#include "cluster/rest_api.hpp"

namespace httplib {
class Server;
}

namespace weir {

/// Serves a rest_api over HTTP (cpp-httplib) on its own threads. Bodies
/// larger than the limit are refused with 413 before they are read; only
/// the API's paths exist (nothing maps onto the filesystem).
class rest_server {
public:
  /// What answers each request; called from the server's threads.
  using handler_fn = std::function<http_response(const http_request&)>;

  /// Binds `address`:`port` (0: any free port) and starts serving.
  static caf::expected<std::unique_ptr<rest_server>>
  start(std::shared_ptr<rest_api> api, const std::string& address,
        uint16_t port, uint64_t max_body);

  /// The same for any handler; `setting` names the port's config key in
  /// errors ("metrics.reporter.prom.port 9249 on 127.0.0.1: ...").
  static caf::expected<std::unique_ptr<rest_server>>
  start(handler_fn handler, const std::string& address, uint16_t port,
        uint64_t max_body, const std::string& setting);

  ~rest_server();

  uint16_t port() const {
    return port_;
  }

  /// Stops accepting and joins the server thread; idempotent.
  void stop();

private:
  rest_server() = default;

  handler_fn handler_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
};

} // namespace weir
