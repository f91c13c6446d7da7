#pragma once

#include <functional>
#include <string>

#include <cstdint>
#include <memory>

#include "actors/job_master.hpp"
#include "actors/protocol.hpp"
#include "api/registry.hpp"

namespace weir {

/// Settings of the job manager.
struct job_manager_config {
  job_master_config master;
  /// Seeds job id generation (fixed in tests for reproducible ids; 0 picks a
  /// random seed).
  uint64_t seed = 0;
  /// When set, gives each submitted job its registry (user libraries);
  /// otherwise every job uses the job manager's.
  job_registry_fn job_registry;
  /// Told of every job status change ("job <id> 'name': RUNNING"), with
  /// ok false for FAILING, FAILED and RESTARTING; for the process log.
  std::function<void(bool ok, const std::string& what)> on_event;
};

/// Spawns the job manager: validates submitted jobs (replying with an error
/// naming the fault), gives each accepted job an id and a job_master
/// child, tracks every job's status, answers waiters when a job ends, and
/// keeps terminal jobs for listing.
job_manager_actor
spawn_job_manager(caf::actor_system& sys,
                  std::shared_ptr<const operator_registry> registry,
                  resource_manager_actor rm, job_manager_config cfg);

} // namespace weir
