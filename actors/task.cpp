#include "actors/task.hpp"

#include <exception>
#include <optional>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/error.hpp"
#include "runtime/input_gate.hpp"
#include "runtime/operator_chain.hpp"
#include "runtime/output_gate.hpp"

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
  bool running = false;
  bool input_ended = false;
  bool done = false;
  bool flush_pending = false;
  bool poll_pending = false;
  bool was_blocked = false;
  uint64_t stalls = 0;
  uint64_t batches_out = 0;

  std::string where() const {
    const auto& ev = p->executions[execution];
    const auto& t = p->tasks[ev.task];
    return "subtask " + std::to_string(ev.subtask + 1) + "/"
           + std::to_string(t.parallelism) + " of task '" + t.name + "'";
  }
};

using task_pointer = task_actor::stateful_pointer<task_state>;

void report(task_pointer self, execution_state st, std::string cause = {}) {
  self->send(self->state.master, task_state_atom::value,
             self->state.execution, st, std::move(cause));
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
  auto blocked = self->state.out->blocked();
  if (blocked && !self->state.was_blocked)
    ++self->state.stalls;
  self->state.was_blocked = blocked;
}

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
  report(self, execution_state::finished);
  self->quit();
}

/// Input ended (all channels, or the source is exhausted): run the end
/// handlers down the chain and close every output channel.
void end_input(task_pointer self) {
  auto& st = self->state;
  if (st.input_ended)
    return;
  if (!guarded(self, [&] { st.chain->on_end_of_input(); }))
    return;
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

/// Processes queued input while the outputs have room.
void process_inputs(task_pointer self) {
  auto& st = self->state;
  while (st.running && !st.done && st.in->has_pending()
         && !st.out->blocked()) {
    auto ev = st.in->pop();
    if (ev.end) {
      if (st.in->all_ended())
        end_input(self);
      continue;
    }
    auto ok = guarded(self, [&] {
      for (const auto& r : ev.rows)
        st.chain->on_record(r);
    });
    if (!ok)
      return;
    st.in->release(ev.channel);
    self->send(st.peers[st.in->producer_of(ev.channel)], credit_atom::value,
               static_cast<uint64_t>(ev.channel), int32_t{1});
  }
  check_blocked(self);
  arm_flush(self);
}

void on_poll(task_pointer self) {
  auto& st = self->state;
  st.poll_pending = false;
  if (!st.running || st.done || st.input_ended)
    return;
  if (st.out->blocked()) {
    // Resumed by the credit handler.
    check_blocked(self);
    return;
  }
  poll_result res;
  auto ok = guarded(self,
                    [&] { res = st.chain->on_poll(st.cfg.batch_rows); });
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
  check_blocked(self);
  arm_flush(self);
}

} // namespace

namespace {

task_actor::behavior_type task_impl(task_pointer self,
                                    std::shared_ptr<const plan> p,
                                    uint32_t execution, data_plane_config cfg,
                                    job_master_actor master) {
  auto& st = self->state;
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
      self->send(s.peers[consumer], data_atom::value,
                 static_cast<uint64_t>(ch), batch{std::move(rows)});
    },
    [self](size_t ch) {
      auto& s = self->state;
      auto consumer = s.p->channels[ch].consumer;
      self->send(s.peers[consumer], end_atom::value,
                 static_cast<uint64_t>(ch));
    });
  st.in.emplace(*st.p, execution, cfg.credits);
  auto clock = [self] { return self->clock().now(); };
  auto chain = operator_chain::make(*st.p, execution, *st.out, clock);
  if (!chain) {
    st.done = true;
    report(self, execution_state::failed, error_text(chain.error()));
    self->quit(chain.error());
    return task_actor::behavior_type::make_empty_behavior();
  }
  st.chain = std::move(*chain);
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
      report(self, execution_state::running);
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
        fail(self, s.where() + ": protocol violation: unexpected batch on "
                     "channel " + std::to_string(ch));
        return;
      }
      process_inputs(self);
    },
    [=](end_atom, uint64_t ch) {
      auto& s = self->state;
      if (s.done)
        return;
      if (!s.in->push_end(ch)) {
        fail(self, s.where() + ": protocol violation: unexpected end on "
                     "channel " + std::to_string(ch));
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
    [=](flush_atom) {
      auto& s = self->state;
      s.flush_pending = false;
      if (s.done)
        return;
      s.out->flush();
      check_blocked(self);
    },
    [=](metrics_atom) {
      auto& s = self->state;
      task_metrics m;
      m.execution = s.execution;
      m.rows_in = s.chain->rows_in();
      m.rows_out = s.out->rows_out();
      m.batches_in = s.in->batches_in();
      m.batches_out = s.batches_out;
      m.max_outstanding = s.in->max_outstanding();
      for (const auto& ch : s.out->channels())
        m.queued_batches += ch.queued.size();
      m.backpressure_stalls = s.stalls;
      return m;
    },
  };
}

} // namespace

task_actor spawn_task(caf::actor_system& sys, std::shared_ptr<const plan> p,
                      uint32_t execution, data_plane_config cfg,
                      job_master_actor master) {
  return sys.spawn(task_impl, std::move(p), execution, cfg,
                   std::move(master));
}

} // namespace weir
