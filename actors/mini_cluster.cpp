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
  mc.resource_manager = spawn_resource_manager(sys);
  for (uint32_t i = 0; i < cfg.task_managers; ++i)
    mc.task_managers.push_back(
      spawn_task_manager(sys, "tm-" + std::to_string(i),
                         cfg.slots_per_task_manager, reg, mc.resource_manager));
  mc.job_manager
    = spawn_job_manager(sys, reg, mc.resource_manager, cfg.job_manager);
  return mc;
}

void mini_cluster::shutdown() {
  caf::anon_send_exit(job_manager, caf::exit_reason::user_shutdown);
  for (auto& tm : task_managers)
    caf::anon_send_exit(tm, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(resource_manager, caf::exit_reason::user_shutdown);
}

} // namespace weir
