#pragma once

#include <functional>
#include <memory>

#include <caf/expected.hpp>

#include "actors/mini_cluster.hpp"
#include "actors/protocol.hpp"
#include "api/registry.hpp"
#include "weir/proto/job_spec.pb.h"

namespace weir {

/// Controls a job running on an embedded mini cluster; every function may
/// be called from any thread (a signal handler thread, say) while
/// run_local_job() blocks.
struct local_job_control {
  /// Cancels the job (CANCELLING, then CANCELED).
  std::function<void()> cancel;
  /// Stops the job with a savepoint into directory `dir` (Flink's
  /// stop-with-savepoint); local_run_options::on_savepoint learns how it
  /// went.
  std::function<void(std::string dir)> stop_with_savepoint;
  /// The mini cluster's actor system and actors, for observers that ask
  /// them (the CLI's progress line reads the job's details and metrics as
  /// the REST API does). Valid until local_run_options::on_stopping
  /// returns.
  caf::actor_system* system = nullptr;
  job_manager_actor job_manager;
  resource_manager_actor resource_manager;
};

/// How to run a job on an embedded mini cluster.
struct local_run_options {
  mini_cluster_config cluster;
  submit_options submit;
  /// Worker threads of the actor system (0: one per core).
  size_t threads = 0;
  /// Called once the job is accepted, from the calling thread, with the
  /// means to control it.
  std::function<void(const job_id&, local_job_control control)> on_submitted;
  /// Called with the path of a savepoint that stop_with_savepoint took, or
  /// why it failed (the job then keeps running), from an actor thread.
  std::function<void(caf::expected<std::string>)> on_savepoint;
  /// Called with the job's final details (exception history, checkpoint
  /// statistics) once it is terminal, from the calling thread.
  std::function<void(const job_info&)> on_finished;
  /// Called from the calling thread once the job is terminal (or waiting
  /// for it failed), after on_finished and before the actor system shuts
  /// down, whenever on_submitted was called: the place to stop whatever
  /// still talks to the cluster.
  std::function<void()> on_stopping;
};

/// Runs `spec` on a fresh mini cluster in this process and blocks until the
/// job is terminal. Returns the job's outcome (FINISHED, FAILED with cause,
/// CANCELED), or an error if the job was rejected at submission. This is
/// the library entry point for programs that embed Weir (examples/).
caf::expected<job_result>
run_local_job(const proto::JobSpec& spec,
              std::shared_ptr<const operator_registry> registry,
              const local_run_options& opts);

} // namespace weir
