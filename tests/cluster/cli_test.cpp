// The `weir` CLI against a real JobManager: start-up errors of the node
// commands, the client commands, and refused submissions.

#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <thread>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include <doctest/doctest.h>

#include "cluster/cluster_fixture.hpp"

using namespace weir::test;

namespace {

size_t count_lines(const std::string& s) {
  size_t n = 0;
  for (char c : s)
    n += c == '\n' ? 1 : 0;
  return n;
}

/// A socket listening on 127.0.0.1:port until destroyed.
class listener {
public:
  explicit listener(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    REQUIRE_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)),
               0);
    REQUIRE_EQ(::listen(fd_, 1), 0);
  }
  ~listener() {
    ::close(fd_);
  }

private:
  int fd_ = -1;
};

std::string trim_line(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
    s.pop_back();
  return s;
}

} // namespace

TEST_CASE("an unreachable JobManager is a one-line error, exit 3") {
  auto port = std::to_string(free_port());
  for (auto args : std::vector<std::vector<std::string>>{
         {"list", "-m", "127.0.0.1:" + port},
         {"info", "0123456789abcdef0123456789abcdef", "-m",
          "127.0.0.1:" + port},
         {"run", "-m", "127.0.0.1:" + port, job_fixture("unbounded.pbtxt")}}) {
    auto r = run_weir(args);
    INFO(args[0] << ": " << r.err);
    CHECK_FALSE(r.timed_out);
    CHECK_EQ(r.exit_code, 3);
    CHECK_EQ(count_lines(r.err), 1);
    CHECK(contains(
      r.err, "cannot reach the JobManager at http://127.0.0.1:" + port + "/"));
  }
}

TEST_CASE("a JobManager whose port is in use exits 1 naming the key") {
  temp_dir dir;
  auto busy = free_port();
  listener l{busy};
  auto r = run_weir({"jobmanager", "-D", "log.dir=" + (dir / "log"), "-D",
                     "jobmanager.rpc.port=" + std::to_string(free_port()), "-D",
                     "rest.port=" + std::to_string(busy)});
  INFO(r.err);
  CHECK_EQ(r.exit_code, 1);
  CHECK(contains(r.err, "rest.port " + std::to_string(busy)
                          + " on 127.0.0.1 is in use"));
  auto t = run_weir({"taskmanager", "-D", "log.dir=", "-D",
                     "taskmanager.rpc.port=" + std::to_string(busy)});
  INFO(t.err);
  CHECK_EQ(t.exit_code, 1);
  CHECK(contains(t.err, "taskmanager.rpc.port " + std::to_string(busy)
                          + " on 127.0.0.1 is in use"));
}

TEST_CASE("an unknown key or a wrong value stops a node at start-up") {
  temp_dir dir;
  auto file = dir.write("cluster.yaml", "rest.port: 8081\n"
                                        "jobmanager.rpc.prot: 6123\n");
  auto r = run_weir({"jobmanager", "--config", file});
  CHECK_EQ(r.exit_code, 2);
  CHECK_EQ(trim_line(r.err),
           "weir jobmanager: error: " + file
             + ":2: unknown key 'jobmanager.rpc.prot'; did you mean "
               "'jobmanager.rpc.port'?");
  auto t = run_weir({"taskmanager", "--slots", "many"});
  CHECK_EQ(t.exit_code, 2);
  CHECK(contains(t.err, "weir taskmanager: error: "));
  auto s = run_weir({"taskmanager", "--slots", "0"});
  CHECK_EQ(s.exit_code, 2);
  CHECK(contains(s.err, "taskmanager.numberOfTaskSlots"));
}

TEST_CASE("list, info, savepoint, stop, run --from-savepoint and cancel on a "
          "cluster") {
  test_cluster c;
  c.add_task_manager(2);
  auto m = c.address();
  auto submitted
    = run_weir({"run", "-m", m, "--detached", job_fixture("unbounded.pbtxt")});
  INFO(submitted.err);
  REQUIRE_EQ(submitted.exit_code, 0);
  auto id = trim_line(submitted.out);
  REQUIRE_EQ(id.size(), 32);
  REQUIRE(c.wait_for_state(id, "RUNNING"));

  auto list = run_weir({"list", "-m", m});
  CHECK_EQ(list.exit_code, 0);
  CHECK(contains(list.out, id));
  CHECK(contains(list.out, "RUNNING"));
  CHECK(contains(list.out, "unbounded"));

  auto info = run_weir({"info", id, "-m", m});
  CHECK_EQ(info.exit_code, 0);
  CHECK(contains(info.out, "state:     RUNNING"));
  CHECK(contains(info.out, c.task_manager_id(0)));

  auto sp = run_weir({"savepoint", id, c.dir() / "sp", "-m", m});
  INFO(sp.err);
  CHECK_EQ(sp.exit_code, 0);
  CHECK(contains(trim_line(sp.out), c.dir() / "sp"));
  CHECK(c.wait_for_state(id, "RUNNING", std::chrono::seconds{1}));

  auto stop
    = run_weir({"stop", id, "--savepoint-dir", c.dir() / "stop", "-m", m});
  INFO(stop.err);
  REQUIRE_EQ(stop.exit_code, 0);
  auto path = trim_line(stop.out);
  CHECK(contains(path, c.dir() / "stop"));
  CHECK(c.wait_for_state(id, "FINISHED"));

  auto resumed = run_weir({"run", "-m", m, "-d", "--from-savepoint", path,
                           job_fixture("unbounded.pbtxt")});
  INFO(resumed.err);
  REQUIRE_EQ(resumed.exit_code, 0);
  auto id2 = trim_line(resumed.out);
  CHECK(c.wait_for_state(id2, "RUNNING"));

  auto cancel = run_weir({"cancel", id2, "-m", m});
  CHECK_EQ(cancel.exit_code, 0);
  CHECK_EQ(trim_line(cancel.out), "job " + id2 + " CANCELED");

  auto unknown
    = run_weir({"info", "0123456789abcdef0123456789abcdef", "-m", m});
  CHECK_EQ(unknown.exit_code, 1);
  CHECK(contains(unknown.err, "0123456789abcdef0123456789abcdef"));
}

TEST_CASE("a refused submission names what is wrong and exits 2") {
  test_cluster c;
  auto m = c.address();
  auto unknown
    = run_weir({"run", "-m", m, job_fixture("unknown_operator.pbtxt")});
  INFO(unknown.err);
  CHECK_EQ(unknown.exit_code, 2);
  CHECK(contains(unknown.err, "weir: error: job rejected: "));
  CHECK(contains(unknown.err, "unknown operator"));

  temp_dir dir;
  auto not_elf = dir.write("libbroken.so", "not a library");
  auto job
    = dir.write("job.pbtxt", "name: \"j\"\n"
                             "library: \"libbroken.so\"\n"
                             "vertices { id: \"a\" operator: \"sequence\" }\n"
                             "vertices { id: \"b\" operator: \"discard\" }\n"
                             "edges { from: \"a\" to: \"b\" }\n");
  auto broken = run_weir({"run", "-m", m, job});
  INFO(broken.err);
  CHECK_EQ(broken.exit_code, 2);
  CHECK(contains(broken.err, "libbroken.so refused: the uploaded file is not "
                             "a shared library (ELF)"));

  // A real library that lacks the operator the job names.
  auto lacking
    = dir.write("lacking.pbtxt",
                std::string{"name: \"j\"\nlibrary: \""} + WEIR_EXAMPLE_LIBRARY
                  + "\"\n"
                    "vertices { id: \"a\" operator: \"sequence\" }\n"
                    "vertices { id: \"b\" operator: \"no_such_op\" }\n"
                    "vertices { id: \"c\" operator: \"discard\" }\n"
                    "edges { from: \"a\" to: \"b\" }\n"
                    "edges { from: \"b\" to: \"c\" }\n");
  auto r = run_weir({"run", "-m", m, lacking});
  INFO(r.err);
  CHECK_EQ(r.exit_code, 2);
  CHECK(contains(r.err, "no_such_op"));
}

TEST_CASE("examples/cluster/cluster.sh starts and stops a cluster") {
  temp_dir dir;
  auto rest = std::to_string(free_port());
  auto env = "WEIR=" + weir_binary() + " RUN_DIR=" + (dir / "run") + " ";
  auto script = source_file("examples/cluster/cluster.sh");
  // Free ports instead of the file's fixed ones; both TaskManagers pick
  // their own.
  auto settings = " -D rest.port=" + rest
                  + " -D jobmanager.rpc.port=" + std::to_string(free_port())
                  + " -D taskmanager.rpc.port=0 -D log.dir=" + (dir / "log")
                  + " -D blob.storage.directory=" + (dir / "blobs") + " > "
                  + (dir / "start.out") + " 2>&1";
  REQUIRE_EQ(std::system((env + script + " start" + settings).c_str()), 0);
  auto overview = rest_get(static_cast<uint16_t>(std::stoi(rest)), "/overview");
  CHECK_EQ(overview.status, 200);
  CHECK_EQ(overview.body["taskmanagers"], 2);
  CHECK_EQ(overview.body["slots-total"], 4);
  CHECK_EQ(
    std::system(
      (env + script + " stop > " + (dir / "stop.out") + " 2>&1").c_str()),
    0);
  auto after = rest_get(static_cast<uint16_t>(std::stoi(rest)), "/overview");
  CHECK_EQ(after.status, 0);
  std::ifstream status{dir / "stop.out"};
  std::string text{std::istreambuf_iterator<char>{status}, {}};
  CHECK(contains(text, "stopped jobmanager"));
}

TEST_CASE("a JobManager stops on SIGTERM while a checkpointed job runs, and "
          "its TaskManager keeps trying to reconnect") {
  test_cluster c{{"execution.checkpointing.interval=100ms"}};
  c.add_task_manager(2);
  auto submitted = run_weir(
    {"run", "-m", c.address(), "-d", job_fixture("unbounded.pbtxt")});
  REQUIRE_EQ(submitted.exit_code, 0);
  auto id = trim_line(submitted.out);
  REQUIRE(c.wait_for_state(id, "RUNNING"));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{10};
  while (std::chrono::steady_clock::now() < deadline
         && rest_get(c.rest_port(), "/jobs/" + id + "/checkpoints")
                .body["counts"]["completed"]
              == 0)
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  c.jobmanager().send(SIGTERM);
  auto r = c.jobmanager().wait();
  INFO(r.err);
  CHECK_FALSE(r.timed_out);
  CHECK_EQ(r.exit_code, 0);
  CHECK(contains(r.err, "JobManager stopped"));
  CHECK(c.task_manager(0).wait_for_stderr("lost the JobManager"));
  CHECK(c.task_manager(0).wait_for_stderr("retrying in"));
}
