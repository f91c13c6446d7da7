#include "runtime/batch.hpp"

namespace weir {

size_t approximate_size(const row& r) {
  size_t n = 8;
  for (const auto& v : r) {
    n += 9;
    if (v.type() == value_type::string)
      n += v.as_string().size();
  }
  return n;
}

} // namespace weir
