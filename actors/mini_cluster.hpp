#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "actors/faults.hpp"
#include "actors/job_manager.hpp"
#include "actors/protocol.hpp"
#include "api/registry.hpp"

namespace weir {

/// Shape of an embedded cluster: every role in one process.
struct mini_cluster_config {
  uint32_t task_managers = 1;
  uint32_t slots_per_task_manager = 4;
  job_manager_config job_manager;
  /// Fault injection for every task of the cluster (sim/); null normally.
  std::shared_ptr<fault_injector> faults;
};

/// The actors of an embedded cluster. The task managers register with the
/// resource manager asynchronously; a job submitted early waits for their
/// slots like any slot request.
struct mini_cluster {
  resource_manager_actor resource_manager;
  std::vector<task_manager_actor> task_managers;
  job_manager_actor job_manager;

  /// Stops every actor of the cluster.
  void shutdown();

  /// Starts one more task manager, "tm-<n>" with `slots` slots, that
  /// registers with the resource manager like the first ones (a machine
  /// joining, or replacing one that died).
  task_manager_actor add_task_manager(caf::actor_system& sys, uint32_t slots);

  /// What add_task_manager() needs; set by spawn_mini_cluster.
  std::shared_ptr<const operator_registry> registry;
  std::shared_ptr<fault_injector> faults;
};

/// Spawns a resource manager, the task managers ("tm-0", "tm-1", ...) and a
/// job manager in `sys`.
mini_cluster spawn_mini_cluster(caf::actor_system& sys,
                                const mini_cluster_config& cfg,
                                std::shared_ptr<const operator_registry> reg);

} // namespace weir
