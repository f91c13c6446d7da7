#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/expected.hpp>

#include "actors/protocol.hpp"
#include "config/cluster_config.hpp"

namespace weir {

/// The actor system configuration of a cluster process: CAF's middleman
/// (BASP over TCP) loaded and Weir's message types registered. Two
/// TaskManagers with subtasks of one job connect directly (on their
/// taskmanager.host and port) before the tasks start, so batches between
/// them never take a detour through the JobManager.
class node_system_config : public caf::actor_system_config {
public:
  /// `threads`: scheduler worker threads (0: one per core).
  explicit node_system_config(size_t threads = 0);
};

class rest_server;
class library_store;

/// A running JobManager: the resource manager published on
/// jobmanager.rpc.port, the job manager, and the REST API on rest.port.
/// Created by start(); stop() (or the destructor) shuts it down.
class jobmanager_node {
public:
  /// Checks the ports, starts the actors and opens both ports; an error
  /// names the setting at fault ("rest.port 8081 on 127.0.0.1 is in use").
  static caf::expected<std::unique_ptr<jobmanager_node>>
  start(const cluster_config& cfg);

  ~jobmanager_node();

  /// The ports actually bound (they differ from the config when it says 0).
  uint16_t rpc_port() const {
    return rpc_port_;
  }
  uint16_t rest_port() const;

  /// The Prometheus port actually bound; 0 when it could not be opened.
  uint16_t metrics_port() const;

  /// Stops the REST API, cancels nothing (jobs die with the process, as in
  /// Flink without HA), and stops the actor system.
  void stop();

private:
  jobmanager_node(const cluster_config& cfg);

  cluster_config cfg_;
  node_system_config sys_cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  resource_manager_actor rm_;
  job_manager_actor jm_;
  std::shared_ptr<library_store> libraries_;
  /// The blob directory made for this process (no blob.storage.directory
  /// set), removed at stop(); empty otherwise.
  std::string temp_blobs_;
  std::unique_ptr<rest_server> rest_;
  /// Serves GET /metrics on metrics.reporter.prom.port.
  std::unique_ptr<rest_server> metrics_;
  uint16_t rpc_port_ = 0;
};

/// A running TaskManager: its actor port open on taskmanager.host and
/// taskmanager.rpc.port, a task manager actor ("HOST:PORT") that registers
/// with the JobManager and keeps reconnecting when it loses it.
class taskmanager_node {
public:
  static caf::expected<std::unique_ptr<taskmanager_node>>
  start(const cluster_config& cfg);

  ~taskmanager_node();

  const std::string& id() const {
    return id_;
  }

  /// Blocks until the task manager ends (its registration was refused:
  /// returns why) or stop() is called from another thread (returns none).
  caf::error wait();

  /// Makes wait() return; callable from any thread.
  void stop();

private:
  taskmanager_node(const cluster_config& cfg);

  cluster_config cfg_;
  node_system_config sys_cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  task_manager_actor tm_;
  std::string id_;
  /// As jobmanager_node::temp_blobs_.
  std::string temp_blobs_;
};

} // namespace weir
