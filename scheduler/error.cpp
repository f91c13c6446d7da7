#include "scheduler/error.hpp"

#include <utility>

namespace weir {

caf::error make_error(scheduler_errc code, std::string text) {
  return make_weir_error(static_cast<uint8_t>(code), caf::atom("weir_sched"),
                         std::move(text));
}

} // namespace weir
