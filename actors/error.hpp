#pragma once

#include <cstdint>
#include <string>

#include "api/error.hpp"

namespace weir {

/// Errors of the actors/ module.
enum class actors_errc : uint8_t {
  task_failed = 1,
  invalid_job,
  unknown_job,
  no_slots,
  deployment_failed,
  version_mismatch,
};

caf::error make_error(actors_errc code, std::string text);

} // namespace weir
