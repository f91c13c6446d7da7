#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include "operators/support.hpp"

namespace weir::builtins {

namespace {

/// field op operand, as int64 when both sides are integers and the
/// operation stays in them, as double otherwise.
struct computation {
  size_t field = 0;
  char op = '*';
  bool int_operand = false;
  int64_t i = 0;
  double d = 0;
  /// Output position: the field replaced, or a new one at the end.
  size_t target = 0;
  bool append = false;
};

const std::vector<std::string> compute_ops
  = {"add", "sub", "mul", "div", "mod"};

char op_char(const std::string& op) {
  static const char chars[] = {'+', '-', '*', '/', '%'};
  for (size_t i = 0; i < compute_ops.size(); ++i)
    if (compute_ops[i] == op)
      return chars[i];
  return '?';
}

caf::expected<std::vector<std::string>>
compute_output(const parameters& params,
               const std::vector<std::string>& input) {
  auto op = param_or(params, "op", "");
  if (auto err = check_one_of("compute", "op", op, compute_ops))
    return err;
  auto text = param_or(params, "operand", "");
  char* end = nullptr;
  auto x = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(x))
    return bad_param("compute", "parameter 'operand' must be a number, not '"
                                  + text + "'");
  if ((op == "div" || op == "mod") && x == 0)
    return bad_param("compute", "parameter 'operand' is 0: division by zero");
  auto as = param_or(params, "as", param_or(params, "field", ""));
  auto out = input;
  if (std::find(out.begin(), out.end(), as) == out.end())
    out.push_back(as);
  return out;
}

value apply(const computation& c, const value& x) {
  if (x.is_null())
    return x;
  if (x.type() == value_type::int64 && c.int_operand && c.op != '/') {
    auto a = x.as_int64();
    int64_t r = 0;
    bool overflow = false;
    switch (c.op) {
      case '+':
        overflow = __builtin_add_overflow(a, c.i, &r);
        break;
      case '-':
        overflow = __builtin_sub_overflow(a, c.i, &r);
        break;
      case '*':
        overflow = __builtin_mul_overflow(a, c.i, &r);
        break;
      default:
        r = a % c.i;
    }
    if (!overflow)
      return value{r};
  }
  double a = 0;
  switch (x.type()) {
    case value_type::int64:
      a = static_cast<double>(x.as_int64());
      break;
    case value_type::float64:
      a = x.as_double();
      break;
    default:
      throw std::runtime_error(std::string{"compute: cannot compute with a "}
                               + to_string(x.type()) + " value");
  }
  switch (c.op) {
    case '+':
      return value{a + c.d};
    case '-':
      return value{a - c.d};
    case '*':
      return value{a * c.d};
    case '/':
      return value{a / c.d};
    default:
      return value{std::fmod(a, c.d)};
  }
}

operator_behavior make_compute(const operator_context& ctx) {
  computation c;
  c.field = input_position(ctx, "compute", ctx.get_string("field"));
  c.op = op_char(ctx.get_string("op"));
  const auto& text = ctx.get_string("operand");
  char* end = nullptr;
  auto i = std::strtoll(text.c_str(), &end, 10);
  c.int_operand = *end == '\0';
  c.i = i;
  c.d = std::strtod(text.c_str(), nullptr);
  auto as = ctx.has("as") ? ctx.get_string("as") : ctx.get_string("field");
  auto pos = ctx.input_index(as);
  c.append = pos < 0;
  c.target = c.append ? ctx.input_fields.size() : static_cast<size_t>(pos);
  return operator_behavior{
    [c](const row& r, collector& out) {
      row result = r;
      auto v = apply(c, r[c.field]);
      if (c.append)
        result.push_back(std::move(v));
      else
        result[c.target] = std::move(v);
      out.emit(std::move(result));
    },
  };
}

} // namespace

operator_descriptor compute_descriptor() {
  operator_descriptor d;
  d.name = "compute";
  d.kind = operator_kind::transform;
  d.help = "Computes 'field op operand' (add, sub, mul, div, mod) into field "
           "'as' (default: 'field' itself; a new name appends a field). "
           "Integers stay integers except for div and on overflow.";
  d.params = {
    {"field", param_type::field, true, "", "the numeric input field"},
    {"op", param_type::string, true, "", "add, sub, mul, div or mod"},
    {"operand", param_type::string, true, "", "a number"},
    {"as", param_type::string, false, "", "the output field"},
  };
  d.output_fields = compute_output;
  d.factory = make_compute;
  return d;
}

} // namespace weir::builtins
