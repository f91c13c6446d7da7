#pragma once

#include <cstdint>
#include <memory>

#include "actors/protocol.hpp"
#include "scheduler/plan.hpp"

namespace weir {

/// Spawns the subtask `execution` of plan `p` (called by the task manager,
/// which monitors the result). The task builds its operator chain at once;
/// a factory that throws makes it report FAILED and exit. Lifecycle:
/// connect (INITIALIZING) -> start (RUNNING) -> FINISHED once its input
/// ended and its output drained, or CANCELED on cancel, or FAILED when an
/// operator throws; it reports each state to `master` and then exits.
task_actor spawn_task(caf::actor_system& sys, std::shared_ptr<const plan> p,
                      uint32_t execution, data_plane_config cfg,
                      job_master_actor master);

} // namespace weir
