#include "runtime/timer_queue.hpp"

#include <stdexcept>

namespace weir {

timer_queue::timer_queue(keyed_state_backend* backend,
                         std::function<int64_t()> clock)
  : backend_(backend), clock_(std::move(clock)) {
  if (backend_ != nullptr) {
    event_state_.emplace(backend_->map_state(event_state));
    processing_state_.emplace(backend_->map_state(processing_state));
  }
}

keyed_state_backend& timer_queue::keyed() {
  if (backend_ == nullptr)
    throw std::logic_error("timers need a keyed operator (one whose "
                           "descriptor names a key parameter)");
  if (!backend_->has_current_key())
    throw std::logic_error("a timer needs a current key: register it from "
                           "a record or timer handler");
  return *backend_;
}

void timer_queue::add(map_state& state, index& idx, int64_t time) {
  auto& kb = keyed();
  if (state.contains(value{time}))
    return;
  state.put(value{time}, value{});
  idx.emplace(time, kb.current_key());
}

void timer_queue::remove(map_state& state, index& idx, int64_t time) {
  auto& kb = keyed();
  if (!state.contains(value{time}))
    return;
  state.remove(value{time});
  idx.erase({time, kb.current_key()});
}

void timer_queue::register_event_time_timer(int64_t time) {
  keyed();
  add(*event_state_, event_, time);
}

void timer_queue::register_processing_time_timer(int64_t time) {
  keyed();
  add(*processing_state_, processing_, time);
}

void timer_queue::delete_event_time_timer(int64_t time) {
  keyed();
  remove(*event_state_, event_, time);
}

void timer_queue::delete_processing_time_timer(int64_t time) {
  keyed();
  remove(*processing_state_, processing_, time);
}

bool timer_queue::advance_watermark(int64_t wm) {
  if (wm <= watermark_)
    return false;
  watermark_ = wm;
  return true;
}

std::optional<fired_timer> timer_queue::pop(map_state& state, index& idx,
                                            int64_t upto, time_domain domain) {
  if (idx.empty() || idx.begin()->first > upto)
    return std::nullopt;
  auto node = idx.extract(idx.begin());
  auto& [time, key] = node.value();
  backend_->set_current_key(key);
  state.remove(value{time});
  return fired_timer{time, domain};
}

std::optional<fired_timer> timer_queue::pop_due_event() {
  if (backend_ == nullptr)
    return std::nullopt;
  return pop(*event_state_, event_, watermark_, time_domain::event_time);
}

std::optional<fired_timer> timer_queue::pop_due_processing(int64_t now) {
  if (backend_ == nullptr)
    return std::nullopt;
  return pop(*processing_state_, processing_, now,
             time_domain::processing_time);
}

std::optional<int64_t> timer_queue::next_processing() const {
  if (processing_.empty())
    return std::nullopt;
  return processing_.begin()->first;
}

void timer_queue::rebuild() {
  if (backend_ == nullptr)
    return;
  event_.clear();
  processing_.clear();
  auto load = [this](const char* name, map_state& state, index& idx) {
    backend_->for_each_key(name, [&](const row& key) {
      for (const auto& [t, unused] : state.entries())
        if (t.type() == value_type::int64)
          idx.emplace(t.as_int64(), key);
    });
  };
  load(event_state, *event_state_, event_);
  load(processing_state, *processing_state_, processing_);
}

} // namespace weir
