#pragma once

#include <cstdint>
#include <limits>

namespace weir {

/// Event time and processing time are milliseconds since the Unix epoch.
/// The watermark before any arrived, and after the end of the input.
constexpr int64_t min_watermark = std::numeric_limits<int64_t>::min();
constexpr int64_t max_watermark = std::numeric_limits<int64_t>::max();

/// Which clock a timer follows.
enum class time_domain : uint8_t {
  /// Fires when the operator's watermark reaches the timer's time.
  event_time = 0,
  /// Fires when the subtask's wall clock reaches it.
  processing_time = 1,
};

/// Renders a domain: "event time", "processing time".
const char* to_string(time_domain x);

/// A timer that fired, passed to the timer handler with its key made
/// current in the operator's keyed state.
struct fired_timer {
  int64_t time = 0;
  time_domain domain = time_domain::event_time;
};

/// The timers of one keyed operator instance (Flink's TimerService),
/// owned by the task; operators reach it through operator_context::timers.
/// Timers belong to the current key: at most one per (key, domain, time),
/// registering it again does nothing. They are part of the keyed state,
/// so they are checkpointed and restored with their key group, also when
/// a job is rescaled. Event-time timers fire in time order (ties in key
/// order) when a watermark reaches them, before the watermark handler
/// sees that watermark; processing-time timers fire when the clock passes
/// them, soon after, never early. Not thread-safe: call it from handlers.
class timer_service {
public:
  virtual ~timer_service() = default;

  /// The operator's current watermark: min_watermark before the first,
  /// max_watermark once its input ended. After a restore it starts from
  /// the checkpointed one: time never moves backwards.
  virtual int64_t current_watermark() const = 0;

  /// The subtask's wall clock, in milliseconds since the epoch
  /// (deterministic under the test scheduler).
  virtual int64_t current_processing_time() const = 0;

  /// Registers an event-time timer at `time` for the current key.
  virtual void register_event_time_timer(int64_t time) = 0;

  /// Registers a processing-time timer at `time` for the current key.
  virtual void register_processing_time_timer(int64_t time) = 0;

  /// Removes the current key's event-time timer at `time`, if any.
  virtual void delete_event_time_timer(int64_t time) = 0;

  /// Removes the current key's processing-time timer at `time`, if any.
  virtual void delete_processing_time_timer(int64_t time) = 0;
};

} // namespace weir
