// Credit-based flow control, end to end: a starved sink must stop an
// unbounded source, with never more batches in flight than credits.

#include <doctest/doctest.h>

#include <algorithm>

#include <caf/scheduled_actor.hpp>

#include "actors/test_cluster.hpp"
#include "api/job_builder.hpp"
#include "support/temp_dir.hpp"

using namespace weir;
using namespace weir::test;

namespace {

/// Runs ready actors except `starved` until none is ready or `limit` steps
/// passed; returns the number of steps.
size_t run_except(caf::scheduler::test_coordinator& sched,
                  caf::abstract_actor* starved, size_t limit) {
  size_t steps = 0;
  while (steps < limit) {
    auto i = std::find_if(
      sched.jobs.begin(), sched.jobs.end(), [&](caf::resumable* r) {
        return dynamic_cast<caf::abstract_actor*>(r) != starved;
      });
    if (i == sched.jobs.end())
      break;
    auto job = *i;
    sched.jobs.erase(i);
    sched.jobs.push_front(job);
    sched.run_once();
    ++steps;
  }
  return steps;
}

} // namespace

TEST_CASE_FIXTURE(cluster_fixture,
                  "a starved sink throttles an unbounded source to its "
                  "credits") {
  start(1, 1);
  submit_options opts;
  opts.data_plane.credits = 3;
  opts.data_plane.batch_rows = 100;
  auto spec = job_builder{"throttled"}
                .vertex("numbers", "sequence", {}, 1)
                .vertex("sink", "discard", {}, 1)
                .rebalance("numbers", "sink")
                .build();
  auto id = submit(spec, opts);
  REQUIRE(id);
  // Deploy and start, stepping only until both tasks exist and run.
  auto tasks = deployed_tasks(*id, 2, 50);
  REQUIRE(tasks.size() == 2);
  auto source = caf::actor_cast<task_actor>(tasks[0]);
  auto sink = caf::actor_cast<task_actor>(tasks[1]);
  auto* sink_ptr = caf::actor_cast<caf::abstract_actor*>(sink);
  // With the sink never scheduled, the system must come to rest: the
  // source stops once its credits are spent.
  auto steps = run_except(sched, sink_ptr, 200000);
  REQUIRE(steps < 200000);
  // Everything the source sent and the sink has not processed sits in the
  // sink's mailbox: exactly the credits, never more.
  auto* sink_actor = dynamic_cast<caf::scheduled_actor*>(sink_ptr);
  REQUIRE(sink_actor != nullptr);
  CHECK(sink_actor->mailbox().size() == 3);
  auto m1 = ask<task_metrics>(source, metrics_atom::value);
  run_except(sched, sink_ptr, 1000);
  REQUIRE(m1->has_value());
  auto src = *m1->value();
  // The source holds at least one more batch it may not send, and stopped.
  CHECK(src.queued_batches >= 1);
  CHECK(src.backpressure_stalls >= 1);
  CHECK(src.rows_out <= (src.batches_out + src.queued_batches + 1) * 100);
  CHECK(sink_actor->mailbox().size() == 3);
  // A second passes while the source waits for credit: all of it counts
  // as backpressured time (Flink's backPressuredTimeMsPerSecond reads
  // 1000), none as busy.
  sched.advance_time(std::chrono::seconds{1});
  run_except(sched, sink_ptr, 1000);
  auto m1b = ask<task_metrics>(source, metrics_atom::value);
  run_except(sched, sink_ptr, 1000);
  REQUIRE(m1b->has_value());
  const auto& later = *m1b->value();
  CHECK_EQ(later.running_nanos - src.running_nanos, 1000000000);
  CHECK_EQ(later.backpressured_nanos - src.backpressured_nanos, 1000000000);
  CHECK_EQ(later.busy_nanos, src.busy_nanos);
  CHECK_EQ(later.rows_out, src.rows_out);
  // Let the sink take some turns: the source resumes by exactly the
  // credits the sink returns, and the sink never holds more than 3.
  for (int round = 0; round < 20; ++round) {
    sched.prioritize(sink);
    sched.run_once();
    run_except(sched, sink_ptr, 200000);
  }
  auto m2 = ask<task_metrics>(source, metrics_atom::value);
  auto s2 = ask<task_metrics>(sink, metrics_atom::value);
  sched.run(100);
  REQUIRE(m2->has_value());
  REQUIRE(s2->has_value());
  CHECK(m2->value()->batches_out > src.batches_out);
  CHECK(m2->value()->batches_out <= src.batches_out + 20 + 3);
  CHECK(s2->value()->max_outstanding <= 3);
  CHECK(s2->value()->max_outstanding >= 1);
  caf::anon_send(cluster.job_manager, cancel_atom::value, *id);
  auto res = ask<job_result>(cluster.job_manager, wait_atom::value, *id);
  run_until([&] { return res->has_value(); });
  REQUIRE(res->has_value());
  CHECK(res->value()->status == job_status::canceled);
}

TEST_CASE_FIXTURE(cluster_fixture,
                  "a checkpoint stuck behind a starved sink shows which "
                  "subtasks acknowledged it") {
  temp_dir dir;
  start(1, 1);
  submit_options opts;
  opts.data_plane.credits = 2;
  opts.data_plane.batch_rows = 100;
  auto spec = job_builder{"stuck"}
                .vertex("numbers", "sequence", {}, 1)
                .vertex("sink", "discard", {}, 1)
                .rebalance("numbers", "sink")
                .build();
  auto* cp = spec.mutable_checkpointing();
  cp->set_interval_ms(3600000);
  cp->set_dir(dir / "chk");
  auto id = submit(spec, opts);
  REQUIRE(id);
  auto tasks = deployed_tasks(*id, 2, 50);
  REQUIRE(tasks.size() == 2);
  auto sink = caf::actor_cast<task_actor>(tasks[1]);
  auto* sink_ptr = caf::actor_cast<caf::abstract_actor*>(sink);
  REQUIRE(run_except(sched, sink_ptr, 200000) < 200000);
  // The source takes its snapshot at once; its barrier waits behind the
  // batches the sink does not take.
  auto chk = ask<uint64_t>(cluster.job_manager, trigger_atom::value, *id);
  run_except(sched, sink_ptr, 10000);
  REQUIRE(chk->has_value());
  REQUIRE_MESSAGE(chk->value(), error_text(chk->value().error()));
  auto stuck = *chk->value();
  auto info = ask<job_info>(cluster.job_manager, info_atom::value, *id);
  run_except(sched, sink_ptr, 10000);
  REQUIRE(info->has_value());
  REQUIRE(info->value());
  {
    const auto& ji = *info->value();
    REQUIRE(ji.pending_checkpoints.size() == 1);
    const auto& p = ji.pending_checkpoints[0];
    CHECK(p.id == stuck);
    CHECK_FALSE(p.completed);
    CHECK(p.failure.empty());
    REQUIRE(p.subtasks.size() == 1);
    CHECK(p.subtasks[0].execution == 0);
  }
  // Fed again, the sink takes the barrier and the checkpoint completes.
  for (int round = 0; round < 200; ++round) {
    sched.prioritize(sink);
    sched.run_once();
    run_except(sched, sink_ptr, 200000);
  }
  auto after = ask<job_info>(cluster.job_manager, info_atom::value, *id);
  run_except(sched, sink_ptr, 10000);
  REQUIRE(after->has_value());
  REQUIRE(after->value());
  CHECK(after->value()->pending_checkpoints.empty());
  CHECK(after->value()->checkpoints_completed == 1);
  caf::anon_send(cluster.job_manager, cancel_atom::value, *id);
  auto res = ask<job_result>(cluster.job_manager, wait_atom::value, *id);
  run_until([&] { return res->has_value(); });
  REQUIRE(res->has_value());
}
