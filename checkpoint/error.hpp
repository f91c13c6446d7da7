#pragma once

#include <cstdint>
#include <string>

#include "api/error.hpp"

namespace weir {

/// Errors of the checkpoint/ module.
enum class checkpoint_errc : uint8_t {
  io_error = 1,
  not_a_state_file,
  unsupported_version,
  corrupt,
  bad_settings,
  /// A checkpoint or savepoint that does not fit the job restoring from it.
  mismatch,
};

caf::error make_error(checkpoint_errc code, std::string text);

} // namespace weir
