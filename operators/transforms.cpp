#include <algorithm>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>

#include "operators/parse.hpp"
#include "operators/support.hpp"

namespace weir::builtins {

namespace {

// -- tokenize -----------------------------------------------------------------

caf::expected<std::vector<std::string>>
tokenize_output(const parameters& params,
                const std::vector<std::string>& input) {
  auto field = param_or(params, "field");
  if (auto err = check_fields_exist("tokenize", "field", {field}, input))
    return err;
  auto out = input;
  if (params.count("as") > 0) {
    const auto& as = params.at("as");
    if (as.empty())
      return bad_param("tokenize", "parameter 'as' is empty");
    if (as != field && std::find(input.begin(), input.end(), as) != input.end())
      return bad_param("tokenize", "parameter 'as' renames '" + field + "' to '"
                                     + as + "', which the input already has");
    std::replace(out.begin(), out.end(), field, as);
  }
  return out;
}

bool is_word_byte(unsigned char c) {
  // Bytes of multi-byte UTF-8 sequences count as letters, so that words in
  // any script survive intact.
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
         || (c >= '0' && c <= '9') || c >= 0x80;
}

operator_behavior make_tokenize(const operator_context& ctx) {
  auto field = ctx.get_string("field");
  auto index = input_position(ctx, "tokenize", field);
  auto lowercase = !ctx.has("lowercase") || ctx.get_bool("lowercase");
  return operator_behavior{
    [=](const row& r, collector& out) {
      const auto& v = r.at(index);
      if (v.is_null())
        return;
      if (v.type() != value_type::string)
        throw std::runtime_error("tokenize: field '" + field + "' holds "
                                 + to_string(v.type())
                                 + " values; it needs strings");
      const auto& text = v.as_string();
      size_t i = 0;
      while (i < text.size()) {
        while (i < text.size() && !is_word_byte(text[i]))
          ++i;
        auto begin = i;
        while (i < text.size() && is_word_byte(text[i]))
          ++i;
        if (begin == i)
          break;
        auto word = text.substr(begin, i - begin);
        if (lowercase)
          for (auto& c : word)
            if (c >= 'A' && c <= 'Z')
              c = static_cast<char>(c - 'A' + 'a');
        auto copy = r;
        copy[index] = value{std::move(word)};
        out.emit(std::move(copy));
      }
    },
  };
}

// -- filter -------------------------------------------------------------------

const std::vector<std::string>& filter_ops() {
  static const std::vector<std::string> ops{
    "==", "!=", "<", "<=", ">", ">=", "contains", "in"};
  return ops;
}

caf::expected<std::vector<std::string>>
filter_output(const parameters& params, const std::vector<std::string>& input) {
  if (auto err = check_fields_exist("filter", "field",
                                    {param_or(params, "field")}, input))
    return err;
  if (auto err
      = check_one_of("filter", "op", param_or(params, "op"), filter_ops()))
    return err;
  return input;
}

enum class filter_op { eq, ne, lt, le, gt, ge, contains, in };

/// The filter's comparison value, parsed once for each type a field may
/// turn out to have at runtime.
struct filter_operand {
  explicit filter_operand(const std::string& text)
    : text(text), as_int(parse_value(text, value_type::int64)),
      as_double(parse_value(text, value_type::float64)),
      as_bool(parse_value(text, value_type::boolean)),
      as_timestamp(parse_value(text, value_type::timestamp)) {
  }

  std::string text;
  std::optional<value> as_int;
  std::optional<value> as_double;
  std::optional<value> as_bool;
  std::optional<value> as_timestamp;
};

/// Maps a three-way comparison result to the operator's verdict.
bool holds(filter_op op, int cmp) {
  switch (op) {
    case filter_op::eq:
      return cmp == 0;
    case filter_op::ne:
      return cmp != 0;
    case filter_op::lt:
      return cmp < 0;
    case filter_op::le:
      return cmp <= 0;
    case filter_op::gt:
      return cmp > 0;
    case filter_op::ge:
      return cmp >= 0;
    case filter_op::contains:
    case filter_op::in:
      break;
  }
  return false;
}

template <class T>
int three_way(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

/// Evaluates one filter for one field value.
class filter_predicate {
public:
  filter_predicate(std::string field, filter_op op, const std::string& text)
    : field_(std::move(field)), op_(op), operand_(text) {
    if (op_ == filter_op::in)
      for (const auto& item : split_list(text))
        items_.push_back(item);
  }

  bool operator()(const value& v) const {
    if (v.is_null())
      return op_ == filter_op::ne;
    if (op_ == filter_op::in) {
      const auto& text
        = v.type() == value_type::string ? v.as_string() : to_string(v);
      return std::find(items_.begin(), items_.end(), text) != items_.end();
    }
    if (op_ == filter_op::contains) {
      if (v.type() == value_type::string)
        return v.as_string().find(operand_.text) != std::string::npos;
      return to_string(v).find(operand_.text) != std::string::npos;
    }
    switch (v.type()) {
      case value_type::int64:
        if (operand_.as_int)
          return holds(op_,
                       three_way(v.as_int64(), operand_.as_int->as_int64()));
        // "x > 2.5" on an int64 field: compare as doubles.
        return compare_double(static_cast<double>(v.as_int64()), v);
      case value_type::float64:
        return compare_double(v.as_double(), v);
      case value_type::timestamp:
        return holds(
          op_,
          three_way(v.as_timestamp().millis,
                    operand(operand_.as_timestamp, v).as_timestamp().millis));
      case value_type::boolean:
        return holds(
          op_, three_way(v.as_bool(), operand(operand_.as_bool, v).as_bool()));
      case value_type::string:
        return holds(op_, v.as_string().compare(operand_.text));
      case value_type::null:
        break;
    }
    return false;
  }

private:
  bool compare_double(double x, const value& v) const {
    auto y = operand(operand_.as_double, v).as_double();
    // NaN is unordered: only != holds.
    if (x != x || y != y)
      return op_ == filter_op::ne;
    return holds(op_, three_way(x, y));
  }

  const value& operand(const std::optional<value>& parsed,
                       const value& v) const {
    if (!parsed)
      throw std::runtime_error("filter: value '" + operand_.text
                               + "' is not a valid " + to_string(v.type())
                               + ", the type of field '" + field_ + "'");
    return *parsed;
  }

  std::string field_;
  filter_op op_;
  filter_operand operand_;
  /// For `in`: the comma-separated values, compared as text.
  std::vector<std::string> items_;
};

filter_op parse_filter_op(const std::string& op) {
  const auto& ops = filter_ops();
  auto i = std::find(ops.begin(), ops.end(), op);
  if (i == ops.end())
    throw std::runtime_error("filter: unknown op '" + op + "'");
  return static_cast<filter_op>(i - ops.begin());
}

operator_behavior make_filter(const operator_context& ctx) {
  auto field = ctx.get_string("field");
  auto index = input_position(ctx, "filter", field);
  auto pred = std::make_shared<const filter_predicate>(
    field, parse_filter_op(ctx.get_string("op")),
    ctx.has("value") ? ctx.get_string("value") : std::string{});
  return operator_behavior{
    [index, pred](const row& r, collector& out) {
      if ((*pred)(r.at(index)))
        out.emit(r);
    },
  };
}

// -- select -------------------------------------------------------------------

caf::expected<std::vector<std::string>>
select_output(const parameters& params, const std::vector<std::string>& input) {
  auto fields = split_list(param_or(params, "fields"));
  if (fields.empty())
    return bad_param("select", "parameter 'fields' names no fields");
  if (auto err = check_fields_exist("select", "fields", fields, input))
    return err;
  return fields;
}

operator_behavior make_select(const operator_context& ctx) {
  std::vector<size_t> indexes;
  for (const auto& f : split_list(ctx.get_string("fields")))
    indexes.push_back(input_position(ctx, "select", f));
  return operator_behavior{
    [indexes](const row& r, collector& out) {
      row projected;
      projected.reserve(indexes.size());
      for (auto i : indexes)
        projected.push_back(r.at(i));
      out.emit(std::move(projected));
    },
  };
}

} // namespace

operator_descriptor tokenize_descriptor() {
  operator_descriptor d;
  d.name = "tokenize";
  d.kind = operator_kind::transform;
  d.help = "Splits a string field into words (runs of ASCII letters, digits "
           "and non-ASCII bytes) and emits one row per word with the field "
           "replaced by the word.";
  d.params = {
    {"field", param_type::field, true, "", "the string field to split"},
    {"lowercase", param_type::boolean, false, "true",
     "lower-case ASCII letters of each word"},
    {"as", param_type::string, false, "",
     "new name of the field; default: keep its name"},
  };
  d.output_fields = tokenize_output;
  d.factory = make_tokenize;
  return d;
}

operator_descriptor filter_descriptor() {
  operator_descriptor d;
  d.name = "filter";
  d.kind = operator_kind::transform;
  d.help = "Keeps rows where 'field op value' holds; numbers, timestamps and "
           "bools compare by value, strings lexicographically, null fields "
           "match only '!='.";
  d.params = {
    {"field", param_type::field, true, "", "the field to test"},
    {"op", param_type::string, true, "",
     "one of == != < <= > >= contains in (value: a comma-separated list)"},
    {"value", param_type::string, true, "",
     "the value to compare with, parsed as the field's type"},
  };
  d.output_fields = filter_output;
  d.factory = make_filter;
  return d;
}

operator_descriptor select_descriptor() {
  operator_descriptor d;
  d.name = "select";
  d.kind = operator_kind::transform;
  d.help = "Keeps the listed fields, in the order listed.";
  d.params = {
    {"fields", param_type::field_list, true, "", "the fields to keep"},
  };
  d.output_fields = select_output;
  d.factory = make_select;
  return d;
}

} // namespace weir::builtins
