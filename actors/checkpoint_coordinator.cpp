#include "actors/checkpoint_coordinator.hpp"

#include <algorithm>
#include <chrono>
#include <map>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/error.hpp"
#include "checkpoint/checkpoint_store.hpp"
#include "checkpoint/restore_assignment.hpp"

namespace weir {

namespace {

struct coordinator_state {
  static inline const char* name = "weir.checkpoint_coordinator";

  job_id job;
  std::shared_ptr<const plan> p;
  job_master_actor master;
  std::optional<checkpoint_tracker> tracker;
  std::optional<checkpoint_store> store;
  std::vector<task_actor> tasks;
  /// Execution indexes of the source subtasks.
  std::vector<uint32_t> sources;
  bool stopped = false;
  /// A savepoint in flight: its directory and who waits for its path.
  struct pending_savepoint {
    std::string target;
    bool stop = false;
    caf::typed_response_promise<uint64_t, std::string> promise;
  };
  std::map<uint64_t, pending_savepoint> savepoints;
  /// A stop-with-savepoint is in flight: no checkpoint may follow it.
  bool stopping = false;
};

using coordinator_pointer
  = checkpoint_coordinator_actor::stateful_pointer<coordinator_state>;

int64_t wall_millis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
    .count();
}

/// Epoch millis of coordinator-clock time `t` (the clocks differ under the
/// test scheduler).
int64_t epoch_millis_of(coordinator_pointer self,
                        checkpoint_tracker::clock::time_point t) {
  using namespace std::chrono;
  return wall_millis()
         - duration_cast<milliseconds>(self->clock().now() - t).count();
}

void report_failed(coordinator_pointer self,
                   const std::vector<checkpoint_tracker::aborted>& xs) {
  for (const auto& a : xs) {
    checkpoint_stats cs;
    cs.id = a.id;
    cs.failure = a.reason;
    // When it was triggered, and how long it ran until it failed.
    cs.triggered_at = epoch_millis_of(self, a.triggered);
    cs.duration_nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          self->clock().now() - a.triggered)
                          .count();
    self->send(self->state.master, complete_atom::value, std::move(cs));
  }
}

/// Tells whoever waits for savepoint `id` that it failed.
void fail_savepoint(coordinator_pointer self, uint64_t id,
                    const std::string& reason) {
  auto& st = self->state;
  auto i = st.savepoints.find(id);
  if (i == st.savepoints.end())
    return;
  if (i->second.stop)
    st.stopping = false;
  i->second.promise.deliver(make_error(
    actors_errc::invalid_job, "savepoint " + std::to_string(id) + " of job "
                                + st.job.value + " failed: " + reason));
  st.savepoints.erase(i);
}

void abort_checkpoints(coordinator_pointer self,
                       const std::vector<checkpoint_tracker::aborted>& xs) {
  for (const auto& a : xs) {
    self->state.store->abort(a.id);
    fail_savepoint(self, a.id, a.reason);
  }
}

void fail_if(coordinator_pointer self,
             const checkpoint_tracker::failure_outcome& out) {
  auto& st = self->state;
  abort_checkpoints(self, out.aborted_checkpoints);
  report_failed(self, out.aborted_checkpoints);
  if (out.fail_job && !out.aborted_checkpoints.empty()) {
    st.stopped = true;
    self->send(st.master, fail_atom::value,
               "exceeded the tolerable failed checkpoints ("
                 + std::to_string(st.tracker->settings().tolerable_failures)
                 + "): checkpoint "
                 + std::to_string(out.aborted_checkpoints.back().id) + " "
                 + out.aborted_checkpoints.back().reason);
  }
}

caf::expected<uint64_t> trigger(coordinator_pointer self, bool forced = false) {
  auto& st = self->state;
  if (st.stopped || st.tasks.empty())
    return make_error(actors_errc::invalid_job,
                      "checkpoints are not running for job " + st.job.value
                        + (st.stopped
                             ? std::string{": a source finished or "
                                           "the job is stopping"}
                             : std::string{": it is not running yet"}));
  if (st.stopping)
    return make_error(actors_errc::invalid_job,
                      "job " + st.job.value
                        + " is stopping with a savepoint: no checkpoint may "
                          "follow it");
  auto id = st.tracker->try_trigger(self->clock().now(), forced);
  if (!id)
    return make_error(actors_errc::invalid_job,
                      "too many checkpoints in progress (max concurrent "
                        + std::to_string(st.tracker->settings().max_concurrent)
                        + ") or within the min pause");
  self->send(st.master, triggered_atom::value, *id);
  for (auto s : st.sources)
    self->send(st.tasks[s], trigger_atom::value, *id);
  self->delayed_send(self, st.tracker->settings().timeout, timeout_atom::value,
                     *id);
  return *id;
}

/// Adds subtask `execution`'s part, from its state handle, to checkpoint
/// `cs`: its line, the longest alignment and snapshot, the size.
void add_subtask(checkpoint_stats& cs, const proto::SubtaskStateHandle& h,
                 size_t execution, int64_t acked_at) {
  subtask_checkpoint_stats ss;
  ss.execution = static_cast<uint32_t>(execution);
  ss.acked_at = acked_at;
  ss.alignment_nanos = static_cast<int64_t>(h.alignment_nanos());
  ss.snapshot_nanos = static_cast<int64_t>(h.snapshot_nanos());
  ss.state_bytes = h.size();
  cs.max_alignment_nanos = std::max(cs.max_alignment_nanos, ss.alignment_nanos);
  cs.max_snapshot_nanos = std::max(cs.max_snapshot_nanos, ss.snapshot_nanos);
  cs.state_bytes += ss.state_bytes;
  cs.subtasks.push_back(ss);
}

/// The checkpoints in flight, as far as they got.
std::vector<checkpoint_stats> pending_stats(coordinator_pointer self) {
  std::vector<checkpoint_stats> out;
  auto& st = self->state;
  if (!st.tracker)
    return out;
  auto now = self->clock().now();
  for (const auto& p : st.tracker->in_flight()) {
    checkpoint_stats cs;
    cs.id = p.id;
    cs.triggered_at = epoch_millis_of(self, p.triggered);
    cs.duration_nanos
      = std::chrono::duration_cast<std::chrono::nanoseconds>(now - p.triggered)
          .count();
    cs.savepoint = st.savepoints.count(p.id) > 0;
    for (const auto& a : p.acks) {
      proto::SubtaskStateHandle h;
      h.ParseFromString(a.handle);
      add_subtask(cs, h, a.subtask, epoch_millis_of(self, a.at));
    }
    out.push_back(std::move(cs));
  }
  return out;
}

void complete(coordinator_pointer self,
              const checkpoint_tracker::completed& c) {
  auto& st = self->state;
  proto::CheckpointMetadata md;
  md.set_checkpoint_id(c.id);
  md.set_job_id(st.job.value);
  md.set_timestamp_millis(wall_millis());
  for (auto& v : vertex_infos(*st.p))
    *md.add_vertices() = std::move(v);
  checkpoint_stats cs;
  cs.id = c.id;
  cs.completed = true;
  cs.triggered_at = epoch_millis_of(self, c.triggered);
  cs.duration_nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        c.finished - c.triggered)
                        .count();
  for (size_t i = 0; i < c.handles.size(); ++i) {
    auto* sub = md.add_subtasks();
    sub->ParseFromString(c.handles[i]);
    add_subtask(cs, *sub, i,
                i < c.acked_at.size() ? epoch_millis_of(self, c.acked_at[i])
                                      : cs.triggered_at);
  }
  if (auto err = st.store->complete(std::move(md))) {
    // The state is written but the checkpoint is not usable: a failure.
    checkpoint_tracker::failure_outcome out;
    out.aborted_checkpoints.push_back({c.id, error_text(err), c.triggered});
    out.fail_job = false;
    fail_if(self, out);
    return;
  }
  auto subsumed = st.tracker->take_subsumed();
  abort_checkpoints(self, subsumed);
  report_failed(self, subsumed);
  for (auto& t : st.tasks)
    self->send(t, complete_atom::value, c.id);
  if (auto i = st.savepoints.find(c.id); i != st.savepoints.end()) {
    auto sp = std::move(i->second);
    st.savepoints.erase(i);
    auto path = st.store->export_savepoint(c.id, sp.target);
    cs.savepoint = true;
    if (path) {
      cs.savepoint_path = *path;
      sp.promise.deliver(c.id, *path);
    } else {
      if (sp.stop)
        st.stopping = false;
      sp.promise.deliver(
        make_error(actors_errc::invalid_job,
                   "savepoint " + std::to_string(c.id) + " of job "
                     + st.job.value + " completed but could not be written to '"
                     + sp.target + "': " + error_text(path.error())));
    }
  }
  self->send(st.master, complete_atom::value, std::move(cs));
}

checkpoint_coordinator_actor::behavior_type
coordinator_impl(coordinator_pointer self, job_id job,
                 checkpoint_settings settings, std::shared_ptr<const plan> p,
                 job_master_actor master, uint64_t first_id) {
  auto& st = self->state;
  st.job = std::move(job);
  st.p = std::move(p);
  st.master = std::move(master);
  st.store.emplace(settings.dir, st.job.value, settings.retained);
  // Ids continue after whatever an earlier run of the job left behind.
  uint64_t first = std::max<uint64_t>(first_id, 1);
  if (auto next = st.store->next_id())
    first = std::max(first, *next);
  st.store->cleanup_incomplete();
  st.tracker.emplace(settings, st.p->executions.size(), first);
  for (size_t i = 0; i < st.p->executions.size(); ++i) {
    const auto& t = st.p->tasks[st.p->executions[i].task];
    if (st.p->graph.vertices[t.chain.front()].op->kind == operator_kind::source)
      st.sources.push_back(static_cast<uint32_t>(i));
  }
  return {
    [=](connect_atom, const std::vector<caf::strong_actor_ptr>& tasks) {
      auto& s = self->state;
      s.tasks.clear();
      for (const auto& t : tasks)
        s.tasks.push_back(caf::actor_cast<task_actor>(t));
      if (s.tracker->settings().enabled())
        self->delayed_send(self, s.tracker->settings().interval,
                           tick_atom::value);
    },
    [=](tick_atom) {
      auto& s = self->state;
      if (s.stopped)
        return;
      if (!s.stopping)
        trigger(self);
      self->delayed_send(self, s.tracker->settings().interval,
                         tick_atom::value);
    },
    [=](trigger_atom) -> caf::result<uint64_t> {
      auto id = trigger(self);
      if (!id)
        return std::move(id.error());
      return *id;
    },
    [=](savepoint_atom, std::string& target,
        bool stop) -> caf::result<uint64_t, std::string> {
      auto& s = self->state;
      if (target.empty())
        return make_error(
          actors_errc::invalid_job,
          "no savepoint directory given (state.savepoints.dir)");
      auto id = trigger(self, true);
      if (!id)
        return std::move(id.error());
      auto promise = self->make_response_promise<uint64_t, std::string>();
      s.savepoints.emplace(*id, coordinator_state::pending_savepoint{
                                  std::move(target), stop, promise});
      if (stop)
        s.stopping = true;
      return promise;
    },
    [=](timeout_atom, uint64_t) {
      auto& s = self->state;
      fail_if(self, s.tracker->expire(self->clock().now()));
    },
    [=](ack_atom, uint64_t id, uint32_t execution, std::string& handle) {
      auto& s = self->state;
      auto done = s.tracker->acknowledge(id, execution, std::move(handle),
                                         self->clock().now());
      if (done)
        complete(self, *done);
    },
    [=](info_atom) { return pending_stats(self); },
    [=](cancel_atom) {
      abort_checkpoints(self,
                        self->state.tracker->abort_all("the job stopped"));
      self->quit();
    },
    [=](decline_atom, uint64_t id, uint32_t, const std::string& reason) {
      auto& s = self->state;
      if (reason.find(source_finished_reason) != std::string::npos) {
        // A bounded source ended: no later checkpoint can complete.
        s.stopped = true;
        // Not failures: they are not reported.
        abort_checkpoints(self, s.tracker->abort_all(reason));
        return;
      }
      fail_if(self, s.tracker->decline(id, reason));
    },
  };
}

} // namespace

checkpoint_coordinator_actor spawn_checkpoint_coordinator(
  caf::actor_system& sys, job_id job, checkpoint_settings settings,
  std::shared_ptr<const plan> p, job_master_actor master, uint64_t first_id) {
  return sys.spawn(coordinator_impl, std::move(job), std::move(settings),
                   std::move(p), std::move(master), first_id);
}

} // namespace weir
