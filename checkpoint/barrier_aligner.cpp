#include "checkpoint/barrier_aligner.hpp"

#include <algorithm>
#include <utility>

namespace weir {

// -- enums --------------------------------------------------------------------

std::string to_string(alignment_errc code) {
  switch (code) {
    case alignment_errc::unknown_channel:
      return "unknown_channel";
    case alignment_errc::event_after_end:
      return "event_after_end";
    case alignment_errc::duplicate_barrier:
      return "duplicate_barrier";
    case alignment_errc::out_of_order_barrier:
      return "out_of_order_barrier";
    case alignment_errc::event_on_blocked_channel:
      return "event_on_blocked_channel";
  }
  return "alignment_errc(" + std::to_string(static_cast<int>(code)) + ")";
}

caf::error make_error(alignment_errc code, std::string text) {
  return make_weir_error(static_cast<uint8_t>(code), caf::atom("weir_align"),
                         std::move(text));
}

std::string to_string(alignment_mode mode) {
  switch (mode) {
    case alignment_mode::exactly_once:
      return "exactly_once";
    case alignment_mode::at_least_once:
      return "at_least_once";
  }
  return "alignment_mode(" + std::to_string(static_cast<int>(mode)) + ")";
}

std::string to_string(record_action action) {
  switch (action) {
    case record_action::process:
      return "process";
    case record_action::hold:
      return "hold";
  }
  return "record_action(" + std::to_string(static_cast<int>(action)) + ")";
}

std::string to_string(abort_reason reason) {
  switch (reason) {
    case abort_reason::subsumed:
      return "subsumed";
    case abort_reason::cancelled:
      return "cancelled";
    case abort_reason::aborted:
      return "aborted";
  }
  return "abort_reason(" + std::to_string(static_cast<int>(reason)) + ")";
}

// -- construction -------------------------------------------------------------

barrier_aligner::barrier_aligner(std::vector<size_t> channels,
                                 alignment_mode mode)
  : mode_(mode) {
  for (auto ch : channels) {
    if (index_.emplace(ch, ids_.size()).second)
      ids_.push_back(ch);
  }
  states_.resize(ids_.size());
}

// -- inputs -------------------------------------------------------------------

caf::expected<alignment_result>
barrier_aligner::on_barrier(size_t channel, checkpoint_id id,
                            alignment_clock::time_point now) {
  auto index = index_of(channel);
  if (!index)
    return std::move(index.error());
  if (auto err = check_marker(*index, id, "barrier"))
    return err;
  alignment_result result;
  // Decide before note_marker() advances latest_ and prunes aborted_ahead_.
  auto fresh = (!latest_ || id > *latest_) && aborted_ahead_.count(id) == 0;
  note_marker(*index, id, result);
  auto i = pending_.find(id);
  if (i == pending_.end()) {
    if (!fresh) {
      result.late = true;
      return result;
    }
    pending_checkpoint p;
    p.delivered.resize(states_.size(), false);
    p.start = now;
    i = pending_.emplace(id, std::move(p)).first;
  }
  i->second.delivered[*index] = true;
  if (is_complete(i->second))
    trigger(id, now, result);
  else if (mode_ == alignment_mode::exactly_once)
    states_[*index].blocked = true;
  return result;
}

caf::expected<alignment_result>
barrier_aligner::on_cancellation_barrier(size_t channel, checkpoint_id id) {
  auto index = index_of(channel);
  if (!index)
    return std::move(index.error());
  if (auto err = check_marker(*index, id, "cancellation barrier"))
    return err;
  alignment_result result;
  auto fresh = (!latest_ || id > *latest_) && aborted_ahead_.count(id) == 0;
  note_marker(*index, id, result);
  if (pending_.count(id) > 0)
    drop(id, abort_reason::cancelled, result);
  else if (fresh)
    result.aborted.push_back(aborted_checkpoint{id, abort_reason::cancelled});
  else
    result.late = true;
  return result;
}

caf::expected<alignment_result>
barrier_aligner::on_end_of_partition(size_t channel,
                                     alignment_clock::time_point now) {
  auto index = index_of(channel);
  if (!index)
    return std::move(index.error());
  auto& st = states_[*index];
  if (st.ended)
    return make_error(alignment_errc::event_after_end,
                      "second end of partition on input channel "
                        + std::to_string(channel));
  if (st.blocked)
    return make_error(alignment_errc::event_on_blocked_channel,
                      "end of partition on input channel "
                        + std::to_string(channel)
                        + ", which is blocked in alignment; the task must "
                          "hold it until the channel is released");
  st.ended = true;
  alignment_result result;
  // An ended channel counts as delivered: it may complete any pending
  // alignment, oldest first.
  std::vector<checkpoint_id> complete;
  for (auto& [id, p] : pending_)
    if (is_complete(p))
      complete.push_back(id);
  for (auto id : complete)
    trigger(id, now, result);
  return result;
}

caf::expected<record_action>
barrier_aligner::on_record_batch(size_t channel) const {
  auto index = index_of(channel);
  if (!index)
    return std::move(index.error());
  const auto& st = states_[*index];
  if (st.ended)
    return make_error(alignment_errc::event_after_end,
                      "record batch on input channel " + std::to_string(channel)
                        + " after its end of partition");
  return st.blocked ? record_action::hold : record_action::process;
}

alignment_result barrier_aligner::abort(checkpoint_id id) {
  alignment_result result;
  if (pending_.count(id) > 0) {
    drop(id, abort_reason::aborted, result);
  } else if ((!latest_ || id > *latest_) && live_channels() > 0) {
    // No barrier of `id` arrived yet; remember it so that they are ignored.
    // Without live channels no barrier can arrive, so nothing to remember.
    aborted_ahead_.insert(id);
  }
  return result;
}

// -- queries ------------------------------------------------------------------

size_t barrier_aligner::live_channels() const {
  return static_cast<size_t>(
    std::count_if(states_.begin(), states_.end(),
                  [](const channel_state& st) { return !st.ended; }));
}

bool barrier_aligner::is_blocked(size_t channel) const {
  auto i = index_.find(channel);
  return i != index_.end() && states_[i->second].blocked;
}

std::vector<size_t> barrier_aligner::blocked_channels() const {
  std::vector<size_t> out;
  for (size_t i = 0; i < states_.size(); ++i)
    if (states_[i].blocked)
      out.push_back(ids_[i]);
  return out;
}

bool barrier_aligner::has_ended(size_t channel) const {
  auto i = index_.find(channel);
  return i != index_.end() && states_[i->second].ended;
}

std::vector<checkpoint_id> barrier_aligner::pending() const {
  std::vector<checkpoint_id> out;
  out.reserve(pending_.size());
  for (const auto& entry : pending_)
    out.push_back(entry.first);
  return out;
}

std::optional<alignment_clock::time_point>
barrier_aligner::alignment_start(checkpoint_id id) const {
  auto i = pending_.find(id);
  if (i == pending_.end())
    return std::nullopt;
  return i->second.start;
}

// -- internals ----------------------------------------------------------------

caf::expected<size_t> barrier_aligner::index_of(size_t channel) const {
  auto i = index_.find(channel);
  if (i == index_.end())
    return make_error(alignment_errc::unknown_channel,
                      "input channel " + std::to_string(channel)
                        + " is not an input of this task");
  return i->second;
}

caf::error barrier_aligner::check_marker(size_t index, checkpoint_id id,
                                         const char* what) const {
  const auto& st = states_[index];
  auto where = std::string{what} + " for checkpoint " + to_string(id)
               + " on input channel " + std::to_string(ids_[index]);
  if (st.ended)
    return make_error(alignment_errc::event_after_end,
                      where + " after its end of partition");
  if (st.last_marker && id == *st.last_marker)
    return make_error(alignment_errc::duplicate_barrier, "duplicate " + where);
  if (st.last_marker && id < *st.last_marker)
    return make_error(alignment_errc::out_of_order_barrier,
                      where + " after one for checkpoint "
                        + to_string(*st.last_marker));
  if (st.blocked)
    return make_error(alignment_errc::event_on_blocked_channel,
                      where
                        + ", which is blocked in alignment; the task must "
                          "hold it until the channel is released");
  return caf::none;
}

void barrier_aligner::note_marker(size_t index, checkpoint_id id,
                                  alignment_result& result) {
  states_[index].last_marker = id;
  // Barrier ids increase on every channel, so this channel will never
  // deliver the older checkpoints it skipped: they cannot align any more.
  std::vector<checkpoint_id> skipped;
  for (auto& [pid, p] : pending_) {
    if (pid >= id)
      break;
    if (!p.delivered[index])
      skipped.push_back(pid);
  }
  for (auto pid : skipped)
    drop(pid, abort_reason::subsumed, result);
  if (!latest_ || id > *latest_)
    latest_ = id;
  aborted_ahead_.erase(aborted_ahead_.begin(),
                       aborted_ahead_.upper_bound(*latest_));
}

bool barrier_aligner::is_complete(const pending_checkpoint& p) const {
  for (size_t i = 0; i < states_.size(); ++i)
    if (!p.delivered[i] && !states_[i].ended)
      return false;
  return true;
}

void barrier_aligner::trigger(checkpoint_id id, alignment_clock::time_point now,
                              alignment_result& result) {
  auto i = pending_.find(id);
  release(i->second, result);
  result.triggered.push_back(
    triggered_checkpoint{id, i->second.start, now - i->second.start});
  pending_.erase(i);
}

void barrier_aligner::drop(checkpoint_id id, abort_reason reason,
                           alignment_result& result) {
  auto i = pending_.find(id);
  release(i->second, result);
  result.aborted.push_back(aborted_checkpoint{id, reason});
  pending_.erase(i);
}

void barrier_aligner::release(const pending_checkpoint& p,
                              alignment_result& result) {
  for (size_t i = 0; i < states_.size(); ++i) {
    if (p.delivered[i] && states_[i].blocked) {
      states_[i].blocked = false;
      result.released.push_back(ids_[i]);
    }
  }
  // Keep `released` in constructor order across several releases.
  std::sort(result.released.begin(), result.released.end(),
            [this](size_t a, size_t b) { return index_.at(a) < index_.at(b); });
}

} // namespace weir
