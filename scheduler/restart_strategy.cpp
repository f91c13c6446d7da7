#include "scheduler/restart_strategy.hpp"

#include <algorithm>
#include <cmath>

namespace weir {

const char* to_string(restart_settings::kind_t x) {
  switch (x) {
    case restart_settings::none:
      return "none";
    case restart_settings::fixed_delay:
      return "fixed-delay";
    case restart_settings::exponential_delay:
      return "exponential-delay";
    case restart_settings::failure_rate:
      return "failure-rate";
  }
  return "?";
}

void restart_policy::on_running(clock::time_point now) {
  running_ = true;
  running_since_ = now;
}

restart_policy::decision restart_policy::on_failure(clock::time_point now,
                                                    double u) {
  using std::chrono::milliseconds;
  decision d;
  auto was_running = running_;
  running_ = false;
  switch (settings_.kind) {
    case restart_settings::none:
      d.reason = "the restart strategy is none";
      return d;
    case restart_settings::fixed_delay:
      if (restarts_ >= settings_.attempts) {
        d.reason = "the fixed-delay restart strategy allows "
                   + std::to_string(settings_.attempts)
                   + " restart(s), all used";
        return d;
      }
      d.delay = settings_.delay;
      break;
    case restart_settings::exponential_delay: {
      auto stable = was_running ? now - running_since_ : clock::duration{0};
      if (backoff_.count() == 0 || stable >= settings_.reset_threshold) {
        backoff_ = settings_.initial_backoff;
      } else {
        auto next = static_cast<double>(backoff_.count())
                    * settings_.multiplier;
        auto cap = static_cast<double>(settings_.max_backoff.count());
        backoff_ = milliseconds{static_cast<int64_t>(std::min(next, cap))};
      }
      // Jitter spreads restarts of many jobs: +-jitter around the backoff.
      auto spread = static_cast<double>(backoff_.count()) * settings_.jitter
                    * (2.0 * u - 1.0);
      d.delay = milliseconds{std::max<int64_t>(
        0, static_cast<int64_t>(
             std::llround(static_cast<double>(backoff_.count()) + spread)))};
      break;
    }
    case restart_settings::failure_rate:
      failures_.push_back(now);
      while (!failures_.empty() && now - failures_.front() > settings_.interval)
        failures_.pop_front();
      if (failures_.size() > settings_.max_failures) {
        d.reason = "the failure-rate restart strategy allows "
                   + std::to_string(settings_.max_failures)
                   + " failure(s) per "
                   + std::to_string(settings_.interval.count()) + " ms, and "
                   + std::to_string(failures_.size()) + " happened";
        return d;
      }
      d.delay = settings_.delay;
      break;
  }
  d.restart = true;
  ++restarts_;
  return d;
}

} // namespace weir
