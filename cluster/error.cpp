#include "cluster/error.hpp"

namespace weir {

caf::error make_error(cluster_errc code, std::string text) {
  return make_weir_error(static_cast<uint8_t>(code), caf::atom("weir_clus"),
                         std::move(text));
}

} // namespace weir
