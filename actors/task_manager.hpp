#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "actors/faults.hpp"
#include "actors/protocol.hpp"
#include "api/registry.hpp"

namespace weir {

/// Spawns a task manager with `slots` slots that registers with `rm` under
/// `id`. It plans each job once (from the JobSpec in the deploy request,
/// with `registry`), spawns and monitors the job's tasks, and drops the
/// plan when the job's last task exited.
/// `faults`, when set, reaches every task (deterministic fault injection).
task_manager_actor
spawn_task_manager(caf::actor_system& sys, std::string id, uint32_t slots,
                   std::shared_ptr<const operator_registry> registry,
                   resource_manager_actor rm,
                   std::shared_ptr<fault_injector> faults = nullptr);

} // namespace weir
