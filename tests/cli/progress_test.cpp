#include "cli/progress.hpp"

#include <sstream>
#include <string>

#include <fcntl.h>
#include <unistd.h>

#include <doctest/doctest.h>

using json = nlohmann::json;
using namespace weir::cli;

namespace {

/// A job of two chained tasks, "src" (vertex 0) feeding "sink" (vertex 1),
/// as GET /jobs/{id} shows it.
json job_details(const std::string& state, json transitions,
                 int64_t completed = 0, int64_t failed = 0) {
  auto metrics = [](double in, double out, int64_t bp, const char* level) {
    return json{{"read-records-per-second", in},
                {"write-records-per-second", out},
                {"backPressuredTimeMsPerSecond", bp},
                {"backpressure-level", level}};
  };
  return {{"state", state},
          {"now", 100000},
          {"restarts", 1},
          {"status-counts", {{"RUNNING", 3}, {"FINISHED", 1}, {"CREATED", 0}}},
          {"checkpoints", {{"completed", completed}, {"failed", failed}}},
          {"transitions", std::move(transitions)},
          {"vertices",
           {{{"id", "0"},
             {"name", "src -> map"},
             {"metrics", metrics(0, 92300, 880, "high")}},
            {{"id", "1"},
             {"name", "sink"},
             {"metrics", metrics(40100, 0, 20, "ok")}}}},
          {"edges", {{{"source", "0"}, {"target", "1"}}}}};
}

json transition(const char* state, int64_t at) {
  return {{"state", state}, {"timestamp", at}};
}

json checkpoint(uint64_t id, bool ok, int64_t at) {
  json c = {{"id", id},
            {"status", ok ? "COMPLETED" : "FAILED"},
            {"is_savepoint", false},
            {"trigger_timestamp", at},
            {"end_to_end_duration", 161},
            {"state_size", 578662}};
  if (!ok)
    c["failure_message"] = "declined by subtask 1";
  return c;
}

/// Checkpoint statistics as GET /jobs/{id}/checkpoints: newest first.
json checkpoint_stats(json history) {
  json latest = nullptr;
  for (const auto& c : history)
    if (c["status"] == "COMPLETED" && latest.is_null())
      latest = c;
  return {{"latest", {{"completed", latest}}}, {"history", history}};
}

size_t occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos;
       at = text.find(what, at + 1))
    ++n;
  return n;
}

} // namespace

TEST_CASE("progress takes rates at the sources and sinks and the worst "
          "backpressure") {
  auto p
    = job_progress::from_json(job_details("RUNNING", json::array(), 4, 1),
                              checkpoint_stats({checkpoint(4, true, 97000)}));
  CHECK_EQ(p.state, "RUNNING");
  CHECK_EQ(p.subtasks, 4);
  CHECK_EQ(p.subtasks_running, 3);
  CHECK_EQ(p.subtasks_finished, 1);
  CHECK_EQ(p.records_in_per_second, doctest::Approx(92300));
  CHECK_EQ(p.records_out_per_second, doctest::Approx(40100));
  CHECK_EQ(p.backpressure_ms, 880);
  CHECK_EQ(p.backpressured_vertex, "src -> map");
  CHECK_EQ(p.last_checkpoint, 4u);
  CHECK_EQ(status_line(p),
           "RUNNING · 3/4 subtasks (1 finished) · in 92.3K rec/s · out 40.1K "
           "rec/s · checkpoint 4 2.8 s ago (161 ms, 565.1 KiB), 1 failed · "
           "backpressure high 88% at 'src -> map' · 1 restart");
}

TEST_CASE("progress counts what the source operators emit, before their "
          "chained operators filter it") {
  auto job = job_details("RUNNING", json::array());
  job["vertices"][0]["operator-metrics"]
    = {{{"name", "src (nexmark)"}, {"write-records-per-second", 250000.0}},
       {{"name", "map (filter)"}, {"write-records-per-second", 92300.0}}};
  auto p = job_progress::from_json(job, nullptr);
  CHECK_EQ(p.records_in_per_second, doctest::Approx(250000));
  CHECK_EQ(p.records_out_per_second, doctest::Approx(40100));
}

TEST_CASE("progress of a job without metrics or checkpoints says so") {
  auto p = job_progress::from_json({{"state", "CREATED"}}, nullptr);
  CHECK_LT(p.records_in_per_second, 0);
  CHECK_LT(p.backpressure_ms, 0);
  CHECK_EQ(status_line(p), "CREATED · 0/0 subtasks · no checkpoint yet");
  // Garbage in the answer leaves the defaults, never throws.
  auto q = job_progress::from_json(
    {{"state", 7}, {"vertices", "x"}, {"status-counts", {{"RUNNING", "2"}}}},
    {{"latest", 3}});
  CHECK_EQ(q.subtasks, 0);
  CHECK_EQ(q.last_checkpoint, 0u);
}

TEST_CASE("checkpoint statistics are read again only when a checkpoint "
          "completed or failed") {
  checkpoint_reader reader{"/jobs/x"};
  std::vector<std::string> asked;
  int answer = 0;
  auto get = [&](const std::string& path) {
    asked.push_back(path);
    return json{{"answer", ++answer}};
  };
  CHECK_EQ(reader.update(job_details("RUNNING", json::array(), 0, 0), get)
             .at("answer"),
           1);
  CHECK_EQ(reader.update(job_details("RUNNING", json::array(), 0, 0), get)
             .at("answer"),
           1);
  CHECK_EQ(reader.update(job_details("RUNNING", json::array(), 1, 0), get)
             .at("answer"),
           2);
  CHECK_EQ(reader.update(job_details("RUNNING", json::array(), 1, 1), get)
             .at("answer"),
           3);
  CHECK_EQ(asked, std::vector<std::string>(3, "/jobs/x/checkpoints"));
  // A failed read keeps the last statistics and tries again next time.
  auto failing = [&](const std::string& path) {
    asked.push_back(path);
    return json{};
  };
  auto counts = job_details("RUNNING", json::array(), 2, 1);
  CHECK_EQ(reader.update(counts, failing).at("answer"), 3);
  CHECK_EQ(reader.update(counts, get).at("answer"), 4);
  CHECK_EQ(asked.size(), 5u);
}

TEST_CASE("numbers and sizes read as people write them") {
  CHECK_EQ(human_count(0), "0");
  CHECK_EQ(human_count(2.5), "2.5");
  CHECK_EQ(human_count(999), "999");
  CHECK_EQ(human_count(92300), "92.3K");
  CHECK_EQ(human_count(3.1e6), "3.1M");
  CHECK_EQ(human_count(-1), "-");
  CHECK_EQ(human_bytes(12), "12 B");
  CHECK_EQ(human_bytes(1536), "1.5 KiB");
  CHECK_EQ(human_bytes(3u << 30), "3 GiB");
  CHECK_EQ(utc_clock(1796692351120), "01:12:31.120");
}

TEST_CASE("the log reports every transition once, also several between two "
          "readings") {
  std::ostringstream out;
  progress_reporter r{out, progress_style::log};
  json ts = {transition("CREATED", 1000), transition("RUNNING", 1001)};
  r.update(job_details("RUNNING", ts), nullptr, 0);
  CHECK(occurrences(out.str(), "job RUNNING") == 1);
  // A failure and its restart both happened before the next reading.
  ts.push_back(transition("RESTARTING", 2000));
  ts.push_back(transition("RUNNING", 2500));
  r.update(job_details("RUNNING", ts), nullptr, 200);
  r.update(job_details("RUNNING", ts), nullptr, 400);
  auto text = out.str();
  CHECK_EQ(occurrences(text, "job CREATED"), 1);
  CHECK_EQ(occurrences(text, "job RESTARTING"), 1);
  CHECK_EQ(occurrences(text, "job RUNNING"), 2);
  CHECK(text.find("weir: 00:00:02.000 job RESTARTING\n") != std::string::npos);
  CHECK(text.find("RESTARTING") < text.rfind("job RUNNING"));
  CHECK_EQ(r.transitions_seen(), 4u);
}

TEST_CASE("the log reports each checkpoint once, oldest first, and why one "
          "failed") {
  std::ostringstream out;
  progress_reporter r{out, progress_style::log};
  auto job = job_details("RUNNING", json::array(), 2, 1);
  r.update(
    job,
    checkpoint_stats({checkpoint(3, false, 5000), checkpoint(2, true, 4000),
                      checkpoint(1, true, 3000)}),
    0);
  r.update(
    job,
    checkpoint_stats({checkpoint(4, true, 6000), checkpoint(3, false, 5000),
                      checkpoint(2, true, 4000)}),
    200);
  auto text = out.str();
  for (auto id : {"1", "2", "4"})
    CHECK_EQ(occurrences(text, std::string{"checkpoint "} + id
                                 + " completed in 161 ms, 565.1 KiB"),
             1);
  CHECK_EQ(occurrences(text, "checkpoint 3 failed: declined by subtask 1"), 1);
  CHECK(text.find("checkpoint 1 ") < text.find("checkpoint 2 "));
  CHECK(text.find("checkpoint 3 ") < text.find("checkpoint 4 "));
  // A failure that comes after a later checkpoint completed (a timeout,
  // say) is reported all the same.
  r.update(
    job,
    checkpoint_stats({checkpoint(6, true, 7000), checkpoint(4, true, 6000)}),
    400);
  r.update(
    job,
    checkpoint_stats({checkpoint(6, true, 7000), checkpoint(5, false, 6500),
                      checkpoint(4, true, 6000)}),
    600);
  CHECK_EQ(occurrences(out.str(), "checkpoint 5 failed: "), 1);
  CHECK_EQ(occurrences(out.str(), "checkpoint 6 completed"), 1);
  CHECK_EQ(occurrences(out.str(), "checkpoint 4 completed"), 1);
  // One in flight waits until it completed.
  auto in_flight = checkpoint(7, false, 8000);
  in_flight["status"] = "IN_PROGRESS";
  in_flight.erase("failure_message");
  r.update(job, checkpoint_stats({in_flight, checkpoint(6, true, 7000)}), 800);
  CHECK_EQ(occurrences(out.str(), "checkpoint 7 "), 0);
  r.update(job, checkpoint_stats({checkpoint(7, true, 8000)}), 1000);
  CHECK_EQ(occurrences(out.str(), "checkpoint 7 completed"), 1);
}

TEST_CASE("the log repeats the status line every ten seconds, not every "
          "reading") {
  std::ostringstream out;
  progress_reporter r{out, progress_style::log};
  auto job = job_details("RUNNING", json::array());
  for (int64_t clock = 0; clock <= 25000; clock += 200)
    r.update(job, nullptr, clock);
  // At 0, 10 s and 20 s.
  CHECK_EQ(occurrences(out.str(), "weir: RUNNING · 3/4 subtasks"), 3);
  CHECK_EQ(out.str().find('\r'), std::string::npos);
}

TEST_CASE("the live line is redrawn in place, cut to the terminal's width, "
          "and events scroll above it") {
  std::ostringstream out;
  progress_reporter r{out, progress_style::live, 40};
  auto job = job_details("RUNNING", json::array());
  r.update(job, nullptr, 0);
  auto first = out.str();
  REQUIRE_EQ(first.rfind("\r\033[K", 0), 0u);
  auto line = first.substr(4);
  CHECK_EQ(line.find('\n'), std::string::npos);
  CHECK(line.size() < 40 + 2); // "…" takes three bytes, one column
  CHECK(line.find("…") != std::string::npos);
  r.update(job_details("RUNNING", {transition("RUNNING", 1000)}), nullptr, 200);
  auto text = out.str().substr(first.size());
  // The line is cleared, the event printed on a line of its own, the line
  // drawn again.
  CHECK_EQ(text.rfind("\r\033[Kweir: 00:00:01.000 job RUNNING\n\r\033[K", 0),
           0u);
  r.clear();
  CHECK(out.str().size() >= 4);
  CHECK_EQ(out.str().substr(out.str().size() - 4), "\r\033[K");
  // Completed checkpoints stay in the status line; a failed one gets a
  // line of its own.
  auto before = out.str().size();
  r.update(
    job,
    checkpoint_stats({checkpoint(2, false, 3000), checkpoint(1, true, 2000)}),
    400);
  auto added = out.str().substr(before);
  CHECK_EQ(occurrences(added, "checkpoint 1 completed"), 0);
  CHECK_EQ(occurrences(added, "weir: 00:00:03.000 checkpoint 2 failed: "), 1);
}

TEST_CASE("--progress picks live only on a terminal unless asked") {
  int fds[2];
  REQUIRE_EQ(pipe(fds), 0);
  progress_style style = progress_style::none;
  int width = 0;
  CHECK(parse_progress_style("auto", fds[1], style, width));
  CHECK(style == progress_style::log);
  CHECK(parse_progress_style("live", fds[1], style, width));
  CHECK(style == progress_style::live);
  CHECK_EQ(width, 100);
  CHECK(parse_progress_style("none", fds[1], style, width));
  CHECK(style == progress_style::none);
  CHECK(parse_progress_style("log", fds[1], style, width));
  CHECK(style == progress_style::log);
  CHECK_FALSE(parse_progress_style("fancy", fds[1], style, width));
  close(fds[0]);
  close(fds[1]);
  std::ostringstream out;
  progress_reporter quiet{out, progress_style::none};
  quiet.update(job_details("RUNNING", {transition("RUNNING", 1)}), nullptr, 0);
  CHECK(out.str().empty());
}
