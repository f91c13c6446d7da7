#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <caf/error.hpp>

#include "api/operator.hpp"
#include "api/registry.hpp"
#include "api/text.hpp"

/// Helpers shared by the built-in operators; not part of the public API.
namespace weir::builtins {

/// Returns the value of `name` in `params`, or `fallback` when absent.
std::string param_or(const parameters& params, const std::string& name,
                     const std::string& fallback = {});

/// A bad_parameter error whose text starts with the operator's name.
caf::error bad_param(const std::string& op, const std::string& text);

/// An unknown_field error when one of `fields` (the value of parameter
/// `param`) is not among `input_fields`; output_fields functions use it
/// because they may run before or without resolve_params.
caf::error check_fields_exist(const std::string& op, const std::string& param,
                              const std::vector<std::string>& fields,
                              const std::vector<std::string>& input_fields);

/// An error when `value` is not one of `allowed`, naming the parameter and
/// listing the allowed values.
caf::error check_one_of(const std::string& op, const std::string& param,
                        const std::string& value,
                        const std::vector<std::string>& allowed);

/// Position of `field` among the context's input fields. Throws
/// std::runtime_error naming the operator and the field when absent (the
/// planner has checked it, so this only fires on a planner bug).
size_t input_position(const operator_context& ctx, const std::string& op,
                      const std::string& field);

// -- descriptors, one per built-in operator ----------------------------------

operator_descriptor sequence_descriptor();
operator_descriptor file_source_descriptor();
operator_descriptor nexmark_descriptor();
operator_descriptor tokenize_descriptor();
operator_descriptor filter_descriptor();
operator_descriptor select_descriptor();
operator_descriptor aggregate_descriptor();
operator_descriptor compute_descriptor();
operator_descriptor interval_join_descriptor();
operator_descriptor window_join_descriptor();
operator_descriptor print_descriptor();
operator_descriptor file_sink_descriptor();
operator_descriptor discard_descriptor();

} // namespace weir::builtins
