#include "actors/task.hpp"

#include <deque>
#include <exception>
#include <map>
#include <optional>
#include <unordered_map>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/checkpoint_coordinator.hpp"
#include "actors/error.hpp"
#include "checkpoint/barrier_aligner.hpp"
#include "checkpoint/checkpoint_store.hpp"
#include "runtime/input_gate.hpp"
#include "runtime/operator_chain.hpp"
#include "runtime/output_gate.hpp"
#include "runtime/watermark_valve.hpp"

namespace weir {

namespace {

/// The state of one subtask. The behaviour below only translates messages
/// into calls on the gates and the chain.
struct task_state {
  static inline const char* name = "weir.task";

  std::shared_ptr<const plan> p;
  uint32_t execution = 0;
  data_plane_config cfg;
  job_master_actor master;
  std::vector<task_actor> peers;
  std::optional<output_gate> out;
  std::optional<input_gate> in;
  std::unique_ptr<operator_chain> chain;
  // -- checkpoints (all null/empty when disabled) --
  checkpoint_coordinator_actor coordinator;
  std::shared_ptr<const task_checkpointing> cp;
  std::optional<barrier_aligner> aligner;
  std::optional<checkpoint_store> store;
  /// Events of channels blocked in alignment, in arrival order.
  std::map<size_t, std::deque<input_gate::event>> held;
  /// Released events, processed before anything new.
  std::deque<input_gate::event> ready;
  bool running = false;
  bool input_ended = false;
  bool done = false;
  /// Finished, alive only for the job's final commit.
  bool awaiting_commit = false;
  bool flush_pending = false;
  bool poll_pending = false;
  bool was_blocked = false;
  uint64_t stalls = 0;
  uint64_t batches_out = 0;
  // -- time accounting (task_metrics) --
  using time_point = caf::actor_clock::time_point;
  time_point running_since;
  time_point blocked_since;
  std::chrono::nanoseconds busy{0};
  std::chrono::nanoseconds backpressured{0};
  uint64_t bytes_in = 0;
  uint64_t state_bytes = 0;
  // -- event time --
  /// Combines the input channels' watermarks (tasks with inputs).
  std::optional<watermark_valve> valve;
  /// What this subtask last emitted downstream.
  int64_t out_watermark = min_watermark;
  bool out_idle = false;
  uint64_t watermarks_in = 0;
  /// Sources: when the last watermark went out, and when the head last
  /// emitted a row (processing time, ms), for interval and idleness.
  int64_t last_watermark_emit = 0;
  int64_t last_activity = 0;
  uint64_t head_rows_seen = 0;
  /// Input channel -> input of the head operator (two-input heads).
  std::unordered_map<size_t, int> input_of;
  /// The processing time a timer message is on its way for.
  int64_t timer_scheduled = max_watermark;

  std::string where() const {
    const auto& ev = p->executions[execution];
    const auto& t = p->tasks[ev.task];
    return "subtask " + std::to_string(ev.subtask + 1) + "/"
           + std::to_string(t.parallelism) + " of task '" + t.name + "'";
  }
};

using task_pointer = task_actor::stateful_pointer<task_state>;

/// The subtask's counters and time accounting now (metrics_atom), or zeros
/// before its chain and gates exist.
task_metrics current_metrics(task_pointer self) {
  auto& s = self->state;
  task_metrics m;
  m.execution = s.execution;
  if (!s.chain || !s.out || !s.in)
    return m;
  m.rows_in = s.chain->rows_in();
  m.rows_out = s.out->rows_out();
  m.operator_rows_out = s.chain->operator_rows_out();
  m.batches_in = s.in->batches_in();
  m.batches_out = s.batches_out;
  m.max_outstanding = s.in->max_outstanding();
  for (const auto& ch : s.out->channels())
    m.queued_batches += ch.queued.size();
  m.backpressure_stalls = s.stalls;
  m.watermark = s.out_watermark;
  m.idle = s.out_idle;
  m.watermarks_in = s.watermarks_in;
  m.watermarks_out = s.out->watermarks_out();
  m.bytes_in = s.bytes_in;
  m.bytes_out = s.out->bytes_out();
  m.batches_in_flight = m.queued_batches;
  for (auto ch : s.in->channels())
    m.batches_in_flight += static_cast<uint64_t>(s.in->outstanding(ch));
  m.input_watermark
    = s.in->channels().empty() ? min_watermark : s.valve->current().watermark;
  m.state_bytes = s.state_bytes;
  if (s.running) {
    auto now = self->clock().now();
    auto ns = [](auto d) {
      return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
    };
    m.running_nanos = ns(now - s.running_since);
    m.busy_nanos = ns(s.busy);
    m.backpressured_nanos = ns(
      s.backpressured
      + (s.was_blocked ? now - s.blocked_since : std::chrono::nanoseconds{0}));
  }
  return m;
}

void report(task_pointer self, execution_state st, std::string cause = {}) {
  // A subtask's last word: its final counters first, which the job keeps
  // once the subtask is gone.
  if (is_terminal(st))
    self->send(self->state.master, metrics_atom::value, current_metrics(self));
  self->send(self->state.master, task_state_atom::value, self->state.execution,
             st, std::move(cause));
}

void fail(task_pointer self, const std::string& cause) {
  if (self->state.done)
    return;
  self->state.done = true;
  report(self, execution_state::failed, cause);
  self->quit(make_error(actors_errc::task_failed, cause));
}

/// Runs `f`, turning an operator exception into a task failure. Returns
/// false if the task failed.
template <class F>
bool guarded(task_pointer self, F f) {
  try {
    f();
    return true;
  } catch (const std::exception& e) {
    fail(self, "vertex '" + self->state.chain->current_vertex() + "' in "
                 + self->state.where() + " threw: " + e.what());
  } catch (...) {
    fail(self, "vertex '" + self->state.chain->current_vertex() + "' in "
                 + self->state.where() + " threw a non-standard exception");
  }
  return false;
}

void check_blocked(task_pointer self) {
  auto& st = self->state;
  auto blocked = st.out->blocked();
  if (blocked && !st.was_blocked) {
    ++st.stalls;
    st.blocked_since = self->clock().now();
  } else if (!blocked && st.was_blocked) {
    st.backpressured += self->clock().now() - st.blocked_since;
  }
  st.was_blocked = blocked;
}

/// Adds the time from its construction to its destruction to the task's
/// busy time: wraps the handlers that run operator code.
class busy_scope {
public:
  explicit busy_scope(task_pointer self)
    : self_(self), start_(self->clock().now()) {
  }

  busy_scope(const busy_scope&) = delete;
  busy_scope& operator=(const busy_scope&) = delete;

  ~busy_scope() {
    self_->state.busy += self_->clock().now() - start_;
  }

private:
  task_pointer self_;
  caf::actor_clock::time_point start_;
};

void arm_flush(task_pointer self) {
  auto& st = self->state;
  if (st.flush_pending || st.done || !st.out->has_partial())
    return;
  st.flush_pending = true;
  self->delayed_send(self, std::chrono::milliseconds(st.cfg.flush_interval_ms),
                     flush_atom::value);
}

void finish_if_drained(task_pointer self) {
  auto& st = self->state;
  if (st.done || !st.input_ended || !st.out->drained())
    return;
  st.done = true;
  if (st.chain->is_committing()) {
    // Output pre-committed at end of input becomes visible only when the
    // whole job finished: a restart before that replays it.
    st.awaiting_commit = true;
    self->send(st.master, metrics_atom::value, current_metrics(self));
    self->send(st.master, commit_atom::value, st.execution);
    return;
  }
  report(self, execution_state::finished);
  self->quit();
}

/// Schedules a timer message for the earliest processing-time timer,
/// unless one is on its way for that time or earlier.
void arm_timer(task_pointer self) {
  auto& st = self->state;
  if (st.done)
    return;
  auto next = st.chain->next_processing_timer();
  if (!next || *next >= st.timer_scheduled)
    return;
  st.timer_scheduled = *next;
  auto delay = std::max<int64_t>(0, *next - st.chain->processing_time());
  self->delayed_send(self, std::chrono::milliseconds(delay), timer_atom::value);
}

/// Moves this subtask's watermark to `wm`: timers and watermark handlers
/// run down the chain, then the watermark goes out on every channel.
void advance_watermark(task_pointer self, int64_t wm) {
  auto& st = self->state;
  if (wm <= st.out_watermark || st.done)
    return;
  st.out_watermark = wm;
  if (!guarded(self, [&] { st.chain->on_watermark(wm); }))
    return;
  st.out_idle = false;
  st.out->emit_watermark(wm, false);
  arm_timer(self);
}

/// Applies a change of the combined input watermark.
void apply_valve(task_pointer self,
                 std::optional<watermark_valve::output> change) {
  auto& st = self->state;
  if (!change)
    return;
  if (change->watermark > st.out_watermark)
    advance_watermark(self, change->watermark);
  if (!st.done && change->idle != st.out_idle) {
    st.out_idle = change->idle;
    st.out->emit_watermark(st.out_watermark, st.out_idle);
  }
}

/// Sources with a watermark strategy: after a poll, emit the watermark the
/// emitted timestamps allow (at most once per interval), and go idle or
/// active again.
void generate_watermarks(task_pointer self) {
  auto& st = self->state;
  if (st.done || !st.chain->generates_watermarks())
    return;
  const auto& spec = st.chain->watermark_strategy();
  auto now = st.chain->processing_time();
  if (st.chain->head_rows_out() != st.head_rows_seen) {
    st.head_rows_seen = st.chain->head_rows_out();
    st.last_activity = now;
    if (st.out_idle) {
      st.out_idle = false;
      st.out->emit_watermark(st.out_watermark, false);
    }
  } else if (spec.idle_timeout_ms > 0 && !st.out_idle
             && now - st.last_activity >= spec.idle_timeout_ms) {
    st.out_idle = true;
    st.out->emit_watermark(st.out_watermark, true);
  }
  auto wm = st.chain->generated_watermark();
  if (wm > st.out_watermark
      && now - st.last_watermark_emit >= spec.interval_ms) {
    st.last_watermark_emit = now;
    advance_watermark(self, wm);
  }
}

/// Input ended (all channels, or the source is exhausted): run the end
/// handlers down the chain and close every output channel.
void end_input(task_pointer self) {
  auto& st = self->state;
  if (st.input_ended)
    return;
  if (!guarded(self, [&] { st.chain->on_end_of_input(); }))
    return;
  st.out_watermark = max_watermark;
  st.out_idle = false;
  st.input_ended = true;
  st.out->finish();
  finish_if_drained(self);
}

void schedule_poll(task_pointer self) {
  auto& st = self->state;
  if (st.poll_pending || st.done || st.input_ended)
    return;
  st.poll_pending = true;
  self->send(self, poll_atom::value);
}

/// Snapshots the chain for checkpoint `id`, writes the state file,
/// forwards the barrier and acknowledges (or declines) to the coordinator.
void take_checkpoint(task_pointer self, uint64_t id,
                     std::chrono::nanoseconds alignment
                     = std::chrono::nanoseconds{0}) {
  auto& st = self->state;
  auto started = self->clock().now();
  std::string bytes;
  if (!guarded(self, [&] { bytes = st.chain->snapshot(id); }))
    return;
  st.state_bytes = bytes.size();
  const auto& ev = st.p->executions[st.execution];
  const auto& t = st.p->tasks[ev.task];
  if (!st.store)
    st.store.emplace(st.cp->dir, st.cp->job.value, st.cp->retained);
  caf::expected<proto::SubtaskStateHandle> handle = caf::error{};
  if (auto err = st.cp->faults
                   ? st.cp->faults->before_state_write(id, st.execution)
                   : caf::error{})
    handle = std::move(err);
  else
    handle
      = st.store->write_subtask_state(id, "task" + std::to_string(ev.task),
                                      static_cast<uint32_t>(ev.subtask), bytes);
  if (handle && st.cp->faults)
    st.cp->faults->after_state_write(
      id, st.execution, st.store->checkpoint_dir(id) + "/" + handle->file());
  // The barrier goes on even if the write failed: downstream must not wait
  // for it, and the coordinator aborts the checkpoint on the decline.
  st.out->emit_barrier(id);
  if (!handle) {
    self->send(st.coordinator, decline_atom::value, id, st.execution,
               st.where() + ": " + error_text(handle.error()));
    return;
  }
  for (const auto& v : st.chain->vertices())
    handle->add_vertices(v);
  for (const auto& v : st.chain->stateful_vertices())
    handle->add_stateful_vertices(v);
  handle->set_parallelism(t.parallelism);
  handle->set_max_parallelism(t.max_parallelism);
  handle->set_key_group_first(static_cast<uint32_t>(ev.key_groups.first));
  handle->set_key_group_last(static_cast<uint32_t>(ev.key_groups.last));
  handle->set_alignment_nanos(static_cast<uint64_t>(alignment.count()));
  handle->set_snapshot_nanos(
    static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                            self->clock().now() - started)
                            .count()));
  std::string wire;
  handle->SerializeToString(&wire);
  fault_injector::ack_action action;
  if (st.cp->faults)
    action = st.cp->faults->on_ack(id, st.execution);
  if (action.drop)
    return;
  if (action.delay.count() > 0)
    self->delayed_send(st.coordinator, action.delay, ack_atom::value, id,
                       st.execution, std::move(wire));
  else
    self->send(st.coordinator, ack_atom::value, id, st.execution,
               std::move(wire));
}

/// Applies what the aligner decided: snapshots for triggered checkpoints,
/// held events of released channels back into the processing order.
void apply(task_pointer self, caf::expected<alignment_result> res) {
  auto& st = self->state;
  if (!res) {
    fail(self, st.where() + ": " + error_text(res.error()));
    return;
  }
  for (const auto& t : res->triggered)
    take_checkpoint(
      self, t.id.value,
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.alignment_time));
  std::deque<input_gate::event> released;
  for (auto ch : res->released) {
    auto i = st.held.find(ch);
    if (i == st.held.end())
      continue;
    for (auto& e : i->second)
      released.push_back(std::move(e));
    st.held.erase(i);
  }
  // Released events come before everything not yet processed.
  while (!released.empty()) {
    st.ready.push_front(std::move(released.back()));
    released.pop_back();
  }
}

/// Processes queued input while the outputs have room.
void process_inputs(task_pointer self) {
  auto& st = self->state;
  busy_scope busy{self};
  auto now = [self] { return self->clock().now(); };
  while (st.running && !st.done && !st.out->blocked()
         && (!st.ready.empty() || st.in->has_pending())) {
    input_gate::event ev;
    if (!st.ready.empty()) {
      ev = std::move(st.ready.front());
      st.ready.pop_front();
    } else {
      ev = st.in->pop();
    }
    if (st.aligner && st.aligner->is_blocked(ev.channel)) {
      st.held[ev.channel].push_back(std::move(ev));
      continue;
    }
    if (ev.barrier != 0) {
      if (st.aligner)
        apply(self, st.aligner->on_barrier(ev.channel,
                                           checkpoint_id{ev.barrier}, now()));
      continue;
    }
    if (ev.is_watermark) {
      ++st.watermarks_in;
      apply_valve(self,
                  st.valve->on_watermark(ev.channel, ev.watermark, ev.idle));
      if (st.done)
        return;
      continue;
    }
    if (ev.end) {
      if (st.aligner)
        apply(self, st.aligner->on_end_of_partition(ev.channel, now()));
      if (st.done)
        return;
      apply_valve(self, st.valve->on_end(ev.channel));
      if (st.done)
        return;
      if (st.in->all_ended() && st.ready.empty() && st.held.empty())
        end_input(self);
      continue;
    }
    auto input = st.input_of.empty() ? 0 : st.input_of[ev.channel];
    auto ok = guarded(self, [&] {
      for (const auto& r : ev.rows) {
        st.bytes_in += approximate_size(r);
        st.chain->on_record(r, input);
      }
    });
    if (!ok)
      return;
    st.in->release(ev.channel);
    self->send(st.peers[st.in->producer_of(ev.channel)], credit_atom::value,
               static_cast<uint64_t>(ev.channel), int32_t{1});
  }
  // The last end of partition may have been processed while other
  // channels' events were held for alignment.
  if (st.running && !st.done && !st.input_ended && st.in->all_ended()
      && st.ready.empty() && st.held.empty() && !st.in->channels().empty())
    end_input(self);
  check_blocked(self);
  arm_flush(self);
  arm_timer(self);
}

void on_poll(task_pointer self) {
  auto& st = self->state;
  st.poll_pending = false;
  if (!st.running || st.done || st.input_ended)
    return;
  busy_scope busy{self};
  if (st.out->blocked()) {
    // Resumed by the credit handler.
    check_blocked(self);
    return;
  }
  poll_result res;
  auto ok = guarded(self, [&] { res = st.chain->on_poll(st.cfg.batch_rows); });
  if (!ok)
    return;
  switch (res.kind) {
    case poll_result::more:
      schedule_poll(self);
      break;
    case poll_result::wait:
      st.poll_pending = true;
      self->delayed_send(self, res.delay, poll_atom::value);
      break;
    case poll_result::finished:
      end_input(self);
      return;
  }
  generate_watermarks(self);
  check_blocked(self);
  arm_flush(self);
  arm_timer(self);
}

} // namespace

namespace {

task_actor::behavior_type
task_impl(task_pointer self, std::shared_ptr<const plan> p, uint32_t execution,
          data_plane_config cfg, job_master_actor master,
          checkpoint_coordinator_actor coordinator,
          std::shared_ptr<const task_checkpointing> cp, job_id job,
          task_manager_actor owner) {
  auto& st = self->state;
  if (owner) {
    // The task manager going down is the machine going down: no report,
    // the job master sees this task exit.
    auto owner_addr = owner.address();
    self->monitor(owner);
    self->set_down_handler([self, owner_addr](caf::down_msg& dm) {
      if (dm.source == owner_addr)
        self->quit(dm.reason ? dm.reason
                             : caf::error{caf::exit_reason::user_shutdown});
    });
  }
  st.coordinator = std::move(coordinator);
  st.cp = std::move(cp);
  st.p = std::move(p);
  st.execution = execution;
  st.cfg = cfg;
  st.master = std::move(master);
  batch_limits limits;
  limits.max_rows = cfg.batch_rows;
  limits.max_bytes = cfg.batch_bytes;
  limits.flush_interval_ms = cfg.flush_interval_ms;
  st.out.emplace(
    *st.p, execution, limits,
    [self](size_t ch, std::vector<row>&& rows) {
      auto& s = self->state;
      ++s.batches_out;
      auto consumer = s.p->channels[ch].consumer;
      self->send(s.peers[consumer], data_atom::value, static_cast<uint64_t>(ch),
                 batch{std::move(rows)});
    },
    [self](size_t ch) {
      auto& s = self->state;
      auto consumer = s.p->channels[ch].consumer;
      self->send(s.peers[consumer], end_atom::value, static_cast<uint64_t>(ch));
    });
  st.in.emplace(*st.p, execution, cfg.credits);
  {
    const auto& ev = st.p->executions[execution];
    const auto& t = st.p->tasks[ev.task];
    for (size_t k = 0; k < t.inputs.size(); ++k)
      if (auto input = st.p->edges[t.inputs[k]].input; input != 0)
        for (auto ch : ev.input_channels[k])
          st.input_of[ch] = input;
  }
  st.out->on_barrier([self](size_t ch, uint64_t id) {
    auto& s = self->state;
    self->send(s.peers[s.p->channels[ch].consumer], barrier_atom::value,
               static_cast<uint64_t>(ch), id);
  });
  st.out->on_watermark([self](size_t ch, int64_t wm, bool idle) {
    auto& s = self->state;
    self->send(s.peers[s.p->channels[ch].consumer], watermark_atom::value,
               static_cast<uint64_t>(ch), wm, idle);
  });
  if (st.coordinator && st.cp && !st.in->channels().empty())
    st.aligner.emplace(st.in->channels(), st.cp->exactly_once
                                            ? alignment_mode::exactly_once
                                            : alignment_mode::at_least_once);
  auto clock = [self] { return self->clock().now(); };
  // Restore before any other handler runs: read the state files first.
  std::optional<chain_restore> restore;
  caf::error restore_err;
  if (st.cp && !st.cp->restore_dir.empty()) {
    restore.emplace();
    restore->vertices = st.cp->restore_vertices;
    for (const auto& wire : st.cp->restore_handles) {
      proto::SubtaskStateHandle handle;
      if (!handle.ParseFromString(wire)) {
        restore_err
          = make_error(actors_errc::deployment_failed, "corrupt state handle");
        break;
      }
      auto bytes
        = checkpoint_store::read_subtask_state(st.cp->restore_dir, handle);
      if (!bytes) {
        restore_err = std::move(bytes.error());
        break;
      }
      restore->sources.push_back(
        restore_source{std::move(*bytes), handle.subtask(),
                       std::max(handle.parallelism(), 1)});
    }
  }
  caf::expected<std::unique_ptr<operator_chain>> chain = restore_err;
  if (!restore_err)
    chain = operator_chain::make(*st.p, execution, *st.out, clock, job.value,
                                 restore ? &*restore : nullptr);
  if (!chain) {
    st.done = true;
    auto cause
      = restore ? st.where() + ": restore failed: " + error_text(chain.error())
                : error_text(chain.error());
    report(self, execution_state::failed, cause);
    self->quit(make_error(actors_errc::task_failed, cause));
    return task_actor::behavior_type::make_empty_behavior();
  }
  st.chain = std::move(*chain);
  // A restored subtask goes on from its checkpointed watermark.
  st.out_watermark = st.chain->watermark();
  st.valve.emplace(st.in->channels(), st.out_watermark);
  return {
    [=](connect_atom, const std::vector<caf::strong_actor_ptr>& peers) {
      auto& s = self->state;
      s.peers.clear();
      for (const auto& ptr : peers)
        s.peers.push_back(caf::actor_cast<task_actor>(ptr));
      report(self, execution_state::initializing);
      return ok_atom::value;
    },
    [=](start_atom) {
      auto& s = self->state;
      if (s.running || s.done)
        return;
      s.running = true;
      s.running_since = self->clock().now();
      report(self, execution_state::running);
      s.last_activity = s.chain->processing_time();
      for (auto ch : s.in->channels())
        self->send(s.peers[s.in->producer_of(ch)], credit_atom::value,
                   static_cast<uint64_t>(ch), s.in->initial_credits());
      if (s.chain->is_source())
        schedule_poll(self);
      else if (s.in->channels().empty())
        end_input(self);
      else
        process_inputs(self);
    },
    [=](cancel_atom) {
      auto& s = self->state;
      if (s.awaiting_commit) {
        // Already FINISHED for the master; a restart discards what this
        // subtask pre-committed.
        s.awaiting_commit = false;
        self->quit();
        return;
      }
      if (s.done)
        return;
      s.done = true;
      report(self, execution_state::canceled);
      self->quit();
    },
    [=](data_atom, uint64_t ch, batch& b) {
      auto& s = self->state;
      if (s.done)
        return;
      if (!s.in->push_batch(ch, std::move(b.rows))) {
        fail(self, s.where()
                     + ": protocol violation: unexpected batch on "
                       "channel "
                     + std::to_string(ch));
        return;
      }
      process_inputs(self);
    },
    [=](end_atom, uint64_t ch) {
      auto& s = self->state;
      if (s.done)
        return;
      if (!s.in->push_end(ch)) {
        fail(self, s.where()
                     + ": protocol violation: unexpected end on "
                       "channel "
                     + std::to_string(ch));
        return;
      }
      process_inputs(self);
    },
    [=](credit_atom, uint64_t ch, int32_t n) {
      auto& s = self->state;
      if (s.done)
        return;
      s.out->grant(ch, n);
      finish_if_drained(self);
      if (s.done || s.out->blocked())
        return;
      check_blocked(self);
      if (s.chain->is_source())
        schedule_poll(self);
      else
        process_inputs(self);
    },
    [=](poll_atom) { on_poll(self); },
    [=](watermark_atom, uint64_t ch, int64_t wm, bool idle) {
      auto& s = self->state;
      if (s.done)
        return;
      if (!s.in->push_watermark(ch, wm, idle)) {
        fail(self, s.where()
                     + ": protocol violation: unexpected watermark on "
                       "channel "
                     + std::to_string(ch));
        return;
      }
      process_inputs(self);
    },
    [=](timer_atom) {
      auto& s = self->state;
      s.timer_scheduled = max_watermark;
      if (s.done || !s.running || s.input_ended)
        return;
      busy_scope busy{self};
      if (!guarded(self, [&] {
            s.chain->on_processing_time(s.chain->processing_time());
          }))
        return;
      check_blocked(self);
      arm_flush(self);
      arm_timer(self);
    },
    [=](trigger_atom, uint64_t id) {
      auto& s = self->state;
      if (s.done || !s.coordinator)
        return;
      if (!s.running || s.input_ended || !s.chain->is_source()) {
        // Finished sources cannot snapshot: Flink declines these too.
        self->send(s.coordinator, decline_atom::value, id, s.execution,
                   s.where() + ": "
                     + (s.input_ended ? std::string{source_finished_reason}
                                      : std::string{"not running"}));
        return;
      }
      take_checkpoint(self, id);
    },
    [=](barrier_atom, uint64_t ch, uint64_t id) {
      auto& s = self->state;
      if (s.done)
        return;
      if (!s.in->push_barrier(ch, id)) {
        fail(self, s.where()
                     + ": protocol violation: unexpected barrier on "
                       "channel "
                     + std::to_string(ch));
        return;
      }
      process_inputs(self);
    },
    [=](complete_atom, uint64_t id) {
      auto& s = self->state;
      if ((s.done && !s.awaiting_commit) || !s.chain->is_committing())
        return;
      if (s.awaiting_commit) {
        // Failures now surface through the final commit's reply.
        try {
          s.chain->on_checkpoint_complete(id);
        } catch (...) {
          // nop
        }
        return;
      }
      guarded(self, [&] { s.chain->on_checkpoint_complete(id); });
    },
    [=](stop_atom, uint64_t id) {
      auto& s = self->state;
      if (s.done && !s.awaiting_commit)
        return;
      // Whatever came after the savepoint is dropped: a job restored from
      // it emits that again.
      if (s.chain->is_committing()
          && !guarded(self, [&] { s.chain->on_checkpoint_complete(id); }))
        return;
      s.awaiting_commit = false;
      s.done = true;
      report(self, execution_state::finished);
      self->quit();
    },
    [=](commit_atom) -> caf::result<ok_atom> {
      auto& s = self->state;
      if (!s.awaiting_commit)
        return make_error(actors_errc::task_failed,
                          s.where() + " is not waiting for a final commit");
      s.awaiting_commit = false;
      std::string cause;
      try {
        s.chain->on_checkpoint_complete(final_checkpoint);
      } catch (const std::exception& e) {
        cause = "vertex '" + s.chain->current_vertex() + "' in " + s.where()
                + " failed to commit: " + e.what();
      } catch (...) {
        cause = "vertex '" + s.chain->current_vertex() + "' in " + s.where()
                + " failed to commit: a non-standard exception";
      }
      if (!cause.empty()) {
        auto err = make_error(actors_errc::task_failed, cause);
        self->quit(err);
        return err;
      }
      self->quit();
      return ok_atom::value;
    },
    [=](flush_atom) {
      auto& s = self->state;
      s.flush_pending = false;
      if (s.done)
        return;
      s.out->flush();
      check_blocked(self);
    },
    [=](metrics_atom) { return current_metrics(self); },
  };
}

} // namespace

task_actor spawn_task(caf::actor_system& sys, std::shared_ptr<const plan> p,
                      uint32_t execution, data_plane_config cfg,
                      job_master_actor master,
                      checkpoint_coordinator_actor coordinator,
                      std::shared_ptr<const task_checkpointing> cp, job_id job,
                      task_manager_actor owner) {
  return sys.spawn(task_impl, std::move(p), execution, cfg, std::move(master),
                   std::move(coordinator), std::move(cp), std::move(job),
                   std::move(owner));
}

} // namespace weir
