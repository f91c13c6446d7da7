#include "actors/task_manager.hpp"

#include <charconv>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/node_id.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <unistd.h>

#include "actors/error.hpp"
#include "actors/task.hpp"
#include "checkpoint/checkpoint_tracker.hpp"
#include "scheduler/job_graph.hpp"
#include "scheduler/plan.hpp"

namespace weir {

namespace {

/// Resident memory of this process (Linux: /proc/self/statm), 0 where
/// unknown.
uint64_t resident_bytes() {
  std::ifstream in{"/proc/self/statm"};
  uint64_t pages = 0;
  uint64_t resident = 0;
  if (!(in >> pages >> resident))
    return 0;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

struct task_manager_state {
  static inline const char* name = "weir.task_manager";

  task_manager_config cfg;
  /// The resource manager while registered with it; null otherwise.
  resource_manager_actor rm;
  /// A connection attempt or registration is under way.
  bool connecting = false;
  caf::actor_clock::time_point last_heard;
  /// Plans of the jobs with live tasks here, and their task counts.
  std::map<job_id, std::shared_ptr<const plan>> plans;
  std::map<job_id, std::shared_ptr<const task_checkpointing>> checkpointing;
  std::map<job_id, size_t> live_tasks;
  std::map<caf::actor_addr, std::pair<job_id, task_actor>> tasks;
  /// "subtask 2/4 of task 'x' of job <id>" per task, for the log.
  std::map<caf::actor_addr, std::string> labels;
  /// Task managers this one has a direct connection to (deploy_request's
  /// peers).
  std::set<std::string> connected_peers;
  /// Successful registrations so far.
  int registrations = 0;

  void event(bool ok, const std::string& what) const {
    if (cfg.on_event)
      cfg.on_event(ok, what);
  }
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
                      "task manager " + st.cfg.id + ": job descriptor of job "
                        + req.job.value + " does not parse");
  auto registry = st.cfg.registry;
  if (st.cfg.job_registry) {
    auto reg = st.cfg.job_registry(spec);
    if (!reg)
      return make_error(actors_errc::deployment_failed,
                        "task manager " + st.cfg.id + ": "
                          + error_text(reg.error()));
    registry = std::move(*reg);
  }
  graph_options opts;
  opts.default_parallelism = req.options.default_parallelism;
  auto graph = build_job_graph(spec, *registry, opts);
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
    cp->faults = st.cfg.faults;
    st.checkpointing.emplace(req.job, std::move(cp));
  }
  return p;
}

std::string jobmanager_endpoint(const task_manager_config& cfg) {
  return cfg.jobmanager_host + ":" + std::to_string(cfg.jobmanager_port);
}

void connect(tm_pointer self);

/// Tries again after the reconnect delay.
void retry(tm_pointer self, const std::string& why) {
  auto& st = self->state;
  st.connecting = false;
  st.event(false, why + "; retrying in "
                    + std::to_string(
                      std::chrono::duration_cast<std::chrono::milliseconds>(
                        st.cfg.reconnect_delay)
                        .count())
                    + " ms");
  self->delayed_send(self, st.cfg.reconnect_delay, connect_atom::value);
}

void register_with(tm_pointer self, resource_manager_actor rm) {
  auto& st = self->state;
  task_manager_registration reg;
  reg.id = st.cfg.id;
  reg.slots = st.cfg.slots;
  reg.version = st.cfg.version;
  reg.pid = st.cfg.pid;
  reg.host = st.cfg.host;
  reg.handle = task_manager_actor{self};
  // Over the network a finite wait: CAF fails no request when the
  // connection drops before the answer, and the next attempt needs this
  // one to end.
  auto wait = st.cfg.resource_manager || st.cfg.heartbeat_timeout.count() <= 0
                ? caf::duration{caf::infinite}
                : caf::duration{st.cfg.heartbeat_timeout};
  self->request(rm, wait, register_atom::value, std::move(reg))
    .then(
      [self, rm](ok_atom) {
        auto& s = self->state;
        s.connecting = false;
        s.rm = rm;
        s.last_heard = self->clock().now();
        self->monitor(rm);
        s.event(true, "task manager " + s.cfg.id + " registered "
                        + std::to_string(s.cfg.slots) + " slots"
                        + (++s.registrations > 1
                             ? " again after losing the JobManager"
                             : ""));
      },
      [self](caf::error& err) {
        auto& s = self->state;
        // A refusal (another version, a taken id) will not change by
        // trying again; a lost connection may.
        if (err.category() == caf::atom("weir_actor")) {
          s.event(false, "registration refused: " + error_text(err));
          self->quit(std::move(err));
          return;
        }
        if (s.cfg.resource_manager) {
          self->quit(std::move(err));
          return;
        }
        retry(self, "registration with the JobManager at "
                      + jobmanager_endpoint(s.cfg)
                      + " failed: " + error_text(err));
      });
}

void connect(tm_pointer self) {
  auto& st = self->state;
  if (st.rm || st.connecting)
    return;
  st.connecting = true;
  if (st.cfg.resource_manager) {
    register_with(self, st.cfg.resource_manager);
    return;
  }
  auto mm = self->system().middleman().actor_handle();
  self
    ->request(mm, caf::infinite, connect_atom::value, st.cfg.jobmanager_host,
              st.cfg.jobmanager_port)
    .then(
      [self](const caf::node_id&, caf::strong_actor_ptr& ptr,
             const std::set<std::string>&) {
        if (!ptr) {
          retry(self, "no JobManager is published at "
                        + jobmanager_endpoint(self->state.cfg));
          return;
        }
        register_with(self, caf::actor_cast<resource_manager_actor>(ptr));
      },
      [self](caf::error& err) {
        retry(self, "cannot reach the JobManager at "
                      + jobmanager_endpoint(self->state.cfg) + ": "
                      + error_text(err));
      });
}

/// The JobManager is gone (or dropped us): cancel every task, since their
/// job masters will redeploy elsewhere, and register anew.
void lose_jobmanager(tm_pointer self, const std::string& cause,
                     bool reconnect_now) {
  auto& st = self->state;
  if (!st.rm)
    return;
  self->demonitor(st.rm.address());
  st.rm = nullptr;
  st.event(false, "lost the JobManager: " + cause + "; cancelling "
                    + std::to_string(st.tasks.size()) + " tasks");
  for (auto& [addr, entry] : st.tasks)
    self->send_exit(entry.second, caf::exit_reason::user_shutdown);
  if (st.cfg.resource_manager) {
    // In one process a lost resource manager means the cluster stops.
    self->quit(caf::exit_reason::user_shutdown);
    return;
  }
  if (reconnect_now)
    connect(self);
  else
    self->delayed_send(self, st.cfg.reconnect_delay, connect_atom::value);
}

/// Spawns the task of `req` once its peers are connected.
caf::expected<task_actor> deploy_task(tm_pointer self,
                                      const deploy_request& req) {
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
  auto t = spawn_task(self->system(), *p, req.execution, req.options.data_plane,
                      req.master, req.coordinator, std::move(cp), req.job,
                      task_manager_actor{self});
  auto& s = self->state;
  // Monitors both ways, not a link: a task manager's death takes its
  // tasks with it, but a killed task (exit reason kill, which no exit
  // handler can trap) must not take its task manager along.
  self->monitor(t);
  s.tasks.emplace(t.address(), std::make_pair(req.job, t));
  ++s.live_tasks[req.job];
  const auto& ev = (*p)->executions[req.execution];
  const auto& task = (*p)->tasks[ev.task];
  auto label = "subtask " + std::to_string(ev.subtask + 1) + "/"
               + std::to_string(task.parallelism) + " of task '" + task.name
               + "' of job " + req.job.value;
  s.event(true, "deployed " + label + " in slot " + std::to_string(req.slot)
                  + (req.restore_dir.empty()
                       ? std::string{}
                       : ", restoring from " + req.restore_dir));
  s.labels.emplace(t.address(), std::move(label));
  return t;
}

/// How long a task manager waits for a user library from the resource
/// manager.
constexpr auto library_fetch_timeout = std::chrono::seconds{120};

/// The user library `req`'s job names when this task manager has to fetch
/// it before it can plan the job; empty otherwise.
std::string library_to_fetch(tm_pointer self, const deploy_request& req) {
  auto& st = self->state;
  if (!st.cfg.library_missing || !st.cfg.store_library || !st.rm
      || st.plans.count(req.job) > 0)
    return {};
  proto::JobSpec spec;
  if (!spec.ParseFromString(req.spec) || spec.library_id().empty()
      || !st.cfg.library_missing(spec.library_id()))
    return {};
  return spec.library_id();
}

/// "HOST:PORT" as host and port (1 to 65535); nullopt otherwise.
std::optional<std::pair<std::string, uint16_t>>
split_endpoint(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return std::nullopt;
  unsigned port = 0;
  const char* first = text.data() + colon + 1;
  const char* last = text.data() + text.size();
  auto [end, ec] = std::from_chars(first, last, port);
  if (ec != std::errc{} || end != last || port == 0 || port > 65535)
    return std::nullopt;
  return std::make_pair(text.substr(0, colon), static_cast<uint16_t>(port));
}

/// The peers of `req` this task manager connects to itself before it
/// deploys: in a cluster, the ones with an id above its own (so that two
/// task managers never dial each other at once, which CAF resolves by
/// closing one of the two connections) and not connected yet.
std::vector<std::string> peers_to_connect(tm_pointer self,
                                          const deploy_request& req) {
  auto& st = self->state;
  std::vector<std::string> out;
  if (st.cfg.resource_manager)
    return out;
  for (const auto& peer : req.peers) {
    if (peer <= st.cfg.id || st.connected_peers.count(peer) > 0)
      continue;
    if (!split_endpoint(peer)) {
      st.event(false, "ignoring peer '" + peer + "': not HOST:PORT");
      continue;
    }
    out.push_back(peer);
  }
  return out;
}

task_manager_actor::behavior_type task_manager_impl(tm_pointer self,
                                                    task_manager_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& s = self->state;
    if (s.rm && s.rm.address() == dm.source) {
      lose_jobmanager(self, "connection closed (" + error_text(dm.reason) + ")",
                      false);
      return;
    }
    auto i = s.tasks.find(dm.source);
    if (i == s.tasks.end())
      return;
    auto job = i->second.first;
    s.tasks.erase(i);
    if (auto l = s.labels.find(dm.source); l != s.labels.end()) {
      if (dm.reason)
        s.event(false, l->second + " ended: " + error_text(dm.reason));
      else
        s.event(true, l->second + " ended");
      s.labels.erase(l);
    }
    if (--s.live_tasks[job] == 0) {
      s.live_tasks.erase(job);
      s.plans.erase(job);
      s.checkpointing.erase(job);
    }
  });
  connect(self);
  if (st.cfg.heartbeat_interval.count() > 0)
    self->delayed_send(self, st.cfg.heartbeat_interval, tick_atom::value);
  return {
    [=](deploy_atom, deploy_request& req) -> caf::result<task_actor> {
      if (!self->state.rm)
        return make_error(actors_errc::deployment_failed,
                          "task manager " + self->state.cfg.id
                            + " is not registered with a JobManager");
      auto missing = peers_to_connect(self, req);
      auto library = library_to_fetch(self, req);
      if (missing.empty() && library.empty()) {
        auto t = deploy_task(self, req);
        if (!t)
          return std::move(t.error());
        return std::move(*t);
      }
      auto rp = self->make_response_promise<task_actor>();
      auto pending
        = std::make_shared<size_t>(missing.size() + (library.empty() ? 0 : 1));
      auto fetch_error = std::make_shared<caf::error>();
      auto shared = std::make_shared<deploy_request>(std::move(req));
      auto mm = self->system().middleman().actor_handle();
      auto finish = [=]() mutable {
        if (--*pending > 0)
          return;
        if (*fetch_error) {
          rp.deliver(*fetch_error);
          return;
        }
        auto t = deploy_task(self, *shared);
        if (t)
          rp.deliver(std::move(*t));
        else
          rp.deliver(std::move(t.error()));
      };
      if (!library.empty()) {
        self
          ->request(self->state.rm, library_fetch_timeout, fetch_atom::value,
                    library)
          .then(
            [=](std::string& bytes) mutable {
              if (auto err = self->state.cfg.store_library(library, bytes))
                *fetch_error = std::move(err);
              else
                self->state.event(true, "fetched user library " + library + " ("
                                          + std::to_string(bytes.size())
                                          + " bytes)");
              finish();
            },
            [=](caf::error& err) mutable {
              *fetch_error = make_error(actors_errc::deployment_failed,
                                        "task manager " + self->state.cfg.id
                                          + ": cannot fetch user library "
                                          + library + ": " + error_text(err));
              finish();
            });
      }
      for (const auto& peer : missing) {
        auto [host, port] = *split_endpoint(peer);
        auto done = finish;
        self->request(mm, caf::infinite, connect_atom::value, host, port)
          .then(
            [=](const caf::node_id&, caf::strong_actor_ptr&,
                const std::set<std::string>&) mutable {
              self->state.connected_peers.insert(peer);
              done();
            },
            [=](caf::error& err) mutable {
              // The data then takes the detour through the JobManager;
              // a peer that is really gone fails the job soon enough.
              self->state.event(false, "cannot connect to task manager " + peer
                                         + ": " + error_text(err));
              done();
            });
      }
      return rp;
    },
    [=](heartbeat_atom) {
      auto& s = self->state;
      if (!s.rm)
        return;
      s.last_heard = self->clock().now();
      self->send(s.rm, heartbeat_atom::value, s.cfg.id, resident_bytes());
    },
    [=](log_atom) {
      auto& s = self->state;
      return s.cfg.log_tail ? s.cfg.log_tail() : std::vector<std::string>{};
    },
    [=](lost_atom, const std::string& cause) {
      lose_jobmanager(self, cause, true);
    },
    [=](connect_atom) { connect(self); },
    [=](tick_atom) {
      auto& s = self->state;
      auto now = self->clock().now();
      if (s.rm && now - s.last_heard > s.cfg.heartbeat_timeout) {
        auto silent = std::chrono::duration_cast<std::chrono::milliseconds>(
          now - s.last_heard);
        lose_jobmanager(
          self, "no heartbeat for " + std::to_string(silent.count()) + " ms",
          false);
      }
      self->delayed_send(self, s.cfg.heartbeat_interval, tick_atom::value);
    },
  };
}

} // namespace

task_manager_actor spawn_task_manager(caf::actor_system& sys,
                                      task_manager_config cfg) {
  return sys.spawn(task_manager_impl, std::move(cfg));
}

task_manager_actor
spawn_task_manager(caf::actor_system& sys, std::string id, uint32_t slots,
                   std::shared_ptr<const operator_registry> registry,
                   resource_manager_actor rm,
                   std::shared_ptr<fault_injector> faults) {
  task_manager_config cfg;
  cfg.id = std::move(id);
  cfg.slots = slots;
  cfg.registry = std::move(registry);
  cfg.resource_manager = std::move(rm);
  cfg.faults = std::move(faults);
  return spawn_task_manager(sys, std::move(cfg));
}

} // namespace weir
