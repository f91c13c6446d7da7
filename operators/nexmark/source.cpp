#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <stdexcept>

#include "api/state.hpp"

#include "operators/nexmark/generator.hpp"
#include "operators/support.hpp"
#include "operators/token_bucket.hpp"

namespace weir::builtins {

namespace {

/// Event numbers next, next + step, ... below end, still to be emitted.
struct nexmark_split {
  uint64_t next = 0;
  uint64_t step = 1;
  uint64_t end = 0;

  bool exhausted() const {
    return next >= end;
  }

  uint64_t remaining() const {
    return exhausted() ? 0 : (end - next + step - 1) / step;
  }
};

/// What one nexmark subtask has left to emit. A fresh subtask has the one
/// split its index gives it; a restored one has the splits it restored,
/// which after rescaling may be several or none, so that every event
/// number is emitted exactly once at any parallelism. Several splits take
/// turns by event number: the smallest next number goes first, which keeps
/// the subtask's output as close to event-time order as its splits allow.
struct nexmark_state {
  explicit nexmark_state(nexmark::generator_config config) : gen(config) {
  }

  nexmark::generator gen;
  std::vector<nexmark_split> splits;
  std::unique_ptr<token_bucket> bucket;
  /// Reused for every event: its strings keep their buffers.
  nexmark::event scratch;

  bool exhausted() {
    splits.erase(std::remove_if(splits.begin(), splits.end(),
                                [](const auto& s) { return s.exhausted(); }),
                 splits.end());
    return splits.empty();
  }

  /// Emits the next `n` events (at most those left).
  void emit(collector& out, uint64_t n) {
    if (splits.size() == 1) {
      auto& s = splits.front();
      for (; n > 0 && !s.exhausted(); --n, s.next += s.step)
        emit_one(out, s.next);
      return;
    }
    for (; n > 0 && !exhausted(); --n) {
      auto& s = *std::min_element(
        splits.begin(), splits.end(),
        [](const auto& a, const auto& b) { return a.next < b.next; });
      emit_one(out, s.next);
      s.next += s.step;
    }
  }

  void emit_one(collector& out, uint64_t number) {
    gen.generate(number, scratch);
    out.emit(nexmark::to_row(scratch));
  }

  /// Events left, at most `budget`.
  uint64_t available(uint64_t budget) const {
    uint64_t n = 0;
    for (const auto& s : splits) {
      n += s.remaining();
      if (n >= budget)
        return budget;
    }
    return n;
  }
};

/// The snapshot of a nexmark subtask: operator list "splits" holding
/// [next, step, end] per unfinished split.
std::string snapshot_splits(const std::vector<nexmark_split>& splits) {
  operator_state state;
  auto& xs = state.list("splits");
  for (const auto& s : splits) {
    if (s.exhausted())
      continue;
    xs.emplace_back(static_cast<int64_t>(s.next));
    xs.emplace_back(static_cast<int64_t>(s.step));
    xs.emplace_back(static_cast<int64_t>(s.end));
  }
  return state.snapshot();
}

[[noreturn]] void corrupt_splits(const std::string& why) {
  throw std::runtime_error("nexmark: corrupt checkpointed splits: " + why);
}

void restore_splits(const std::string& bytes, std::vector<nexmark_split>& out) {
  operator_state state;
  if (auto err = state.restore(bytes))
    corrupt_splits(error_text(err));
  const auto& xs = state.list("splits");
  if (xs.size() % 3 != 0)
    corrupt_splits(std::to_string(xs.size()) + " values, not triples");
  for (size_t i = 0; i < xs.size(); i += 3) {
    for (size_t j = i; j < i + 3; ++j)
      if (xs[j].type() != value_type::int64)
        corrupt_splits("non-integer value");
    auto next = xs[i].as_int64();
    auto step = xs[i + 1].as_int64();
    auto end = xs[i + 2].as_int64();
    if (next < 0 || step < 1 || end < 0)
      corrupt_splits("negative event number or step below one");
    out.push_back(nexmark_split{static_cast<uint64_t>(next),
                                static_cast<uint64_t>(step),
                                static_cast<uint64_t>(end)});
  }
}

/// Whether the parameter `name`, when present, is a positive finite
/// number; an error naming it otherwise.
caf::error check_positive(const parameters& params, const std::string& name,
                          const std::string& unit) {
  if (params.count(name) == 0)
    return caf::none;
  auto x = std::strtod(params.at(name).c_str(), nullptr);
  if (x > 0 && !std::isinf(x))
    return caf::none;
  return bad_param("nexmark", "parameter '" + name
                                + "' must be a positive "
                                  "number of "
                                + unit + ", not " + params.at(name));
}

int64_t int_param(const parameters& params, const std::string& name) {
  // The registry has checked that these parse and applied the defaults.
  return std::strtoll(param_or(params, name, "0").c_str(), nullptr, 10);
}

caf::expected<std::vector<std::string>>
nexmark_output(const parameters& params, const std::vector<std::string>&) {
  auto events = int_param(params, "events");
  if (events < 0)
    return bad_param("nexmark", "parameter 'events' must not be negative, "
                                "not "
                                  + params.at("events"));
  if (auto err = check_positive(params, "rate", "events per second"))
    return err;
  if (auto err
      = check_positive(params, "event_rate", "events per second of event time"))
    return err;
  auto ooo = int_param(params, "out_of_orderness");
  if (ooo < 0)
    return bad_param("nexmark", "parameter 'out_of_orderness' must not be "
                                "negative, not "
                                  + params.at("out_of_orderness"));
  // Event times, auction expiry included (at most 3 * the span of the
  // events plus one in-flight horizon), must fit in int64 milliseconds.
  auto rate = std::strtod(param_or(params, "event_rate", "1").c_str(), nullptr);
  auto first = static_cast<double>(int_param(params, "first_event_time"));
  auto span = 3.0 * (static_cast<double>(events) + 2000.0) * 1000.0 / rate;
  constexpr double limit = 0x1.0p62;
  if (std::abs(first) + span + static_cast<double>(ooo) >= limit)
    return bad_param("nexmark", "parameters 'events', 'event_rate' and "
                                "'first_event_time' put event times beyond "
                                "the int64 millisecond range");
  return nexmark::row_fields();
}

operator_behavior make_nexmark(const operator_context& ctx) {
  nexmark::generator_config config;
  config.seed = static_cast<uint64_t>(ctx.get_int("seed"));
  config.first_event_time_ms = ctx.get_int("first_event_time");
  config.event_time_rate = ctx.get_double("event_rate");
  config.max_out_of_orderness_ms = ctx.get_int("out_of_orderness");
  auto st = std::make_shared<nexmark_state>(config);
  auto p = static_cast<uint64_t>(std::max(ctx.parallelism, 1));
  auto i = static_cast<uint64_t>(std::max(ctx.subtask, 0));
  auto events
    = static_cast<uint64_t>(std::max<int64_t>(ctx.get_int("events"), 0));
  // A restored subtask emits what it restores, nothing else.
  if (!ctx.restored)
    st->splits.push_back(nexmark_split{i, p, events});
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

operator_descriptor nexmark_descriptor() {
  operator_descriptor d;
  d.name = "nexmark";
  d.kind = operator_kind::source;
  d.help = "Emits the Nexmark benchmark's people, auctions and bids, event "
           "numbers [0, events), as wide rows (event_type 0 person, 1 "
           "auction, 2 bid; the other kinds' fields null); subtask i of p "
           "emits numbers i, i+p, ... Event n happens n / event_rate s after "
           "first_event_time, 10% of events up to out_of_orderness ms "
           "earlier.";
  d.params = {
    {"events", param_type::int64, true, "",
     "number of events over all subtasks"},
    {"rate", param_type::float64, false, "",
     "events per second across all subtasks; absent: as fast as possible"},
    {"seed", param_type::int64, false, "0", "seed of every random choice"},
    {"event_rate", param_type::float64, false, "10000000",
     "events per second of event time"},
    {"first_event_time", param_type::int64, false,
     std::to_string(nexmark::default_first_event_time_ms),
     "event time of event 0, ms since the Unix epoch"},
    {"out_of_orderness", param_type::int64, false,
     std::to_string(nexmark::default_max_out_of_orderness_ms),
     "largest delay of an event time behind its nominal time, ms; 0: in "
     "order"},
  };
  d.output_fields = nexmark_output;
  d.factory = make_nexmark;
  return d;
}

} // namespace weir::builtins
