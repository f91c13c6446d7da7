#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/timespan.hpp>

#include "actors/faults.hpp"
#include "actors/protocol.hpp"
#include "api/registry.hpp"

namespace weir {

/// Settings of one task manager.
struct task_manager_config {
  /// Unique in the cluster ("tm-0"; "HOST:PORT" of a TaskManager process).
  std::string id;
  uint32_t slots = 1;
  /// Operators its tasks can run.
  std::shared_ptr<const operator_registry> registry;
  /// When set, replaces `registry` per job (user libraries).
  job_registry_fn job_registry;
  /// Cluster TaskManagers: whether user library `id` (JobSpec.library_id)
  /// is missing here, and how to keep its bytes once fetched from the
  /// resource manager (checked against the id). With both set, deploying a
  /// job whose library is missing fetches it first, asynchronously, so the
  /// task manager keeps answering heartbeats meanwhile.
  std::function<bool(const std::string& id)> library_missing;
  std::function<caf::error(const std::string& id, const std::string& bytes)>
    store_library;
  /// The resource manager to register with, when it lives in this process
  /// (mini clusters); null when `jobmanager_host` names a remote one.
  resource_manager_actor resource_manager;
  /// Where the JobManager's resource manager is published (TaskManager
  /// processes). The task manager connects, registers, and when it loses
  /// the JobManager (broken connection, missing heartbeats) cancels its
  /// tasks and reconnects every `reconnect_delay`, for ever.
  std::string jobmanager_host;
  uint16_t jobmanager_port = 0;
  caf::timespan reconnect_delay = std::chrono::seconds(1);
  /// Silence from the resource manager after which the JobManager counts as
  /// lost, checked every `heartbeat_interval`; zero: not checked.
  caf::timespan heartbeat_interval{0};
  caf::timespan heartbeat_timeout{0};
  /// What it reports at registration.
  std::string version = weir_version;
  std::string host;
  int64_t pid = 0;
  /// Called (from an actor thread) whenever it registered, or failed to
  /// connect or register, with a line to log; may be empty.
  std::function<void(bool ok, const std::string& what)> on_event;
  /// The newest lines of this process's log, oldest first (REST's
  /// /taskmanagers/{id}/log); null: none kept.
  std::function<std::vector<std::string>()> log_tail;
  /// Deterministic fault injection for every task (sim/); null normally.
  std::shared_ptr<fault_injector> faults;
};

/// Spawns a task manager that registers its slots with the resource
/// manager. It plans each job once (from the JobSpec in the deploy
/// request), spawns and monitors the job's tasks, and drops the plan when
/// the job's last task exited. A refused registration (another version, a
/// taken id) ends it with that error.
task_manager_actor spawn_task_manager(caf::actor_system& sys,
                                      task_manager_config cfg);

/// The mini cluster's form: `slots` slots, registering with `rm` as `id`.
task_manager_actor
spawn_task_manager(caf::actor_system& sys, std::string id, uint32_t slots,
                   std::shared_ptr<const operator_registry> registry,
                   resource_manager_actor rm,
                   std::shared_ptr<fault_injector> faults = nullptr);

} // namespace weir
