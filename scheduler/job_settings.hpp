#pragma once

#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "weir/proto/job_spec.pb.h"

namespace weir {

/// Configuration keys a submission may set on top of its descriptor
/// (`weir run -D key=value`), with Flink's names:
///
///   execution.checkpointing.interval                  duration
///   execution.checkpointing.timeout                   duration
///   execution.checkpointing.min-pause                 duration
///   execution.checkpointing.max-concurrent-checkpoints  integer
///   execution.checkpointing.tolerable-failed-checkpoints integer
///   execution.checkpointing.mode                      EXACTLY_ONCE |
///   AT_LEAST_ONCE state.checkpoints.dir                             path
///   state.checkpoints.num-retained                    integer
///   restart-strategy.type                             none | fixed-delay |
///                                                     exponential-delay |
///                                                     failure-rate
///   restart-strategy.fixed-delay.attempts             integer
///   restart-strategy.fixed-delay.delay                duration
///   restart-strategy.exponential-delay.initial-backoff  duration
///   restart-strategy.exponential-delay.max-backoff    duration
///   restart-strategy.exponential-delay.backoff-multiplier  number
///   restart-strategy.exponential-delay.reset-backoff-threshold  duration
///   restart-strategy.exponential-delay.jitter-factor  number
///   restart-strategy.failure-rate.max-failures-per-interval  integer
///   restart-strategy.failure-rate.failure-rate-interval  duration
///   restart-strategy.failure-rate.delay               duration
///
/// Durations are Flink's: a number with a unit (`ms`, `s`, `min`, `h`;
/// `500 ms`, `10s`) or a bare number of milliseconds.
const std::vector<std::string>& job_setting_keys();

/// Parses a duration as above into milliseconds; an error naming `key`.
caf::expected<int64_t> parse_duration_ms(const std::string& key,
                                         const std::string& text);

/// Sets `key` to `value` in `spec`. Unknown keys (with the nearest known
/// one as a hint) and malformed values are errors naming the key; ranges
/// are checked later, where the settings are resolved.
caf::error apply_job_setting(proto::JobSpec& spec, const std::string& key,
                             const std::string& value);

/// Applies "key=value" strings in order.
caf::error apply_job_settings(proto::JobSpec& spec,
                              const std::vector<std::string>& settings);

} // namespace weir
