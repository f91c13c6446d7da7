#include "actors/job_manager.hpp"

#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <random>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/error.hpp"
#include "checkpoint/checkpoint_store.hpp"
#include "checkpoint/restore_assignment.hpp"
#include "scheduler/job_graph.hpp"
#include "scheduler/plan.hpp"

namespace weir {

namespace {

struct job_record {
  job_master_actor master;
  job_status status = job_status::initializing;
  std::string name;
  std::string cause;
  /// Every status change the master reported, with its wall-clock time.
  std::vector<std::pair<job_status, int64_t>> transitions;
  std::vector<caf::typed_response_promise<job_result>> waiters;
  /// The master's last details, sent when the job ended.
  std::optional<job_info> final_info;
};

struct job_manager_state {
  static inline const char* name = "weir.job_manager";

  std::shared_ptr<const operator_registry> registry;
  resource_manager_actor rm;
  job_manager_config cfg;
  std::mt19937_64 rng;
  std::map<job_id, job_record> jobs;

  job_id next_id() {
    char buf[33];
    std::snprintf(buf, sizeof(buf), "%016llx%016llx",
                  static_cast<unsigned long long>(rng()),
                  static_cast<unsigned long long>(rng()));
    return job_id{buf};
  }
};

using jmgr_pointer = job_manager_actor::stateful_pointer<job_manager_state>;

/// Rejects data-plane settings that would stall or exhaust a job.
caf::error check(const data_plane_config& dp) {
  auto bad = [](const std::string& what) {
    return make_error(actors_errc::invalid_job,
                      "invalid data-plane setting: " + what);
  };
  if (dp.credits < 1 || dp.credits > 1024)
    return bad("credits must be in [1, 1024], got "
               + std::to_string(dp.credits));
  if (dp.batch_rows < 1 || dp.batch_rows > (1u << 20))
    return bad("batch rows must be in [1, 1048576], got "
               + std::to_string(dp.batch_rows));
  if (dp.batch_bytes < 64 || dp.batch_bytes > (64u << 20))
    return bad("batch bytes must be in [64, 64 MiB], got "
               + std::to_string(dp.batch_bytes));
  if (dp.flush_interval_ms < 1 || dp.flush_interval_ms > 60000)
    return bad("flush interval must be in [1, 60000] ms, got "
               + std::to_string(dp.flush_interval_ms));
  return caf::none;
}

/// The master of job `id` if the job is still running.
caf::expected<job_master_actor> running_master(jmgr_pointer self,
                                               const job_id& id) {
  auto& s = self->state;
  auto i = s.jobs.find(id);
  if (i == s.jobs.end())
    return make_error(actors_errc::unknown_job, "no job " + id.value);
  if (is_terminal(i->second.status) || !i->second.master)
    return make_error(actors_errc::invalid_job, "job " + id.value + " is "
                                                  + to_string(i->second.status)
                                                  + ", not running");
  return i->second.master;
}

job_manager_actor::behavior_type
job_manager_impl(jmgr_pointer self,
                 std::shared_ptr<const operator_registry> registry,
                 resource_manager_actor rm, job_manager_config cfg) {
  auto& st = self->state;
  st.registry = std::move(registry);
  st.rm = std::move(rm);
  st.cfg = cfg;
  st.rng.seed(cfg.seed != 0 ? cfg.seed : std::random_device{}());
  // Job masters are linked: the job manager's end is theirs. Their own
  // exits arrive as down messages below.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    for (const auto& kvp : self->state.jobs)
      if (kvp.second.master && kvp.second.master.address() == msg.source)
        return;
    self->quit(msg.reason);
  });
  self->set_down_handler([self](caf::down_msg& dm) {
    for (auto& kvp : self->state.jobs) {
      auto& rec = kvp.second;
      if (!rec.master || rec.master.address() != dm.source)
        continue;
      rec.master = nullptr;
      if (is_terminal(rec.status))
        return;
      // The master died without reporting a terminal status.
      rec.status = job_status::failed;
      rec.cause
        = "the job master exited unexpectedly: "
          + (dm.reason ? error_text(dm.reason) : std::string{"normal exit"});
      for (auto& w : rec.waiters)
        w.deliver(job_result{kvp.first, rec.status, rec.cause});
      rec.waiters.clear();
      return;
    }
  });
  return {
    [=](submit_atom, std::string spec,
        submit_options options) -> caf::result<job_id> {
      auto& s = self->state;
      proto::JobSpec parsed;
      if (!parsed.ParseFromString(spec))
        return make_error(actors_errc::invalid_job,
                          "the submitted job descriptor does not parse");
      if (auto err = check(options.data_plane))
        return err;
      auto registry = s.registry;
      if (s.cfg.job_registry) {
        auto reg = s.cfg.job_registry(parsed);
        if (!reg)
          return make_error(actors_errc::invalid_job, error_text(reg.error()));
        registry = std::move(*reg);
      }
      graph_options opts;
      opts.default_parallelism = options.default_parallelism;
      auto graph = build_job_graph(parsed, *registry, opts);
      if (!graph)
        return std::move(graph.error());
      if (!options.savepoint_path.empty()) {
        // A savepoint that does not fit is the submitter's error, now.
        auto sp = checkpoint_store::load(options.savepoint_path);
        if (!sp)
          return make_error(actors_errc::invalid_job,
                            "cannot restore from savepoint '"
                              + options.savepoint_path
                              + "': " + error_text(sp.error()));
        auto p = make_plan(*graph);
        auto assigned
          = assign_restore(*sp, p, options.allow_non_restored_state);
        if (!assigned)
          return make_error(actors_errc::invalid_job,
                            error_text(assigned.error()));
      }
      auto id = s.next_id();
      job_record rec;
      rec.name = graph->name;
      rec.master = spawn_job_master(self->system(), id, std::move(spec),
                                    options, registry, s.rm,
                                    job_listener_actor{self}, s.cfg.master);
      self->monitor(rec.master);
      self->link_to(rec.master);
      s.jobs.emplace(id, std::move(rec));
      return id;
    },
    [=](wait_atom, const job_id& id) -> caf::result<job_result> {
      auto& s = self->state;
      auto i = s.jobs.find(id);
      if (i == s.jobs.end())
        return make_error(actors_errc::unknown_job, "no job " + id.value);
      if (is_terminal(i->second.status))
        return job_result{id, i->second.status, i->second.cause};
      auto promise = self->make_response_promise<job_result>();
      i->second.waiters.push_back(promise);
      return promise;
    },
    [=](cancel_atom, const job_id& id) {
      auto& s = self->state;
      auto i = s.jobs.find(id);
      if (i != s.jobs.end() && !is_terminal(i->second.status))
        self->send(i->second.master, cancel_atom::value);
    },
    [=](info_atom, const job_id& id) -> caf::result<job_info> {
      auto& s = self->state;
      auto i = s.jobs.find(id);
      if (i == s.jobs.end())
        return make_error(actors_errc::unknown_job, "no job " + id.value);
      if (!is_terminal(i->second.status) && i->second.master)
        return self->delegate(i->second.master, info_atom::value);
      if (i->second.final_info)
        return *i->second.final_info;
      job_info info;
      info.id = id;
      info.name = i->second.name;
      info.status = i->second.status;
      info.cause = i->second.cause;
      info.transitions = i->second.transitions;
      return info;
    },
    [=](trigger_atom, const job_id& id) -> caf::result<uint64_t> {
      auto master = running_master(self, id);
      if (!master)
        return std::move(master.error());
      return self->delegate(*master, trigger_atom::value);
    },
    [=](savepoint_atom, const job_id& id, std::string& target,
        bool stop) -> caf::result<std::string> {
      auto master = running_master(self, id);
      if (!master)
        return std::move(master.error());
      return self->delegate(*master, savepoint_atom::value, std::move(target),
                            stop);
    },
    [=](info_atom, job_info& info) {
      auto& s = self->state;
      auto i = s.jobs.find(info.id);
      if (i != s.jobs.end())
        i->second.final_info = std::move(info);
    },
    [=](tasks_atom,
        const job_id& id) -> caf::result<std::vector<caf::strong_actor_ptr>> {
      auto& s = self->state;
      auto i = s.jobs.find(id);
      if (i == s.jobs.end())
        return make_error(actors_errc::unknown_job, "no job " + id.value);
      if (!i->second.master)
        return std::vector<caf::strong_actor_ptr>{};
      return self->delegate(i->second.master, tasks_atom::value);
    },
    [=](list_atom) {
      std::vector<job_result> out;
      for (const auto& kvp : self->state.jobs)
        out.push_back(
          job_result{kvp.first, kvp.second.status, kvp.second.cause});
      return out;
    },
    [=](job_state_atom, const job_id& id, job_status status,
        const std::string& cause) {
      auto& s = self->state;
      auto i = s.jobs.find(id);
      if (i == s.jobs.end())
        return;
      auto& rec = i->second;
      rec.status = status;
      if (s.cfg.on_event) {
        auto ok = status != job_status::failing && status != job_status::failed
                  && status != job_status::restarting;
        s.cfg.on_event(ok, "job " + id.value + " '" + rec.name
                             + "': " + to_string(status)
                             + (cause.empty() ? "" : ": " + cause));
      }
      rec.transitions.emplace_back(
        status, std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count());
      if (!is_terminal(status))
        return;
      rec.cause = cause;
      for (auto& w : rec.waiters)
        w.deliver(job_result{id, status, cause});
      rec.waiters.clear();
    },
  };
}

} // namespace

job_manager_actor
spawn_job_manager(caf::actor_system& sys,
                  std::shared_ptr<const operator_registry> registry,
                  resource_manager_actor rm, job_manager_config cfg) {
  return sys.spawn(job_manager_impl, std::move(registry), std::move(rm), cfg);
}

} // namespace weir
