#pragma once

#include <cstdint>
#include <string>

#include <caf/atom.hpp>
#include <caf/error.hpp>

namespace weir {

/// Errors of the api/ module (operator registry and parameters).
enum class api_errc : uint8_t {
  unknown_operator = 1,
  duplicate_operator,
  unknown_parameter,
  missing_parameter,
  bad_parameter,
  unknown_field,
};

/// Builds an error of any Weir module: `code` in `category`, with `text`
/// (a full sentence naming what is wrong) as its context.
caf::error make_weir_error(uint8_t code, caf::atom_value category,
                           std::string text);

caf::error make_error(api_errc code, std::string text);

/// The human-readable text of an error made by make_weir_error; falls back
/// to CAF's rendering for foreign errors.
std::string error_text(const caf::error& err);

} // namespace weir
