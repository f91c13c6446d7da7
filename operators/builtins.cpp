#include "operators/builtins.hpp"

#include <algorithm>
#include <stdexcept>

#include "operators/support.hpp"
#include "operators/window.hpp"

namespace weir {

namespace builtins {

std::string param_or(const parameters& params, const std::string& name,
                     const std::string& fallback) {
  auto i = params.find(name);
  return i == params.end() ? fallback : i->second;
}

caf::error bad_param(const std::string& op, const std::string& text) {
  return make_error(api_errc::bad_parameter, op + ": " + text);
}

caf::error check_fields_exist(const std::string& op, const std::string& param,
                              const std::vector<std::string>& fields,
                              const std::vector<std::string>& input_fields) {
  for (const auto& f : fields)
    if (std::find(input_fields.begin(), input_fields.end(), f)
        == input_fields.end())
      return make_error(
        api_errc::unknown_field,
        op + ": parameter '" + param + "' names field '" + f
          + "', which its input does not have (input: "
          + (input_fields.empty() ? std::string{"none"} : join(input_fields))
          + ")");
  return caf::none;
}

caf::error check_one_of(const std::string& op, const std::string& param,
                        const std::string& value,
                        const std::vector<std::string>& allowed) {
  if (std::find(allowed.begin(), allowed.end(), value) != allowed.end())
    return caf::none;
  return bad_param(op, "parameter '" + param + "' is '" + value
                         + "'; expected one of: " + join(allowed, " "));
}

size_t input_position(const operator_context& ctx, const std::string& op,
                      const std::string& field) {
  auto i = ctx.input_index(field);
  if (i < 0)
    throw std::runtime_error(op + " (vertex '" + ctx.vertex
                             + "'): input has no field '" + field + "'");
  return static_cast<size_t>(i);
}

} // namespace builtins

caf::error register_builtin_operators(operator_registry& registry) {
  using namespace builtins;
  for (auto make : {sequence_descriptor, file_source_descriptor,
                    nexmark_descriptor, tokenize_descriptor, filter_descriptor,
                    select_descriptor, aggregate_descriptor, compute_descriptor,
                    interval_join_descriptor, window_join_descriptor,
                    print_descriptor, file_sink_descriptor, discard_descriptor})
    if (auto err = registry.add(make()))
      return err;
  return registry.add(window_descriptor());
}

} // namespace weir
