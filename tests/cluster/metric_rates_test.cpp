#include "cluster/metric_rates.hpp"

#include <doctest/doctest.h>

using namespace weir;

namespace {

constexpr int64_t second = 1000000000;

/// A reading after `running` ns of which `busy` were spent processing and
/// `bp` waiting for credit, with `rows` records in and out.
task_metrics reading(int64_t running, int64_t busy, int64_t bp, uint64_t rows) {
  task_metrics m;
  m.running_nanos = running;
  m.busy_nanos = busy;
  m.backpressured_nanos = bp;
  m.rows_in = rows;
  m.rows_out = rows;
  m.bytes_in = rows * 10;
  m.bytes_out = rows * 20;
  return m;
}

} // namespace

TEST_CASE("the first reading of a subtask gives averages over its run") {
  metric_rates rates;
  auto r
    = rates.update("job", 0, "a", reading(4 * second, second, 2 * second, 800));
  CHECK_EQ(r.rows_in, doctest::Approx(200));
  CHECK_EQ(r.bytes_out, doctest::Approx(4000));
  CHECK_EQ(r.busy_ms, doctest::Approx(250));
  CHECK_EQ(r.backpressured_ms, doctest::Approx(500));
  CHECK_EQ(r.idle_ms, doctest::Approx(250));
}

TEST_CASE("rates come from the span between readings a window apart") {
  metric_rates rates{second};
  rates.update("job", 0, "a", reading(10 * second, 0, 0, 1000));
  // Less than a window later: the same figures, however often asked.
  auto early = rates.update(
    "job", 0, "a", reading(10 * second + second / 2, second / 2, 0, 9000));
  CHECK_EQ(early.rows_out, doctest::Approx(100));
  // A window after the kept reading: 2000 rows and 900 ms of
  // backpressure in 1 s.
  auto r = rates.update(
    "job", 0, "a", reading(11 * second, second / 10, second * 9 / 10, 3000));
  CHECK_EQ(r.rows_out, doctest::Approx(2000));
  CHECK_EQ(r.backpressured_ms, doctest::Approx(900));
  CHECK_EQ(r.busy_ms, doctest::Approx(100));
  CHECK_EQ(r.idle_ms, doctest::Approx(0));
  CHECK_EQ(std::string{backpressure_level(r.backpressured_ms)}, "high");
}

TEST_CASE("busy, backpressured and idle time add up to a second") {
  metric_rates rates;
  // A clock that lets busy and backpressured overlap a little (both are
  // measured around the same handler) must not push idle below zero.
  auto r
    = rates.update("job", 0, "a", reading(second, 700000000, 600000000, 1));
  CHECK_EQ(r.backpressured_ms, doctest::Approx(600));
  CHECK_EQ(r.busy_ms, doctest::Approx(400));
  CHECK_EQ(r.idle_ms, doctest::Approx(0));
  CHECK_EQ(r.backpressured_ms + r.busy_ms + r.idle_ms, doctest::Approx(1000));
}

TEST_CASE("a restarted subtask starts its rates afresh") {
  metric_rates rates{second};
  rates.update("job", 3, "a", reading(60 * second, 0, 0, 600000));
  // Running time went backwards: a new attempt of the subtask.
  auto r = rates.update("job", 3, "a", reading(2 * second, 0, 0, 100));
  CHECK_EQ(r.rows_in, doctest::Approx(50));
  // Another task actor, however far its counters got: a new attempt too.
  rates.update("job", 4, "a", reading(second, 0, 0, 1000));
  auto other = rates.update("job", 4, "b", reading(3 * second, 0, 0, 1500));
  CHECK_EQ(other.rows_in, doctest::Approx(500));
  // Other subtasks and jobs keep their own figures; forget() drops a job.
  rates.update("other", 3, "a", reading(second, 0, 0, 5));
  rates.forget("job");
  auto again = rates.update("job", 3, "a", reading(3 * second, 0, 0, 300));
  CHECK_EQ(again.rows_in, doctest::Approx(100));
  auto elsewhere = rates.update("other", 3, "a", reading(second + 1, 0, 0, 5));
  CHECK_EQ(elsewhere.rows_in, doctest::Approx(5));
}

TEST_CASE("backpressure levels follow Flink's thresholds") {
  CHECK_EQ(std::string{backpressure_level(0)}, "ok");
  CHECK_EQ(std::string{backpressure_level(100)}, "ok");
  CHECK_EQ(std::string{backpressure_level(101)}, "low");
  CHECK_EQ(std::string{backpressure_level(500)}, "low");
  CHECK_EQ(std::string{backpressure_level(501)}, "high");
}
