// Exactly-once output end to end on the deterministic scheduler: a
// streaming job writes through the two-phase-commit file sink while
// operators throw, task managers die and final commits fail; what is
// committed equals the output of a failure-free run, line for line. In
// at-least-once mode lines may repeat, but none is lost.

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>

#include "actors/test_cluster.hpp"
#include "api/job_builder.hpp"
#include "support/temp_dir.hpp"

using namespace weir;
using namespace weir::test;

namespace {

/// `bucket`: {value} -> {value % 7, value}, throwing the first time it
/// sees `fail_at` (across attempts).
void add_bucket(operator_registry& r, std::shared_ptr<std::atomic<int>> seen) {
  operator_descriptor d;
  d.name = "bucket";
  d.kind = operator_kind::transform;
  d.help = "value -> {value % 7, value}, failing once";
  d.params = {{"fail_at", param_type::int64, true, "", "value to fail at"}};
  d.output_fields = [](const parameters&, const std::vector<std::string>&) {
    return caf::expected<std::vector<std::string>>{
      std::vector<std::string>{"key", "value"}};
  };
  d.factory = [seen](const operator_context& ctx) {
    auto fail_at = ctx.get_int("fail_at");
    return operator_behavior{
      [=](const row& r, collector& out) {
        auto v = r[0].as_int64();
        if (v == fail_at && seen->fetch_add(1) == 0)
          throw std::runtime_error("injected failure at " + std::to_string(v));
        out.emit(row{value{v % 7}, value{v}});
      },
    };
  };
  REQUIRE(!r.add(std::move(d)));
}

/// `flaky_sink`: the built-in file_sink whose first final commit throws.
void add_flaky_sink(operator_registry& r,
                    std::shared_ptr<std::atomic<int>> commits) {
  auto d = *make_test_registry()->find("file_sink");
  d.name = "flaky_sink";
  auto inner = d.factory;
  d.factory = [inner, commits](const operator_context& ctx) {
    auto b = std::make_shared<operator_behavior>(inner(ctx));
    return operator_behavior{
      [b](const row& x, collector& out) { b->on_record(x, out); },
      [b](end_of_input_t, collector& out) { b->on_end_of_input(out); },
      [b](snapshot_t, uint64_t id) { return b->on_snapshot(id); },
      [b](restore_t, const std::string& bytes) { b->on_restore(bytes); },
      [b, commits](checkpoint_complete_t, uint64_t id) {
        if (id == final_checkpoint && commits->fetch_add(1) == 0)
          throw std::runtime_error("injected commit failure");
        b->on_checkpoint_complete(id);
      },
    };
  };
  REQUIRE(!r.add(std::move(d)));
}

/// numbers 0..n-1 (rate-limited) -> bucket -> HASH(key) -> sink: every
/// number becomes one line "key,value"; the sink has two input channels.
proto::JobSpec stream_job(int64_t n, int64_t fail_at, const std::string& sink,
                          const std::string& out, const std::string& chk,
                          bool exactly_once) {
  auto spec
    = job_builder{"stream"}
        .parallelism(2)
        .vertex("numbers", "sequence",
                {{"to", std::to_string(n)}, {"rate", "1000"}})
        .vertex("buckets", "bucket", {{"fail_at", std::to_string(fail_at)}})
        .vertex("out", sink, {{"path", out}})
        .forward("numbers", "buckets")
        .hash("buckets", "out", {"key"})
        .build();
  auto* cp = spec.mutable_checkpointing();
  cp->set_interval_ms(100);
  cp->set_dir(chk);
  cp->set_mode(exactly_once ? proto::EXACTLY_ONCE : proto::AT_LEAST_ONCE);
  auto* rs = spec.mutable_restart_strategy();
  rs->set_type("fixed-delay");
  rs->set_attempts(5);
  rs->set_delay_ms(50);
  return spec;
}

std::map<std::string, int> expected_lines(int64_t n) {
  std::map<std::string, int> out;
  for (int64_t v = 0; v < n; ++v)
    ++out[std::to_string(v % 7) + "," + std::to_string(v)];
  return out;
}

std::map<std::string, int> committed_lines(const std::string& dir) {
  std::map<std::string, int> out;
  for (const auto& line : read_lines(dir))
    ++out[line];
  return out;
}

size_t hidden_files(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator{dir})
    if (e.path().filename().string()[0] == '.')
      ++n;
  return n;
}

struct stream_fixture : cluster_fixture {
  std::shared_ptr<std::atomic<int>> seen = std::make_shared<std::atomic<int>>();
  std::shared_ptr<std::atomic<int>> commits
    = std::make_shared<std::atomic<int>>();

  void start_cluster(uint32_t task_managers, uint32_t slots) {
    start(task_managers, slots, make_test_registry([&](operator_registry& r) {
            add_bucket(r, seen);
            add_flaky_sink(r, commits);
          }));
  }

  /// Like run_stepped, and checks after every step that committed output
  /// only grows: a line once visible is never taken back, and none is
  /// visible twice.
  job_result run_checking_commits(const job_id& id, const std::string& out,
                                  const std::function<void(int)>& at_step
                                  = {}) {
    std::map<std::string, int> before;
    size_t retracted = 0;
    size_t repeated = 0;
    auto r = run_stepped(id, [&](int i) {
      if (at_step)
        at_step(i);
      if (!std::filesystem::exists(out))
        return;
      auto now = committed_lines(out);
      for (const auto& [line, count] : before) {
        auto j = now.find(line);
        if (j == now.end() || j->second < count)
          ++retracted;
      }
      for (const auto& [line, count] : now)
        if (count > 1)
          ++repeated;
      before = std::move(now);
    });
    CHECK(retracted == 0);
    CHECK(repeated == 0);
    return r;
  }

  std::vector<job_status> path(const job_id& id) {
    auto info = ask<job_info>(cluster.job_manager, info_atom::value, id);
    sched.run();
    std::vector<job_status> out;
    for (auto& t : info->value()->transitions)
      out.push_back(t.first);
    return out;
  }
};

} // namespace

TEST_CASE_FIXTURE(stream_fixture,
                  "exactly-once: committed output after an operator failure "
                  "equals a failure-free run") {
  temp_dir dir;
  start_cluster(1, 4);
  const int64_t n = 3000;
  auto out = dir / "out";
  auto id = submit(stream_job(n, 1234, "file_sink", out, dir / "chk", true));
  REQUIRE(id);
  bool visible_early = false;
  auto r = run_checking_commits(*id, out, [&](int i) {
    if (i == 80)
      visible_early = !committed_lines(out).empty();
  });
  // Completed checkpoints made output visible before the job's end.
  CHECK(visible_early);
  REQUIRE_MESSAGE(r.status == job_status::finished, r.cause);
  CHECK(seen->load() == 2);
  CHECK(committed_lines(out) == expected_lines(n));
  CHECK(hidden_files(out) == 0);
  CHECK(path(*id)
        == std::vector<job_status>{job_status::created, job_status::running,
                                   job_status::restarting, job_status::running,
                                   job_status::finished});
  // The failure is in the exception history, and the checkpoints in the
  // statistics, also after the job ended.
  auto info = ask<job_info>(cluster.job_manager, info_atom::value, *id);
  sched.run();
  REQUIRE(info->has_value());
  REQUIRE(info->value());
  const auto& ji = *info->value();
  REQUIRE(ji.exceptions.size() == 1);
  CHECK(ji.exceptions[0].at > 0);
  CHECK(ji.exceptions[0].task.find("subtask") != std::string::npos);
  CHECK(ji.exceptions[0].cause.find("injected failure at 1234")
        != std::string::npos);
  CHECK(ji.checkpoints_completed >= 3);
  CHECK(ji.checkpoints.size()
        == ji.checkpoints_completed + ji.checkpoints_failed);
  uint64_t last = 0;
  for (const auto& c : ji.checkpoints) {
    CHECK(c.id > last);
    last = c.id;
    if (!c.completed)
      continue;
    // Virtual time: a checkpoint may complete without the clock moving.
    CHECK(c.duration_nanos >= 0);
    CHECK(c.state_bytes > 0);
    CHECK(c.max_alignment_nanos <= c.duration_nanos);
  }
}

TEST_CASE_FIXTURE(stream_fixture,
                  "exactly-once: committed output after a task manager died "
                  "equals a failure-free run") {
  temp_dir dir;
  start_cluster(2, 4);
  const int64_t n = 3000;
  auto out = dir / "out";
  auto id = submit(stream_job(n, -1, "file_sink", out, dir / "chk", true));
  REQUIRE(id);
  auto r = run_checking_commits(*id, out, [&](int i) {
    if (i == 120)
      caf::anon_send_exit(cluster.task_managers[0], caf::exit_reason::kill);
  });
  REQUIRE_MESSAGE(r.status == job_status::finished, r.cause);
  CHECK(committed_lines(out) == expected_lines(n));
  CHECK(hidden_files(out) == 0);
}

TEST_CASE_FIXTURE(stream_fixture,
                  "exactly-once: a failed final commit restarts the job and "
                  "the output is still exact") {
  temp_dir dir;
  start_cluster(1, 4);
  const int64_t n = 1500;
  auto out = dir / "out";
  auto id = submit(stream_job(n, -1, "flaky_sink", out, dir / "chk", true));
  REQUIRE(id);
  auto r = run_stepped(*id);
  REQUIRE_MESSAGE(r.status == job_status::finished, r.cause);
  // One of the two sink subtasks failed its first final commit; the other
  // may have committed already, and the restart took that back.
  CHECK(commits->load() >= 3);
  CHECK(committed_lines(out) == expected_lines(n));
  CHECK(hidden_files(out) == 0);
  CHECK(path(*id)
        == std::vector<job_status>{job_status::created, job_status::running,
                                   job_status::restarting, job_status::running,
                                   job_status::finished});
}

TEST_CASE_FIXTURE(stream_fixture,
                  "at-least-once: after an operator failure no line is lost") {
  temp_dir dir;
  start_cluster(1, 4);
  const int64_t n = 3000;
  auto out = dir / "out";
  auto id = submit(stream_job(n, 1234, "file_sink", out, dir / "chk", false));
  REQUIRE(id);
  auto r = run_stepped(*id);
  REQUIRE_MESSAGE(r.status == job_status::finished, r.cause);
  CHECK(seen->load() == 2);
  auto got = committed_lines(out);
  auto expected = expected_lines(n);
  // Same distinct lines; a line may repeat.
  std::map<std::string, int> distinct;
  for (const auto& [line, count] : got) {
    CHECK(count >= 1);
    distinct[line] = 1;
  }
  CHECK(distinct == expected);
}

TEST_CASE_FIXTURE(stream_fixture,
                  "without checkpoints the file sink commits once, when the "
                  "job finished") {
  temp_dir dir;
  start_cluster(1, 4);
  const int64_t n = 500;
  auto out = dir / "out";
  auto spec = stream_job(n, -1, "file_sink", out, dir / "chk", true);
  spec.clear_checkpointing();
  spec.clear_restart_strategy();
  auto id = submit(spec);
  REQUIRE(id);
  auto r = run_stepped(*id, [&](int i) {
    if (i == 100)
      CHECK(committed_lines(out).empty());
  });
  REQUIRE_MESSAGE(r.status == job_status::finished, r.cause);
  CHECK(committed_lines(out) == expected_lines(n));
  CHECK(hidden_files(out) == 0);
}

TEST_CASE_FIXTURE(stream_fixture,
                  "a checkpoint can be triggered by hand through the job "
                  "manager") {
  temp_dir dir;
  start_cluster(1, 4);
  auto spec
    = stream_job(100000, -1, "file_sink", dir / "out", dir / "chk", true);
  // Periodic checkpoints far apart: only the manual one happens.
  spec.mutable_checkpointing()->set_interval_ms(3600000);
  auto id = submit(spec);
  REQUIRE(id);
  REQUIRE(deployed_tasks(*id, 4).size() == 4);
  for (int i = 0; i < 20; ++i) {
    sched.run();
    sched.advance_time(std::chrono::milliseconds(10));
  }
  auto chk = ask<uint64_t>(cluster.job_manager, trigger_atom::value, *id);
  for (int i = 0; i < 20; ++i) {
    sched.run();
    sched.advance_time(std::chrono::milliseconds(10));
  }
  REQUIRE(chk->has_value());
  REQUIRE_MESSAGE(chk->value(), error_text(chk->value().error()));
  CHECK(*chk->value() == 1);
  auto info = ask<job_info>(cluster.job_manager, info_atom::value, *id);
  sched.run();
  REQUIRE(info->has_value());
  REQUIRE(info->value()->checkpoints.size() == 1);
  CHECK(info->value()->checkpoints[0].id == 1);
  CHECK(info->value()->checkpoints[0].completed);
  // Unknown jobs and jobs without checkpoints say why.
  auto unknown = ask<uint64_t>(cluster.job_manager, trigger_atom::value,
                               job_id{"00000000000000000000000000000000"});
  sched.run();
  REQUIRE(unknown->has_value());
  REQUIRE_FALSE(unknown->value());
  CHECK(error_text(unknown->value().error()).find("no job")
        != std::string::npos);
  caf::anon_send(cluster.job_manager, cancel_atom::value, *id);
  sched.run();
  auto plain
    = stream_job(100000, -1, "file_sink", dir / "out2", dir / "chk", true);
  plain.clear_checkpointing();
  plain.clear_restart_strategy();
  auto id2 = submit(plain);
  REQUIRE(id2);
  REQUIRE(deployed_tasks(*id2, 4).size() == 4);
  auto refused = ask<uint64_t>(cluster.job_manager, trigger_atom::value, *id2);
  sched.run(200);
  REQUIRE(refused->has_value());
  REQUIRE_FALSE(refused->value());
  CHECK(error_text(refused->value().error()).find("has no checkpoint storage")
        != std::string::npos);
  caf::anon_send(cluster.job_manager, cancel_atom::value, *id2);
  sched.run(1000);
}

TEST_CASE_FIXTURE(stream_fixture,
                  "state writes that fail decline checkpoints; the job runs "
                  "on until the tolerable failures are exceeded") {
  for (int tolerable : {1000, 2}) {
    CAPTURE(tolerable);
    temp_dir dir;
    start_cluster(1, 4);
    const int64_t n = 2000;
    auto spec = stream_job(n, -1, "file_sink", dir / "out", dir / "chk", true);
    spec.mutable_checkpointing()->set_tolerable_failures(tolerable);
    spec.clear_restart_strategy();
    spec.mutable_restart_strategy()->set_type("none");
    auto id = submit(spec);
    REQUIRE(id);
    // The job's checkpoint directory cannot be created: a regular file
    // holds its name, as a full or read-only disk would refuse it.
    std::filesystem::create_directories(dir / "chk");
    std::ofstream{dir / "chk" + "/" + id->value} << "in the way";
    auto r = run_stepped(*id);
    auto info = ask<job_info>(cluster.job_manager, info_atom::value, *id);
    sched.run();
    REQUIRE(info->has_value());
    const auto& ji = *info->value();
    CHECK(ji.checkpoints_completed == 0);
    if (tolerable == 1000) {
      REQUIRE_MESSAGE(r.status == job_status::finished, r.cause);
      CHECK(ji.checkpoints_failed >= 3);
      CHECK(committed_lines(dir / "out") == expected_lines(n));
    } else {
      CHECK(r.status == job_status::failed);
      CHECK(r.cause.find("exceeded the tolerable failed checkpoints (2)")
            != std::string::npos);
      CHECK(ji.checkpoints_failed == 3);
      REQUIRE(!ji.checkpoints.empty());
      CHECK(!ji.checkpoints.back().failure.empty());
    }
    cluster.shutdown();
    sched.run();
  }
}
