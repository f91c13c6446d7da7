#include "checkpoint/error.hpp"

namespace weir {

caf::error make_error(checkpoint_errc code, std::string text) {
  return make_weir_error(static_cast<uint8_t>(code), caf::atom("weir_chk"),
                         std::move(text));
}

} // namespace weir
