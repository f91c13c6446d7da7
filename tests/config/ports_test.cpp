#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/error.hpp"
#include "config/ports.hpp"

using namespace weir;

namespace {

/// A TCP socket on 127.0.0.1 at a port the kernel picks, listening unless
/// told otherwise; closed on destruction.
class socket_on_loopback {
public:
  explicit socket_on_loopback(bool listening = true) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0)
      throw std::runtime_error("socket failed");
    int on = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
      throw std::runtime_error("bind failed");
    if (listening && listen(fd_, 4) != 0)
      throw std::runtime_error("listen failed");
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }

  ~socket_on_loopback() {
    close();
  }

  socket_on_loopback(const socket_on_loopback&) = delete;
  socket_on_loopback& operator=(const socket_on_loopback&) = delete;

  uint16_t port() const {
    return port_;
  }

  int fd() const {
    return fd_;
  }

  void close() {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
  }

private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

int connect_to(uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    throw std::runtime_error("connect failed");
  return fd;
}

} // namespace

TEST_CASE("a port with a listening socket is in use until it closes") {
  socket_on_loopback server;
  auto err = check_port_free("rest.port", "127.0.0.1", server.port());
  CHECK(error_text(err)
        == "rest.port " + std::to_string(server.port())
             + " on 127.0.0.1 is in use");
  server.close();
  CHECK_MESSAGE(
    !check_port_free("rest.port", "127.0.0.1", server.port()),
    error_text(check_port_free("rest.port", "127.0.0.1", server.port())));
}

TEST_CASE("port 0 stands for any free port and always passes") {
  CHECK(!check_port_free("taskmanager.rpc.port", "127.0.0.1", 0));
}

TEST_CASE("a port left in TIME_WAIT by a previous server counts as free") {
  socket_on_loopback server;
  auto port = server.port();
  int client = connect_to(port);
  int accepted = accept(server.fd(), nullptr, nullptr);
  REQUIRE(accepted >= 0);
  // The server closes first, so its side of the connection (on `port`)
  // ends in TIME_WAIT, as after a JobManager is stopped and restarted.
  ::close(accepted);
  ::close(client);
  server.close();
  auto err = check_port_free("jobmanager.rpc.port", "127.0.0.1", port);
  CHECK_MESSAGE(!err, error_text(err));
}

TEST_CASE("an address the host does not have is an error naming the key") {
  auto err = check_port_free("rest.port", "192.0.2.1", 8081);
  CHECK(error_text(err)
        == "rest.port 8081 on 192.0.2.1: cannot bind: Cannot assign "
           "requested address");
}

TEST_CASE("each process checks its own ports") {
  socket_on_loopback taken;
  cluster_config cfg;
  cfg.jobmanager_port = taken.port();
  cfg.rest_port = 0;
  CHECK(error_text(check_jobmanager_ports(cfg))
        == "jobmanager.rpc.port " + std::to_string(taken.port())
             + " on 127.0.0.1 is in use");
  CHECK(!check_taskmanager_ports(cfg));
  cfg.taskmanager_port = taken.port();
  CHECK(error_text(check_taskmanager_ports(cfg))
        == "taskmanager.rpc.port " + std::to_string(taken.port())
             + " on 127.0.0.1 is in use");
  cfg.jobmanager_port = 0;
  cfg.rest_port = taken.port();
  CHECK(error_text(check_jobmanager_ports(cfg))
        == "rest.port " + std::to_string(taken.port())
             + " on 127.0.0.1 is in use");
}
