#pragma once

#include <cstdint>
#include <memory>

#include "actors/faults.hpp"
#include "actors/protocol.hpp"
#include "scheduler/plan.hpp"

namespace weir {

/// What a task needs to take checkpoints.
struct task_checkpointing {
  job_id job;
  /// Align barriers (exactly-once) or not (at-least-once).
  bool exactly_once = true;
  /// state.checkpoints.dir and state.checkpoints.num-retained.
  std::string dir;
  uint32_t retained = 1;
  /// When restore_dir is set: restore before starting, from these state
  /// handles of that checkpoint (see deploy_request).
  std::string restore_dir;
  std::vector<std::string> restore_vertices;
  std::vector<std::string> restore_handles;
  /// Fault injection (sim/); null normally.
  std::shared_ptr<fault_injector> faults;
};

/// Spawns the subtask `execution` of plan `p` (called by the task manager,
/// which monitors the result). The task builds its operator chain at once;
/// a factory that throws makes it report FAILED and exit. Lifecycle:
/// connect (INITIALIZING) -> start (RUNNING) -> FINISHED once its input
/// ended and its output drained, or CANCELED on cancel, or FAILED when an
/// operator throws; it reports each state to `master` and then exits.
/// With a `coordinator`, the task takes part in checkpoints as `cp` says.
/// It monitors its `owner` and exits when that task manager goes down.
task_actor spawn_task(caf::actor_system& sys, std::shared_ptr<const plan> p,
                      uint32_t execution, data_plane_config cfg,
                      job_master_actor master,
                      checkpoint_coordinator_actor coordinator = {},
                      std::shared_ptr<const task_checkpointing> cp = nullptr,
                      job_id job = {}, task_manager_actor owner = {});

} // namespace weir
