#pragma once

#include <cstddef>
#include <vector>

#include "api/value.hpp"

namespace weir {

/// Flush thresholds for output buffers (DESIGN.md: 32 KiB or 1024 rows,
/// and at most 10 ms of delay).
struct batch_limits {
  size_t max_rows = 1024;
  size_t max_bytes = 32 * 1024;
  /// Flush period in milliseconds for partially filled buffers.
  int flush_interval_ms = 10;
};

/// Approximate in-memory size of a row, for the byte threshold.
size_t approximate_size(const row& r);

} // namespace weir
