#include "runtime/input_gate.hpp"

#include <algorithm>

namespace weir {

input_gate::input_gate(const plan& p, size_t exec, int32_t credits)
  : credits_(credits) {
  const auto& ev = p.executions[exec];
  for (const auto& group : ev.input_channels) {
    for (auto ch : group) {
      channels_.push_back(ch);
      channel_state st;
      st.producer = p.channels[ch].producer;
      states_.emplace(ch, st);
    }
  }
}

size_t input_gate::producer_of(size_t channel) const {
  return states_.at(channel).producer;
}

bool input_gate::push_batch(size_t channel, std::vector<row>&& rows) {
  auto i = states_.find(channel);
  if (i == states_.end() || i->second.end_received
      || i->second.outstanding >= credits_)
    return false;
  auto& st = i->second;
  ++st.outstanding;
  max_outstanding_ = std::max(max_outstanding_, st.outstanding);
  ++batches_in_;
  pending_.push_back(event{channel, std::move(rows), false});
  return true;
}

bool input_gate::push_end(size_t channel) {
  auto i = states_.find(channel);
  if (i == states_.end() || i->second.end_received)
    return false;
  i->second.end_received = true;
  pending_.push_back(event{channel, {}, true});
  return true;
}

bool input_gate::push_barrier(size_t channel, uint64_t id) {
  auto i = states_.find(channel);
  if (i == states_.end() || i->second.end_received || id == 0)
    return false;
  event ev;
  ev.channel = channel;
  ev.barrier = id;
  pending_.push_back(std::move(ev));
  return true;
}

bool input_gate::push_watermark(size_t channel, int64_t wm, bool idle) {
  auto i = states_.find(channel);
  if (i == states_.end() || i->second.end_received)
    return false;
  event ev;
  ev.channel = channel;
  ev.is_watermark = true;
  ev.watermark = wm;
  ev.idle = idle;
  pending_.push_back(std::move(ev));
  return true;
}

input_gate::event input_gate::pop() {
  auto ev = std::move(pending_.front());
  pending_.pop_front();
  if (ev.end) {
    states_[ev.channel].ended = true;
    ++ended_count_;
  }
  return ev;
}

void input_gate::release(size_t channel) {
  auto i = states_.find(channel);
  if (i != states_.end() && i->second.outstanding > 0)
    --i->second.outstanding;
}

int32_t input_gate::outstanding(size_t channel) const {
  auto i = states_.find(channel);
  return i == states_.end() ? 0 : i->second.outstanding;
}

} // namespace weir
