#include "api/registry.hpp"

#include "api/text.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <limits>

namespace weir {

namespace {

bool parses_as_int(const std::string& s) {
  if (s.empty())
    return false;
  char* end = nullptr;
  errno = 0;
  std::strtoll(s.c_str(), &end, 10);
  return errno == 0 && *end == '\0';
}

bool parses_as_double(const std::string& s) {
  if (s.empty())
    return false;
  char* end = nullptr;
  errno = 0;
  std::strtod(s.c_str(), &end);
  return errno == 0 && *end == '\0';
}

bool parses_as_bool(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return s == "true" || s == "false" || s == "1" || s == "0" || s == "yes"
         || s == "no";
}

} // namespace

const char* to_string(operator_kind x) {
  switch (x) {
    case operator_kind::source:
      return "source";
    case operator_kind::transform:
      return "transform";
    case operator_kind::sink:
      return "sink";
  }
  return "?";
}

const char* to_string(param_type x) {
  switch (x) {
    case param_type::string:
      return "string";
    case param_type::int64:
      return "int64";
    case param_type::float64:
      return "double";
    case param_type::boolean:
      return "bool";
    case param_type::field:
      return "field";
    case param_type::field_list:
      return "field list";
    case param_type::name_list:
      return "name list";
  }
  return "?";
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    auto comma = text.find(',', pos);
    if (comma == std::string::npos)
      comma = text.size();
    auto item = text.substr(pos, comma - pos);
    auto first = item.find_first_not_of(" \t");
    if (first != std::string::npos) {
      auto last = item.find_last_not_of(" \t");
      out.push_back(item.substr(first, last - first + 1));
    }
    pos = comma + 1;
  }
  return out;
}

caf::error operator_registry::add(operator_descriptor d) {
  if (d.name.empty())
    return make_error(api_errc::bad_parameter,
                      "an operator needs a non-empty name");
  if (!d.factory || (d.inputs == 2 ? !d.output_fields2 : !d.output_fields))
    return make_error(api_errc::bad_parameter,
                      "operator '" + d.name
                        + "' lacks a factory or an output_fields function");
  if (d.inputs != 1 && d.inputs != 2)
    return make_error(api_errc::bad_parameter,
                      "operator '" + d.name + "' declares "
                        + std::to_string(d.inputs)
                        + " inputs; operators have 1 or 2");
  if (ops_.count(d.name) > 0)
    return make_error(api_errc::duplicate_operator,
                      "operator '" + d.name + "' is registered twice");
  auto name = d.name;
  ops_.emplace(std::move(name), std::move(d));
  return caf::none;
}

const operator_descriptor*
operator_registry::find(const std::string& name) const {
  auto i = ops_.find(name);
  return i == ops_.end() ? nullptr : &i->second;
}

std::vector<std::string> operator_registry::names() const {
  std::vector<std::string> out;
  for (const auto& kvp : ops_)
    out.push_back(kvp.first);
  return out;
}

caf::expected<parameters> operator_registry::resolve_params(
  const operator_descriptor& op, const std::string& vertex,
  const parameters& given, const std::vector<std::string>& input_fields) const {
  auto where = "vertex '" + vertex + "' (" + op.name + ")";
  // Unknown names first: a typo usually also causes a "missing" error, and
  // the typo is the real cause.
  for (const auto& kvp : given) {
    auto known
      = std::any_of(op.params.begin(), op.params.end(),
                    [&](const param_spec& p) { return p.name == kvp.first; });
    if (known)
      continue;
    std::string msg = where + ": unknown parameter '" + kvp.first + "'";
    std::vector<std::string> names;
    for (const auto& p : op.params)
      names.push_back(p.name);
    if (auto guess = nearest(kvp.first, names); !guess.empty())
      msg += " (did you mean '" + guess + "'?)";
    msg += names.empty() ? "; it takes no parameters"
                         : "; it accepts: " + join(names);
    return make_error(api_errc::unknown_parameter, std::move(msg));
  }
  parameters out;
  for (const auto& p : op.params) {
    auto i = given.find(p.name);
    if (i == given.end()) {
      if (p.required)
        return make_error(api_errc::missing_parameter,
                          where + ": missing required parameter '" + p.name
                            + "' (" + p.help + ")");
      if (!p.default_value.empty())
        out.emplace(p.name, p.default_value);
      continue;
    }
    const auto& val = i->second;
    auto bad = [&](const std::string& why) {
      return make_error(api_errc::bad_parameter, where + ": parameter '"
                                                   + p.name + "' = '" + val
                                                   + "' " + why);
    };
    auto check_field = [&](const std::string& f) -> caf::error {
      if (std::find(input_fields.begin(), input_fields.end(), f)
          != input_fields.end())
        return caf::none;
      return make_error(
        api_errc::unknown_field,
        where + ": parameter '" + p.name + "' names field '" + f
          + "', which its input does not have (input: "
          + (input_fields.empty() ? std::string{"none"} : join(input_fields))
          + ")");
    };
    switch (p.type) {
      case param_type::string:
        break;
      case param_type::int64:
        if (!parses_as_int(val))
          return bad("is not an integer");
        break;
      case param_type::float64:
        if (!parses_as_double(val))
          return bad("is not a number");
        break;
      case param_type::boolean:
        if (!parses_as_bool(val))
          return bad("is not a boolean (true or false)");
        break;
      case param_type::field:
        if (auto err = check_field(val))
          return err;
        break;
      case param_type::field_list:
        if (split_list(val).empty())
          return bad("names no fields");
        for (const auto& f : split_list(val))
          if (auto err = check_field(f))
            return err;
        break;
      case param_type::name_list:
        if (split_list(val).empty())
          return bad("names nothing");
        break;
    }
    out.emplace(p.name, val);
  }
  return out;
}

} // namespace weir
