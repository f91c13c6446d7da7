#include "cluster/metric_rates.hpp"

#include <algorithm>

namespace weir {

namespace {

/// Rates from `before` (all zero for a whole-run average) to `now`.
subtask_rates between(const task_metrics& before, const task_metrics& now) {
  subtask_rates r;
  auto span = now.running_nanos - before.running_nanos;
  if (span <= 0)
    return r;
  auto per_second = [span](uint64_t a, uint64_t b) {
    return b < a ? 0.0 : static_cast<double>(b - a) * 1e9 / span;
  };
  r.rows_in = per_second(before.rows_in, now.rows_in);
  r.rows_out = per_second(before.rows_out, now.rows_out);
  r.bytes_in = per_second(before.bytes_in, now.bytes_in);
  r.bytes_out = per_second(before.bytes_out, now.bytes_out);
  for (size_t k = 0; k < now.operator_rows_out.size(); ++k)
    r.operator_rows_out.push_back(per_second(
      k < before.operator_rows_out.size() ? before.operator_rows_out[k] : 0,
      now.operator_rows_out[k]));
  auto ms_per_second = [span](int64_t a, int64_t b) {
    return std::clamp(static_cast<double>(b - a) * 1000.0 / span, 0.0, 1000.0);
  };
  r.backpressured_ms
    = ms_per_second(before.backpressured_nanos, now.backpressured_nanos);
  r.busy_ms = std::min(ms_per_second(before.busy_nanos, now.busy_nanos),
                       1000.0 - r.backpressured_ms);
  r.idle_ms = 1000.0 - r.backpressured_ms - r.busy_ms;
  return r;
}

} // namespace

const char* backpressure_level(double backpressured_ms_per_second) {
  if (backpressured_ms_per_second <= 100)
    return "ok";
  if (backpressured_ms_per_second <= 500)
    return "low";
  return "high";
}

subtask_rates metric_rates::update(const std::string& job, uint32_t execution,
                                   const std::string& instance,
                                   const task_metrics& m) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto key = std::make_pair(job, execution);
  auto i = entries_.find(key);
  if (i == entries_.end() || i->second.instance != instance
      || m.running_nanos < i->second.last.running_nanos
      || m.rows_out < i->second.last.rows_out) {
    entry e{instance, m, between(task_metrics{}, m)};
    entries_[key] = e;
    return e.rates;
  }
  auto& e = i->second;
  if (m.running_nanos - e.last.running_nanos >= window_) {
    e.rates = between(e.last, m);
    e.last = m;
  }
  return e.rates;
}

void metric_rates::forget(const std::string& job) {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto i = entries_.begin(); i != entries_.end();)
    i = i->first.first == job ? entries_.erase(i) : std::next(i);
}

} // namespace weir
