#pragma once

#include <cstdint>
#include <string>

#include "api/error.hpp"

namespace weir {

/// Errors of the cluster/ module: cluster processes, the REST API and user
/// libraries.
enum class cluster_errc : uint8_t {
  /// A port cannot be opened.
  cannot_listen = 1,
  /// A user library cannot be stored, fetched or loaded, or lacks its entry
  /// point.
  bad_library,
};

caf::error make_error(cluster_errc code, std::string text);

} // namespace weir
