// The metrics of a real cluster running an event-time job: per vertex,
// subtask and operator over REST with Flink's paths, checkpoint details per
// task, TaskManager metrics and log, and the Prometheus page, checked by
// Prometheus' own promtool.

#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include <doctest/doctest.h>
#include <httplib.h>

#include "cluster/cluster_fixture.hpp"

using namespace weir::test;
using json = nlohmann::json;

namespace {

/// Nexmark q5 (hot items) at a bounded rate, so that it runs until
/// cancelled: a chained source, a HASH exchange into a sliding window,
/// another into a tumbling one; checkpoints every 300 ms.
std::vector<std::string> q5_args(const test_cluster& c) {
  return {"run",
          "-m",
          c.address(),
          std::string{WEIR_SOURCE_DIR} + "/tests/cluster/jobs/hot_items.pbtxt",
          "--detached",
          "--param",
          "output=" + (c.dir() / "out"),
          "--param",
          "checkpoints=" + (c.dir() / "chk")};
}

/// Polls GET `path` until `ok` holds for its body (true) or 30 s pass.
bool wait_for(uint16_t port, const std::string& path,
              const std::function<bool(const json&)>& ok, json& last) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{30};
  while (std::chrono::steady_clock::now() < deadline) {
    auto a = rest_get(port, path);
    if (a.status == 200) {
      last = a.body;
      if (ok(a.body))
        return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  return false;
}

double number(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : -1;
}

/// Runs `promtool check metrics` on `page`; returns its exit status and
/// output.
std::pair<int, std::string> promtool_check(const temp_dir& dir,
                                           const std::string& page) {
  auto file = dir / "metrics.txt";
  std::ofstream{file} << page;
  auto cmd = "promtool check metrics < '" + file + "' 2>&1";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[512];
  while (auto n = fread(buf, 1, sizeof(buf), p))
    out.append(buf, n);
  int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

} // namespace

TEST_CASE("a running job's metrics are served per vertex, subtask, operator "
          "and checkpoint, and as Prometheus text") {
  test_cluster c{{"web.cancel.enable=false", "web.refresh-interval=1s"}};
  c.add_task_manager(2);
  c.add_task_manager(2);
  auto port = c.rest_port();
  weir_process submit{q5_args(c)};
  auto r = submit.wait();
  INFO("submit: " << r.err);
  REQUIRE_EQ(r.exit_code, 0);
  auto id = r.out.substr(0, 32);
  REQUIRE(c.wait_for_state(id, "RUNNING"));

  // Every vertex reports rates once a window of running time passed.
  json job;
  bool rates = wait_for(
    port, "/jobs/" + id,
    [](const json& j) {
      // Records through every vertex, and watermarks through both
      // exchanges.
      for (const auto& v : j["vertices"])
        if (v["metrics"].is_null()
            || (number(v["metrics"], "read-records") <= 0
                && number(v["metrics"], "write-records") <= 0)
            || !v["metrics"]["output-watermark"].is_number())
          return false;
      return number(j["vertices"][0]["metrics"], "write-records-per-second")
             > 0;
    },
    job);
  INFO("job: " << job.dump(1));
  REQUIRE(rates);
  // events -> bids -> project, counts, hottest -> result -> out.
  REQUIRE_EQ(job["vertices"].size(), 3);
  REQUIRE_EQ(job["edges"].size(), 2);
  CHECK_EQ(job["edges"][0]["ship_strategy"], "HASH");
  CHECK_EQ(job["edges"][0]["keys"], json{"bid_auction"});
  CHECK_EQ(job["edges"][1]["keys"], json{"window_end"});
  for (const auto& v : job["vertices"]) {
    CHECK_EQ(v["parallelism"], 2);
    const auto& m = v["metrics"];
    // Flink's time accounting: at most a second per second, in total.
    auto bp = number(m, "backPressuredTimeMsPerSecond");
    auto busy = number(m, "busyTimeMsPerSecond");
    auto idle = number(m, "idleTimeMsPerSecond");
    CHECK_GE(bp, 0);
    CHECK_GE(busy, 0);
    CHECK_GE(idle, 0);
    CHECK_LE(bp, 1000);
    CHECK_LE(busy, 1000);
    std::string level = m["backpressure-level"];
    CHECK_EQ(level, bp <= 100 ? "ok" : bp <= 500 ? "low" : "high");
    CHECK(m["output-watermark"].is_number());
    CHECK_GE(number(m, "batches-in-flight"), 0);
  }
  // The source chain emits about as much as the window reads.
  const auto& src = job["vertices"][0];
  CHECK_EQ(number(src["metrics"], "read-records"), 0);
  CHECK_GT(number(src["metrics"], "write-records"), 0);
  CHECK_GT(number(src["metrics"], "write-bytes"), 0);
  CHECK(src["metrics"]["input-watermark"].is_null());
  CHECK(job["vertices"][1]["metrics"]["input-watermark"].is_number());
  // Per operator of the chain: each reads what the previous one wrote,
  // the filter keeps only bids.
  const auto& ops = src["operator-metrics"];
  REQUIRE_EQ(ops.size(), 3);
  CHECK_EQ(ops[0]["name"], "events (nexmark)");
  CHECK_EQ(ops[1]["name"], "bids (filter)");
  CHECK_EQ(ops[1]["read-records"], ops[0]["write-records"]);
  CHECK_EQ(ops[2]["read-records"], ops[1]["write-records"]);
  CHECK_LT(ops[1]["write-records"].get<double>(),
           ops[1]["read-records"].get<double>());
  // Their rates likewise: the source emits more than the filter passes.
  CHECK_GT(number(ops[0], "write-records-per-second"), 0);
  CHECK_EQ(number(ops[1], "read-records-per-second"),
           number(ops[0], "write-records-per-second"));
  CHECK_LT(number(ops[1], "write-records-per-second"),
           number(ops[1], "read-records-per-second"));

  // One vertex, its backpressure and its watermarks, per subtask.
  auto vertex = rest_get(port, "/jobs/" + id + "/vertices/1");
  REQUIRE_EQ(vertex.status, 200);
  CHECK_EQ(vertex.body["name"], "counts");
  REQUIRE_EQ(vertex.body["subtasks"].size(), 2);
  std::set<std::string> hosts;
  for (const auto& s : vertex.body["subtasks"]) {
    CHECK(s["metrics"].is_object());
    hosts.insert(s["taskmanager-id"].get<std::string>());
  }
  // Spread over both TaskManagers.
  CHECK_EQ(hosts.size(), 2);
  auto bp = rest_get(port, "/jobs/" + id + "/vertices/0/backpressure");
  REQUIRE_EQ(bp.status, 200);
  CHECK_EQ(bp.body["status"], "ok");
  REQUIRE_EQ(bp.body["subtasks"].size(), 2);
  for (const auto& s : bp.body["subtasks"]) {
    auto total = s["ratio"].get<double>() + s["busyRatio"].get<double>()
                 + s["idleRatio"].get<double>();
    CHECK_EQ(total, doctest::Approx(1.0).epsilon(0.01));
  }
  auto wms = rest_get(port, "/jobs/" + id + "/vertices/2/watermarks");
  REQUIRE_EQ(wms.status, 200);
  REQUIRE_EQ(wms.body.size(), 4);
  CHECK_EQ(wms.body[0]["id"], "0.currentInputWatermark");
  CHECK_NE(wms.body[0]["value"], std::to_string(INT64_MIN));
  CHECK_EQ(rest_get(port, "/jobs/" + id + "/vertices/7").status, 404);
  CHECK_EQ(rest_get(port, "/jobs/" + id + "/vertices/0/flamegraph").status,
           404);

  // Checkpoints: history, and the details of one per task and subtask.
  json cps;
  REQUIRE(wait_for(
    port, "/jobs/" + id + "/checkpoints",
    [](const json& j) { return j["counts"]["completed"].get<int>() >= 2; },
    cps));
  CHECK(cps["latest"]["restored"].is_null());
  CHECK_EQ(cps["counts"]["restored"], 0);
  CHECK_LE(cps["counts"]["in_progress"].get<int>(), 1);
  auto latest = cps["latest"]["completed"];
  auto cid = std::to_string(latest["id"].get<uint64_t>());
  auto details = rest_get(port, "/jobs/" + id + "/checkpoints/details/" + cid);
  REQUIRE_EQ(details.status, 200);
  CHECK_EQ(details.body["status"], "COMPLETED");
  REQUIRE_EQ(details.body["tasks"].size(), 3);
  uint64_t state = 0;
  for (const auto& [tid, t] : details.body["tasks"].items()) {
    CHECK_EQ(t["num_subtasks"], 2);
    CHECK_EQ(t["num_acknowledged_subtasks"], 2);
    CHECK_GE(t["alignment_duration"].get<int64_t>(), 0);
    // Both from the coordinator's clock, each rounded to milliseconds.
    CHECK_LE(t["end_to_end_duration"].get<int64_t>(),
             details.body["end_to_end_duration"].get<int64_t>() + 3);
    for (const auto& s : t["subtasks"])
      CHECK(s["alignment"].contains("duration"));
    state += t["state_size"].get<uint64_t>();
  }
  CHECK_EQ(state, details.body["state_size"].get<uint64_t>());
  CHECK_GT(state, 0);
  CHECK_EQ(rest_get(port, "/jobs/" + id + "/checkpoints/details/99999").status,
           404);
  // The settings the job's checkpoints follow.
  auto config = rest_get(port, "/jobs/" + id + "/checkpoints/config");
  REQUIRE_EQ(config.status, 200);
  CHECK_EQ(config.body["mode"], "exactly_once");
  CHECK_EQ(config.body["interval"], 300);
  CHECK_EQ(config.body["checkpoint_dir"], c.dir() / "chk");
  CHECK_EQ(cps["config"], config.body);

  // TaskManagers: memory, slots, heartbeat age, and their log's tail.
  auto tm = c.task_manager_id(0);
  auto tmm = rest_get(port, "/taskmanagers/" + tm + "/metrics");
  REQUIRE_EQ(tmm.status, 200);
  std::map<std::string, double> values;
  for (const auto& e : tmm.body)
    values[e["id"]] = std::stod(e["value"].get<std::string>());
  CHECK_GT(values["Status.Process.Memory.RSS"], 1 << 20);
  CHECK_EQ(values["Slots.Total"], 2);
  CHECK_LE(values["Slots.Free"], 2);
  CHECK_LT(values["Heartbeat.AgeMs"], 5000);
  auto log = rest_get(port, "/taskmanagers/" + tm + "/log");
  REQUIRE_EQ(log.status, 200);
  bool registered = false;
  for (const auto& line : log.body["lines"])
    registered |= line.get<std::string>().find("registered 2 slots")
                  != std::string::npos;
  CHECK(registered);
  CHECK_EQ(rest_get(port, "/taskmanagers/nobody/log").status, 404);

  // The dashboard learns what it may offer.
  auto cluster_config = rest_get(port, "/config");
  CHECK_EQ(cluster_config.body["features"]["web-cancel"], false);
  CHECK_EQ(cluster_config.body["features"]["web-savepoint"], true);
  CHECK_EQ(cluster_config.body["refresh-interval"], 1000);

  // Prometheus, on its own port: valid for promtool, with the job's
  // subtasks and operators.
  httplib::Client prom{"127.0.0.1", c.metrics_port()};
  auto page = prom.Get("/metrics");
  REQUIRE(page);
  CHECK_EQ(page->status, 200);
  CHECK(page->get_header_value("Content-Type").rfind("text/plain", 0) == 0);
  const auto& text = page->body;
  INFO("metrics: " << text.substr(0, 3000));
  for (const char* family :
       {"weir_jobmanager_taskmanagers 2", "weir_task_records_out_total{",
        "weir_task_backpressured_time_ratio{",
        "weir_task_current_output_watermark_seconds{",
        "weir_operator_records_out_total{",
        "weir_job_checkpoints_completed_total{",
        "weir_taskmanager_memory_rss_bytes{"})
    CHECK_MESSAGE(text.find(family) != std::string::npos, family);
  CHECK(text.find("job_id=\"" + id + "\"") != std::string::npos);
  CHECK(text.find("operator_name=\"bids (filter)\"") != std::string::npos);
  auto [status, lint] = promtool_check(c.dir(), text);
  INFO("promtool: " << lint);
  CHECK_EQ(status, 0);
  CHECK_EQ(prom.Get("/")->status, 404);

  auto cancel = httplib::Client{"127.0.0.1", port}.Patch(
    ("/jobs/" + id + "?mode=cancel").c_str());
  REQUIRE(cancel);
  CHECK_EQ(cancel->status, 202);
  CHECK(c.wait_for_state(id, "CANCELED"));
  // Gone, its subtasks still show what they did.
  auto ended = rest_get(port, "/jobs/" + id);
  REQUIRE_EQ(ended.status, 200);
  for (const auto& v : ended.body["vertices"]) {
    REQUIRE(v["metrics"].is_object());
    CHECK_EQ(number(v["metrics"], "write-records-per-second"), 0);
  }
  CHECK_GE(number(ended.body["vertices"][0]["metrics"], "write-records"),
           number(src["metrics"], "write-records"));
}
