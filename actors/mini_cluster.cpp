#include "actors/mini_cluster.hpp"

#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

#include "actors/resource_manager.hpp"
#include "actors/task_manager.hpp"

namespace weir {

mini_cluster spawn_mini_cluster(caf::actor_system& sys,
                                const mini_cluster_config& cfg,
                                std::shared_ptr<const operator_registry> reg) {
  mini_cluster mc;
  mc.registry = reg;
  mc.faults = cfg.faults;
  mc.resource_manager = spawn_resource_manager(sys);
  for (uint32_t i = 0; i < cfg.task_managers; ++i)
    mc.add_task_manager(sys, cfg.slots_per_task_manager);
  mc.job_manager
    = spawn_job_manager(sys, reg, mc.resource_manager, cfg.job_manager);
  return mc;
}

task_manager_actor mini_cluster::add_task_manager(caf::actor_system& sys,
                                                  uint32_t slots) {
  auto tm
    = spawn_task_manager(sys, "tm-" + std::to_string(task_managers.size()),
                         slots, registry, resource_manager, faults);
  task_managers.push_back(tm);
  return tm;
}

void mini_cluster::shutdown() {
  caf::anon_send_exit(job_manager, caf::exit_reason::user_shutdown);
  for (auto& tm : task_managers)
    caf::anon_send_exit(tm, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(resource_manager, caf::exit_reason::user_shutdown);
}

} // namespace weir
