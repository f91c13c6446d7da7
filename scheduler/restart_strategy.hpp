#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>

#include <caf/expected.hpp>

#include "weir/proto/job_spec.pb.h"

namespace weir {

/// Restart strategies with Flink's names, options and defaults
/// (restart-strategy.*). Plain values; the job master owns one
/// restart_policy built from them.
struct restart_settings {
  enum kind_t {
    /// Never restart: the first failure fails the job.
    none,
    /// Up to `attempts` restarts, `delay` apart.
    fixed_delay,
    /// Unlimited restarts with a delay growing by `multiplier` from
    /// `initial_backoff` to `max_backoff`; back to the initial delay after
    /// the job ran `reset_threshold` without failing.
    exponential_delay,
    /// Restarts as long as at most `max_failures` happened within the last
    /// `interval`; `delay` before each restart.
    failure_rate,
  };

  kind_t kind = none;
  /// fixed-delay: restart-strategy.fixed-delay.attempts (Flink: 1).
  uint32_t attempts = 1;
  /// fixed-delay and failure-rate delay (Flink: 1 s).
  std::chrono::milliseconds delay{1000};
  /// exponential-delay (Flink 1.19+): initial 1 s, max 1 min, x1.5,
  /// reset after 1 h, jitter 0.1.
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{60000};
  double multiplier = 1.5;
  std::chrono::milliseconds reset_threshold{3600000};
  double jitter = 0.1;
  /// failure-rate: max failures per interval (Flink: 1 per 1 min).
  uint32_t max_failures = 1;
  std::chrono::milliseconds interval{60000};
};

/// "none", "fixed-delay", "exponential-delay", "failure-rate".
const char* to_string(restart_settings::kind_t x);

/// Decides, failure by failure, whether a job restarts and after which
/// delay. Time comes from the caller (deterministic under test clocks);
/// jitter draws come from the caller too, as a number in [0, 1).
class restart_policy {
public:
  using clock = std::chrono::steady_clock;

  struct decision {
    bool restart = false;
    std::chrono::milliseconds delay{0};
    /// Why not, when restart is false ("restart strategy none", ...).
    std::string reason;
  };

  explicit restart_policy(restart_settings s) : settings_(s) {
    // nop
  }

  /// A failure happened at `now`; `u` in [0, 1) draws the jitter.
  decision on_failure(clock::time_point now, double u = 0.5);

  /// The job (re)started running at `now`; exponential-delay measures its
  /// stable running time from here to reset the backoff.
  void on_running(clock::time_point now);

  /// Restarts granted so far.
  uint32_t restarts() const {
    return restarts_;
  }

  const restart_settings& settings() const {
    return settings_;
  }

private:
  restart_settings settings_;
  uint32_t restarts_ = 0;
  std::chrono::milliseconds backoff_{0};
  clock::time_point running_since_{};
  bool running_ = false;
  std::deque<clock::time_point> failures_;
};

/// Reads a job's restart strategy, applying Flink's defaults: without an
/// explicit type, exponential-delay when `checkpointing` is on, else none.
/// Errors name the bad option (unknown type, negative delays, a multiplier
/// below 1, jitter outside [0, 1], zero attempts or failures).
caf::expected<restart_settings>
resolve_restart_settings(const proto::RestartStrategyConfig& cfg,
                         bool checkpointing);

} // namespace weir
