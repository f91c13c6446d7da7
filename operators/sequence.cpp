#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <stdexcept>

#include "api/codec.hpp"
#include "api/state.hpp"

#include "operators/support.hpp"

namespace weir::builtins {

namespace {

using clock_fn = std::function<std::chrono::steady_clock::time_point()>;

/// Limits a subtask to `rate` rows per second. Holds at most one second's
/// worth of rows (and at least one), so a source held back by backpressure
/// catches up by at most one second's burst; starts with one row's token so
/// the first row goes out at once.
class token_bucket {
public:
  token_bucket(double rate, clock_fn now)
    : rate_(rate), capacity_(std::max(1.0, rate)), now_(std::move(now)) {
  }

  /// Rows that may go out now, at most `want`.
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

/// What one sequence subtask has left to emit.
struct sequence_state {
  int64_t next = 0;
  /// Distance between consecutive values: 1, or p when unbounded.
  int64_t step = 1;
  bool bounded = true;
  /// Values left when bounded; whether any are left when unbounded.
  uint64_t remaining = 0;
  std::unique_ptr<token_bucket> bucket;

  bool exhausted() const {
    return remaining == 0;
  }

  value pop() {
    auto x = next;
    if (bounded) {
      --remaining;
      // Wrap-around arithmetic: only reached within [from, to).
      next = static_cast<int64_t>(static_cast<uint64_t>(next) + 1);
    } else if (__builtin_add_overflow(next, step, &next)) {
      remaining = 0;
    }
    return value{x};
  }
};

caf::expected<std::vector<std::string>>
sequence_output(const parameters& params, const std::vector<std::string>&) {
  // The registry has checked that these parse.
  auto from = std::strtoll(param_or(params, "from", "0").c_str(), nullptr, 10);
  if (params.count("to") > 0
      && std::strtoll(params.at("to").c_str(), nullptr, 10) < from)
    return bad_param("sequence", "parameter 'to' (" + params.at("to")
                                   + ") is below 'from' ("
                                   + std::to_string(from) + ")");
  if (params.count("rate") > 0) {
    auto rate = std::strtod(params.at("rate").c_str(), nullptr);
    if (!(rate > 0) || std::isinf(rate))
      return bad_param("sequence", "parameter 'rate' must be a positive "
                                   "number of rows per second, not "
                                     + params.at("rate"));
  }
  return std::vector<std::string>{"value"};
}

operator_behavior make_sequence(const operator_context& ctx) {
  auto st = std::make_shared<sequence_state>();
  auto from = ctx.has("from") ? ctx.get_int("from") : int64_t{0};
  auto p = static_cast<uint64_t>(std::max(ctx.parallelism, 1));
  auto i = static_cast<uint64_t>(std::max(ctx.subtask, 0));
  if (ctx.has("to")) {
    auto to = ctx.get_int("to");
    uint64_t n
      = to > from ? static_cast<uint64_t>(to) - static_cast<uint64_t>(from) : 0;
    // The first n % p subtasks take one value more than the others.
    auto offset = i * (n / p) + std::min(i, n % p);
    st->next = static_cast<int64_t>(static_cast<uint64_t>(from) + offset);
    st->remaining = n / p + (i < n % p ? 1 : 0);
  } else {
    st->bounded = false;
    st->step = static_cast<int64_t>(p);
    st->remaining
      = __builtin_add_overflow(from, static_cast<int64_t>(i), &st->next) ? 0
                                                                         : 1;
  }
  if (ctx.has("rate"))
    st->bucket = std::make_unique<token_bucket>(
      ctx.get_double("rate") / static_cast<double>(p), ctx.now);
  return operator_behavior{
    [st](poll_t, collector& out, size_t budget) -> poll_result {
      if (st->exhausted())
        return poll_result::done();
      uint64_t n = budget;
      if (st->bounded)
        n = std::min<uint64_t>(n, st->remaining);
      if (st->bucket)
        n = st->bucket->take(n);
      for (uint64_t k = 0; k < n && !st->exhausted(); ++k)
        out.emit(row{st->pop()});
      if (st->exhausted())
        return poll_result::done();
      if (st->bucket && n < budget)
        return poll_result::wait_for(st->bucket->until_next());
      return poll_result::ready();
    },
    // The read position, where this subtask resumes after a restore, as
    // operator state: the list "position" = [next value, values left].
    [st](snapshot_t) {
      operator_state state;
      state.list("position")
        = {value{st->next}, value{static_cast<int64_t>(st->remaining)}};
      return state.snapshot();
    },
    [st](restore_t, const std::string& bytes) {
      operator_state state;
      if (auto err = state.restore(bytes))
        throw std::runtime_error("sequence: corrupt checkpointed position: "
                                 + error_text(err));
      const auto& pos = state.list("position");
      if (pos.size() != 2 || pos[0].type() != value_type::int64
          || pos[1].type() != value_type::int64)
        throw std::runtime_error(
          "sequence: the checkpointed state holds "
          + std::to_string(pos.size() / 2)
          + " read positions for one subtask; a sequence restores only at "
            "the parallelism it was checkpointed with");
      st->next = pos[0].as_int64();
      st->remaining = static_cast<uint64_t>(pos[1].as_int64());
    },
  };
}

} // namespace

operator_descriptor sequence_descriptor() {
  operator_descriptor d;
  d.name = "sequence";
  d.kind = operator_kind::source;
  d.help = "Emits int64 rows {value} over [from, to), split into contiguous "
           "sub-ranges across subtasks; without 'to' it never ends (subtask "
           "i of p then emits from+i, from+i+p, ...).";
  d.params = {
    {"from", param_type::int64, false, "0", "first value"},
    {"to", param_type::int64, false, "",
     "end of the range, exclusive; absent: unbounded"},
    {"rate", param_type::float64, false, "",
     "rows per second across all subtasks; absent: as fast as possible"},
  };
  d.output_fields = sequence_output;
  d.factory = make_sequence;
  return d;
}

} // namespace weir::builtins
