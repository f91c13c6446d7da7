#include "api/operator.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <stdexcept>
#include <string_view>

namespace weir {

namespace {

std::string_view trim(std::string_view s) {
  auto blank
    = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!s.empty() && blank(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && blank(s.back()))
    s.remove_suffix(1);
  return s;
}

[[noreturn]] void bad_param(const operator_context& ctx,
                            const std::string& name, const std::string& what) {
  throw std::invalid_argument("vertex '" + ctx.vertex + "': parameter '" + name
                              + "' " + what);
}

// Parses all of `text` as a number; false on junk, overflow or nothing.
template <class T>
bool parse_number(std::string_view text, T& x) {
  text = trim(text);
  // from_chars takes a minus sign but no plus; "+-1" stays invalid.
  bool plus = !text.empty() && text.front() == '+';
  if (plus)
    text.remove_prefix(1);
  if (text.empty() || (plus && (text.front() == '-' || text.front() == '+')))
    return false;
  auto end = text.data() + text.size();
  auto res = std::from_chars(text.data(), end, x);
  return res.ec == std::errc{} && res.ptr == end;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size()
         && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
              return std::tolower(static_cast<unsigned char>(x))
                     == std::tolower(static_cast<unsigned char>(y));
            });
}

} // namespace

// The registry validates parameters before a factory runs, so the throws
// below flag programming errors (a factory reading an undeclared name).

const std::string& operator_context::get_string(const std::string& name) const {
  auto i = params.find(name);
  if (i == params.end())
    bad_param(*this, name, "is missing");
  return i->second;
}

int64_t operator_context::get_int(const std::string& name) const {
  auto& text = get_string(name);
  int64_t x = 0;
  if (!parse_number(text, x))
    bad_param(*this, name, "is not an integer: '" + text + "'");
  return x;
}

double operator_context::get_double(const std::string& name) const {
  auto& text = get_string(name);
  double x = 0;
  if (!parse_number(text, x))
    bad_param(*this, name, "is not a number: '" + text + "'");
  return x;
}

bool operator_context::get_bool(const std::string& name) const {
  auto& text = get_string(name);
  auto t = trim(text);
  for (auto yes : {"true", "1", "yes"})
    if (iequals(t, yes))
      return true;
  for (auto no : {"false", "0", "no"})
    if (iequals(t, no))
      return false;
  bad_param(*this, name, "is not a boolean: '" + text + "'");
}

bool operator_context::has(const std::string& name) const {
  return params.count(name) > 0;
}

int operator_context::input_index(const std::string& field) const {
  auto i = std::find(input_fields.begin(), input_fields.end(), field);
  if (i == input_fields.end())
    return -1;
  return static_cast<int>(i - input_fields.begin());
}

} // namespace weir
