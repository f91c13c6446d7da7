#include <algorithm>
#include <cstdlib>
#include <stdexcept>

#include "api/codec.hpp"
#include "api/state.hpp"
#include "api/timers.hpp"
#include "operators/support.hpp"

namespace weir::builtins {

namespace {

/// Where a join finds its fields in each input, from its parameters.
struct join_setup {
  size_t time[2] = {0, 0};
  /// Interval join: second.time - first.time in [lower, upper]; absent
  /// bounds are unbounded (a regular join, state kept for ever).
  bool has_lower = false;
  bool has_upper = false;
  int64_t lower = 0;
  int64_t upper = 0;
  /// Interval join: the first input's field holding the last time a
  /// second row may have to match it (instead of first.time + upper).
  bool has_until = false;
  size_t until = 0;
  /// Window join: tumbling windows of this size.
  int64_t size = 0;
};

/// The output fields: the first input's, then the second's, a name the
/// first already has getting the suffix "_2".
std::vector<std::string> joined_fields(const std::vector<std::string>& first,
                                       const std::vector<std::string>& second) {
  auto out = first;
  for (auto name : second) {
    while (std::find(out.begin(), out.end(), name) != out.end())
      name += "_2";
    out.push_back(std::move(name));
  }
  return out;
}

caf::expected<size_t> position(const std::string& op, const std::string& param,
                               const std::string& field,
                               const std::vector<std::string>& fields,
                               const char* which) {
  auto pos = std::find(fields.begin(), fields.end(), field);
  if (field.empty() || pos == fields.end())
    return make_error(
      api_errc::unknown_field,
      op + ": parameter '" + param + "' names field '" + field + "', which its "
        + which + " input does not have (it has: " + join(fields) + ")");
  return static_cast<size_t>(pos - fields.begin());
}

caf::expected<join_setup> parse_join(const std::string& op,
                                     const parameters& params,
                                     const std::vector<std::string>& first,
                                     const std::vector<std::string>& second) {
  join_setup s;
  auto t1 = position(op, "time_field", param_or(params, "time_field", ""),
                     first, "first");
  if (!t1)
    return t1.error();
  auto t2
    = position(op, "second_time_field",
               param_or(params, "second_time_field", ""), second, "second");
  if (!t2)
    return t2.error();
  s.time[0] = *t1;
  s.time[1] = *t2;
  auto keys = split_list(param_or(params, "key", ""));
  auto keys2 = split_list(param_or(params, "second_key", ""));
  if (keys.size() != keys2.size())
    return bad_param(op, "'key' has " + std::to_string(keys.size())
                           + " fields but 'second_key' has "
                           + std::to_string(keys2.size())
                           + "; the two keys must pair up");
  for (const auto& k : keys2)
    if (auto p = position(op, "second_key", k, second, "second"); !p)
      return p.error();
  if (params.count("lower") > 0) {
    s.has_lower = true;
    s.lower = std::strtoll(params.at("lower").c_str(), nullptr, 10);
  }
  if (params.count("upper") > 0) {
    s.has_upper = true;
    s.upper = std::strtoll(params.at("upper").c_str(), nullptr, 10);
  }
  if (s.has_lower && s.has_upper && s.lower > s.upper)
    return bad_param(op, "'lower' (" + std::to_string(s.lower)
                           + ") is above 'upper' (" + std::to_string(s.upper)
                           + "): nothing could ever join");
  if (params.count("until_field") > 0) {
    if (s.has_upper)
      return bad_param(op, "'upper' and 'until_field' both bound the second "
                           "row's time; give one");
    auto pos
      = position(op, "until_field", params.at("until_field"), first, "first");
    if (!pos)
      return pos.error();
    s.has_until = true;
    s.until = *pos;
  }
  if (params.count("size") > 0) {
    s.size = std::strtoll(params.at("size").c_str(), nullptr, 10);
    if (s.size < 1)
      return bad_param(op, "parameter 'size' must be a positive number of "
                           "milliseconds");
  }
  return s;
}

int64_t time_of(const row& r, size_t pos, const std::string& op) {
  const auto& x = r[pos];
  if (x.type() == value_type::timestamp)
    return x.as_timestamp().millis;
  if (x.type() == value_type::int64)
    return x.as_int64();
  throw std::runtime_error(op + ": the time field holds a "
                           + to_string(x.type()) + " value, not a timestamp");
}

int64_t floor_to(int64_t t, int64_t step) {
  auto q = t / step;
  if (t % step != 0 && t < 0)
    --q;
  return q * step;
}

/// Rows kept per key in a list state, flattened: each row is its time
/// followed by its `width` fields, so adding one is an append, not a
/// rewrite of the key's rows.
class row_store {
public:
  row_store(keyed_state_backend* keyed, const std::string& name, size_t width)
    : state_(keyed->list_state(name)), width_(width) {
  }

  void add(int64_t t, const row& r) {
    state_.add(value{t});
    for (const auto& x : r)
      state_.add(x);
  }

  /// Calls f for every row with time in [from, to].
  template <class F>
  void for_range(int64_t from, int64_t to, F f) const {
    const auto& xs = state_.get();
    check(xs);
    row r;
    for (size_t i = 0; i < xs.size(); i += width_ + 1) {
      auto t = xs[i].as_int64();
      if (t < from || t > to)
        continue;
      r.assign(xs.begin() + static_cast<ptrdiff_t>(i + 1),
               xs.begin() + static_cast<ptrdiff_t>(i + 1 + width_));
      f(t, r);
    }
  }

  /// Removes the rows for which `pred(time, row)` holds.
  template <class Pred>
  void remove_if(Pred pred) {
    const auto& xs = state_.get();
    check(xs);
    std::vector<value> kept;
    row r;
    for (size_t i = 0; i < xs.size(); i += width_ + 1) {
      r.assign(xs.begin() + static_cast<ptrdiff_t>(i + 1),
               xs.begin() + static_cast<ptrdiff_t>(i + 1 + width_));
      if (!pred(xs[i].as_int64(), r))
        kept.insert(kept.end(), xs.begin() + static_cast<ptrdiff_t>(i),
                    xs.begin() + static_cast<ptrdiff_t>(i + 1 + width_));
    }
    if (kept.size() != xs.size())
      state_.update(std::move(kept));
  }

  /// Removes the rows with time <= t.
  void drop_until(int64_t t) {
    remove_if([t](int64_t time, const row&) { return time <= t; });
  }

  /// Removes the rows with time t.
  void remove(int64_t t) {
    remove_if([t](int64_t time, const row&) { return time == t; });
  }

private:
  void check(const std::vector<value>& xs) const {
    if (xs.size() % (width_ + 1) != 0)
      throw std::runtime_error("join: corrupt rows in keyed state");
  }

  list_state state_;
  size_t width_;
};

/// Cleanup timers fall on multiples of this (ms), so that a key with rows
/// at many times has few timers; state lives at most this much longer.
constexpr int64_t cleanup_granularity = 10;

int64_t cleanup_time(int64_t t) {
  if (t > max_watermark - cleanup_granularity)
    return max_watermark;
  auto q = t / cleanup_granularity;
  if (t % cleanup_granularity != 0 && t > 0)
    ++q;
  return q * cleanup_granularity;
}

row concat(const row& a, const row& b) {
  row out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

// -- interval join ------------------------------------------------------------

/// Keeps each side's rows per key until the watermark passes the last time
/// a row of the other side could still match them.
class interval_join {
public:
  interval_join(join_setup s, const operator_context& ctx)
    : s_(s), timers_(ctx.timers),
      first_(ctx.keyed_state, "first", ctx.input_fields.size()),
      second_(ctx.keyed_state, "second", ctx.second_input_fields.size()),
      op_("interval_join (vertex '" + ctx.vertex + "')") {
  }

  void on_first(const row& r, collector& out) {
    auto t = time_of(r, s_.time[0], op_);
    auto from = s_.has_lower ? sat_add(t, s_.lower) : min_watermark;
    auto to = s_.has_upper   ? sat_add(t, s_.upper)
              : s_.has_until ? time_of(r, s_.until, op_)
                             : max_watermark;
    if (to <= timers_->current_watermark())
      return; // late: no second row can match any more
    second_.for_range(
      from, to, [&](int64_t, const row& other) { out.emit(concat(r, other)); });
    first_.add(t, r);
    if (s_.has_upper || s_.has_until)
      timers_->register_event_time_timer(cleanup_time(to));
  }

  void on_second(const row& r, collector& out) {
    auto t = time_of(r, s_.time[1], op_);
    auto from = s_.has_upper ? sat_add(t, -s_.upper) : min_watermark;
    auto to = s_.has_lower ? sat_add(t, -s_.lower) : max_watermark;
    if (to <= timers_->current_watermark())
      return;
    first_.for_range(from, to, [&](int64_t, const row& other) {
      if (!s_.has_until || time_of(other, s_.until, op_) >= t)
        out.emit(concat(other, r));
    });
    second_.add(t, r);
    if (s_.has_lower)
      timers_->register_event_time_timer(cleanup_time(to));
  }

  void on_timer(const fired_timer& t) {
    if (s_.has_upper)
      first_.drop_until(sat_add(t.time, -s_.upper));
    if (s_.has_until)
      first_.remove_if([&](int64_t, const row& r) {
        return time_of(r, s_.until, op_) <= t.time;
      });
    if (s_.has_lower)
      second_.drop_until(sat_add(t.time, s_.lower));
  }

private:
  static int64_t sat_add(int64_t a, int64_t b) {
    int64_t r = 0;
    if (__builtin_add_overflow(a, b, &r))
      return b > 0 ? max_watermark : min_watermark;
    return r;
  }

  join_setup s_;
  timer_service* timers_;
  row_store first_;
  row_store second_;
  std::string op_;
};

// -- window join --------------------------------------------------------------

/// Keeps each side's rows per key and tumbling window; when the watermark
/// passes a window's end, emits every pair of the window with the window's
/// columns.
class window_join {
public:
  window_join(join_setup s, const operator_context& ctx)
    : s_(s), timers_(ctx.timers),
      first_(ctx.keyed_state, "first", ctx.input_fields.size()),
      second_(ctx.keyed_state, "second", ctx.second_input_fields.size()),
      op_("window_join (vertex '" + ctx.vertex + "')") {
  }

  void on_row(const row& r, size_t input) {
    auto t = time_of(r, s_.time[input], op_);
    auto start = floor_to(t, s_.size);
    auto end = start + s_.size;
    if (end - 1 <= timers_->current_watermark())
      return; // late: the window has fired
    (input == 0 ? first_ : second_).add(start, r);
    timers_->register_event_time_timer(end - 1);
  }

  void on_timer(const fired_timer& t, collector& out) {
    auto end = t.time + 1;
    auto start = end - s_.size;
    std::vector<row> firsts;
    first_.for_range(start, start,
                     [&](int64_t, const row& r) { firsts.push_back(r); });
    if (!firsts.empty())
      second_.for_range(start, start, [&](int64_t, const row& other) {
        for (const auto& f : firsts) {
          auto joined = concat(f, other);
          joined.emplace_back(timestamp{start});
          joined.emplace_back(timestamp{end});
          joined.emplace_back(timestamp{end - 1});
          out.emit(std::move(joined));
        }
      });
    first_.remove(start);
    second_.remove(start);
  }

private:
  join_setup s_;
  timer_service* timers_;
  row_store first_;
  row_store second_;
  std::string op_;
};

std::vector<param_spec> join_params() {
  return {
    {"key", param_type::field_list, true, "", "key fields of the first input"},
    {"second_key", param_type::name_list, true, "",
     "key fields of the second input, pairing up with 'key'"},
    {"time_field", param_type::field, true, "",
     "event time of the first input"},
    {"second_time_field", param_type::string, true, "",
     "event time of the second input"},
  };
}

} // namespace

operator_descriptor interval_join_descriptor() {
  operator_descriptor d;
  d.name = "interval_join";
  d.kind = operator_kind::transform;
  d.inputs = 2;
  d.key_param = "key";
  d.second_key_param = "second_key";
  d.help = "Joins two keyed streams on event time: a first-input row and a "
           "second-input row of the same key pair up when second.time - "
           "first.time lies in [lower, upper] (ms; an absent bound is "
           "unbounded, and without both it is a regular join keeping all "
           "rows). Emits the first row's fields, then the second's (a "
           "repeated name gets \"_2\").";
  d.params = join_params();
  d.params.push_back(
    {"lower", param_type::int64, false, "", "lower bound in ms"});
  d.params.push_back(
    {"upper", param_type::int64, false, "", "upper bound in ms"});
  d.params.push_back({"until_field", param_type::field, false, "",
                      "instead of upper: the first input's field holding "
                      "the latest time of a matching second row"});
  d.output_fields2
    = [](const parameters& params, const std::vector<std::string>& first,
         const std::vector<std::string>& second)
    -> caf::expected<std::vector<std::string>> {
    auto s = parse_join("interval_join", params, first, second);
    if (!s)
      return s.error();
    return joined_fields(first, second);
  };
  d.factory = [](const operator_context& ctx) {
    auto s = parse_join("interval_join", ctx.params, ctx.input_fields,
                        ctx.second_input_fields);
    if (!s)
      throw std::invalid_argument(error_text(s.error()));
    auto j = std::make_shared<interval_join>(*s, ctx);
    return operator_behavior{
      [j](const row& r, collector& out) { j->on_first(r, out); },
      [j](second_input_t, const row& r, collector& out) {
        j->on_second(r, out);
      },
      [j](timer_fired_t, const fired_timer& t, collector&) { j->on_timer(t); },
    };
  };
  return d;
}

operator_descriptor window_join_descriptor() {
  operator_descriptor d;
  d.name = "window_join";
  d.kind = operator_kind::transform;
  d.inputs = 2;
  d.key_param = "key";
  d.second_key_param = "second_key";
  d.help = "Joins two keyed streams per tumbling event-time window of "
           "'size' ms: every pair of a first-input row and a second-input "
           "row of the same key and window, emitted when the watermark "
           "passes the window, with window_start, window_end and "
           "window_time after the first row's and the second row's fields.";
  d.params = join_params();
  d.params.push_back(
    {"size", param_type::int64, true, "", "window length in ms"});
  d.output_fields2
    = [](const parameters& params, const std::vector<std::string>& first,
         const std::vector<std::string>& second)
    -> caf::expected<std::vector<std::string>> {
    auto s = parse_join("window_join", params, first, second);
    if (!s)
      return s.error();
    auto out = joined_fields(first, second);
    for (auto name : {"window_start", "window_end", "window_time"})
      out.emplace_back(name);
    return out;
  };
  d.factory = [](const operator_context& ctx) {
    auto s = parse_join("window_join", ctx.params, ctx.input_fields,
                        ctx.second_input_fields);
    if (!s)
      throw std::invalid_argument(error_text(s.error()));
    auto j = std::make_shared<window_join>(*s, ctx);
    return operator_behavior{
      [j](const row& r, collector&) { j->on_row(r, 0); },
      [j](second_input_t, const row& r, collector&) { j->on_row(r, 1); },
      [j](timer_fired_t, const fired_timer& t, collector& out) {
        j->on_timer(t, out);
      },
    };
  };
  return d;
}

} // namespace weir::builtins
