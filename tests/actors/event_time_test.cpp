// Event time end to end on the deterministic scheduler: sources generate
// watermarks from their strategy, tasks forward the minimum over their
// channels, a keyed operator's event-time timers fire as the watermark
// passes them, idle sources do not stall the job, and timers and
// watermarks survive a failure and a restore from a checkpoint.

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "actors/test_cluster.hpp"
#include "api/job_builder.hpp"
#include "api/state.hpp"
#include "support/temp_dir.hpp"

using namespace weir;
using namespace weir::test;

namespace {

/// Rows a source subtask emits per poll, and the pause after each poll.
constexpr int64_t rows_per_poll = 4;
constexpr auto poll_pause = std::chrono::milliseconds{20};

/// The order in which each block of four rows leaves a source subtask:
/// timestamps come out of order by up to 40 ms.
constexpr int64_t block_order[] = {2, 0, 3, 1};

/// Event number of the j-th row of source subtask s (of two): unique over
/// the job, out of order within each block of four.
int64_t event_number(int s, int64_t j) {
  return (j / 4 * 4 + block_order[j % 4]) * 2 + s;
}

int64_t ts_of(int64_t event) {
  return 1000 + 10 * event;
}

std::string key_of(int64_t event) {
  return "k" + std::to_string(event % 5);
}

/// One timer that fired in the timers operator.
struct firing {
  int subtask = 0;
  std::string key;
  int64_t time = 0;
  /// The operator's watermark when it fired.
  int64_t watermark = 0;
  /// 1 for the subtask's first instance, 2 after a restart, ...
  int attempt = 0;
};

/// A restore of a timers subtask: the watermark its snapshot handler saw
/// at the checkpoint, and the watermark its timers had when restored.
struct restored_at {
  int subtask = 0;
  int64_t checkpointed = 0;
  int64_t restored = 0;
};

/// What the test operators saw, across attempts.
struct observations {
  std::vector<firing> fired;
  /// Watermarks the sink's watermark handler saw.
  std::vector<int64_t> sink_watermarks;
  /// The time of the timer that fails once (-1: none), and whether it did.
  int64_t fail_at = -1;
  bool failed = false;
  std::vector<restored_at> restores;
  /// Instances of the timers operator per subtask.
  std::map<int, int> instances;
  /// (subtask, watermark) the timers operator saw after a restore, in its
  /// timer and watermark handlers, with the checkpointed watermark.
  std::vector<std::pair<restored_at, int64_t>> after_restore;
};

/// `events`: a source of {key, ts} rows; subtask s of two emits `rows`
/// rows (a multiple of four), four per poll with a pause after each; the
/// subtask `silent` emits nothing and finishes after `silent_ms`.
/// Checkpoints its position.
operator_descriptor events_source() {
  operator_descriptor d;
  d.name = "events";
  d.kind = operator_kind::source;
  d.help = "{key, ts} rows out of order by up to 40 ms";
  d.params = {
    {"rows", param_type::int64, true, "", "rows per subtask"},
    {"silent", param_type::int64, false, "-1", "subtask emitting nothing"},
    {"silent_ms", param_type::int64, false, "3000", "life of the silent one"},
  };
  d.output_fields = [](const parameters&, const std::vector<std::string>&) {
    return caf::expected<std::vector<std::string>>{
      std::vector<std::string>{"key", "ts"}};
  };
  d.factory = [](const operator_context& ctx) {
    auto n = ctx.get_int("rows");
    auto s = ctx.subtask;
    auto silent = ctx.get_int("silent") == s;
    auto silent_for = std::chrono::milliseconds{ctx.get_int("silent_ms")};
    auto now = ctx.now;
    auto started = now();
    auto next = std::make_shared<int64_t>(0);
    return operator_behavior{
      [=](poll_t, collector& out, size_t) {
        if (silent)
          return now() - started >= silent_for
                   ? poll_result::done()
                   : poll_result::wait_for(poll_pause);
        for (int64_t i = 0; i < rows_per_poll && *next < n; ++i, ++*next) {
          auto e = event_number(s, *next);
          out.emit(row{value{key_of(e)}, value{ts_of(e)}});
        }
        return *next < n ? poll_result::wait_for(poll_pause)
                         : poll_result::done();
      },
      [next](snapshot_t) { return std::to_string(*next); },
      [next](restore_t, const std::string& bytes) {
        *next = std::stoll(bytes);
      },
    };
  };
  return d;
}

/// `timers`: keyed by `key`; registers an event-time timer at each row's
/// ts and emits {key, time, watermark} when it fires. Its snapshot is the
/// watermark at the checkpoint.
operator_descriptor timers_operator(std::shared_ptr<observations> seen) {
  operator_descriptor d;
  d.name = "timers";
  d.kind = operator_kind::transform;
  d.help = "an event-time timer per row";
  d.params = {{"key", param_type::field_list, true, "", "key fields"}};
  d.key_param = "key";
  d.output_fields = [](const parameters&, const std::vector<std::string>&) {
    return caf::expected<std::vector<std::string>>{
      std::vector<std::string>{"key", "time", "wm"}};
  };
  d.factory = [seen](const operator_context& ctx) {
    auto* timers = ctx.timers;
    auto* keyed = ctx.keyed_state;
    auto s = ctx.subtask;
    auto attempt = ++seen->instances[s];
    auto restored = std::make_shared<std::optional<restored_at>>();
    auto note = [seen, restored](int64_t wm) {
      if (*restored)
        seen->after_restore.emplace_back(**restored, wm);
    };
    return operator_behavior{
      [timers](const row& r, collector&) {
        timers->register_event_time_timer(r.at(1).as_int64());
      },
      [=](timer_fired_t, const fired_timer& t, collector& out) {
        auto wm = timers->current_watermark();
        if (t.time == seen->fail_at && !seen->failed) {
          seen->failed = true;
          throw std::runtime_error("injected failure at timer "
                                   + std::to_string(t.time));
        }
        auto key = keyed->current_key().at(0).as_string();
        seen->fired.push_back(firing{s, key, t.time, wm, attempt});
        note(wm);
        out.emit(row{value{key}, value{t.time}, value{wm}});
      },
      [=](watermark_t, int64_t wm, collector&) { note(wm); },
      [timers](snapshot_t) {
        return std::to_string(timers->current_watermark());
      },
      [=](restore_t, const std::string& bytes) {
        restored_at r{s, std::stoll(bytes), timers->current_watermark()};
        *restored = r;
        seen->restores.push_back(r);
      },
    };
  };
  return d;
}

/// `wm_sink`: the built-in file_sink, noting the watermarks it sees.
operator_descriptor watermark_sink(std::shared_ptr<observations> seen) {
  auto d = *make_test_registry()->find("file_sink");
  d.name = "wm_sink";
  auto inner = d.factory;
  d.factory = [inner, seen](const operator_context& ctx) {
    auto b = std::make_shared<operator_behavior>(inner(ctx));
    return operator_behavior{
      [b](const row& x, collector& out) { b->on_record(x, out); },
      [b](end_of_input_t, collector& out) { b->on_end_of_input(out); },
      [b](snapshot_t, uint64_t id) { return b->on_snapshot(id); },
      [b](restore_t, const std::string& bytes) { b->on_restore(bytes); },
      [b](checkpoint_complete_t, uint64_t id) {
        b->on_checkpoint_complete(id);
      },
      [seen](watermark_t, int64_t wm, collector&) {
        seen->sink_watermarks.push_back(wm);
      },
    };
  };
  return d;
}

using timer_set = std::map<std::pair<std::string, int64_t>, int>;

/// The (key, time) of every row of source subtasks `subtasks`, counted.
timer_set expected_timers(int64_t rows, const std::vector<int>& subtasks) {
  timer_set out;
  for (auto s : subtasks)
    for (int64_t j = 0; j < rows; ++j) {
      auto e = event_number(s, j);
      ++out[{key_of(e), ts_of(e)}];
    }
  return out;
}

timer_set fired_timers(const std::vector<firing>& fired) {
  timer_set out;
  for (const auto& f : fired)
    ++out[{f.key, f.time}];
  return out;
}

/// The (key, time) of the committed "key,time,wm" lines in `dir`.
timer_set committed_timers(const std::string& dir) {
  timer_set out;
  for (const auto& line : read_lines(dir)) {
    auto a = line.find(',');
    auto b = line.find(',', a + 1);
    REQUIRE(b != std::string::npos);
    ++out[{line.substr(0, a), std::stoll(line.substr(a + 1, b - a - 1))}];
  }
  return out;
}

struct event_time_fixture : cluster_fixture {
  std::shared_ptr<observations> seen = std::make_shared<observations>();

  void start_cluster() {
    start(1, 8, make_test_registry([this](operator_registry& r) {
            REQUIRE(!r.add(events_source()));
            REQUIRE(!r.add(timers_operator(seen)));
            REQUIRE(!r.add(watermark_sink(seen)));
          }));
  }

  /// events (2, `rows` each, bounded out-of-orderness 50 ms, a watermark
  /// per 10 ms, idle after `idle_ms` if > 0; subtask `silent` emits
  /// nothing) -HASH(key)-> timers (2) -REBALANCE-> out (1, writing into
  /// `out`).
  static proto::JobSpec job(int64_t rows, const std::string& out,
                            int64_t idle_ms = 0, int silent = -1) {
    auto spec = job_builder{"event-time"}
                  .parallelism(2)
                  .vertex("events", "events",
                          {{"rows", std::to_string(rows)},
                           {"silent", std::to_string(silent)}})
                  .vertex("timers", "timers", {{"key", "key"}})
                  .vertex("out", "wm_sink", {{"path", out}}, 1)
                  .hash("events", "timers", {"key"})
                  .rebalance("timers", "out")
                  .build();
    auto* w = spec.mutable_vertices(0)->mutable_watermarks();
    w->set_kind(proto::WatermarkStrategy::BOUNDED_OUT_OF_ORDERNESS);
    w->set_timestamp_field("ts");
    w->set_max_out_of_orderness_ms(50);
    w->set_interval_ms(10);
    if (idle_ms > 0)
      w->set_idle_timeout_ms(idle_ms);
    return spec;
  }

  /// Asks for a task's metrics from within run_stepped(): step_probe()
  /// runs at every step; at step `at` it asks for the job's tasks, at the
  /// next step for the metrics of execution `exec`, which are in once that
  /// step ran.
  struct metrics_probe {
    int at = 0;
    size_t exec = 0;
    std::shared_ptr<
      std::optional<caf::expected<std::vector<caf::strong_actor_ptr>>>>
      tasks;
    std::shared_ptr<std::optional<caf::expected<task_metrics>>> metrics;
  };

  void step_probe(metrics_probe& m, const job_id& id, int i) {
    if (i == m.at)
      m.tasks = ask<std::vector<caf::strong_actor_ptr>>(cluster.job_manager,
                                                        tasks_atom::value, id);
    if (i == m.at + 1) {
      REQUIRE(m.tasks->has_value());
      REQUIRE(m.tasks->value());
      const auto& tasks = *m.tasks->value();
      REQUIRE(tasks.size() > m.exec);
      REQUIRE(tasks[m.exec]);
      m.metrics = ask<task_metrics>(caf::actor_cast<task_actor>(tasks[m.exec]),
                                    metrics_atom::value);
    }
  }

  /// The metrics a probe got.
  static task_metrics result(const metrics_probe& m) {
    REQUIRE(m.metrics);
    REQUIRE(m.metrics->has_value());
    REQUIRE(m.metrics->value());
    return *m.metrics->value();
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

/// Execution index of the sink's only subtask: after the two source and
/// the two timers subtasks.
constexpr size_t sink_execution = 4;

} // namespace

TEST_CASE_FIXTURE(event_time_fixture,
                  "every event-time timer fires once, in order, after the "
                  "watermark passed it, and watermarks reach the sink") {
  temp_dir dir;
  start_cluster();
  const int64_t rows = 200;
  auto out = dir / "out";
  auto id = submit(job(rows, out));
  REQUIRE(id);
  // About 500 ms of job time in, the sources are halfway.
  metrics_probe probe{50, sink_execution, {}, {}};
  size_t fired_midway = 0;
  auto r = run_stepped(*id, [&](int i) {
    step_probe(probe, *id, i);
    if (i == 52)
      fired_midway = seen->fired.size();
  });
  REQUIRE_MESSAGE(r.status == job_status::finished, r.cause);
  // Every row's timer fired exactly once.
  auto expected = expected_timers(rows, {0, 1});
  REQUIRE_EQ(expected.size(), 2 * static_cast<size_t>(rows));
  CHECK(fired_timers(seen->fired) == expected);
  CHECK(committed_timers(out) == expected);
  // Per subtask in time order, each at or behind the watermark. Most fired
  // while the job ran, not just at the end of input.
  std::map<int, int64_t> last;
  size_t early = 0;
  for (const auto& f : seen->fired) {
    CAPTURE(f.time);
    CHECK(f.time <= f.watermark);
    auto i = last.find(f.subtask);
    if (i != last.end())
      CHECK(f.time > i->second);
    last[f.subtask] = f.time;
    if (f.watermark < max_watermark)
      ++early;
  }
  CHECK_EQ(last.size(), 2u);
  CHECK(fired_midway > 0);
  CHECK(fired_midway < expected.size());
  CHECK(early >= expected.size() - 20);
  // The sink saw the watermark climb, ending at max_watermark.
  const auto& wms = seen->sink_watermarks;
  REQUIRE(wms.size() >= 3);
  CHECK(std::is_sorted(wms.begin(), wms.end()));
  CHECK(std::adjacent_find(wms.begin(), wms.end()) == wms.end());
  CHECK(wms.front() > min_watermark);
  CHECK(wms[wms.size() - 2] < max_watermark);
  CHECK(wms[wms.size() - 2] >= ts_of(2 * rows - 1) - 200);
  CHECK(wms.back() == max_watermark);
  // The sink task's metrics midway: watermarks came in, it is not idle.
  auto m = result(probe);
  CHECK_EQ(m.execution, sink_execution);
  CHECK(m.watermarks_in > 0);
  CHECK(m.watermark > min_watermark);
  CHECK(m.watermark < ts_of(2 * rows));
  CHECK_FALSE(m.idle);
  CHECK_EQ(m.watermarks_out, 0u);
}

TEST_CASE_FIXTURE(event_time_fixture,
                  "an idle source subtask does not stall the watermark, one "
                  "without idleness does") {
  for (bool idleness : {true, false}) {
    CAPTURE(idleness);
    temp_dir dir;
    seen = std::make_shared<observations>();
    start_cluster();
    const int64_t rows = 100;
    auto out = dir / "out";
    // Subtask 1 of the source emits nothing for 3 s; subtask 0 is done
    // after about 0.5 s.
    auto id = submit(job(rows, out, idleness ? 100 : 0, 1));
    REQUIRE(id);
    metrics_probe probe{150, sink_execution, {}, {}};
    size_t fired_at_probe = 0;
    auto r = run_stepped(*id, [&](int i) {
      step_probe(probe, *id, i);
      if (i == 150)
        fired_at_probe = seen->fired.size();
    });
    REQUIRE_MESSAGE(r.status == job_status::finished, r.cause);
    auto expected = expected_timers(rows, {0});
    CHECK(fired_timers(seen->fired) == expected);
    CHECK(committed_timers(out) == expected);
    auto m = result(probe);
    size_t at_max = 0;
    for (const auto& f : seen->fired)
      if (f.watermark == max_watermark)
        ++at_max;
    if (idleness) {
      // At 1.5 s the silent subtask is idle and the other has ended: the
      // watermark stands at the active one's last, and everything is idle.
      CHECK(fired_at_probe >= expected.size() - 10);
      CHECK(at_max <= 10);
      CHECK(m.watermark >= ts_of(2 * rows - 2) - 200);
      CHECK(m.watermark < max_watermark);
      CHECK(m.idle);
    } else {
      // Nothing fires until the silent subtask ends.
      CHECK_EQ(fired_at_probe, 0u);
      CHECK_EQ(at_max, expected.size());
      CHECK_EQ(m.watermark, min_watermark);
      CHECK_FALSE(m.idle);
      REQUIRE_FALSE(seen->sink_watermarks.empty());
      CHECK_EQ(seen->sink_watermarks.front(), max_watermark);
    }
    cluster.shutdown();
    sched.run();
  }
}

TEST_CASE_FIXTURE(event_time_fixture,
                  "after a failure and a restore every timer's output is "
                  "committed exactly once and the watermark never goes "
                  "below the checkpointed one") {
  temp_dir dir;
  start_cluster();
  const int64_t rows = 200;
  auto out = dir / "out";
  auto spec = job(rows, out);
  auto* cp = spec.mutable_checkpointing();
  cp->set_interval_ms(100);
  cp->set_dir(dir / "chk");
  cp->set_mode(proto::EXACTLY_ONCE);
  auto* rs = spec.mutable_restart_strategy();
  rs->set_type("fixed-delay");
  rs->set_attempts(3);
  rs->set_delay_ms(50);
  // The timer of event 200, halfway through the input, fails once.
  seen->fail_at = ts_of(200);
  auto id = submit(spec);
  REQUIRE(id);
  auto r = run_stepped(*id);
  REQUIRE_MESSAGE(r.status == job_status::finished, r.cause);
  CHECK(seen->failed);
  CHECK(path(*id)
        == std::vector<job_status>{job_status::created, job_status::running,
                                   job_status::restarting, job_status::running,
                                   job_status::finished});
  auto expected = expected_timers(rows, {0, 1});
  CHECK(committed_timers(out) == expected);
  // Every timer fired at least once over both attempts; those after the
  // checkpoint again after the restore.
  auto fired = fired_timers(seen->fired);
  CHECK_EQ(fired.size(), expected.size());
  // Both timers subtasks restored a real watermark, and went on from it.
  REQUIRE_EQ(seen->restores.size(), 2u);
  std::set<int> subtasks;
  for (const auto& x : seen->restores) {
    subtasks.insert(x.subtask);
    CHECK(x.checkpointed > min_watermark);
    CHECK(x.checkpointed < ts_of(200));
    CHECK_EQ(x.restored, x.checkpointed);
  }
  CHECK_EQ(subtasks, std::set<int>{0, 1});
  REQUIRE_FALSE(seen->after_restore.empty());
  for (const auto& [at, wm] : seen->after_restore) {
    CAPTURE(at.subtask);
    CHECK(wm >= at.checkpointed);
  }
  // After the restore, timers fired in order per subtask, each after the
  // checkpointed watermark: those at or before it had fired and were
  // committed before the checkpoint.
  std::map<int, int64_t> checkpointed;
  for (const auto& x : seen->restores)
    checkpointed[x.subtask] = x.checkpointed;
  std::map<std::pair<int, int>, int64_t> last;
  size_t again = 0;
  for (const auto& f : seen->fired) {
    CAPTURE(f.time);
    CHECK(f.time <= f.watermark);
    auto k = std::make_pair(f.subtask, f.attempt);
    if (auto i = last.find(k); i != last.end())
      CHECK(f.time > i->second);
    last[k] = f.time;
    if (f.attempt == 2) {
      ++again;
      CHECK(f.time > checkpointed[f.subtask]);
    }
  }
  CHECK(again > 0);
  CHECK_EQ(seen->instances, std::map<int, int>{{0, 2}, {1, 2}});
}
