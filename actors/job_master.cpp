#include "actors/job_master.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <random>

#include <caf/actor_ostream.hpp>
#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/checkpoint_coordinator.hpp"
#include "actors/error.hpp"
#include "checkpoint/checkpoint_store.hpp"
#include "checkpoint/checkpoint_tracker.hpp"
#include "checkpoint/restore_assignment.hpp"
#include "scheduler/restart_strategy.hpp"
#include "scheduler/job_graph.hpp"
#include "scheduler/placement.hpp"
#include "scheduler/plan.hpp"

namespace weir {

namespace {

epoch_millis wall_now() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
    .count();
}

struct execution_slot {
  execution_state_machine machine{execution_state::created, wall_now()};
  task_actor handle;
  std::string task_manager;
  /// FINISHED, but alive until the job's final commit.
  bool awaiting_commit = false;
  /// Its counters when it ended.
  std::optional<task_metrics> final_metrics;
};

struct job_master_state {
  static inline const char* name = "weir.job_master";

  job_id id;
  std::string spec;
  submit_options options;
  std::shared_ptr<const operator_registry> registry;
  resource_manager_actor rm;
  job_listener_actor listener;
  job_master_config cfg;
  std::shared_ptr<const plan> p;
  /// Null when the job takes no checkpoints (or between attempts).
  checkpoint_coordinator_actor coordinator;
  std::optional<checkpoint_settings> checkpointing;
  std::optional<restart_policy> restarts;
  /// Deployment attempt: replies and timers of older attempts are ignored.
  uint32_t attempt = 0;
  std::chrono::milliseconds restart_delay{0};
  std::mt19937 rng{42};
  /// Every failure, oldest first.
  std::vector<failure_info> exceptions;
  /// The latest checkpoints, oldest first, and totals.
  std::deque<checkpoint_stats> checkpoints;
  uint64_t checkpoints_completed = 0;
  uint64_t checkpoints_failed = 0;
  std::string name_;
  job_state_machine machine{job_status::initializing, wall_now()};
  std::vector<execution_slot> executions;
  std::string cause;
  size_t deployed = 0;
  size_t connected = 0;
  /// The id of the savepoint a submission from a savepoint restored; the
  /// job's own checkpoint ids continue after it.
  uint64_t initial_checkpoint_id = 0;
  /// Stopping with a savepoint: its subtasks were told to finish.
  bool stopping = false;
  /// The highest checkpoint id any coordinator of the job triggered.
  uint64_t last_checkpoint_id = 0;
  /// Deployments from a checkpoint or savepoint, and the latest one.
  restore_info restores;
  /// Whether the restore point being deployed is the submitted savepoint.
  bool restoring_savepoint = false;
};

using jm_pointer = job_master_actor::stateful_pointer<job_master_state>;

job_info make_info(jm_pointer self) {
  auto& s = self->state;
  job_info info;
  info.id = s.id;
  info.name = s.name_;
  info.status = s.machine.current();
  info.cause = s.cause;
  for (const auto& t : s.machine.history())
    info.transitions.emplace_back(t.to, t.at);
  if (s.p) {
    for (size_t i = 0; i < s.executions.size(); ++i) {
      const auto& ev = s.p->executions[i];
      const auto& ex = s.executions[i];
      subtask_info si;
      si.task = s.p->tasks[ev.task].name;
      si.subtask = ev.subtask;
      si.state = ex.machine.current();
      si.task_manager = ex.task_manager;
      for (const auto& t : ex.machine.history())
        si.transitions.emplace_back(t.to, t.at);
      info.subtasks.push_back(std::move(si));
    }
    for (const auto& t : s.p->tasks) {
      task_info ti;
      ti.name = t.name;
      ti.parallelism = t.parallelism;
      for (auto v : t.chain) {
        const auto& jv = s.p->graph.vertices[v];
        ti.operators.push_back(jv.id + " (" + (jv.op ? jv.op->name : "") + ")");
      }
      for (auto e : t.inputs) {
        const auto& te = s.p->edges[e];
        task_input_info in;
        in.from = te.from;
        in.partitioner = to_string(te.part);
        in.keys = s.p->graph.edges[te.job_edge].keys;
        in.output = te.output;
        ti.inputs.push_back(std::move(in));
      }
      info.tasks.push_back(std::move(ti));
    }
  }
  info.exceptions = s.exceptions;
  info.checkpoints.assign(s.checkpoints.begin(), s.checkpoints.end());
  info.checkpoints_completed = s.checkpoints_completed;
  info.checkpoints_failed = s.checkpoints_failed;
  info.restores = s.restores;
  for (const auto& ex : s.executions)
    if (ex.final_metrics)
      info.final_metrics.push_back(*ex.final_metrics);
  if (s.checkpointing) {
    const auto& c = *s.checkpointing;
    auto& out = info.checkpoint_config;
    out.storage = c.has_storage();
    out.interval_ms = c.interval.count();
    out.timeout_ms = c.timeout.count();
    out.min_pause_ms = c.min_pause.count();
    out.max_concurrent = c.max_concurrent;
    out.tolerable_failures = c.tolerable_failures;
    out.exactly_once = c.exactly_once;
    out.retained = c.retained;
    out.dir = c.dir;
  }
  return info;
}

void move_job(jm_pointer self, job_status to) {
  auto& st = self->state;
  if (auto err = st.machine.move_to(to, wall_now())) {
    // A transition the table forbids means a bug here, not bad input.
    caf::aout(self) << "job " << st.id.value << ": " << error_text(err)
                    << std::endl;
    return;
  }
  // The final details first: whoever learns of the end may ask for them.
  if (is_terminal(to))
    self->send(st.listener, info_atom::value, make_info(self));
  self->send(st.listener, job_state_atom::value, st.id, to,
             to == job_status::failed ? st.cause : std::string{});
}

/// "task 'name' subtask 2/4" for execution `i`.
std::string subtask_label(jm_pointer self, size_t i) {
  const auto& p = *self->state.p;
  const auto& ev = p.executions[i];
  const auto& t = p.tasks[ev.task];
  return "task '" + t.name + "' subtask " + std::to_string(ev.subtask + 1) + "/"
         + std::to_string(t.parallelism);
}

void move_exec(jm_pointer self, size_t i, execution_state to) {
  auto& ex = self->state.executions[i];
  if (ex.machine.current() == to)
    return;
  if (auto err = ex.machine.move_to(to, wall_now()))
    caf::aout(self) << "job " << self->state.id.value << ", subtask " << i
                    << ": " << error_text(err) << std::endl;
}

bool all_executions_finished(jm_pointer self) {
  for (const auto& ex : self->state.executions)
    if (ex.machine.current() != execution_state::finished)
      return false;
  return true;
}

bool all_executions_terminal(jm_pointer self) {
  for (const auto& ex : self->state.executions)
    if (!is_terminal(ex.machine.current()))
      return false;
  return true;
}

/// Gives back every slot (also a request still waiting at the resource
/// manager) and exits; the job must be terminal.
void stop_coordinator(jm_pointer self) {
  auto& st = self->state;
  if (!st.coordinator)
    return;
  auto c = std::move(st.coordinator);
  st.coordinator = nullptr;
  self->demonitor(c.address());
  // It removes the files of checkpoints still in flight, then exits.
  self->send(c, cancel_atom::value);
}

void start_coordinator(jm_pointer self) {
  auto& st = self->state;
  if (!st.checkpointing || !st.checkpointing->has_storage() || st.coordinator)
    return;
  st.coordinator = spawn_checkpoint_coordinator(
    self->system(), st.id, *st.checkpointing, st.p, job_master_actor{self},
    std::max(st.initial_checkpoint_id, st.last_checkpoint_id) + 1);
  self->monitor(st.coordinator);
  // A master killed with its job manager (a JobManager shutting down) takes
  // its coordinator along; otherwise the coordinator's ticks would keep the
  // actor system alive.
  self->attach_functor([c = st.coordinator](const caf::error&) {
    caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
  });
}

void release_and_quit(jm_pointer self) {
  auto& st = self->state;
  self->send(st.rm, release_atom::value, st.id);
  stop_coordinator(self);
  self->quit();
}

void acquire_slots(jm_pointer self);

/// Completes FAILING/CANCELLING once every subtask is terminal; for
/// RESTARTING, gives the slots back and schedules the next attempt.
void settle(jm_pointer self) {
  auto& st = self->state;
  auto cur = st.machine.current();
  if (cur != job_status::failing && cur != job_status::cancelling
      && cur != job_status::restarting)
    return;
  if (!all_executions_terminal(self))
    return;
  if (cur == job_status::restarting) {
    // Slots are requested anew: a dead task manager's are gone.
    self->send(st.rm, release_atom::value, st.id);
    self->delayed_send(self, st.restart_delay, restart_atom::value, st.attempt);
    return;
  }
  move_job(self, cur == job_status::failing ? job_status::failed
                                            : job_status::canceled);
  release_and_quit(self);
}

/// Stops every subtask that is not terminal yet.
void cancel_executions(jm_pointer self) {
  auto& st = self->state;
  for (size_t i = 0; i < st.executions.size(); ++i) {
    auto& ex = st.executions[i];
    switch (ex.machine.current()) {
      case execution_state::created:
      case execution_state::scheduled:
        move_exec(self, i, execution_state::canceled);
        break;
      case execution_state::deploying:
      case execution_state::initializing:
      case execution_state::running:
        move_exec(self, i, execution_state::canceling);
        // A subtask still being deployed gets its cancel when the
        // deployment reply brings its handle.
        if (ex.handle)
          self->send(ex.handle, cancel_atom::value);
        break;
      case execution_state::finished:
        if (ex.awaiting_commit && ex.handle) {
          // What it pre-committed is discarded by the next attempt.
          ex.awaiting_commit = false;
          self->send(ex.handle, cancel_atom::value);
        }
        break;
      default:
        break;
    }
  }
}

/// Why the job cannot take a checkpoint or savepoint now, if it cannot.
caf::error check_checkpointable(jm_pointer self) {
  auto& s = self->state;
  if (!s.checkpointing || !s.checkpointing->has_storage())
    return make_error(actors_errc::invalid_job,
                      "job " + s.id.value
                        + " has no checkpoint storage: set checkpointing dir "
                          "(state.checkpoints.dir) to take checkpoints and "
                          "savepoints");
  if (!s.coordinator || s.machine.current() != job_status::running
      || s.stopping)
    return make_error(actors_errc::invalid_job,
                      "job " + s.id.value + " is "
                        + (s.stopping ? std::string{"stopping"}
                                      : to_string(s.machine.current()))
                        + ", not running");
  return caf::none;
}

/// The restart strategy's answer to one more failure (with jitter from
/// the job's seeded generator); only when the job has a strategy.
restart_policy::decision next_restart(jm_pointer self) {
  auto& s = self->state;
  std::uniform_real_distribution<double> jitter{0.0, 1.0};
  return s.restarts->on_failure(self->clock().now(), jitter(s.rng));
}

void fail_job(jm_pointer self, const std::string& cause,
              const std::string& task = {}) {
  auto& st = self->state;
  auto cur = st.machine.current();
  if (cur == job_status::failing || cur == job_status::cancelling
      || cur == job_status::restarting || is_terminal(cur))
    return;
  st.exceptions.push_back(failure_info{wall_now(), task, cause});
  st.cause = cause;
  if (cur == job_status::running && st.restarts) {
    auto d = next_restart(self);
    if (d.restart) {
      st.restart_delay = d.delay;
      move_job(self, job_status::restarting);
      stop_coordinator(self);
      cancel_executions(self);
      settle(self);
      return;
    }
    st.cause = cause + " (no restart: " + d.reason + ")";
  }
  if (cur == job_status::initializing) {
    move_job(self, job_status::failed);
    release_and_quit(self);
    return;
  }
  move_job(self, job_status::failing);
  cancel_executions(self);
  settle(self);
}

void cancel_job(jm_pointer self) {
  auto& st = self->state;
  auto cur = st.machine.current();
  if (cur == job_status::cancelling || is_terminal(cur))
    return;
  move_job(self, job_status::cancelling);
  stop_coordinator(self);
  cancel_executions(self);
  settle(self);
}

/// What the next deployment restores: the latest completed checkpoint of
/// the job, or else the savepoint it was submitted with; nothing for a
/// fresh start. An unusable savepoint is an error (the job manager checked
/// it at submission, so it changed since).
caf::expected<std::optional<restore_assignment>>
restore_point(jm_pointer self) {
  auto& st = self->state;
  std::optional<completed_checkpoint> from;
  if (st.checkpointing && st.checkpointing->has_storage()) {
    checkpoint_store store{st.checkpointing->dir, st.id.value,
                           st.checkpointing->retained};
    auto ids = store.list();
    if (ids && !ids->empty()) {
      auto latest = store.latest();
      if (latest) {
        for (const auto& w : latest->warnings)
          caf::aout(self) << "job " << st.id.value << ": " << w << std::endl;
        from = std::move(*latest);
      } else {
        caf::aout(self) << "job " << st.id.value << ": no usable checkpoint: "
                        << error_text(latest.error()) << std::endl;
      }
    }
  }
  st.restoring_savepoint = false;
  if (!from && !st.options.savepoint_path.empty()) {
    auto sp = checkpoint_store::load(st.options.savepoint_path);
    if (!sp)
      return std::move(sp.error());
    st.initial_checkpoint_id = sp->metadata.checkpoint_id();
    st.restoring_savepoint = true;
    from = std::move(*sp);
  }
  if (!from)
    return std::optional<restore_assignment>{};
  auto assigned
    = assign_restore(*from, *st.p, st.options.allow_non_restored_state);
  if (!assigned)
    return std::move(assigned.error());
  return std::optional<restore_assignment>{std::move(*assigned)};
}

/// Every subtask finished: subtasks with committing operators commit what
/// they pre-committed at end of input, then the job is FINISHED. A
/// failure before all of them confirmed restarts the job like any other.
void finish_job(jm_pointer self) {
  auto& st = self->state;
  size_t waiting = 0;
  for (const auto& ex : st.executions)
    if (ex.awaiting_commit)
      ++waiting;
  if (waiting == 0) {
    move_job(self, job_status::finished);
    release_and_quit(self);
    return;
  }
  // No checkpoint may complete after the final commit.
  stop_coordinator(self);
  auto attempt = st.attempt;
  auto left = std::make_shared<size_t>(waiting);
  for (size_t i = 0; i < st.executions.size(); ++i) {
    auto& ex = st.executions[i];
    if (!ex.awaiting_commit)
      continue;
    self->request(ex.handle, caf::infinite, commit_atom::value)
      .then(
        [self, i, attempt, left](ok_atom) {
          auto& s = self->state;
          if (s.attempt != attempt
              || s.machine.current() != job_status::running)
            return;
          s.executions[i].awaiting_commit = false;
          if (--*left == 0) {
            move_job(self, job_status::finished);
            release_and_quit(self);
          }
        },
        [self, i, attempt](caf::error& err) {
          auto& s = self->state;
          if (s.attempt != attempt || !s.executions[i].awaiting_commit)
            return;
          s.executions[i].awaiting_commit = false;
          fail_job(self,
                   "final commit of subtask " + std::to_string(i)
                     + " failed: " + error_text(err),
                   subtask_label(self, i));
          settle(self);
        });
  }
}

void start_tasks(jm_pointer self) {
  auto& st = self->state;
  for (auto& ex : st.executions)
    self->send(ex.handle, start_atom::value);
  if (st.coordinator) {
    std::vector<caf::strong_actor_ptr> tasks;
    for (auto& ex : st.executions)
      tasks.push_back(caf::actor_cast<caf::strong_actor_ptr>(ex.handle));
    self->send(st.coordinator, connect_atom::value, std::move(tasks));
  }
}

void connect_tasks(jm_pointer self) {
  auto& st = self->state;
  std::vector<caf::strong_actor_ptr> peers;
  for (auto& ex : st.executions)
    peers.push_back(caf::actor_cast<caf::strong_actor_ptr>(ex.handle));
  for (size_t i = 0; i < st.executions.size(); ++i) {
    self
      ->request(st.executions[i].handle, caf::infinite, connect_atom::value,
                peers)
      .then(
        [self](ok_atom) {
          auto& s = self->state;
          if (s.machine.current() != job_status::running)
            return;
          if (++s.connected == s.executions.size())
            start_tasks(self);
        },
        [self, i](caf::error& err) {
          fail_job(self, "could not connect subtask " + std::to_string(i) + ": "
                           + error_text(err));
        });
  }
}

void deploy(jm_pointer self, const std::vector<slot_grant>& grants) {
  auto& st = self->state;
  auto cur = st.machine.current();
  if (cur != job_status::created && cur != job_status::restarting) {
    // Cancelled or failed while waiting for slots: nothing was deployed.
    for (size_t i = 0; i < st.executions.size(); ++i)
      if (!is_terminal(st.executions[i].machine.current()))
        move_exec(self, i, execution_state::canceled);
    settle(self);
    if (!is_terminal(st.machine.current()))
      release_and_quit(self);
    return;
  }
  auto restore = restore_point(self);
  if (!restore) {
    // Nothing to deploy from: the job cannot run.
    for (size_t i = 0; i < st.executions.size(); ++i)
      move_exec(self, i, execution_state::canceled);
    st.cause = error_text(restore.error());
    st.exceptions.push_back(failure_info{wall_now(), {}, st.cause});
    if (st.machine.current() == job_status::created)
      move_job(self, job_status::failing);
    move_job(self, job_status::failed);
    release_and_quit(self);
    return;
  }
  move_job(self, job_status::running);
  if (st.restarts)
    st.restarts->on_running(self->clock().now());
  start_coordinator(self);
  auto attempt = st.attempt;
  std::vector<slot_ref> refs;
  for (const auto& g : grants)
    refs.push_back(slot_ref{g.task_manager_index, g.slot});
  auto assignment = assign_slots(*st.p, refs);
  std::vector<std::string> peers;
  for (const auto& g : grants)
    if (std::find(peers.begin(), peers.end(), g.task_manager_id) == peers.end())
      peers.push_back(g.task_manager_id);
  for (size_t i = 0; i < st.executions.size(); ++i) {
    size_t g = 0;
    while (!(refs[g] == assignment[i]))
      ++g;
    const auto& grant = grants[g];
    auto& ex = st.executions[i];
    ex.task_manager = grant.task_manager_id;
    move_exec(self, i, execution_state::scheduled);
    move_exec(self, i, execution_state::deploying);
    deploy_request req;
    req.job = st.id;
    req.spec = st.spec;
    req.options = st.options;
    req.execution = static_cast<uint32_t>(i);
    req.slot = grant.slot;
    req.master = job_master_actor{self};
    req.coordinator = st.coordinator;
    req.peers = peers;
    if (*restore) {
      const auto& r = **restore;
      if (i == 0) {
        auto& restored = st.restores;
        ++restored.count;
        restored.id = r.checkpoint_id;
        restored.at = wall_now();
        restored.path = r.dir;
        restored.savepoint = st.restoring_savepoint;
      }
      req.restore_dir = r.dir;
      req.restore_vertices = r.vertices;
      req.restore_handles = r.handles[i];
    }
    self
      ->request(grant.task_manager, caf::infinite, deploy_atom::value,
                std::move(req))
      .then(
        [self, i, attempt](task_actor& t) {
          auto& s = self->state;
          if (s.attempt != attempt) {
            self->send(t, cancel_atom::value);
            return;
          }
          auto& ex = s.executions[i];
          ex.handle = t;
          self->monitor(t);
          if (s.machine.current() != job_status::running) {
            self->send(t, cancel_atom::value);
            return;
          }
          if (++s.deployed == s.executions.size())
            connect_tasks(self);
        },
        [self, i, attempt](caf::error& err) {
          if (self->state.attempt != attempt)
            return;
          move_exec(self, i, execution_state::failed);
          fail_job(self,
                   "deployment of subtask " + std::to_string(i)
                     + " failed: " + error_text(err),
                   subtask_label(self, i));
          settle(self);
        });
  }
}

void acquire_slots(jm_pointer self) {
  auto& st = self->state;
  auto attempt = st.attempt;
  auto needed = static_cast<uint32_t>(st.p->required_slots());
  self
    ->request(st.rm, caf::infinite, request_atom::value, st.id, needed,
              st.cfg.slot_request_timeout)
    .then(
      [self, attempt](std::vector<slot_grant>& grants) {
        if (self->state.attempt == attempt)
          deploy(self, grants);
      },
      [self, attempt](caf::error& err) {
        auto& s = self->state;
        if (s.attempt != attempt)
          return;
        if (s.machine.current() == job_status::cancelling) {
          for (size_t i = 0; i < s.executions.size(); ++i)
            move_exec(self, i, execution_state::canceled);
          settle(self);
          return;
        }
        if (s.machine.current() == job_status::restarting) {
          // No slots for this attempt (a task manager died and none came
          // yet): a failure like any other, for the restart strategy.
          auto cause = "restart failed: " + error_text(err);
          s.exceptions.push_back(failure_info{wall_now(), {}, cause});
          std::string reason = "no restart strategy";
          if (s.restarts) {
            auto d = next_restart(self);
            if (d.restart) {
              s.restart_delay = d.delay;
              self->send(s.rm, release_atom::value, s.id);
              self->delayed_send(self, d.delay, restart_atom::value, s.attempt);
              return;
            }
            reason = d.reason;
          }
          s.cause
            = cause + " (no restart: " + reason + "); last failure: " + s.cause;
          move_job(self, job_status::failed);
          release_and_quit(self);
          return;
        }
        fail_job(self, error_text(err));
      });
}

/// Subtask `i` is gone without saying goodbye: crashed, killed, or lost
/// with its task manager, for `why`.
void execution_gone(jm_pointer self, size_t i, const std::string& why) {
  auto& s = self->state;
  auto& ex = s.executions[i];
  ex.handle = nullptr;
  if (ex.awaiting_commit) {
    ex.awaiting_commit = false;
    fail_job(self,
             "subtask " + std::to_string(i) + " on task manager "
               + ex.task_manager + " exited before its final commit: " + why,
             subtask_label(self, i));
    settle(self);
    return;
  }
  if (is_terminal(ex.machine.current()))
    return;
  auto cause = "subtask " + std::to_string(i) + " on task manager "
               + ex.task_manager + " exited unexpectedly: " + why;
  if (ex.machine.current() == execution_state::canceling) {
    move_exec(self, i, execution_state::canceled);
  } else {
    move_exec(self, i, execution_state::failed);
    fail_job(self, cause, subtask_label(self, i));
  }
  settle(self);
}

job_master_actor::behavior_type job_master_impl(
  jm_pointer self, job_id id, std::string spec, submit_options options,
  std::shared_ptr<const operator_registry> registry, resource_manager_actor rm,
  job_listener_actor listener, job_master_config cfg) {
  auto& st = self->state;
  st.id = std::move(id);
  st.spec = std::move(spec);
  st.options = options;
  st.registry = std::move(registry);
  st.rm = std::move(rm);
  st.listener = std::move(listener);
  st.cfg = cfg;
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& s = self->state;
    if (s.coordinator && s.coordinator.address() == dm.source) {
      s.coordinator = nullptr;
      fail_job(self, "the checkpoint coordinator exited unexpectedly: "
                       + error_text(dm.reason));
      return;
    }
    for (size_t i = 0; i < s.executions.size(); ++i) {
      auto& ex = s.executions[i];
      if (ex.handle && ex.handle.address() == dm.source) {
        execution_gone(self, i,
                       dm.reason ? error_text(dm.reason)
                                 : std::string{"normal exit"});
        break;
      }
    }
  });
  // Plan the job: the job manager validated it already, so a failure here
  // means the registry changed under us.
  proto::JobSpec parsed;
  caf::expected<job_graph> graph = caf::error{};
  if (!parsed.ParseFromString(st.spec)) {
    graph
      = make_error(actors_errc::invalid_job, "job descriptor does not parse");
  } else {
    graph_options opts;
    opts.default_parallelism = st.options.default_parallelism;
    graph = build_job_graph(parsed, *st.registry, opts);
  }
  if (!graph) {
    st.cause = error_text(graph.error());
    move_job(self, job_status::failed);
    self->quit();
    return job_master_actor::behavior_type::make_empty_behavior();
  }
  st.name_ = graph->name;
  st.p = std::make_shared<const plan>(make_plan(std::move(*graph)));
  auto cp = resolve_checkpoint_settings(parsed.checkpointing());
  if (!cp) {
    st.cause = error_text(cp.error());
    move_job(self, job_status::failed);
    self->quit();
    return job_master_actor::behavior_type::make_empty_behavior();
  }
  st.checkpointing = *cp;
  auto rs = resolve_restart_settings(parsed.restart_strategy(), cp->enabled());
  if (!rs) {
    st.cause = error_text(rs.error());
    move_job(self, job_status::failed);
    self->quit();
    return job_master_actor::behavior_type::make_empty_behavior();
  }
  if (rs->kind != restart_settings::none)
    st.restarts.emplace(*rs);
  std::seed_seq seq(st.id.value.begin(), st.id.value.end());
  st.rng.seed(seq);
  st.executions.resize(st.p->executions.size());
  move_job(self, job_status::created);
  acquire_slots(self);
  return {
    [=](metrics_atom, task_metrics& m) {
      auto& s = self->state;
      if (m.execution >= s.executions.size())
        return;
      auto& ex = s.executions[m.execution];
      // An earlier attempt's subtask has nothing to say about this one.
      if (!ex.handle
          || caf::actor_cast<caf::actor_addr>(self->current_sender())
               != ex.handle.address())
        return;
      ex.final_metrics = std::move(m);
    },
    [=](task_state_atom, uint32_t i, execution_state to, std::string cause) {
      auto& s = self->state;
      if (i >= s.executions.size())
        return;
      auto& ex = s.executions[i];
      // Reports of an earlier attempt's tasks are stale.
      if (!ex.handle
          || caf::actor_cast<caf::actor_addr>(self->current_sender())
               != ex.handle.address())
        return;
      if (is_terminal(ex.machine.current()))
        return;
      if (ex.machine.current() == execution_state::canceling
          && to == execution_state::finished) {
        // Finished before our cancel reached it: as good as canceled.
        to = execution_state::canceled;
      }
      if (to == execution_state::canceled
          && ex.machine.current() != execution_state::canceling) {
        // Nobody asked it to stop: its peers would wait forever.
        move_exec(self, i, execution_state::canceling);
        move_exec(self, i, execution_state::canceled);
        fail_job(self, "subtask " + std::to_string(i)
                         + " was canceled without a request from the job "
                           "master");
        settle(self);
        return;
      }
      move_exec(self, i, to);
      switch (to) {
        case execution_state::failed:
          fail_job(self, cause, subtask_label(self, i));
          break;
        case execution_state::finished:
          if (s.machine.current() == job_status::running
              && all_executions_finished(self)) {
            finish_job(self);
            return;
          }
          break;
        default:
          break;
      }
      settle(self);
    },
    [=](commit_atom, uint32_t i) {
      auto& s = self->state;
      if (i >= s.executions.size())
        return;
      auto& ex = s.executions[i];
      if (!ex.handle
          || caf::actor_cast<caf::actor_addr>(self->current_sender())
               != ex.handle.address()
          || is_terminal(ex.machine.current()))
        return;
      if (ex.machine.current() == execution_state::canceling) {
        // Our cancel is on its way; the task exits on it.
        return;
      }
      ex.awaiting_commit = true;
      move_exec(self, i, execution_state::finished);
      if (s.machine.current() == job_status::running
          && all_executions_finished(self))
        finish_job(self);
      else
        settle(self);
    },
    [=](cancel_atom) { cancel_job(self); },
    [=](fail_atom, const std::string& cause) { fail_job(self, cause); },
    [=](complete_atom, checkpoint_stats& cs) {
      auto& s = self->state;
      if (cs.completed)
        ++s.checkpoints_completed;
      else
        ++s.checkpoints_failed;
      s.checkpoints.push_back(std::move(cs));
      while (s.checkpoints.size() > checkpoint_history)
        s.checkpoints.pop_front();
    },
    [=](triggered_atom, uint64_t id) {
      auto& s = self->state;
      s.last_checkpoint_id = std::max(s.last_checkpoint_id, id);
    },
    [=](trigger_atom) -> caf::result<uint64_t> {
      if (auto err = check_checkpointable(self))
        return err;
      return self->delegate(self->state.coordinator, trigger_atom::value);
    },
    [=](savepoint_atom, std::string& target,
        bool stop) -> caf::result<std::string> {
      auto& s = self->state;
      if (auto err = check_checkpointable(self))
        return err;
      auto promise = self->make_response_promise<std::string>();
      auto attempt = s.attempt;
      self
        ->request(s.coordinator, caf::infinite, savepoint_atom::value,
                  std::move(target), stop)
        .then(
          [self, promise, attempt, stop](uint64_t id,
                                         std::string& path) mutable {
            auto& s = self->state;
            if (stop && s.attempt == attempt
                && s.machine.current() == job_status::running) {
              s.stopping = true;
              for (auto& ex : s.executions)
                if (ex.handle)
                  self->send(ex.handle, stop_atom::value, id);
            }
            promise.deliver(path);
          },
          [promise](caf::error& err) mutable { promise.deliver(err); });
      return promise;
    },
    [=](lost_atom, const std::string& tm, const std::string& cause) {
      auto& s = self->state;
      for (size_t i = 0; i < s.executions.size(); ++i) {
        auto& ex = s.executions[i];
        if (ex.handle && ex.task_manager == tm) {
          self->demonitor(ex.handle.address());
          execution_gone(self, i, cause);
        }
      }
    },
    [=](restart_atom, uint32_t attempt) {
      auto& s = self->state;
      if (s.attempt != attempt || s.machine.current() != job_status::restarting)
        return;
      ++s.attempt;
      s.executions.clear();
      s.executions.resize(s.p->executions.size());
      s.deployed = 0;
      s.connected = 0;
      acquire_slots(self);
    },
    [=](tasks_atom) {
      std::vector<caf::strong_actor_ptr> out;
      for (const auto& ex : self->state.executions)
        out.push_back(caf::actor_cast<caf::strong_actor_ptr>(ex.handle));
      return out;
    },
    [=](info_atom) -> caf::result<job_info> {
      auto& s = self->state;
      if (!s.coordinator)
        return make_info(self);
      // The checkpoints in flight are the coordinator's to tell.
      auto rp = self->make_response_promise<job_info>();
      self->request(s.coordinator, caf::infinite, info_atom::value)
        .then(
          [self, rp](std::vector<checkpoint_stats>& pending) mutable {
            auto info = make_info(self);
            info.pending_checkpoints = std::move(pending);
            rp.deliver(std::move(info));
          },
          [self, rp](caf::error&) mutable { rp.deliver(make_info(self)); });
      return rp;
    },
  };
}

} // namespace

job_master_actor spawn_job_master(
  caf::actor_system& sys, job_id id, std::string spec, submit_options options,
  std::shared_ptr<const operator_registry> registry, resource_manager_actor rm,
  job_listener_actor listener, job_master_config cfg) {
  return sys.spawn(job_master_impl, std::move(id), std::move(spec), options,
                   std::move(registry), std::move(rm), std::move(listener),
                   cfg);
}

} // namespace weir
