#pragma once

#include <cstdint>
#include <string>

#include "api/error.hpp"

namespace weir {

/// Errors of the scheduler/ module: loading, validating and planning jobs.
enum class scheduler_errc : uint8_t {
  parse_error = 1,
  unfilled_placeholder,
  unused_param,
  invalid_graph,
  invalid_parallelism,
  not_enough_slots,
  illegal_transition,
};

caf::error make_error(scheduler_errc code, std::string text);

} // namespace weir
