#pragma once

#include <caf/error.hpp>

#include "api/registry.hpp"

namespace weir {

/// Registers Weir's built-in operators into `registry`:
///
/// sources
///   sequence     int64 rows {value} over [from, to) (to absent: unbounded),
///                split into contiguous sub-ranges across subtasks;
///                optional `rate` (rows/s over all subtasks).
///   file_source  lines of a text file (`format: lines`, field {line}) or
///                CSV (`format: csv`, fields named by `fields`, typed by
///                `types`), split across subtasks by byte ranges.
///   nexmark      the Nexmark benchmark's events [0, `events`) as wide rows
///                (operators/nexmark/generator.hpp), subtask i of p taking
///                numbers i, i+p, ...; optional `rate`, `seed`,
///                `event_rate`, `first_event_time`, `out_of_orderness`.
/// transforms
///   tokenize     splits the string field `field` into words (letters and
///                digits; lower-cased unless `lowercase: false`); one row
///                per word with the field replaced by the word (renamed to
///                `as` when given).
///   filter       keeps rows where `field` `op` `value` holds
///                (op: == != < <= > >= contains).
///   select       keeps the fields listed in `fields`, in that order.
///   aggregate    keyed by `key` (fields); `function` count|sum|min|max of
///                `field` (not for count); emits {key..., as} once per key at
///                end of input, or on every update with `emit: updates`.
/// sinks
///   print        writes rows to stdout as "subtask> csv" (Flink's style).
///   file_sink    writes CSV files `path`/part-<job>-<subtask>-<n>.csv,
///                committed per checkpoint and at the end (exactly once).
///   discard      drops rows (benchmarks).
caf::error register_builtin_operators(operator_registry& registry);

} // namespace weir
