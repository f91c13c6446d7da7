#pragma once

#include <cstdint>
#include <string>

#include "api/error.hpp"

namespace weir {

/// Errors of the config/ module: loading the cluster config, checking its
/// ports and setting up logging. Every one is reported at start-up.
enum class config_errc : uint8_t {
  /// The file cannot be read.
  io_error = 1,
  /// The file is not well-formed YAML, or not a mapping of keys to values.
  syntax_error,
  /// A key no setting has.
  unknown_key,
  /// A key given twice in one file (flat and nested, say).
  duplicate_key,
  /// A value of the wrong type or out of its range.
  bad_value,
  /// Values that contradict each other (heartbeat.timeout <= interval).
  inconsistent,
  /// A port the process must listen on is taken.
  port_in_use,
  /// The log file cannot be opened.
  logging_failed,
};

caf::error make_error(config_errc code, std::string text);

} // namespace weir
