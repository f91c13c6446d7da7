#pragma once

#include <ctime>

namespace weir::bench {

/// Wall-clock and process CPU time (all threads), in seconds.
struct clocks {
  double wall = 0;
  double cpu = 0;

  static clocks now() {
    timespec w{};
    timespec c{};
    clock_gettime(CLOCK_MONOTONIC, &w);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c);
    return {
      static_cast<double>(w.tv_sec) + static_cast<double>(w.tv_nsec) * 1e-9,
      static_cast<double>(c.tv_sec) + static_cast<double>(c.tv_nsec) * 1e-9};
  }

  friend clocks operator-(clocks a, clocks b) {
    return {a.wall - b.wall, a.cpu - b.cpu};
  }
};

} // namespace weir::bench
