#include <algorithm>
#include <memory>
#include <stdexcept>
#include <unordered_map>

#include "api/codec.hpp"

#include "operators/support.hpp"

namespace weir::builtins {

namespace {

caf::expected<std::vector<std::string>>
aggregate_output(const parameters& params,
                 const std::vector<std::string>& input) {
  const std::string op = "aggregate";
  auto keys = split_list(param_or(params, "key"));
  if (keys.empty())
    return bad_param(op, "parameter 'key' names no fields");
  if (auto err = check_fields_exist(op, "key", keys, input))
    return err;
  auto function = param_or(params, "function");
  if (auto err
      = check_one_of(op, "function", function, {"count", "sum", "min", "max"}))
    return err;
  if (function == "count" && params.count("field") > 0)
    return bad_param(op, "function count takes no 'field' (it counts rows); "
                         "remove parameter 'field'");
  if (function != "count") {
    if (params.count("field") == 0)
      return bad_param(op, "function " + function
                             + " needs parameter 'field' naming the field "
                               "to aggregate");
    if (auto err = check_fields_exist(op, "field", {params.at("field")}, input))
      return err;
  }
  if (auto err = check_one_of(op, "emit", param_or(params, "emit", "final"),
                              {"final", "updates"}))
    return err;
  auto as = param_or(params, "as", function);
  if (as.empty())
    return bad_param(op, "parameter 'as' is empty");
  if (std::find(keys.begin(), keys.end(), as) != keys.end())
    return bad_param(op, "parameter 'as' ('" + as
                           + "') clashes with a key field; choose another "
                             "name");
  keys.push_back(as);
  return keys;
}

/// Hashes a key with the stable value hash, which also partitions rows.
struct key_hash {
  size_t operator()(const row& key) const {
    uint64_t h = key.size();
    for (const auto& v : key)
      h = (h ^ v.hash()) * 0x100000001b3ULL;
    return static_cast<size_t>(h);
  }
};

enum class agg_function { count, sum, min, max };

/// Per-key aggregates of one aggregate subtask.
class aggregator {
public:
  aggregator(agg_function fn, std::vector<size_t> key_indexes,
             size_t field_index, std::string field)
    : fn_(fn), key_indexes_(std::move(key_indexes)), field_index_(field_index),
      field_(std::move(field)) {
  }

  /// Folds `r` into its key's aggregate; returns the key's entry.
  std::pair<const row, value>& add(const row& r) {
    // Look up with a reused buffer: no allocation per record for keys
    // already seen (the common case); the key is copied only on a miss.
    scratch_.clear();
    for (auto i : key_indexes_)
      scratch_.push_back(r.at(i));
    auto it = state_.find(scratch_);
    if (it == state_.end())
      it = state_.emplace(scratch_, value{}).first;
    auto& entry = *it;
    auto& acc = entry.second;
    if (fn_ == agg_function::count) {
      acc = value{acc.is_null() ? int64_t{1} : acc.as_int64() + 1};
      return entry;
    }
    const auto& x = r.at(field_index_);
    if (x.is_null())
      return entry;
    if (acc.is_null()) {
      if (fn_ == agg_function::sum)
        check_numeric(x);
      acc = x;
    } else if (fn_ == agg_function::sum) {
      acc = sum(acc, x);
    } else if (fn_ == agg_function::min ? x < acc : acc < x) {
      acc = x;
    }
    return entry;
  }

  /// The aggregate rows, sorted by key, leaving the state empty.
  /// Every key with its aggregate as rows {key..., aggregate}, in key
  /// order, encoded with the row codec: the checkpointed state.
  std::string snapshot() const {
    std::vector<row> rows;
    rows.reserve(state_.size());
    for (const auto& kvp : state_) {
      auto r = kvp.first;
      r.push_back(kvp.second);
      rows.push_back(std::move(r));
    }
    std::sort(rows.begin(), rows.end());
    return encode_rows(rows);
  }

  /// Replaces the state with a snapshot's; throws on corrupt bytes (the
  /// task turns that into a failure naming the vertex).
  void restore(const std::string& bytes) {
    state_.clear();
    if (bytes.empty())
      return;
    auto rows = decode_rows(bytes);
    if (!rows)
      throw std::runtime_error("aggregate: corrupt checkpointed state");
    for (auto& r : *rows) {
      if (r.size() != key_indexes_.size() + 1)
        throw std::runtime_error("aggregate: checkpointed state has rows of "
                                 + std::to_string(r.size())
                                 + " fields, expected "
                                 + std::to_string(key_indexes_.size() + 1));
      auto acc = std::move(r.back());
      r.pop_back();
      state_.emplace(std::move(r), std::move(acc));
    }
  }

  std::vector<row> take_sorted() {
    std::vector<row> out;
    out.reserve(state_.size());
    for (auto& kvp : state_) {
      auto r = kvp.first;
      r.push_back(std::move(kvp.second));
      out.push_back(std::move(r));
    }
    state_.clear();
    auto n = key_indexes_.size();
    std::sort(out.begin(), out.end(), [n](const row& a, const row& b) {
      return std::lexicographical_compare(a.begin(), a.begin() + n, b.begin(),
                                          b.begin() + n);
    });
    return out;
  }

private:
  void check_numeric(const value& x) const {
    if (x.type() != value_type::int64 && x.type() != value_type::float64)
      throw std::runtime_error("aggregate: sum over field '" + field_
                               + "' needs int64 or double values, got "
                               + to_string(x.type()));
  }

  value sum(const value& acc, const value& x) const {
    check_numeric(x);
    if (acc.type() == value_type::int64 && x.type() == value_type::int64) {
      int64_t result = 0;
      if (__builtin_add_overflow(acc.as_int64(), x.as_int64(), &result))
        throw std::runtime_error("aggregate: int64 sum over field '" + field_
                                 + "' overflows");
      return value{result};
    }
    auto as_double = [](const value& v) {
      return v.type() == value_type::int64 ? static_cast<double>(v.as_int64())
                                           : v.as_double();
    };
    return value{as_double(acc) + as_double(x)};
  }

  agg_function fn_;
  std::vector<size_t> key_indexes_;
  size_t field_index_;
  std::string field_;
  std::unordered_map<row, value, key_hash> state_;
  row scratch_;
};

agg_function parse_function(const std::string& name) {
  if (name == "count")
    return agg_function::count;
  if (name == "sum")
    return agg_function::sum;
  if (name == "min")
    return agg_function::min;
  if (name == "max")
    return agg_function::max;
  throw std::runtime_error("aggregate: unknown function '" + name + "'");
}

operator_behavior make_aggregate(const operator_context& ctx) {
  auto fn = parse_function(ctx.get_string("function"));
  std::vector<size_t> key_indexes;
  for (const auto& k : split_list(ctx.get_string("key")))
    key_indexes.push_back(input_position(ctx, "aggregate", k));
  std::string field;
  size_t field_index = 0;
  if (fn != agg_function::count) {
    field = ctx.get_string("field");
    field_index = input_position(ctx, "aggregate", field);
  }
  auto st = std::make_shared<aggregator>(fn, std::move(key_indexes),
                                         field_index, field);
  if (ctx.has("emit") && ctx.get_string("emit") == "updates")
    return operator_behavior{
      [st](const row& r, collector& out) {
        auto& entry = st->add(r);
        auto update = entry.first;
        update.push_back(entry.second);
        out.emit(std::move(update));
      },
      [st](snapshot_t) { return st->snapshot(); },
      [st](restore_t, const std::string& bytes) { st->restore(bytes); },
    };
  return operator_behavior{
    [st](const row& r, collector&) { st->add(r); },
    [st](end_of_input_t, collector& out) {
      for (auto& r : st->take_sorted())
        out.emit(std::move(r));
    },
    [st](snapshot_t) { return st->snapshot(); },
    [st](restore_t, const std::string& bytes) { st->restore(bytes); },
  };
}

} // namespace

operator_descriptor aggregate_descriptor() {
  operator_descriptor d;
  d.name = "aggregate";
  d.kind = operator_kind::transform;
  d.help = "Per key: count rows, or sum, min or max of 'field'; emits "
           "{key..., as} per key at end of input (sorted by key) or after "
           "every record with 'emit: updates'.";
  d.params = {
    {"key", param_type::field_list, true, "", "the key fields"},
    {"function", param_type::string, true, "", "count, sum, min or max"},
    {"field", param_type::field, false, "",
     "the field to aggregate (sum, min, max; not count)"},
    {"as", param_type::string, false, "",
     "name of the aggregate field; default: the function's name"},
    {"emit", param_type::string, false, "final",
     "final (once per key at end of input) or updates (after each record)"},
  };
  d.key_param = "key";
  d.output_fields = aggregate_output;
  d.factory = make_aggregate;
  return d;
}

} // namespace weir::builtins
