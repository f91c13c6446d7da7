#include "scheduler/restart_strategy.hpp"

#include <algorithm>
#include <cmath>

#include "scheduler/error.hpp"

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
        auto next
          = static_cast<double>(backoff_.count()) * settings_.multiplier;
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
                   + std::to_string(settings_.max_failures) + " failure(s) per "
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

caf::expected<restart_settings>
resolve_restart_settings(const proto::RestartStrategyConfig& cfg,
                         bool checkpointing) {
  using std::chrono::milliseconds;
  restart_settings s;
  auto bad = [](const std::string& text) {
    return make_error(scheduler_errc::invalid_graph,
                      "restart_strategy: " + text);
  };
  const auto& type = cfg.type();
  if (type.empty())
    s.kind = checkpointing ? restart_settings::exponential_delay
                           : restart_settings::none;
  else if (type == "none")
    s.kind = restart_settings::none;
  else if (type == "fixed-delay")
    s.kind = restart_settings::fixed_delay;
  else if (type == "exponential-delay")
    s.kind = restart_settings::exponential_delay;
  else if (type == "failure-rate")
    s.kind = restart_settings::failure_rate;
  else
    return bad("unknown type '" + type
               + "'; use none, fixed-delay, exponential-delay or "
                 "failure-rate");
  auto millis = [&](bool has, int64_t v, milliseconds& out,
                    const char* name) -> caf::error {
    if (!has)
      return caf::none;
    if (v < 0)
      return bad(std::string{name} + " must not be negative, got "
                 + std::to_string(v));
    out = milliseconds{v};
    return caf::none;
  };
  if (auto err
      = millis(cfg.has_delay_ms(), cfg.delay_ms(), s.delay, "delay_ms"))
    return err;
  if (auto err = millis(cfg.has_initial_backoff_ms(), cfg.initial_backoff_ms(),
                        s.initial_backoff, "initial_backoff_ms"))
    return err;
  if (auto err = millis(cfg.has_max_backoff_ms(), cfg.max_backoff_ms(),
                        s.max_backoff, "max_backoff_ms"))
    return err;
  if (auto err = millis(cfg.has_reset_backoff_threshold_ms(),
                        cfg.reset_backoff_threshold_ms(), s.reset_threshold,
                        "reset_backoff_threshold_ms"))
    return err;
  if (auto err = millis(cfg.has_failure_rate_interval_ms(),
                        cfg.failure_rate_interval_ms(), s.interval,
                        "failure_rate_interval_ms"))
    return err;
  if (cfg.has_attempts()) {
    if (cfg.attempts() == 0)
      return bad("attempts must be at least 1 (use type none for no "
                 "restarts)");
    s.attempts = cfg.attempts();
  }
  if (cfg.has_max_failures_per_interval()) {
    if (cfg.max_failures_per_interval() == 0)
      return bad("max_failures_per_interval must be at least 1");
    s.max_failures = cfg.max_failures_per_interval();
  }
  if (cfg.has_backoff_multiplier()) {
    if (!(cfg.backoff_multiplier() >= 1.0))
      return bad("backoff_multiplier must be at least 1");
    s.multiplier = cfg.backoff_multiplier();
  }
  if (cfg.has_jitter_factor()) {
    if (!(cfg.jitter_factor() >= 0.0 && cfg.jitter_factor() <= 1.0))
      return bad("jitter_factor must be in [0, 1]");
    s.jitter = cfg.jitter_factor();
  }
  if (s.max_backoff < s.initial_backoff)
    return bad("max_backoff_ms must not be below initial_backoff_ms");
  return s;
}

} // namespace weir
