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
#include "operators/token_bucket.hpp"

namespace weir::builtins {

namespace {

/// One run of values a subtask emits: `remaining` values from `next` on
/// in steps of 1 (a bounded sub-range), or values `next`, `next + step`,
/// ... for ever (unbounded, `step` = the parallelism that split it).
struct sequence_split {
  int64_t next = 0;
  int64_t step = 1;
  bool bounded = true;
  /// Values left when bounded; whether any are left when unbounded.
  uint64_t remaining = 0;

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

/// What one sequence subtask has left to emit: its splits, taking turns
/// value by value (unbounded splits never end). A fresh subtask has the one
/// split its index gives it; a restored one has the splits it restored, which
/// after rescaling may be several or none, so that every value is emitted
/// exactly once at any parallelism.
struct sequence_state {
  std::vector<sequence_split> splits;
  /// The split whose turn it is.
  size_t turn = 0;
  std::unique_ptr<token_bucket> bucket;

  bool exhausted() {
    splits.erase(std::remove_if(splits.begin(), splits.end(),
                                [](const auto& s) { return s.exhausted(); }),
                 splits.end());
    return splits.empty();
  }

  /// Emits at most `n` values.
  void emit(collector& out, uint64_t n) {
    while (n > 0 && !exhausted()) {
      turn %= splits.size();
      auto& split = splits[turn++];
      // One split (the common case) emits its whole share at once.
      auto run = splits.size() == 1 ? n : 1;
      for (; run > 0 && !split.exhausted(); --run, --n)
        out.emit(row{split.pop()});
    }
  }

  /// Values left in the bounded splits (the whole budget when any split is
  /// unbounded).
  uint64_t available(uint64_t budget) const {
    uint64_t n = 0;
    for (const auto& s : splits) {
      if (!s.bounded)
        return budget;
      n += s.remaining;
      if (n >= budget)
        return budget;
    }
    return n;
  }
};

/// The snapshot of a sequence subtask: operator list "splits" holding
/// [next, values left (-1: unbounded), step] per unfinished split.
std::string snapshot_splits(const std::vector<sequence_split>& splits) {
  operator_state state;
  auto& xs = state.list("splits");
  for (const auto& s : splits) {
    if (s.exhausted())
      continue;
    xs.emplace_back(s.next);
    xs.emplace_back(s.bounded ? static_cast<int64_t>(s.remaining)
                              : int64_t{-1});
    xs.emplace_back(s.step);
  }
  return state.snapshot();
}

void restore_splits(const std::string& bytes,
                    std::vector<sequence_split>& out) {
  operator_state state;
  if (auto err = state.restore(bytes))
    throw std::runtime_error("sequence: corrupt checkpointed splits: "
                             + error_text(err));
  const auto& xs = state.list("splits");
  if (xs.size() % 3 != 0)
    throw std::runtime_error("sequence: corrupt checkpointed splits: "
                             + std::to_string(xs.size())
                             + " values, not triples");
  for (size_t i = 0; i < xs.size(); i += 3) {
    for (size_t j = i; j < i + 3; ++j)
      if (xs[j].type() != value_type::int64)
        throw std::runtime_error("sequence: corrupt checkpointed splits: "
                                 "non-integer value");
    sequence_split s;
    s.next = xs[i].as_int64();
    auto left = xs[i + 1].as_int64();
    s.step = xs[i + 2].as_int64();
    s.bounded = left >= 0;
    s.remaining = s.bounded ? static_cast<uint64_t>(left) : 1;
    if (s.step < 1 || left < -1)
      throw std::runtime_error("sequence: corrupt checkpointed splits: "
                               "negative step or count");
    out.push_back(s);
  }
}

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
  sequence_split split;
  if (ctx.has("to")) {
    auto to = ctx.get_int("to");
    uint64_t n
      = to > from ? static_cast<uint64_t>(to) - static_cast<uint64_t>(from) : 0;
    // The first n % p subtasks take one value more than the others.
    auto offset = i * (n / p) + std::min(i, n % p);
    split.next = static_cast<int64_t>(static_cast<uint64_t>(from) + offset);
    split.remaining = n / p + (i < n % p ? 1 : 0);
  } else {
    split.bounded = false;
    split.step = static_cast<int64_t>(p);
    split.remaining
      = __builtin_add_overflow(from, static_cast<int64_t>(i), &split.next) ? 0
                                                                           : 1;
  }
  // A restored subtask emits what it restores, nothing else.
  if (!ctx.restored)
    st->splits.push_back(split);
  if (ctx.has("rate"))
    st->bucket = std::make_unique<token_bucket>(
      ctx.get_double("rate") / static_cast<double>(p), ctx.now);
  return operator_behavior{
    [st](poll_t, collector& out, size_t budget) -> poll_result {
      if (st->exhausted())
        return poll_result::done();
      uint64_t n = st->available(budget);
      if (st->bucket)
        n = st->bucket->take(n);
      st->emit(out, n);
      if (st->exhausted())
        return poll_result::done();
      if (st->bucket && n < budget)
        return poll_result::wait_for(st->bucket->until_next());
      return poll_result::ready();
    },
    [st](snapshot_t) { return snapshot_splits(st->splits); },
    [st](restore_t, const std::string& bytes) {
      restore_splits(bytes, st->splits);
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
