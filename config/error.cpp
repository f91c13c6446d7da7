#include "config/error.hpp"

#include <utility>

namespace weir {

caf::error make_error(config_errc code, std::string text) {
  return make_weir_error(static_cast<uint8_t>(code), caf::atom("weir_conf"),
                         std::move(text));
}

} // namespace weir
