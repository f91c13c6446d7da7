#include "scheduler/key_groups.hpp"

#include "api/value.hpp"

namespace weir {

key_group_range key_group_range_of(int max_parallelism, int parallelism,
                                   int subtask) {
  // 64-bit products: m * p reaches 2^30 at the limits, close enough to
  // INT_MAX that the sums below must not be done in int.
  auto m = static_cast<int64_t>(max_parallelism);
  auto p = static_cast<int64_t>(parallelism);
  auto i = static_cast<int64_t>(subtask);
  auto first = (i * m + p - 1) / p;
  auto last = ((i + 1) * m - 1) / p;
  return {static_cast<int>(first), static_cast<int>(last)};
}

int subtask_of_key_group(int max_parallelism, int parallelism, int kg) {
  // kg lies in subtask i's range iff i*m <= kg*p < (i+1)*m, so i is
  // floor(kg*p/m): the exact inverse of key_group_range_of.
  return static_cast<int>(static_cast<int64_t>(kg) * parallelism
                          / max_parallelism);
}

} // namespace weir
