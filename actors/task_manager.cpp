#include "actors/task_manager.hpp"

#include <map>
#include <set>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/error.hpp"
#include "actors/task.hpp"
#include "checkpoint/checkpoint_tracker.hpp"
#include "scheduler/job_graph.hpp"
#include "scheduler/plan.hpp"

namespace weir {

namespace {

struct task_manager_state {
  static inline const char* name = "weir.task_manager";

  std::string id;
  uint32_t slots = 0;
  std::shared_ptr<fault_injector> faults;
  std::shared_ptr<const operator_registry> registry;
  /// Plans of the jobs with live tasks here, and their task counts.
  std::map<job_id, std::shared_ptr<const plan>> plans;
  std::map<job_id, std::shared_ptr<const task_checkpointing>> checkpointing;
  std::map<job_id, size_t> live_tasks;
  std::map<caf::actor_addr, job_id> task_jobs;
};

using tm_pointer = task_manager_actor::stateful_pointer<task_manager_state>;

caf::expected<std::shared_ptr<const plan>> plan_for(tm_pointer self,
                                                    const deploy_request& req) {
  auto& st = self->state;
  auto i = st.plans.find(req.job);
  if (i != st.plans.end())
    return i->second;
  proto::JobSpec spec;
  if (!spec.ParseFromString(req.spec))
    return make_error(actors_errc::deployment_failed,
                      "task manager " + st.id + ": job descriptor of job "
                        + req.job.value + " does not parse");
  graph_options opts;
  opts.default_parallelism = req.options.default_parallelism;
  auto graph = build_job_graph(spec, *st.registry, opts);
  if (!graph)
    return graph.error();
  auto p = std::make_shared<const plan>(make_plan(std::move(*graph)));
  st.plans.emplace(req.job, p);
  auto settings = resolve_checkpoint_settings(spec.checkpointing());
  if (settings && settings->has_storage()) {
    auto cp = std::make_shared<task_checkpointing>();
    cp->job = req.job;
    cp->exactly_once = settings->exactly_once;
    cp->dir = settings->dir;
    cp->retained = settings->retained;
    cp->faults = st.faults;
    st.checkpointing.emplace(req.job, std::move(cp));
  }
  return p;
}

task_manager_actor::behavior_type
task_manager_impl(tm_pointer self, std::string id, uint32_t slots,
                  std::shared_ptr<const operator_registry> registry,
                  resource_manager_actor rm,
                  std::shared_ptr<fault_injector> faults) {
  auto& st = self->state;
  st.id = id;
  st.faults = std::move(faults);
  st.slots = slots;
  st.registry = std::move(registry);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& s = self->state;
    auto i = s.task_jobs.find(dm.source);
    if (i == s.task_jobs.end())
      return;
    auto job = i->second;
    s.task_jobs.erase(i);
    if (--s.live_tasks[job] == 0) {
      s.live_tasks.erase(job);
      s.plans.erase(job);
      s.checkpointing.erase(job);
    }
  });
  self
    ->request(rm, caf::infinite, register_atom::value, id, slots,
              task_manager_actor{self})
    .then([](ok_atom) {},
          [self](caf::error& err) { self->quit(std::move(err)); });
  return {
    [=](deploy_atom, const deploy_request& req) -> caf::result<task_actor> {
      auto p = plan_for(self, req);
      if (!p)
        return std::move(p.error());
      if (req.execution >= (*p)->executions.size())
        return make_error(actors_errc::deployment_failed,
                          "execution " + std::to_string(req.execution)
                            + " is not part of job " + req.job.value);
      std::shared_ptr<const task_checkpointing> cp;
      if (auto i = self->state.checkpointing.find(req.job);
          i != self->state.checkpointing.end() && req.coordinator) {
        if (req.restore_dir.empty()) {
          cp = i->second;
        } else {
          auto copy = std::make_shared<task_checkpointing>(*i->second);
          copy->restore_dir = req.restore_dir;
          copy->restore_vertices = req.restore_vertices;
          copy->restore_handles = req.restore_handles;
          cp = std::move(copy);
        }
      }
      auto t = spawn_task(self->system(), *p, req.execution,
                          req.options.data_plane, req.master, req.coordinator,
                          std::move(cp), req.job, task_manager_actor{self});
      auto& s = self->state;
      // Monitors both ways, not a link: a task manager's death takes its
      // tasks with it, but a killed task (exit reason kill, which no exit
      // handler can trap) must not take its task manager along.
      self->monitor(t);
      s.task_jobs.emplace(t.address(), req.job);
      ++s.live_tasks[req.job];
      return t;
    },
  };
}

} // namespace

task_manager_actor
spawn_task_manager(caf::actor_system& sys, std::string id, uint32_t slots,
                   std::shared_ptr<const operator_registry> registry,
                   resource_manager_actor rm,
                   std::shared_ptr<fault_injector> faults) {
  return sys.spawn(task_manager_impl, std::move(id), slots, std::move(registry),
                   std::move(rm), std::move(faults));
}

} // namespace weir
