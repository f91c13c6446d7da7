#include "actors/protocol.hpp"

namespace weir {

void register_protocol(caf::actor_system_config& cfg) {
  cfg.add_message_type<job_id>("weir::job_id");
  cfg.add_message_type<batch>("weir::batch");
  cfg.add_message_type<data_plane_config>("weir::data_plane_config");
  cfg.add_message_type<task_metrics>("weir::task_metrics");
  cfg.add_message_type<job_status>("weir::job_status");
  cfg.add_message_type<execution_state>("weir::execution_state");
  cfg.add_message_type<job_result>("weir::job_result");
  cfg.add_message_type<std::vector<job_result>>(
    "std::vector<weir::job_result>");
  cfg.add_message_type<subtask_info>("weir::subtask_info");
  cfg.add_message_type<failure_info>("weir::failure_info");
  cfg.add_message_type<checkpoint_stats>("weir::checkpoint_stats");
  cfg.add_message_type<job_info>("weir::job_info");
  cfg.add_message_type<submit_options>("weir::submit_options");
  cfg.add_message_type<deploy_request>("weir::deploy_request");
  cfg.add_message_type<slot_grant>("weir::slot_grant");
  cfg.add_message_type<std::vector<slot_grant>>(
    "std::vector<weir::slot_grant>");
  cfg.add_message_type<cluster_info>("weir::cluster_info");
  cfg.add_message_type<task_manager_registration>(
    "weir::task_manager_registration");
  cfg.add_message_type<task_manager_info>("weir::task_manager_info");
  cfg.add_message_type<std::vector<task_manager_info>>(
    "std::vector<weir::task_manager_info>");
  cfg.add_message_type<resource_manager_actor>("weir::resource_manager_actor");
  cfg.add_message_type<job_manager_actor>("weir::job_manager_actor");
  cfg.add_message_type<job_master_actor>("weir::job_master_actor");
  cfg.add_message_type<checkpoint_coordinator_actor>(
    "weir::checkpoint_coordinator_actor");
  cfg.add_message_type<task_actor>("weir::task_actor");
  cfg.add_message_type<task_manager_actor>("weir::task_manager_actor");
  cfg.add_message_type<std::vector<caf::strong_actor_ptr>>(
    "std::vector<caf::strong_actor_ptr>");
}

} // namespace weir
