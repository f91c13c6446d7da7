#include "actors/error.hpp"

namespace weir {

caf::error make_error(actors_errc code, std::string text) {
  return make_weir_error(static_cast<uint8_t>(code), caf::atom("weir_actor"),
                         std::move(text));
}

} // namespace weir
