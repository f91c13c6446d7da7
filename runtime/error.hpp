#pragma once

#include <cstdint>
#include <string>

#include "api/error.hpp"

namespace weir {

/// Errors of the runtime/ module: running operators and moving data.
enum class runtime_errc : uint8_t {
  operator_failed = 1,
  protocol_violation,
};

caf::error make_error(runtime_errc code, std::string text);

} // namespace weir
