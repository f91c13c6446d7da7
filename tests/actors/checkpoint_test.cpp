// Checkpoints end to end on the deterministic scheduler: barriers flow
// through running jobs, every subtask's state reaches the store, and
// completed checkpoints carry one handle per subtask.

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "actors/test_cluster.hpp"
#include "api/job_builder.hpp"
#include "checkpoint/checkpoint_store.hpp"
#include "support/temp_dir.hpp"

using namespace weir;
using namespace weir::test;

namespace {

/// Two unbounded, rate-limited sources feeding one keyed count (two inputs, so
/// the aggregate's task aligns barriers), then a sink.
proto::JobSpec two_input_job(const std::string& dir, bool exactly_once) {
  auto spec
    = job_builder{"two-inputs"}
        .parallelism(2)
        .vertex("evens", "sequence", {{"from", "0"}, {"rate", "2000"}})
        .vertex("odds", "sequence", {{"from", "1000000000"}, {"rate", "2000"}})
        .vertex("counts", "aggregate",
                {{"key", "value"}, {"function", "count"}})
        .vertex("sink", "discard")
        .hash("evens", "counts", {"value"})
        .hash("odds", "counts", {"value"})
        .forward("counts", "sink")
        .build();
  auto* cp = spec.mutable_checkpointing();
  cp->set_interval_ms(100);
  cp->set_dir(dir);
  cp->set_retained(2);
  cp->set_mode(exactly_once ? proto::EXACTLY_ONCE : proto::AT_LEAST_ONCE);
  return spec;
}

} // namespace

TEST_CASE_FIXTURE(cluster_fixture,
                  "a running job completes checkpoints with state from "
                  "every subtask") {
  for (bool exactly_once : {false, true}) {
    CAPTURE(exactly_once);
    temp_dir dir;
    start(1, 2);
    auto id = submit(two_input_job(dir.path().string(), exactly_once));
    REQUIRE(id);
    checkpoint_store store{dir.path().string(), id->value, 2};
    // Run until three checkpoints completed (ids 1..3), firing the
    // coordinator's timer whenever the system is idle enough.
    bool done = false;
    for (int i = 0; i < 200 && !done; ++i) {
      // Rate-limited sources let the system come to rest between ticks.
      sched.run();
      sched.advance_time(std::chrono::milliseconds(100));
      auto ids = store.list();
      done = ids && !ids->empty() && ids->back() >= 3;
    }
    REQUIRE(done);
    auto ids = store.list();
    REQUIRE(ids);
    // Retention keeps the last two.
    CHECK(ids->size() == 2);
    auto latest = store.latest();
    REQUIRE(latest);
    const auto& md = latest->metadata;
    CHECK(md.checkpoint_id() == ids->back());
    // Six subtasks: 2 + 2 sources, 2 counts chained with their sinks.
    CHECK(md.subtasks_size() == 6);
    for (const auto& sub : md.subtasks()) {
      auto bytes = checkpoint_store::read_subtask_state(latest->dir, sub);
      CHECK(bytes);
    }
    caf::anon_send(cluster.job_manager, cancel_atom::value, *id);
    auto res = ask<job_result>(cluster.job_manager, wait_atom::value, *id);
    run_until([&] { return res->has_value(); });
    REQUIRE(res->has_value());
    CHECK(res->value()->status == job_status::canceled);
    sched.run();
    // Checkpoints in flight at the cancel leave no directories behind.
    for (const auto& e : std::filesystem::directory_iterator{store.job_dir()})
      CHECK_MESSAGE(std::filesystem::exists(e.path() / "_metadata"),
                    e.path().string());
    cluster.shutdown();
    sched.run();
  }
}

namespace {

/// `bucket`: {value} -> {key = value % 7, value}; throws at value
/// `fail_at` the first time it sees it (`passes` counts how often it saw
/// it, `rows` every row it saw, across attempts).
void add_bucket_operator(operator_registry& r,
                         std::shared_ptr<std::atomic<int>> passes,
                         std::shared_ptr<std::atomic<int64_t>> rows) {
  operator_descriptor d;
  d.name = "bucket";
  d.kind = operator_kind::transform;
  d.help = "value -> {value % 7, value}, failing once";
  d.params = {{"fail_at", param_type::int64, true, "", "value to fail at"}};
  d.output_fields = [](const parameters&, const std::vector<std::string>&) {
    return caf::expected<std::vector<std::string>>{
      std::vector<std::string>{"key", "value"}};
  };
  d.factory = [passes, rows](const operator_context& ctx) {
    auto fail_at = ctx.get_int("fail_at");
    return operator_behavior{
      [=](const row& r, collector& out) {
        auto v = r[0].as_int64();
        ++*rows;
        if (v == fail_at && passes->fetch_add(1) == 0)
          throw std::runtime_error("injected failure at " + std::to_string(v));
        out.emit(row{value{v % 7}, value{v}});
      },
    };
  };
  REQUIRE(!r.add(std::move(d)));
}

/// numbers (rate-limited) -> buckets -> keyed sums -> file sink, with
/// checkpoints every 200 ms into `chk`.
proto::JobSpec sums_job(int64_t n, const std::string& fail_at,
                        const std::string& out, const std::string& chk) {
  auto spec
    = job_builder{"sums"}
        .parallelism(2)
        .vertex("numbers", "sequence",
                {{"to", std::to_string(n)}, {"rate", "1000"}})
        .vertex("buckets", "bucket", {{"fail_at", fail_at}})
        .vertex("sums", "aggregate",
                {{"key", "key"}, {"function", "sum"}, {"field", "value"}})
        .vertex("out", "file_sink", {{"path", out}})
        .forward("numbers", "buckets")
        .hash("buckets", "sums", {"key"})
        .forward("sums", "out")
        .build();
  auto* cp = spec.mutable_checkpointing();
  cp->set_interval_ms(200);
  cp->set_dir(chk);
  return spec;
}

/// Checks the "key,sum" lines in `out` against sums computed here.
void check_sums(const std::string& out, int64_t n) {
  std::map<int64_t, int64_t> expected;
  for (int64_t v = 0; v < n; ++v)
    expected[v % 7] += v;
  std::map<int64_t, int64_t> got;
  for (const auto& line : read_lines(out)) {
    auto comma = line.find(',');
    REQUIRE(comma != std::string::npos);
    got[std::stoll(line.substr(0, comma))] = std::stoll(line.substr(comma + 1));
  }
  CHECK(got == expected);
}

} // namespace

TEST_CASE_FIXTURE(cluster_fixture,
                  "a failed job restarts from its latest checkpoint and its "
                  "keyed sums are exact") {
  temp_dir dir;
  auto passes = std::make_shared<std::atomic<int>>(0);
  auto rows = std::make_shared<std::atomic<int64_t>>(0);
  start(1, 2, make_test_registry([&](operator_registry& r) {
          add_bucket_operator(r, passes, rows);
        }));
  const int64_t n = 3000;
  auto out = dir / "out";
  auto spec = sums_job(n, "2222", out, dir / "chk");
  auto* rs = spec.mutable_restart_strategy();
  rs->set_type("fixed-delay");
  rs->set_attempts(2);
  rs->set_delay_ms(50);
  auto id = submit(spec);
  REQUIRE(id);
  auto res = ask<job_result>(cluster.job_manager, wait_atom::value, *id);
  for (int i = 0; i < 100000 && !res->has_value(); ++i) {
    sched.run();
    sched.advance_time(std::chrono::milliseconds(10));
  }
  REQUIRE(res->has_value());
  REQUIRE_MESSAGE(res->value()->status == job_status::finished,
                  res->value()->cause);
  // The failing value came again after the rewind, and only rows after
  // the restored checkpoint were replayed (a restart from scratch would
  // replay all ~1450 rows read before the failure).
  CHECK(passes->load() == 2);
  CHECK(rows->load() > n);
  CHECK(rows->load() < n + 500);
  check_sums(out, n);
  auto info = ask<job_info>(cluster.job_manager, info_atom::value, *id);
  sched.run();
  std::vector<job_status> path;
  for (auto& t : info->value()->transitions)
    path.push_back(t.first);
  CHECK(path
        == std::vector<job_status>{job_status::created, job_status::running,
                                   job_status::restarting, job_status::running,
                                   job_status::finished});
  // The restart restored a real checkpoint taken before the failure, and
  // the job's statistics say which.
  checkpoint_store store{(dir / "chk"), id->value, 1};
  auto ids = store.list();
  REQUIRE(ids);
  CHECK(!ids->empty());
  const auto& ji = *info->value();
  CHECK(ji.restores.count == 1);
  CHECK(ji.restores.id >= 1);
  CHECK(ji.restores.id <= ji.checkpoints_completed);
  CHECK(ji.restores.path.find("chk-" + std::to_string(ji.restores.id))
        != std::string::npos);
  CHECK_FALSE(ji.restores.savepoint);
  CHECK(ji.restores.at >= ji.transitions[2].second);
  CHECK(ji.pending_checkpoints.empty());
}

TEST_CASE_FIXTURE(cluster_fixture,
                  "a job whose task manager dies restarts on the remaining "
                  "slots from its latest checkpoint") {
  temp_dir dir;
  auto passes = std::make_shared<std::atomic<int>>(0);
  auto rows = std::make_shared<std::atomic<int64_t>>(0);
  start(2, 2, make_test_registry([&](operator_registry& r) {
          add_bucket_operator(r, passes, rows);
        }));
  const int64_t n = 3000;
  auto out = dir / "out";
  auto spec = sums_job(n, "-1", out, dir / "chk");
  auto id = submit(spec);
  REQUIRE(id);
  auto res = ask<job_result>(cluster.job_manager, wait_atom::value, *id);
  // Run about a second of job time, then kill the second task manager.
  for (int i = 0; i < 100; ++i) {
    sched.run();
    sched.advance_time(std::chrono::milliseconds(10));
  }
  REQUIRE(!res->has_value());
  caf::anon_send_exit(cluster.task_managers[1], caf::exit_reason::kill);
  for (int i = 0; i < 100000 && !res->has_value(); ++i) {
    sched.run();
    sched.advance_time(std::chrono::milliseconds(10));
  }
  REQUIRE(res->has_value());
  REQUIRE_MESSAGE(res->value()->status == job_status::finished,
                  res->value()->cause);
  check_sums(out, n);
  // Default restart strategy with checkpoints: exponential-delay.
  CHECK(rows->load() < n + 500);
}
