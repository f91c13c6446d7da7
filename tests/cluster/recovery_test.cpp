// A job with checkpoints and the exactly-once file sink on a real cluster
// (a JobManager and three TaskManagers, each its own process) survives a
// TaskManager killed with SIGKILL or stopped with SIGSTOP: it restarts from
// its last completed checkpoint on the remaining slots and its committed
// output is identical to a failure-free run's.

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "cluster/cluster_fixture.hpp"

using namespace weir::test;

namespace {

constexpr int buckets = 100;
constexpr int count = 20000;

std::string library() {
  return WEIR_EXAMPLE_LIBRARY;
}

/// What the job must commit: "b,1" ... "b,n" for each bucket b.
std::vector<std::string> expected_output() {
  std::vector<std::string> out;
  for (int b = 0; b < buckets; ++b)
    for (int k = 1; k <= count / buckets; ++k)
      out.push_back(std::to_string(b) + "," + std::to_string(k));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> sorted_lines(const std::string& dir) {
  if (!std::filesystem::exists(dir))
    return {};
  auto lines = read_lines(dir);
  std::sort(lines.begin(), lines.end());
  return lines;
}

/// `weir run -m` of examples/library/bucket_count.pbtxt, attached: 20000
/// values at 4000/s, about five seconds.
std::vector<std::string> run_args(const test_cluster& c, const std::string& out,
                                  const std::string& checkpoints,
                                  int rate = 4000) {
  return {"run",       "-m",
          c.address(), source_file("examples/library/bucket_count.pbtxt"),
          "--param",   "library=" + library(),
          "--param",   "output=" + out,
          "--param",   "checkpoints=" + checkpoints,
          "--param",   "count=" + std::to_string(count),
          "--param",   "rate=" + std::to_string(rate),
          "--param",   "buckets=" + std::to_string(buckets)};
}

std::string job_id_of(const std::string& err) {
  auto at = err.find("' (");
  REQUIRE(at != std::string::npos);
  return err.substr(at + 3, 32);
}

/// Waits until the job runs with at least one completed checkpoint; then
/// returns the index of a TaskManager hosting one of its subtasks.
size_t victim(test_cluster& c, const std::string& job) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{30};
  while (std::chrono::steady_clock::now() < deadline) {
    auto cp = rest_get(c.rest_port(), "/jobs/" + job + "/checkpoints");
    if (cp.status == 200 && cp.body["counts"]["completed"].get<int>() >= 1)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  }
  auto j = rest_get(c.rest_port(), "/jobs/" + job);
  REQUIRE_EQ(j.status, 200);
  REQUIRE_EQ(j.body["checkpoints"]["completed"].get<int>() >= 1, true);
  auto host
    = j.body["vertices"][0]["subtasks"][0]["taskmanager-id"].get<std::string>();
  for (size_t i = 0; i < 3; ++i)
    if (c.task_manager_id(i) == host)
      return i;
  FAIL("subtask 0 runs on an unknown task manager " << host);
  return 0;
}

/// The times from `t0` to the first RESTARTING after it and to the RUNNING
/// after that, in ms, from the job's transitions.
std::pair<int64_t, int64_t> recovery_times(test_cluster& c,
                                           const std::string& job, int64_t t0) {
  auto j = rest_get(c.rest_port(), "/jobs/" + job);
  REQUIRE_EQ(j.status, 200);
  int64_t restarting = -1;
  int64_t running = -1;
  for (const auto& t : j.body["transitions"]) {
    auto at = t["timestamp"].get<int64_t>();
    auto state = t["state"].get<std::string>();
    if (restarting < 0 && state == "RESTARTING" && at >= t0)
      restarting = at;
    else if (restarting >= 0 && running < 0 && state == "RUNNING")
      running = at;
  }
  return {restarting < 0 ? -1 : restarting - t0,
          running < 0 ? -1 : running - t0};
}

/// Starts the cluster, runs the job once without failures, then again with
/// `sig` sent to a TaskManager mid-run; both outputs must be the expected
/// one. Returns the detection and recovery times.
void check_recovery(int sig, const std::vector<std::string>& settings) {
  test_cluster c{settings};
  for (int i = 0; i < 3; ++i)
    c.add_task_manager(2);
  auto clean = c.dir() / "clean";
  auto r0 = weir_process{run_args(c, clean, c.dir() / "chk-clean")}.wait();
  INFO("failure-free run: " << r0.err);
  REQUIRE_EQ(r0.exit_code, 0);
  auto reference = sorted_lines(clean);
  REQUIRE_EQ(reference, expected_output());

  auto out = c.dir() / "out";
  weir_process run{run_args(c, out, c.dir() / "chk")};
  REQUIRE(run.wait_for_stderr(") submitted to "));
  auto job = job_id_of(run.err());
  auto v = victim(c, job);
  auto t0 = wall_millis();
  c.task_manager(v).send(sig);
  auto r = run.wait();
  INFO("run: " << r.err);
  INFO("victim's log: " << c.task_manager(v).err());
  REQUIRE_FALSE(r.timed_out);
  CHECK_EQ(r.exit_code, 0);
  CHECK(contains(r.err, "RESTARTING"));
  CHECK(contains(r.err, "' FINISHED after "));
  auto [detected, running] = recovery_times(c, job, t0);
  MESSAGE("signal " << sig << " to task manager " << c.task_manager_id(v)
                    << ": RESTARTING after " << detected
                    << " ms, RUNNING again after " << running << " ms");
  CHECK_GE(detected, 0);
  CHECK_GE(running, detected);
  // The restart restored the latest completed checkpoint, and says so.
  auto cps = rest_get(c.rest_port(), "/jobs/" + job + "/checkpoints");
  REQUIRE_EQ(cps.status, 200);
  CHECK_EQ(cps.body["counts"]["restored"], 1);
  REQUIRE(cps.body["latest"]["restored"].is_object());
  CHECK_GE(cps.body["latest"]["restored"]["id"].get<int>(), 1);
  CHECK_EQ(cps.body["latest"]["restored"]["is_savepoint"], false);
  CHECK_EQ(cps.body["counts"]["in_progress"], 0);
  // Committed output: the same lines as the failure-free run, each once.
  CHECK_EQ(sorted_lines(out), reference);
  // The library travelled: each TaskManager with a task fetched it into
  // its own directory.
  size_t fetched = 0;
  for (size_t i = 0; i < 3; ++i)
    if (std::filesystem::exists(c.task_manager_blobs(i)))
      for (const auto& e :
           std::filesystem::directory_iterator{c.task_manager_blobs(i)})
        fetched += e.path().extension() == ".so" ? 1 : 0;
  CHECK_GE(fetched, 2);
  // Fetched by the task manager itself, without blocking it.
  auto now = rest_get(c.rest_port(), "/jobs/" + job);
  auto host = now.body["vertices"][0]["subtasks"][0]["taskmanager-id"];
  size_t runner = 3;
  for (size_t i = 0; i < 3; ++i)
    if (c.task_manager_id(i) == host)
      runner = i;
  REQUIRE_LT(runner, 3);
  CHECK(c.task_manager(runner).wait_for_stderr("fetched user library sha256-"));
  if (sig == SIGSTOP) {
    // Woken up, the TaskManager finds its JobManager gone silent, cancels
    // its tasks and registers again.
    c.task_manager(v).send(SIGCONT);
    CHECK(c.task_manager(v).wait_for_stderr("lost the JobManager"));
    CHECK(c.task_manager(v).wait_for_stderr(
      "registered 2 slots again after losing the JobManager"));
  }
}

} // namespace

TEST_CASE("a TaskManager killed with SIGKILL costs a restart, never data") {
  // The broken connection tells; heartbeats at their defaults.
  check_recovery(SIGKILL, {});
}

TEST_CASE("a TaskManager stopped with SIGSTOP is found by heartbeats and "
          "costs a restart, never data") {
  check_recovery(SIGSTOP,
                 {"heartbeat.interval=250ms", "heartbeat.timeout=1500ms"});
}

TEST_CASE("batches between TaskManagers may travel LZ4-compressed") {
  test_cluster c{{"taskmanager.network.compression=lz4"}};
  c.add_task_manager(2);
  c.add_task_manager(2);
  auto out = c.dir() / "out";
  auto r = weir_process{run_args(c, out, c.dir() / "chk", 40000)}.wait();
  INFO(r.err);
  REQUIRE_EQ(r.exit_code, 0);
  CHECK_EQ(sorted_lines(out), expected_output());
  // The job's subtasks were spread over both TaskManagers, so the hash
  // edge crossed between them.
  auto job = job_id_of(r.err);
  auto j = rest_get(c.rest_port(), "/jobs/" + job);
  std::set<std::string> hosts;
  for (const auto& v : j.body["vertices"])
    for (const auto& s : v["subtasks"])
      hosts.insert(s["taskmanager-id"].get<std::string>());
  CHECK_EQ(hosts.size(), 2);
}

TEST_CASE("a job whose only TaskManager dies waits for a new one and "
          "finishes exactly") {
  test_cluster c;
  c.add_task_manager(4);
  auto out = c.dir() / "out";
  weir_process run{run_args(c, out, c.dir() / "chk")};
  REQUIRE(run.wait_for_stderr(") submitted to "));
  auto job = job_id_of(run.err());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{30};
  while (std::chrono::steady_clock::now() < deadline
         && rest_get(c.rest_port(), "/jobs/" + job + "/checkpoints")
                .body["counts"]["completed"]
              == 0)
    std::this_thread::sleep_for(std::chrono::milliseconds{20});
  c.task_manager(0).send(SIGKILL);
  REQUIRE(c.wait_for_state(job, "RESTARTING"));
  // No slots anywhere: the restart waits (slot.request.timeout) instead of
  // failing the job; a TaskManager that registers now picks it up.
  c.add_task_manager(4);
  auto r = run.wait();
  INFO(r.err);
  REQUIRE_FALSE(r.timed_out);
  CHECK_EQ(r.exit_code, 0);
  CHECK_EQ(sorted_lines(out), expected_output());
  auto j = rest_get(c.rest_port(), "/jobs/" + job);
  CHECK_EQ(j.body["vertices"][0]["subtasks"][0]["taskmanager-id"],
           c.task_manager_id(1));
}
