#include "operators/window.hpp"

#include <algorithm>
#include <cstdlib>
#include <numeric>
#include <set>
#include <stdexcept>

#include "api/codec.hpp"
#include "api/state.hpp"
#include "api/timers.hpp"
#include "operators/support.hpp"

namespace weir {

namespace {

using namespace builtins;

const std::vector<std::string> window_columns
  = {"window_start", "window_end", "window_time"};

/// One item of the aggregates list.
struct aggregate_item {
  enum kind_t { count, sum, min, max, avg, top, user } kind = count;
  /// Input position of the aggregated field (not for count and user).
  size_t field = 0;
  /// Output name (user: unused, its result_fields() are the names).
  std::string name;
};

/// What a window vertex does, from its parameters and input fields; made
/// once when the job is planned (to name the output) and once per subtask.
struct window_setup {
  enum type_t { tumbling, sliding, session } type = tumbling;
  bool event_time = true;
  size_t time_index = 0;
  int64_t size = 0;
  int64_t slide = 0;
  int64_t gap = 0;
  /// Sliding windows keep one accumulator per pane of gcd(size, slide)
  /// and combine size / pane of them when a window fires.
  int64_t pane = 0;
  int64_t lateness = 0;
  std::vector<aggregate_item> items;
  std::shared_ptr<const aggregate_function> user;
  size_t input_width = 0;
  /// top: the input positions that pass into result rows (all but old
  /// window columns).
  std::vector<size_t> passthrough;
  bool is_top = false;
};

int64_t floor_div(int64_t a, int64_t b) {
  auto q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int64_t floor_to(int64_t t, int64_t step) {
  return floor_div(t, step) * step;
}

caf::expected<int64_t> positive(const std::string& op, const parameters& params,
                                const std::string& name) {
  auto i = params.find(name);
  if (i == params.end())
    return bad_param(op, "parameter '" + name
                           + "' is required for this "
                             "window type");
  auto x = std::strtoll(i->second.c_str(), nullptr, 10);
  if (x < 1)
    return bad_param(op, "parameter '" + name
                           + "' must be a positive number of milliseconds, "
                             "not "
                           + i->second);
  return x;
}

caf::expected<window_setup> parse_setup(const std::string& op,
                                        const parameters& params,
                                        const std::vector<std::string>& input,
                                        const std::string& user_name,
                                        const aggregate_factory& factory) {
  window_setup s;
  s.input_width = input.size();
  auto type = param_or(params, "type", "");
  if (auto err
      = check_one_of(op, "type", type, {"tumbling", "sliding", "session"}))
    return err;
  auto time = param_or(params, "time", "event");
  if (auto err = check_one_of(op, "time", time, {"event", "processing"}))
    return err;
  s.event_time = time == "event";
  if (s.event_time) {
    auto field = param_or(params, "time_field", "");
    if (field.empty())
      return bad_param(op, "event-time windows need 'time_field', the field "
                           "holding each row's event time");
    auto pos = std::find(input.begin(), input.end(), field);
    s.time_index = static_cast<size_t>(pos - input.begin());
  }
  if (type == "tumbling" || type == "sliding") {
    auto size = positive(op, params, "size");
    if (!size)
      return size.error();
    s.size = *size;
    s.slide = s.size;
    s.type = window_setup::tumbling;
    if (type == "sliding") {
      auto slide = positive(op, params, "slide");
      if (!slide)
        return slide.error();
      if (*slide > s.size)
        return bad_param(op, "parameter 'slide' (" + std::to_string(*slide)
                               + ") is larger than 'size' ("
                               + std::to_string(s.size)
                               + "): rows between windows would be lost");
      s.slide = *slide;
      s.type = window_setup::sliding;
    }
    s.pane = std::gcd(s.size, s.slide);
  } else {
    auto gap = positive(op, params, "gap");
    if (!gap)
      return gap.error();
    s.gap = *gap;
    s.type = window_setup::session;
  }
  s.lateness = std::strtoll(param_or(params, "allowed_lateness", "0").c_str(),
                            nullptr, 10);
  if (s.lateness < 0)
    return bad_param(op, "parameter 'allowed_lateness' must not be negative");
  if (!s.event_time && s.lateness > 0)
    return bad_param(op, "allowed lateness applies to event-time windows "
                         "only");
  auto field_of = [&](const std::string& item,
                      const std::string& f) -> caf::expected<size_t> {
    auto pos = std::find(input.begin(), input.end(), f);
    if (pos == input.end())
      return make_error(api_errc::unknown_field,
                        op + ": aggregate '" + item + "' names field '" + f
                          + "', which its input does not have (input: "
                          + join(input) + ")");
    return static_cast<size_t>(pos - input.begin());
  };
  for (auto item : split_list(param_or(params, "aggregates", ""))) {
    aggregate_item a;
    std::string alias;
    if (auto as = item.find(" as "); as != std::string::npos) {
      alias = item.substr(as + 4);
      item = item.substr(0, as);
      while (!alias.empty() && alias.front() == ' ')
        alias.erase(0, 1);
      while (!item.empty() && item.back() == ' ')
        item.pop_back();
    }
    auto open = item.find('(');
    auto fn = item.substr(0, open);
    std::string arg;
    if (open != std::string::npos) {
      if (item.back() != ')')
        return bad_param(op, "aggregate '" + item + "' lacks its ')'");
      arg = item.substr(open + 1, item.size() - open - 2);
    }
    if (!user_name.empty() && fn == user_name && arg.empty()) {
      if (s.user)
        return bad_param(op, "aggregate '" + fn + "' is listed twice");
      try {
        s.user = factory(input);
      } catch (const std::exception& e) {
        return bad_param(op, "aggregate '" + fn + "': " + e.what());
      }
      if (!s.user)
        return bad_param(op, "aggregate '" + fn + "' could not be made");
      a.kind = aggregate_item::user;
      s.items.push_back(a);
      continue;
    }
    static const std::vector<std::string> names
      = {"count", "sum", "min", "max", "avg", "top"};
    auto k = std::find(names.begin(), names.end(), fn);
    if (k == names.end() || (fn == "count") != arg.empty())
      return bad_param(
        op, "aggregate '" + item
              + "' is not one of count, "
                "sum(f), min(f), max(f), avg(f), top(f)"
              + (user_name.empty() ? std::string{} : ", " + user_name));
    a.kind = static_cast<aggregate_item::kind_t>(k - names.begin());
    if (a.kind != aggregate_item::count) {
      auto pos = field_of(item, arg);
      if (!pos)
        return pos.error();
      a.field = *pos;
    }
    a.name = alias.empty() ? (arg.empty() ? fn : fn + "_" + arg) : alias;
    s.items.push_back(a);
  }
  if (s.items.empty())
    return bad_param(op, "parameter 'aggregates' lists nothing to compute "
                         "(e.g. \"count, avg(price)\")");
  s.is_top = std::any_of(s.items.begin(), s.items.end(), [](const auto& a) {
    return a.kind == aggregate_item::top;
  });
  if (s.is_top && s.items.size() > 1)
    return bad_param(op, "top(f) emits the rows holding the largest f and "
                         "cannot be combined with other aggregates");
  for (size_t i = 0; i < input.size(); ++i)
    if (std::find(window_columns.begin(), window_columns.end(), input[i])
        == window_columns.end())
      s.passthrough.push_back(i);
  return s;
}

// -- accumulators -------------------------------------------------------------

/// One accumulator per aggregate item, each a list of values.
using accumulator = std::vector<std::vector<value>>;

accumulator fresh(const window_setup& s) {
  accumulator acc(s.items.size());
  for (size_t i = 0; i < s.items.size(); ++i) {
    switch (s.items[i].kind) {
      case aggregate_item::count:
        acc[i] = {value{int64_t{0}}};
        break;
      case aggregate_item::avg:
        acc[i] = {value{0.0}, value{int64_t{0}}};
        break;
      case aggregate_item::user:
        acc[i] = s.user->create();
        break;
      default:
        acc[i] = {value{}};
    }
  }
  return acc;
}

double as_number(const value& x) {
  switch (x.type()) {
    case value_type::int64:
      return static_cast<double>(x.as_int64());
    case value_type::float64:
      return x.as_double();
    case value_type::timestamp:
      return static_cast<double>(x.as_timestamp().millis);
    default:
      throw std::runtime_error(std::string{"window: cannot add a "}
                               + to_string(x.type()) + " value");
  }
}

value add_values(const value& a, const value& b) {
  if (a.is_null())
    return b;
  if (b.is_null())
    return a;
  if (a.type() == value_type::int64 && b.type() == value_type::int64)
    return value{a.as_int64() + b.as_int64()};
  return value{as_number(a) + as_number(b)};
}

void add_row(const window_setup& s, accumulator& acc, const row& r) {
  for (size_t i = 0; i < s.items.size(); ++i) {
    const auto& a = s.items[i];
    auto& x = acc[i];
    switch (a.kind) {
      case aggregate_item::count:
        x[0] = value{x[0].as_int64() + 1};
        break;
      case aggregate_item::sum:
        if (!r[a.field].is_null())
          x[0] = add_values(x[0], r[a.field]);
        break;
      case aggregate_item::min:
        if (!r[a.field].is_null() && (x[0].is_null() || r[a.field] < x[0]))
          x[0] = r[a.field];
        break;
      case aggregate_item::max:
        if (!r[a.field].is_null() && (x[0].is_null() || x[0] < r[a.field]))
          x[0] = r[a.field];
        break;
      case aggregate_item::avg:
        if (!r[a.field].is_null()) {
          x[0] = value{x[0].as_double() + as_number(r[a.field])};
          x[1] = value{x[1].as_int64() + 1};
        }
        break;
      case aggregate_item::top: {
        const auto& v = r[a.field];
        if (v.is_null())
          break;
        if (x[0].is_null() || x[0] < v) {
          x.resize(1);
          x[0] = v;
        } else if (v < x[0]) {
          break;
        }
        for (auto pos : s.passthrough)
          x.push_back(r[pos]);
        break;
      }
      case aggregate_item::user:
        s.user->add(x, r);
        break;
    }
  }
}

void merge_into(const window_setup& s, accumulator& acc,
                const accumulator& other) {
  for (size_t i = 0; i < s.items.size(); ++i) {
    const auto& a = s.items[i];
    auto& x = acc[i];
    const auto& y = other[i];
    switch (a.kind) {
      case aggregate_item::count:
        x[0] = value{x[0].as_int64() + y[0].as_int64()};
        break;
      case aggregate_item::sum:
        x[0] = add_values(x[0], y[0]);
        break;
      case aggregate_item::min:
        if (!y[0].is_null() && (x[0].is_null() || y[0] < x[0]))
          x[0] = y[0];
        break;
      case aggregate_item::max:
        if (!y[0].is_null() && (x[0].is_null() || x[0] < y[0]))
          x[0] = y[0];
        break;
      case aggregate_item::avg:
        x[0] = value{x[0].as_double() + y[0].as_double()};
        x[1] = value{x[1].as_int64() + y[1].as_int64()};
        break;
      case aggregate_item::top:
        if (y[0].is_null() || (!x[0].is_null() && y[0] < x[0]))
          break;
        if (x[0].is_null() || x[0] < y[0])
          x = y;
        else
          x.insert(x.end(), y.begin() + 1, y.end());
        break;
      case aggregate_item::user:
        s.user->merge(x, y);
        break;
    }
  }
}

/// Accumulators travel in keyed state as one string: a row holding each
/// list's length and then its values.
value encode_acc(const accumulator& acc, const value* head = nullptr) {
  row r;
  if (head != nullptr)
    r.push_back(*head);
  for (const auto& x : acc) {
    r.emplace_back(static_cast<int64_t>(x.size()));
    r.insert(r.end(), x.begin(), x.end());
  }
  std::string bytes;
  encode_row(r, bytes);
  return value{std::move(bytes)};
}

accumulator decode_acc(const window_setup& s, const value& v,
                       value* head = nullptr) {
  const auto& bytes = v.as_string();
  size_t pos = 0;
  auto r = decode_row(bytes.data(), bytes.size(), pos);
  if (!r)
    throw std::runtime_error("window: corrupt accumulator in keyed state");
  size_t i = 0;
  if (head != nullptr)
    *head = r->at(i++);
  accumulator acc(s.items.size());
  for (auto& x : acc) {
    if (i >= r->size() || r->at(i).type() != value_type::int64)
      throw std::runtime_error("window: corrupt accumulator in keyed state");
    auto n = static_cast<size_t>(r->at(i++).as_int64());
    if (n > r->size() - i)
      throw std::runtime_error("window: corrupt accumulator in keyed state");
    x.assign(r->begin() + static_cast<ptrdiff_t>(i),
             r->begin() + static_cast<ptrdiff_t>(i + n));
    i += n;
  }
  return acc;
}

// -- the operator -------------------------------------------------------------

/// One window subtask: accumulators per key in map state "windows" (pane
/// or session start -> encoded accumulator; sessions carry their end
/// first), timers when each window is due (fire_time()) and, with allowed
/// lateness, at the end of its lateness. Processing-time panes also keep
/// in value state "fired" the time of the key's last timer, so that end
/// of input knows which of their windows are still open.
class window_operator {
public:
  window_operator(window_setup s, const operator_context& ctx)
    : s_(std::move(s)), keyed_(ctx.keyed_state), timers_(ctx.timers),
      windows_(ctx.keyed_state->map_state("windows")),
      fired_(ctx.keyed_state->value_state("fired")), vertex_(ctx.vertex) {
    // nop
  }

  void on_record(const row& r, collector& out) {
    auto ts = time_of(r);
    if (s_.type == window_setup::session)
      add_to_session(r, ts, out);
    else
      add_to_pane(r, ts, out);
  }

  void on_timer(const fired_timer& t, collector& out) {
    if (s_.type == window_setup::session)
      fire_sessions(t.time, out);
    else
      fire_panes(t.time, out);
  }

  void on_end_of_input(collector& out) {
    // In event time the final watermark has fired every window. Windows on
    // processing time still open would be lost with the subtask: they fire
    // now, as if the clock had passed them (as Flink's batch execution
    // fires its processing-time timers at the end of input).
    if (s_.event_time)
      return;
    keyed_->for_each_key("windows", [&](const row&) {
      if (s_.type == window_setup::session) {
        // Copied: deleting timers changes the key's state.
        auto sessions = windows_.entries();
        for (const auto& [k, v] : sessions) {
          value e;
          auto acc = decode_acc(s_, v, &e);
          emit(out, k.as_int64(), e.as_int64(), acc);
          delete_timer(fire_time(e.as_int64()));
        }
      } else {
        // Windows up to the last timer have fired; each later one that
        // holds a pane has not.
        auto fired = fired_.get_or(value{min_watermark}).as_int64();
        std::set<int64_t> starts;
        for (const auto& [k, unused] : windows_.entries()) {
          auto p = k.as_int64();
          for (auto start = floor_to(p, s_.slide); start + s_.size > p;
               start -= s_.slide)
            if (fire_time(start + s_.size) > fired)
              starts.insert(start);
        }
        for (auto start : starts) {
          fire_window(start, start + s_.size, out);
          delete_timer(fire_time(start + s_.size));
        }
        fired_.clear();
      }
      windows_.clear();
    });
  }

private:
  int64_t time_of(const row& r) const {
    if (!s_.event_time)
      return timers_->current_processing_time();
    const auto& x = r[s_.time_index];
    switch (x.type()) {
      case value_type::timestamp:
        return x.as_timestamp().millis;
      case value_type::int64:
        return x.as_int64();
      default:
        throw std::runtime_error(
          "window (vertex '" + vertex_ + "'): the time field holds a "
          + to_string(x.type()) + " value, not a timestamp");
    }
  }

  int64_t watermark() const {
    return s_.event_time ? timers_->current_watermark() : min_watermark;
  }

  void add_timer(int64_t t) {
    if (s_.event_time)
      timers_->register_event_time_timer(t);
    else
      timers_->register_processing_time_timer(t);
  }

  void delete_timer(int64_t t) {
    if (s_.event_time)
      timers_->delete_event_time_timer(t);
    else
      timers_->delete_processing_time_timer(t);
  }

  /// When the window ending at `end` (exclusive) is due. In event time at
  /// its last millisecond: a watermark there says that no row of the
  /// window follows. In processing time at `end`: a timer fires once the
  /// clock reaches its time, and rows arriving in the window's last
  /// millisecond still belong to it.
  int64_t fire_time(int64_t end) const {
    return s_.event_time ? end - 1 : end;
  }

  /// A window whose last millisecond plus the allowed lateness the
  /// watermark has reached takes no more rows.
  bool is_late(int64_t end) const {
    return s_.event_time && end - 1 + s_.lateness <= watermark();
  }

  void emit(collector& out, int64_t start, int64_t end,
            const accumulator& acc) {
    auto window = [&](row& r) {
      r.emplace_back(timestamp{start});
      r.emplace_back(timestamp{end});
      r.emplace_back(timestamp{end - 1});
    };
    if (s_.is_top) {
      const auto& x = acc[0];
      auto width = s_.passthrough.size();
      for (size_t i = 1; i + width <= x.size(); i += width) {
        row r(x.begin() + static_cast<ptrdiff_t>(i),
              x.begin() + static_cast<ptrdiff_t>(i + width));
        window(r);
        out.emit(std::move(r));
      }
      return;
    }
    row r = keyed_->current_key();
    window(r);
    for (size_t i = 0; i < s_.items.size(); ++i) {
      const auto& a = s_.items[i];
      const auto& x = acc[i];
      switch (a.kind) {
        case aggregate_item::avg:
          r.push_back(
            x[1].as_int64() == 0
              ? value{}
              : value{x[0].as_double() / static_cast<double>(x[1].as_int64())});
          break;
        case aggregate_item::user: {
          auto fields = s_.user->result(x);
          r.insert(r.end(), fields.begin(), fields.end());
          break;
        }
        default:
          r.push_back(x[0]);
      }
    }
    out.emit(std::move(r));
  }

  // -- tumbling and sliding ---------------------------------------------------

  /// The end of the last window containing pane `p`.
  int64_t last_end(int64_t p) const {
    return floor_to(p, s_.slide) + s_.size;
  }

  void add_to_pane(const row& r, int64_t ts, collector& out) {
    auto p = floor_to(ts, s_.pane);
    if (is_late(last_end(p))) {
      out.emit_to("late", r);
      return;
    }
    value key{p};
    auto stored = windows_.get(key);
    accumulator acc = stored ? decode_acc(s_, *stored) : fresh(s_);
    add_row(s_, acc, r);
    windows_.put(key, encode_acc(acc));
    auto wm = watermark();
    for (auto start = floor_to(p, s_.slide); start + s_.size > p;
         start -= s_.slide) {
      auto end = start + s_.size;
      if (is_late(end))
        break;
      if (s_.event_time && end - 1 <= wm) {
        // Fired already, still within its lateness: it fires again with
        // the late row (Flink's event-time trigger).
        fire_window(start, end, out);
      } else if (!stored) {
        add_timer(fire_time(end));
      }
      if (!stored && s_.lateness > 0)
        add_timer(fire_time(end) + s_.lateness);
    }
  }

  void fire_window(int64_t start, int64_t end, collector& out) {
    const auto& panes = windows_.entries();
    auto i = panes.lower_bound(value{start});
    std::optional<accumulator> acc;
    for (; i != panes.end() && i->first.as_int64() < end; ++i) {
      auto part = decode_acc(s_, i->second);
      if (!acc)
        acc = std::move(part);
      else
        merge_into(s_, *acc, part);
    }
    if (acc)
      emit(out, start, end, *acc);
  }

  void fire_panes(int64_t t, collector& out) {
    // Timers sit where windows are due, and with lateness also that much
    // later; a timer where a window that starts on a slide boundary is due
    // fires that window. (Its end need not be on a boundary: size 10,
    // slide 4 has windows [0, 10), [4, 14), ...) Each time has one timer
    // per key, so no window fires twice.
    auto end = s_.event_time ? t + 1 : t;
    auto start = end - s_.size;
    if (floor_to(start, s_.slide) == start)
      fire_window(start, end, out);
    // Panes whose every window has fired and is past its lateness go. By
    // the timer's time, not the watermark: timers up to the watermark may
    // still be due.
    for (;;) {
      const auto& panes = windows_.entries();
      if (panes.empty())
        break;
      auto p = panes.begin()->first.as_int64();
      if (fire_time(last_end(p)) + s_.lateness > t)
        break;
      windows_.remove(panes.begin()->first);
    }
    if (!s_.event_time) {
      if (windows_.empty())
        fired_.clear();
      else
        fired_.update(value{t});
    }
  }

  // -- sessions ---------------------------------------------------------------

  void add_to_session(const row& r, int64_t ts, collector& out) {
    int64_t start = ts;
    int64_t end = ts + s_.gap;
    accumulator acc = fresh(s_);
    add_row(s_, acc, r);
    std::vector<value> merged;
    for (const auto& [k, v] : windows_.entries()) {
      value e;
      auto other = decode_acc(s_, v, &e);
      auto s2 = k.as_int64();
      auto e2 = e.as_int64();
      if (s2 < end && start < e2) {
        start = std::min(start, s2);
        end = std::max(end, e2);
        merge_into(s_, acc, other);
        merged.push_back(k);
        delete_timer(fire_time(e2));
        if (s_.lateness > 0)
          delete_timer(fire_time(e2) + s_.lateness);
      }
    }
    if (merged.empty() && is_late(end)) {
      out.emit_to("late", r);
      return;
    }
    for (const auto& k : merged)
      windows_.remove(k);
    value e{end};
    windows_.put(value{start}, encode_acc(acc, &e));
    if (s_.event_time && end - 1 <= watermark())
      emit(out, start, end, acc);
    else
      add_timer(fire_time(end));
    if (s_.lateness > 0)
      add_timer(fire_time(end) + s_.lateness);
  }

  void fire_sessions(int64_t t, collector& out) {
    std::vector<value> done;
    for (const auto& [k, v] : windows_.entries()) {
      value e;
      auto acc = decode_acc(s_, v, &e);
      auto end = e.as_int64();
      if (fire_time(end) == t)
        emit(out, k.as_int64(), end, acc);
      if (fire_time(end) + s_.lateness <= t)
        done.push_back(k);
    }
    for (const auto& k : done)
      windows_.remove(k);
  }

  window_setup s_;
  keyed_state_backend* keyed_;
  timer_service* timers_;
  map_state windows_;
  value_state fired_;
  std::string vertex_;
};

} // namespace

operator_descriptor window_descriptor(std::string name,
                                      std::string aggregate_name,
                                      aggregate_factory aggregate) {
  operator_descriptor d;
  d.name = name;
  d.kind = operator_kind::transform;
  d.key_param = "key";
  d.help
    = "Per key and window: tumbling (size), sliding (size, slide; panes of "
      "gcd(size, slide), so a slide combines panes instead of recomputing) "
      "or session (gap) windows on event time (time_field, fired by the "
      "watermark) or processing time. Emits the key, window_start, "
      "window_end, window_time (end - 1 ms) and the aggregates: count, "
      "sum(f), min(f), max(f), avg(f) [as name], or top(f), the input rows "
      "holding the largest f. Rows later than the allowed lateness go to "
      "side output \"late\". Processing-time windows still open when the "
      "input ends fire then.";
  d.params = {
    {"key", param_type::field_list, true, "", "the key fields"},
    {"type", param_type::string, true, "", "tumbling, sliding or session"},
    {"size", param_type::int64, false, "", "window length in ms"},
    {"slide", param_type::int64, false, "", "sliding: distance of windows"},
    {"gap", param_type::int64, false, "", "session: inactivity gap in ms"},
    {"time", param_type::string, false, "event", "event or processing"},
    {"time_field", param_type::field, false, "",
     "event time: the timestamp (or int64 ms) field"},
    {"aggregates", param_type::string, true, "",
     "comma-separated: count, sum(f), min(f), max(f), avg(f), top(f)"},
    {"allowed_lateness", param_type::int64, false, "0",
     "event time: ms after a window's end during which late rows still "
     "update it (and fire it again)"},
  };
  auto op = name;
  d.output_fields
    = [op, aggregate_name, aggregate](const parameters& params,
                                      const std::vector<std::string>& input)
    -> caf::expected<std::vector<std::string>> {
    auto s = parse_setup(op, params, input, aggregate_name, aggregate);
    if (!s)
      return s.error();
    std::vector<std::string> out;
    if (s->is_top) {
      for (auto pos : s->passthrough)
        out.push_back(input[pos]);
    } else {
      out = split_list(param_or(params, "key", ""));
    }
    out.insert(out.end(), window_columns.begin(), window_columns.end());
    if (s->is_top)
      return out;
    for (const auto& a : s->items) {
      if (a.kind != aggregate_item::user) {
        out.push_back(a.name);
        continue;
      }
      auto fields = s->user->result_fields();
      out.insert(out.end(), fields.begin(), fields.end());
    }
    // Downstream operators name fields: each name must say which it is.
    std::set<std::string> seen;
    for (const auto& f : out)
      if (!seen.insert(f).second)
        return bad_param(op, "output field '" + f + "' appears twice ("
                               + join(out)
                               + "); name the aggregates apart with 'as'");
    return out;
  };
  d.side_outputs
    = [](const parameters&, const std::vector<std::string>& input) {
        return std::map<std::string, std::vector<std::string>>{{"late", input}};
      };
  d.factory = [op, aggregate_name, aggregate](const operator_context& ctx) {
    auto s = parse_setup(op, ctx.params, ctx.input_fields, aggregate_name,
                         aggregate);
    if (!s)
      throw std::invalid_argument(error_text(s.error()));
    auto w = std::make_shared<window_operator>(std::move(*s), ctx);
    return operator_behavior{
      [w](const row& r, collector& out) { w->on_record(r, out); },
      [w](timer_fired_t, const fired_timer& t, collector& out) {
        w->on_timer(t, out);
      },
      [w](end_of_input_t, collector& out) { w->on_end_of_input(out); },
    };
  };
  return d;
}

} // namespace weir
