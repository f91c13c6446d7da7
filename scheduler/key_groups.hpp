#pragma once

#include <cstdint>

#include "api/value.hpp"

namespace weir {

/// Default number of key groups (and upper bound for rescaling).
constexpr int default_max_parallelism = 128;

/// A contiguous, inclusive range of key groups owned by one subtask.
struct key_group_range {
  int first = 0;
  int last = -1;

  bool contains(int kg) const {
    return kg >= first && kg <= last;
  }
  int size() const {
    return last - first + 1;
  }
  friend bool operator==(key_group_range a, key_group_range b) {
    return a.first == b.first && a.last == b.last;
  }
};

// key_group_of(hash, max_parallelism) lives in api/value.hpp: keyed state
// (api/state.hpp) needs it too.

/// The key groups owned by `subtask` of `parallelism` subtasks (as Flink:
/// [ceil(i*m/p), ceil((i+1)*m/p) - 1]). Ranges of all subtasks partition
/// [0, m).
key_group_range key_group_range_of(int max_parallelism, int parallelism,
                                   int subtask);

/// The subtask that owns key group `kg` (the inverse of the above).
int subtask_of_key_group(int max_parallelism, int parallelism, int kg);

} // namespace weir
