#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include <caf/meta/type_name.hpp>

namespace weir {

/// Identifies one checkpoint or savepoint of a job. The checkpoint
/// coordinator hands out ids in increasing order over the lifetime of a job,
/// across restarts, starting at 1; barriers carry them in-band. A strong type
/// so that a checkpoint id never mixes with a channel or subtask index.
struct checkpoint_id {
  uint64_t value = 0;

  friend bool operator==(checkpoint_id a, checkpoint_id b) {
    return a.value == b.value;
  }
  friend bool operator!=(checkpoint_id a, checkpoint_id b) {
    return a.value != b.value;
  }
  friend bool operator<(checkpoint_id a, checkpoint_id b) {
    return a.value < b.value;
  }
  friend bool operator<=(checkpoint_id a, checkpoint_id b) {
    return a.value <= b.value;
  }
  friend bool operator>(checkpoint_id a, checkpoint_id b) {
    return a.value > b.value;
  }
  friend bool operator>=(checkpoint_id a, checkpoint_id b) {
    return a.value >= b.value;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, checkpoint_id& x) {
  return f(caf::meta::type_name("weir::checkpoint_id"), x.value);
}

/// Renders the id as its decimal number, as Flink prints checkpoint ids.
inline std::string to_string(checkpoint_id x) {
  return std::to_string(x.value);
}

} // namespace weir

namespace std {

template <>
struct hash<weir::checkpoint_id> {
  size_t operator()(weir::checkpoint_id x) const noexcept {
    return hash<uint64_t>{}(x.value);
  }
};

} // namespace std
