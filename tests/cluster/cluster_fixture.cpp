#include "cluster/cluster_fixture.hpp"

#include <arpa/inet.h>
#include <csignal>
#include <netinet/in.h>
#include <stdexcept>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <httplib.h>

namespace weir::test {

namespace {

/// Node processes live as long as a test; a stuck one still dies.
constexpr std::chrono::seconds node_deadline{170};

/// A server may close a connection while a request is still being written
/// (413 before the body is read): a write error, not a dead test process.
const bool sigpipe_ignored = [] {
  std::signal(SIGPIPE, SIG_IGN);
  return true;
}();

} // namespace

uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    throw std::runtime_error("bind() failed");
  }
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

int64_t wall_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

namespace {

rest_answer wrap(httplib::Result res) {
  rest_answer a;
  if (!res)
    return a;
  a.status = res->status;
  try {
    a.body = nlohmann::json::parse(res->body);
  } catch (const nlohmann::json::exception&) {
    a.body = res->body;
  }
  return a;
}

httplib::Client client(uint16_t port) {
  httplib::Client c{"127.0.0.1", port};
  c.set_connection_timeout(std::chrono::seconds{2});
  c.set_read_timeout(std::chrono::seconds{20});
  return c;
}

} // namespace

rest_answer rest_get(uint16_t port, const std::string& path) {
  auto c = client(port);
  return wrap(c.Get(path.c_str()));
}

rest_answer rest_post(uint16_t port, const std::string& path,
                      const std::string& body, const std::string& type) {
  auto c = client(port);
  return wrap(c.Post(path.c_str(), body, type.c_str()));
}

test_cluster::test_cluster(const std::vector<std::string>& settings)
  : settings_(settings) {
  rpc_port_ = free_port();
  rest_port_ = free_port();
  metrics_port_ = free_port();
  std::vector<std::string> args{"jobmanager"};
  for (const auto& kv : common())
    args.insert(args.end(), {"-D", kv});
  args.insert(args.end(),
              {"-D", "rest.port=" + std::to_string(rest_port_), "-D",
               "metrics.reporter.prom.port=" + std::to_string(metrics_port_),
               "-D", "blob.storage.directory=" + (dir_ / "blobs-jobmanager")});
  for (const auto& kv : settings_)
    args.insert(args.end(), {"-D", kv});
  jm_ = std::make_unique<weir_process>(args, node_deadline);
  if (!jm_->wait_for_stderr("JobManager (Weir "))
    throw std::runtime_error("the JobManager did not start: " + jm_->err());
}

std::vector<std::string> test_cluster::common() const {
  return {"jobmanager.rpc.address=127.0.0.1",
          "jobmanager.rpc.port=" + std::to_string(rpc_port_),
          "taskmanager.host=127.0.0.1",
          "log.dir=" + (dir_ / "log"),
          "state.checkpoints.dir=" + (dir_ / "checkpoints"),
          "state.savepoints.dir=" + (dir_ / "savepoints")};
}

size_t
test_cluster::add_task_manager(uint32_t slots,
                               const std::vector<std::string>& settings) {
  auto i = tms_.size();
  auto port = free_port();
  std::vector<std::string> args{"taskmanager"};
  for (const auto& kv : common())
    args.insert(args.end(), {"-D", kv});
  args.insert(args.end(),
              {"-D", "taskmanager.rpc.port=" + std::to_string(port), "-D",
               "taskmanager.numberOfTaskSlots=" + std::to_string(slots), "-D",
               "blob.storage.directory=" + task_manager_blobs(i)});
  for (const auto& kv : settings_)
    args.insert(args.end(), {"-D", kv});
  for (const auto& kv : settings)
    args.insert(args.end(), {"-D", kv});
  tms_.push_back(std::make_unique<weir_process>(args, node_deadline));
  tm_ports_.push_back(port);
  if (!tms_.back()->wait_for_stderr(" registered "))
    throw std::runtime_error("TaskManager " + std::to_string(i)
                             + " did not register: " + tms_.back()->err());
  return i;
}

std::string test_cluster::task_manager_id(size_t i) const {
  return "127.0.0.1:" + std::to_string(tm_ports_.at(i));
}

std::string test_cluster::address() const {
  return "127.0.0.1:" + std::to_string(rest_port_);
}

std::string test_cluster::task_manager_blobs(size_t i) const {
  return dir_ / ("blobs-taskmanager-" + std::to_string(i));
}

bool test_cluster::wait_for_state(const std::string& job,
                                  const std::string& state,
                                  std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto a = rest_get(rest_port_, "/jobs/" + job);
    if (a.status == 200 && a.body.value("state", "") == state)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
  return false;
}

} // namespace weir::test
