#include <algorithm>
#include <memory>
#include <stdexcept>

#include "api/state.hpp"

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
  if (auto err = check_one_of(op, "function", function,
                              {"count", "sum", "min", "max", "avg"}))
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

enum class agg_function { count, sum, min, max, avg };

/// Folds records into per-key aggregates held in the subtask's keyed state
/// (value state "aggregate"), so that checkpoints keep them per key group
/// and a rescaled job finds each key's aggregate where the key now goes.
/// A key seen only with null values has a null aggregate, which a value
/// state cannot hold: value state "null" marks it instead.
class aggregator {
public:
  aggregator(agg_function fn, size_t field_index, std::string field,
             keyed_state_backend& keyed)
    : fn_(fn), field_index_(field_index), field_(std::move(field)),
      keyed_(keyed), acc_(keyed.value_state("aggregate")),
      null_(keyed.value_state("null")), count_(keyed.value_state("count")) {
  }

  /// Folds `r` into the current key's aggregate (the task made the key of
  /// `r` current); returns the new aggregate, nullptr while it is null.
  const value* add(const row& r) {
    const auto* acc = acc_.peek();
    if (fn_ == agg_function::count) {
      acc_.update(value{acc == nullptr ? int64_t{1} : acc->as_int64() + 1});
      return acc_.peek();
    }
    const auto& x = r.at(field_index_);
    if (x.is_null()) {
      if (acc == nullptr && null_.peek() == nullptr)
        null_.update(value{true});
      return acc;
    }
    if (fn_ == agg_function::avg) {
      // The sum as a double and the count: exact for integer sums below
      // 2^53.
      check_numeric(x);
      auto total
        = (acc == nullptr ? 0.0 : acc->as_double())
          + (x.type() == value_type::int64 ? static_cast<double>(x.as_int64())
                                           : x.as_double());
      auto n = count_.get_or(value{int64_t{0}}).as_int64() + 1;
      null_.clear();
      acc_.update(value{total});
      count_.update(value{n});
      result_ = value{total / static_cast<double>(n)};
      return &result_;
    }
    if (acc == nullptr) {
      if (fn_ == agg_function::sum)
        check_numeric(x);
      null_.clear();
      acc_.update(x);
    } else if (fn_ == agg_function::sum) {
      acc_.update(sum(*acc, x));
    } else if (fn_ == agg_function::min ? x < *acc : *acc < x) {
      acc_.update(x);
    }
    return acc_.peek();
  }

  /// The current key's row {key..., aggregate}.
  row current_row(const value& acc) const {
    auto out = keyed_.current_key();
    out.push_back(acc);
    return out;
  }

  /// Every key's row {key..., aggregate}, in key order.
  void emit_all(collector& out) {
    std::vector<row> rows;
    keyed_.for_each_key("aggregate", [&](const row&) {
      if (fn_ == agg_function::avg)
        rows.push_back(
          current_row(value{acc_.peek()->as_double()
                            / static_cast<double>(count_.peek()->as_int64())}));
      else
        rows.push_back(current_row(*acc_.peek()));
    });
    keyed_.for_each_key("null",
                        [&](const row&) { rows.push_back(current_row({})); });
    std::sort(rows.begin(), rows.end(), [](const row& a, const row& b) {
      return std::lexicographical_compare(a.begin(), a.end() - 1, b.begin(),
                                          b.end() - 1);
    });
    for (auto& r : rows)
      out.emit(std::move(r));
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
  size_t field_index_;
  std::string field_;
  keyed_state_backend& keyed_;
  value_state acc_;
  value_state null_;
  /// avg: rows counted.
  value_state count_;
  value result_;
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
  if (name == "avg")
    return agg_function::avg;
  throw std::runtime_error("aggregate: unknown function '" + name + "'");
}

operator_behavior make_aggregate(const operator_context& ctx) {
  if (ctx.keyed_state == nullptr)
    throw std::logic_error("aggregate: runs only as a keyed operator");
  auto fn = parse_function(ctx.get_string("function"));
  std::string field;
  size_t field_index = 0;
  if (fn != agg_function::count) {
    field = ctx.get_string("field");
    field_index = input_position(ctx, "aggregate", field);
  }
  auto st
    = std::make_shared<aggregator>(fn, field_index, field, *ctx.keyed_state);
  if (ctx.has("emit") && ctx.get_string("emit") == "updates")
    return operator_behavior{
      [st](const row& r, collector& out) {
        const auto* acc = st->add(r);
        out.emit(st->current_row(acc != nullptr ? *acc : value{}));
      },
    };
  return operator_behavior{
    [st](const row& r, collector&) { st->add(r); },
    [st](end_of_input_t, collector& out) { st->emit_all(out); },
  };
}

} // namespace

operator_descriptor aggregate_descriptor() {
  operator_descriptor d;
  d.name = "aggregate";
  d.kind = operator_kind::transform;
  d.help = "Per key: count rows, or sum, min, max or avg of 'field'; emits "
           "{key..., as} per key at end of input (sorted by key) or after "
           "every record with 'emit: updates'.";
  d.params = {
    {"key", param_type::field_list, true, "", "the key fields"},
    {"function", param_type::string, true, "", "count, sum, min, max or avg"},
    {"field", param_type::field, false, "",
     "the field to aggregate (sum, min, max, avg; not count)"},
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
