#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <utility>

#include "api/state.hpp"
#include "api/timers.hpp"
#include "api/value.hpp"

namespace weir {

/// The timers and watermark of one operator instance: what its
/// operator_context::timers points to. Timers live in two map states of
/// the operator's keyed state ("weir.timers.event" and
/// "weir.timers.processing": time -> null per key), so checkpoints and
/// rescaling carry them with their key group; two ordered sets index them
/// by (time, key) for firing. Owned by the operator chain, which advances
/// the watermark and pops due timers; no CAF inside.
class timer_queue : public timer_service {
public:
  /// Names of the keyed states holding the timers.
  static constexpr const char* event_state = "weir.timers.event";
  static constexpr const char* processing_state = "weir.timers.processing";

  /// A queue over `backend` (null for unkeyed operators, which cannot
  /// register timers) with `clock` as processing time in ms since epoch.
  timer_queue(keyed_state_backend* backend, std::function<int64_t()> clock);

  // -- timer_service ----------------------------------------------------------

  int64_t current_watermark() const override {
    return watermark_;
  }
  int64_t current_processing_time() const override {
    return clock_();
  }
  void register_event_time_timer(int64_t time) override;
  void register_processing_time_timer(int64_t time) override;
  void delete_event_time_timer(int64_t time) override;
  void delete_processing_time_timer(int64_t time) override;

  // -- driven by the chain ----------------------------------------------------

  /// Moves the watermark to `wm` if that is later; false otherwise.
  bool advance_watermark(int64_t wm);

  /// Removes the earliest event-time timer at or before the watermark and
  /// makes its key current; nullopt when none is due.
  std::optional<fired_timer> pop_due_event();

  /// Removes the earliest processing-time timer at or before `now` and
  /// makes its key current; nullopt when none is due.
  std::optional<fired_timer> pop_due_processing(int64_t now);

  /// The earliest processing-time timer, if any.
  std::optional<int64_t> next_processing() const;

  /// Number of timers registered now, both domains.
  size_t size() const {
    return event_.size() + processing_.size();
  }

  /// Rebuilds the index from the keyed state after a restore.
  void rebuild();

private:
  using index = std::set<std::pair<int64_t, row>>;

  void add(map_state& state, index& idx, int64_t time);
  void remove(map_state& state, index& idx, int64_t time);
  std::optional<fired_timer> pop(map_state& state, index& idx, int64_t upto,
                                 time_domain domain);
  keyed_state_backend& keyed();

  keyed_state_backend* backend_;
  std::function<int64_t()> clock_;
  std::optional<map_state> event_state_;
  std::optional<map_state> processing_state_;
  index event_;
  index processing_;
  int64_t watermark_ = min_watermark;
};

} // namespace weir
