#pragma once

#include <memory>

#include "actors/protocol.hpp"
#include "checkpoint/checkpoint_tracker.hpp"
#include "scheduler/plan.hpp"

namespace weir {

/// The reason a finished source gives when it declines a checkpoint: not
/// a failure, but the end of checkpointing for a bounded job.
constexpr const char* source_finished_reason = "source finished";

/// Spawns the checkpoint coordinator of job `job` (by its job master, which
/// connects it to the job's tasks once they run and stops it with the
/// job). Every `settings.interval` it triggers a checkpoint at the source
/// tasks, collects the acknowledgements, writes `_metadata` through the
/// checkpoint store (pruning to `settings.retained`) and tells every task
/// the checkpoint completed. Declined and expired checkpoints are aborted
/// and their files removed; more consecutive failures than
/// `settings.tolerable_failures` fail the job through `master`.
///
/// Without an interval it triggers only on request (trigger_atom, and
/// savepoint_atom, which ignores max concurrent and min pause as Flink's
/// savepoints do). A savepoint completes as a checkpoint of the job (so a
/// failover after it restores what the sinks committed for it) and is then
/// exported into its own directory. Ids start at `first_id` or after the
/// highest id found in the job's checkpoint directory, whichever is larger.
checkpoint_coordinator_actor
spawn_checkpoint_coordinator(caf::actor_system& sys, job_id job,
                             checkpoint_settings settings,
                             std::shared_ptr<const plan> p,
                             job_master_actor master, uint64_t first_id = 1);

} // namespace weir
