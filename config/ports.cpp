#include "config/ports.hpp"

#include <cerrno>
#include <cstring>

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config/error.hpp"

namespace weir {

caf::error check_port_free(const std::string& key, const std::string& address,
                           uint16_t port) {
  if (port == 0)
    return caf::none;
  auto where = key + " " + std::to_string(port) + " on " + address;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  auto service = std::to_string(port);
  if (auto rc = getaddrinfo(address.c_str(), service.c_str(), &hints, &found);
      rc != 0)
    return make_error(config_errc::bad_value, where + ": cannot resolve '"
                                                + address
                                                + "': " + gai_strerror(rc));
  // Bind where the server would: the first address the name resolves to.
  int fd = socket(found->ai_family, found->ai_socktype, found->ai_protocol);
  if (fd < 0) {
    auto err = errno;
    freeaddrinfo(found);
    return make_error(config_errc::port_in_use,
                      where + ": cannot open a socket: " + std::strerror(err));
  }
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  auto rc = bind(fd, found->ai_addr, found->ai_addrlen);
  auto err = errno;
  close(fd);
  freeaddrinfo(found);
  if (rc == 0)
    return caf::none;
  if (err == EADDRINUSE)
    return make_error(config_errc::port_in_use, where + " is in use");
  return make_error(config_errc::port_in_use,
                    where + ": cannot bind: " + std::strerror(err));
}

caf::error check_jobmanager_ports(const cluster_config& cfg) {
  if (auto err = check_port_free("jobmanager.rpc.port", cfg.jobmanager_address,
                                 cfg.jobmanager_port))
    return err;
  return check_port_free("rest.port", cfg.rest_address, cfg.rest_port);
}

caf::error check_taskmanager_ports(const cluster_config& cfg) {
  return check_port_free("taskmanager.rpc.port", cfg.taskmanager_host,
                         cfg.taskmanager_port);
}

} // namespace weir
