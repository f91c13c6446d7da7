#pragma once

#include <memory>

#include "actors/protocol.hpp"
#include "api/registry.hpp"

namespace weir {

/// Settings of a job master that do not come from the job itself.
struct job_master_config {
  /// How long to wait for slots before the job fails.
  caf::timespan slot_request_timeout = std::chrono::seconds(10);
};

/// Spawns the master of job `id` (called by the job manager, which it
/// notifies of every status change through `listener`). It plans the job,
/// requests slots from `rm`, deploys one task per execution vertex to the
/// granted task managers, connects and starts them, and drives the job's
/// state machine: FINISHED when every task finished; FAILING then FAILED on
/// the first task failure (the cause is kept); CANCELLING then CANCELED on
/// cancel. It releases its slots and exits once the job is terminal.
job_master_actor spawn_job_master(
  caf::actor_system& sys, job_id id, std::string spec, submit_options options,
  std::shared_ptr<const operator_registry> registry, resource_manager_actor rm,
  job_listener_actor listener, job_master_config cfg);

} // namespace weir
