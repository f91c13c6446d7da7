#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/registry.hpp"
#include "api/value.hpp"

namespace weir {

/// A user-supplied aggregate for windows (Flink's AggregateFunction): it
/// folds rows into an accumulator, merges accumulators (of the panes of a
/// sliding window, of merging session windows) and turns one into result
/// fields. Accumulators are lists of values so that they are checkpointed
/// with the window's keyed state. Shared by every window of a subtask:
/// keep it free of mutable state.
class aggregate_function {
public:
  virtual ~aggregate_function() = default;

  /// Names of the fields result() returns, in order.
  virtual std::vector<std::string> result_fields() const = 0;

  /// A fresh accumulator.
  virtual std::vector<value> create() const = 0;

  /// Folds `input` (a row of the window's input fields) into `acc`.
  virtual void add(std::vector<value>& acc, const row& input) const = 0;

  /// Folds accumulator `other` into `acc`.
  virtual void merge(std::vector<value>& acc,
                     const std::vector<value>& other) const = 0;

  /// The result fields for `acc`.
  virtual std::vector<value> result(const std::vector<value>& acc) const = 0;
};

/// Builds a user aggregate for a window vertex from the vertex's input
/// field names; throws std::invalid_argument (naming the problem) when the
/// input does not suit it. Called when the job is planned and by every
/// subtask.
using aggregate_factory
  = std::function<std::shared_ptr<const aggregate_function>(
    const std::vector<std::string>& input_fields)>;

/// The keyed window operator (registered as "window"): tumbling, sliding
/// and session windows on event or processing time, with count, sum, min,
/// max, avg and top aggregates, allowed lateness and a "late" side output.
/// Event-time windows fire when the watermark reaches their last
/// millisecond, processing-time windows once the clock has passed it;
/// processing-time windows still open when the input ends fire then.
/// With `aggregate`, also accepts `aggregate_name` in its aggregates list,
/// computed by the user aggregate the factory makes; register the result
/// under `name` from an operator library (api/library.hpp).
operator_descriptor window_descriptor(std::string name = "window",
                                      std::string aggregate_name = {},
                                      aggregate_factory aggregate = {});

} // namespace weir
