#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "actors/protocol.hpp"

namespace weir {

/// Per-second figures of one subtask, derived from two task_metrics
/// readings (Flink's ...PerSecond meters and ...TimeMsPerSecond gauges).
struct subtask_rates {
  double rows_in = 0;
  double rows_out = 0;
  double bytes_in = 0;
  double bytes_out = 0;
  /// Milliseconds per second spent backpressured, busy and idle; they add
  /// up to 1000.
  double backpressured_ms = 0;
  double busy_ms = 0;
  double idle_ms = 0;
  /// Rows per second each chained operator emitted, head first.
  std::vector<double> operator_rows_out;
};

/// Flink's levels: "ok" up to 10 % of the time backpressured, "low" up to
/// 50 %, "high" above.
const char* backpressure_level(double backpressured_ms_per_second);

/// Turns the cumulative counters subtasks report into rates. Each reading
/// is compared with the last one kept for that subtask; a new rate is
/// computed once at least `window` of the subtask's running time passed
/// since, so that many clients polling at once all see the same, steady
/// figures. The first reading of a subtask (and the first of a new
/// instance of it after a restart) gives averages over its whole run.
/// Thread-safe: the REST server's threads share one.
class metric_rates {
public:
  explicit metric_rates(int64_t window_nanos = 1000000000)
    : window_(window_nanos) {
  }

  /// The rates of subtask `execution` of `job` after reading `m` from
  /// `instance`, the task actor that runs it (a restart deploys another
  /// one; its counters start again from zero).
  subtask_rates update(const std::string& job, uint32_t execution,
                       const std::string& instance, const task_metrics& m);

  /// Forgets every subtask of `job` (it ended).
  void forget(const std::string& job);

private:
  struct entry {
    std::string instance;
    task_metrics last;
    subtask_rates rates;
  };

  int64_t window_;
  std::mutex mtx_;
  std::map<std::pair<std::string, uint32_t>, entry> entries_;
};

} // namespace weir
