#pragma once

// A doctest fixture that runs Weir's actors on CAF's deterministic test
// coordinator: no threads, no sleeps; the test steps messages and fires
// timeouts explicitly.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <doctest/doctest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "actors/mini_cluster.hpp"
#include "actors/protocol.hpp"
#include "api/registry.hpp"
#include "operators/builtins.hpp"
#include "weir/proto/job_spec.pb.h"

namespace weir::test {

/// Actor system config for deterministic runs.
struct test_config : caf::actor_system_config {
  test_config() {
    set("scheduler.policy", caf::atom("testing"));
    set("logger.verbosity", caf::atom("quiet"));
    register_protocol(*this);
  }
};

/// An actor system on the test coordinator.
struct deterministic_fixture {
  test_config cfg;
  caf::actor_system sys{cfg};
  caf::scheduler::test_coordinator& sched
    = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());

  /// Runs every ready message; when nothing is ready, fires the next
  /// timeout (advancing the test clock) and continues, until `done` holds
  /// or neither messages nor timeouts remain. Returns `done()`.
  bool run_until(const std::function<bool()>& done,
                 size_t max_timeouts = 100000) {
    for (size_t i = 0; i < max_timeouts; ++i) {
      sched.run();
      if (done())
        return true;
      if (!sched.has_pending_timeout())
        return done();
      sched.trigger_timeout();
    }
    return done();
  }

  /// Spawns an actor that sends `f`'s request and stores the response.
  template <class Response, class Handle, class... Ts>
  std::shared_ptr<std::optional<caf::expected<Response>>>
  ask(const Handle& dest, Ts... xs) {
    auto out = std::make_shared<std::optional<caf::expected<Response>>>();
    sys.spawn([=](caf::event_based_actor* self) {
      self->request(dest, caf::infinite, xs...)
        .then([=](Response& r) { *out = std::move(r); },
              [=](caf::error& e) { *out = std::move(e); });
    });
    return out;
  }
};

/// A registry with the built-in operators plus whatever `extra` adds.
inline std::shared_ptr<operator_registry>
make_test_registry(const std::function<void(operator_registry&)>& extra = {}) {
  auto reg = std::make_shared<operator_registry>();
  register_builtin_operators(*reg);
  if (extra)
    extra(*reg);
  return reg;
}

/// A mini cluster on the deterministic scheduler.
struct cluster_fixture : deterministic_fixture {
  std::shared_ptr<operator_registry> registry;
  mini_cluster cluster;

  void start(uint32_t task_managers, uint32_t slots,
             std::shared_ptr<operator_registry> reg = make_test_registry(),
             job_manager_config jm_cfg = {}) {
    registry = reg;
    mini_cluster_config mc;
    mc.task_managers = task_managers;
    mc.slots_per_task_manager = slots;
    mc.job_manager = jm_cfg;
    mc.job_manager.seed = 42;
    cluster = spawn_mini_cluster(sys, mc, reg);
    sched.run();
  }

  ~cluster_fixture() {
    cluster.shutdown();
    sched.run();
  }

  /// Submits `spec` and returns the job id (or the rejection).
  caf::expected<job_id> submit(const proto::JobSpec& spec,
                               submit_options opts = {}) {
    std::string bytes;
    spec.SerializeToString(&bytes);
    auto res
      = ask<job_id>(cluster.job_manager, submit_atom::value, bytes, opts);
    // Step only until the reply: an unbounded job never comes to rest.
    while (!res->has_value() && sched.try_run_once())
      ; // nop
    if (!res->has_value())
      return caf::make_error(caf::sec::request_timeout, "no reply");
    return **res;
  }

  /// Steps the cluster (`steps` messages at a time, never to rest: the
  /// job may be unbounded) until job `id` has `count` deployed subtasks;
  /// returns their handles by execution index, or fewer after 100 rounds.
  std::vector<caf::strong_actor_ptr>
  deployed_tasks(const job_id& id, size_t count, size_t steps = 200) {
    std::vector<caf::strong_actor_ptr> tasks;
    for (int i = 0; i < 100 && tasks.size() < count; ++i) {
      sched.run(steps);
      auto reply = ask<std::vector<caf::strong_actor_ptr>>(
        cluster.job_manager, tasks_atom::value, id);
      sched.run(steps);
      tasks.clear();
      if (reply->has_value() && reply->value())
        for (auto& t : *reply->value())
          if (t)
            tasks.push_back(t);
    }
    return tasks;
  }

  /// Steps the cluster in 10 ms of virtual time until job `id` ends
  /// (`at_step(i)` runs before step i) and returns the outcome; fails the
  /// test if it does not end.
  job_result run_stepped(const job_id& id,
                         const std::function<void(int)>& at_step = {}) {
    auto res = ask<job_result>(cluster.job_manager, wait_atom::value, id);
    for (int i = 0; i < 100000 && !res->has_value(); ++i) {
      if (at_step)
        at_step(i);
      sched.run();
      sched.advance_time(std::chrono::milliseconds(10));
    }
    REQUIRE(res->has_value());
    REQUIRE(res->value());
    return *res->value();
  }

  /// Submits `spec` and runs the cluster until the job is terminal.
  caf::expected<job_result> run_job(const proto::JobSpec& spec,
                                    submit_options opts = {}) {
    auto id = submit(spec, opts);
    if (!id)
      return id.error();
    auto res = ask<job_result>(cluster.job_manager, wait_atom::value, *id);
    run_until([&] { return res->has_value(); });
    if (!res->has_value())
      return caf::make_error(caf::sec::request_timeout,
                             "job did not end: the cluster went idle");
    return **res;
  }

  /// The details of job `id`, stepping the cluster until they come.
  std::optional<job_info> details(const job_id& id) {
    auto info = ask<job_info>(cluster.job_manager, info_atom::value, id);
    sched.run();
    if (!info->has_value() || !info->value())
      return std::nullopt;
    return *info->value();
  }
};

} // namespace weir::test
