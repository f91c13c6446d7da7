#include "scheduler/job_settings.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>

#include "api/text.hpp"
#include "scheduler/error.hpp"

namespace weir {

namespace {

using setter = std::function<caf::error(proto::JobSpec&, const std::string& key,
                                        const std::string& value)>;

caf::error bad_value(const std::string& key, const std::string& value,
                     const std::string& expected) {
  return make_error(scheduler_errc::parse_error, "invalid value '" + value
                                                   + "' for " + key
                                                   + ": expected " + expected);
}

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos)
    return {};
  auto e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

caf::expected<int64_t> parse_integer(const std::string& key,
                                     const std::string& text) {
  auto t = trim(text);
  if (t.empty())
    return bad_value(key, text, "an integer");
  errno = 0;
  char* end = nullptr;
  auto x = std::strtoll(t.c_str(), &end, 10);
  if (errno != 0 || end != t.c_str() + t.size())
    return bad_value(key, text, "an integer");
  return static_cast<int64_t>(x);
}

caf::expected<double> parse_number(const std::string& key,
                                   const std::string& text) {
  auto t = trim(text);
  errno = 0;
  char* end = nullptr;
  auto x = t.empty() ? 0.0 : std::strtod(t.c_str(), &end);
  if (t.empty() || errno != 0 || end != t.c_str() + t.size()
      || !std::isfinite(x))
    return bad_value(key, text, "a number");
  return x;
}

setter duration(void (*set)(proto::JobSpec&, int64_t)) {
  return [set](proto::JobSpec& spec, const std::string& key,
               const std::string& value) -> caf::error {
    auto ms = parse_duration_ms(key, value);
    if (!ms)
      return ms.error();
    set(spec, *ms);
    return caf::none;
  };
}

setter integer(void (*set)(proto::JobSpec&, int64_t)) {
  return [set](proto::JobSpec& spec, const std::string& key,
               const std::string& value) -> caf::error {
    auto x = parse_integer(key, value);
    if (!x)
      return x.error();
    if (*x < std::numeric_limits<int32_t>::min()
        || *x > std::numeric_limits<int32_t>::max())
      return bad_value(key, value, "a 32-bit integer");
    set(spec, *x);
    return caf::none;
  };
}

setter number(void (*set)(proto::JobSpec&, double)) {
  return [set](proto::JobSpec& spec, const std::string& key,
               const std::string& value) -> caf::error {
    auto x = parse_number(key, value);
    if (!x)
      return x.error();
    set(spec, *x);
    return caf::none;
  };
}

proto::CheckpointConfig& cp(proto::JobSpec& s) {
  return *s.mutable_checkpointing();
}

proto::RestartStrategyConfig& rs(proto::JobSpec& s) {
  return *s.mutable_restart_strategy();
}

const std::map<std::string, setter>& setters() {
  static const std::map<std::string, setter> table = {
    {"execution.checkpointing.interval",
     duration([](proto::JobSpec& s, int64_t x) { cp(s).set_interval_ms(x); })},
    {"execution.checkpointing.timeout",
     duration([](proto::JobSpec& s, int64_t x) { cp(s).set_timeout_ms(x); })},
    {"execution.checkpointing.min-pause",
     duration([](proto::JobSpec& s, int64_t x) { cp(s).set_min_pause_ms(x); })},
    {"execution.checkpointing.max-concurrent-checkpoints",
     integer([](proto::JobSpec& s, int64_t x) {
       cp(s).set_max_concurrent(static_cast<int32_t>(x));
     })},
    {"execution.checkpointing.tolerable-failed-checkpoints",
     integer([](proto::JobSpec& s, int64_t x) {
       cp(s).set_tolerable_failures(static_cast<int32_t>(x));
     })},
    {"execution.checkpointing.mode",
     [](proto::JobSpec& s, const std::string& key,
        const std::string& value) -> caf::error {
       auto v = trim(value);
       for (auto& c : v)
         c = static_cast<char>(
           std::toupper(static_cast<unsigned char>(c == '-' ? '_' : c)));
       if (v == "EXACTLY_ONCE")
         cp(s).set_mode(proto::EXACTLY_ONCE);
       else if (v == "AT_LEAST_ONCE")
         cp(s).set_mode(proto::AT_LEAST_ONCE);
       else
         return bad_value(key, value, "EXACTLY_ONCE or AT_LEAST_ONCE");
       return caf::none;
     }},
    {"state.checkpoints.dir",
     [](proto::JobSpec& s, const std::string& key,
        const std::string& value) -> caf::error {
       if (trim(value).empty())
         return bad_value(key, value, "a directory");
       cp(s).set_dir(value);
       return caf::none;
     }},
    {"state.checkpoints.num-retained",
     integer([](proto::JobSpec& s, int64_t x) {
       cp(s).set_retained(static_cast<int32_t>(x));
     })},
    {"restart-strategy.type",
     [](proto::JobSpec& s, const std::string& key,
        const std::string& value) -> caf::error {
       auto v = trim(value);
       static const std::vector<std::string> types
         = {"none", "fixed-delay", "exponential-delay", "failure-rate"};
       for (const auto& t : types)
         if (v == t) {
           rs(s).set_type(v);
           return caf::none;
         }
       return bad_value(key, value, join(types, ", "));
     }},
    {"restart-strategy.fixed-delay.attempts",
     integer([](proto::JobSpec& s, int64_t x) {
       rs(s).set_attempts(static_cast<uint32_t>(std::max<int64_t>(x, 0)));
     })},
    {"restart-strategy.fixed-delay.delay",
     duration([](proto::JobSpec& s, int64_t x) { rs(s).set_delay_ms(x); })},
    {"restart-strategy.exponential-delay.initial-backoff",
     duration(
       [](proto::JobSpec& s, int64_t x) { rs(s).set_initial_backoff_ms(x); })},
    {"restart-strategy.exponential-delay.max-backoff",
     duration(
       [](proto::JobSpec& s, int64_t x) { rs(s).set_max_backoff_ms(x); })},
    {"restart-strategy.exponential-delay.backoff-multiplier",
     number(
       [](proto::JobSpec& s, double x) { rs(s).set_backoff_multiplier(x); })},
    {"restart-strategy.exponential-delay.reset-backoff-threshold",
     duration([](proto::JobSpec& s, int64_t x) {
       rs(s).set_reset_backoff_threshold_ms(x);
     })},
    {"restart-strategy.exponential-delay.jitter-factor",
     number([](proto::JobSpec& s, double x) { rs(s).set_jitter_factor(x); })},
    {"restart-strategy.failure-rate.max-failures-per-interval",
     integer([](proto::JobSpec& s, int64_t x) {
       rs(s).set_max_failures_per_interval(
         static_cast<uint32_t>(std::max<int64_t>(x, 0)));
     })},
    {"restart-strategy.failure-rate.failure-rate-interval",
     duration([](proto::JobSpec& s, int64_t x) {
       rs(s).set_failure_rate_interval_ms(x);
     })},
    {"restart-strategy.failure-rate.delay",
     duration([](proto::JobSpec& s, int64_t x) { rs(s).set_delay_ms(x); })},
  };
  return table;
}

} // namespace

const std::vector<std::string>& job_setting_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> out;
    for (const auto& kvp : setters())
      out.push_back(kvp.first);
    return out;
  }();
  return keys;
}

caf::expected<int64_t> parse_duration_ms(const std::string& key,
                                         const std::string& text) {
  auto t = trim(text);
  size_t digits = 0;
  while (digits < t.size()
         && std::isdigit(static_cast<unsigned char>(t[digits])))
    ++digits;
  const char* expected
    = "a duration such as 500ms, 10s, 2min or 1h (a bare number is ms)";
  if (digits == 0 || digits > 15)
    return bad_value(key, text, expected);
  auto n = std::stoll(t.substr(0, digits));
  auto unit = trim(t.substr(digits));
  static const std::map<std::string, int64_t> units = {{"", 1},
                                                       {"ms", 1},
                                                       {"milli", 1},
                                                       {"millis", 1},
                                                       {"s", 1000},
                                                       {"sec", 1000},
                                                       {"secs", 1000},
                                                       {"second", 1000},
                                                       {"seconds", 1000},
                                                       {"min", 60000},
                                                       {"m", 60000},
                                                       {"minute", 60000},
                                                       {"minutes", 60000},
                                                       {"h", 3600000},
                                                       {"hour", 3600000},
                                                       {"hours", 3600000}};
  auto i = units.find(unit);
  if (i == units.end())
    return bad_value(key, text, expected);
  if (n > std::numeric_limits<int64_t>::max() / i->second)
    return bad_value(key, text, expected);
  return n * i->second;
}

caf::error apply_job_setting(proto::JobSpec& spec, const std::string& key,
                             const std::string& value) {
  auto i = setters().find(key);
  if (i == setters().end()) {
    auto hint = nearest(key, job_setting_keys());
    return make_error(
      scheduler_errc::parse_error,
      "unknown setting '" + key + "'"
        + (hint.empty() ? std::string{} : "; did you mean '" + hint + "'?"));
  }
  return i->second(spec, key, value);
}

caf::error apply_job_settings(proto::JobSpec& spec,
                              const std::vector<std::string>& settings) {
  for (const auto& s : settings) {
    auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      return make_error(scheduler_errc::parse_error,
                        "a setting must look like key=value, got '" + s + "'");
    if (auto err
        = apply_job_setting(spec, trim(s.substr(0, eq)), s.substr(eq + 1)))
      return err;
  }
  return caf::none;
}

} // namespace weir
