// Checkpoints end to end on the deterministic scheduler: barriers flow
// through running jobs, every subtask's state reaches the store, and
// completed checkpoints carry one handle per subtask.

#include <doctest/doctest.h>

#include <filesystem>

#include "actors/test_cluster.hpp"
#include "api/job_builder.hpp"
#include "checkpoint/checkpoint_store.hpp"
#include "support/temp_dir.hpp"

using namespace weir;
using namespace weir::test;

namespace {

/// Two unbounded, rate-limited sources feeding one keyed count (two inputs, so the
/// aggregate's task aligns barriers), then a sink.
proto::JobSpec two_input_job(const std::string& dir, bool exactly_once) {
  auto spec = job_builder{"two-inputs"}
                .parallelism(2)
                .vertex("evens", "sequence", {{"from", "0"}, {"rate", "2000"}})
                .vertex("odds", "sequence",
                        {{"from", "1000000000"}, {"rate", "2000"}})
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
    cluster.shutdown();
    sched.run();
  }
}
