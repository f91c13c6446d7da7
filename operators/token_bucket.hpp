#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>

/// Rate limiting for the built-in sources; not part of the public API.
namespace weir::builtins {

/// Limits one source subtask to `rate` rows per second of the task's
/// clock. Holds at most one second's worth of rows (and at least one), so
/// a source held back by backpressure catches up by at most one second's
/// burst; starts with one row's token so the first row goes out at once.
/// Owned by the source's state; called from its poll handler.
class token_bucket {
public:
  using clock_fn = std::function<std::chrono::steady_clock::time_point()>;

  /// A bucket for `rate` (> 0) rows per second that reads the time from
  /// `now`.
  token_bucket(double rate, clock_fn now)
    : rate_(rate), capacity_(std::max(1.0, rate)), now_(std::move(now)) {
  }

  /// Takes the tokens of the rows that may go out now, at most `want`.
  uint64_t take(uint64_t want) {
    refill();
    auto whole = static_cast<uint64_t>(std::floor(tokens_ + epsilon));
    auto n = std::min(want, whole);
    tokens_ = std::max(0.0, tokens_ - static_cast<double>(n));
    return n;
  }

  /// Time until the next token.
  std::chrono::nanoseconds until_next() const {
    auto seconds = (1.0 - tokens_) / rate_;
    auto ns = static_cast<int64_t>(std::ceil(seconds * 1e9));
    return std::chrono::nanoseconds{std::max<int64_t>(ns, 1)};
  }

private:
  // Absorbs rounding when the clock advances by exactly 1 / rate.
  static constexpr double epsilon = 1e-9;

  void refill() {
    auto t = now_();
    if (!started_) {
      started_ = true;
      last_ = t;
      tokens_ = 1.0;
      return;
    }
    if (t <= last_)
      return;
    std::chrono::duration<double> elapsed = t - last_;
    last_ = t;
    tokens_ = std::min(capacity_, tokens_ + elapsed.count() * rate_);
  }

  double rate_;
  double capacity_;
  clock_fn now_;
  bool started_ = false;
  std::chrono::steady_clock::time_point last_;
  double tokens_ = 0;
};

} // namespace weir::builtins
