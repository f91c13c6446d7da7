#pragma once

#include <exception>
#include <memory>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "api/operator.hpp"
#include "api/registry.hpp"
#include "runtime/output_gate.hpp"
#include "scheduler/plan.hpp"

namespace weir {

/// The operators of one subtask, head first, wired so that each one's
/// collector feeds the next and the last one's feeds the output gate.
/// Built by a task at deployment; operator exceptions propagate to the
/// caller (the task), which turns them into a task failure.
class operator_chain {
public:
  /// Instantiates the operators of execution vertex `exec` of `p`, a
  /// plan of job `job`. `now` becomes every operator's clock. Factory
  /// exceptions become an error naming the vertex.
  static caf::expected<std::unique_ptr<operator_chain>>
  make(const plan& p, size_t exec, output_gate& out,
       std::function<std::chrono::steady_clock::time_point()> now,
       const std::string& job = {});

  /// Whether the head operator is a source.
  bool is_source() const;

  /// Feeds one input row to the head operator.
  void on_record(const row& r);

  /// Polls the head (source) operator for at most `budget` rows.
  poll_result on_poll(size_t budget);

  /// The state of every operator of the chain for checkpoint
  /// `checkpoint_id`, head first, in one blob (a varint count, then each
  /// operator's bytes length-prefixed).
  std::string snapshot(uint64_t checkpoint_id = 0);

  /// Whether any operator commits output when checkpoints complete; such
  /// a subtask waits for the job's final commit after its input ended.
  bool is_committing() const;

  /// Tells every committing operator that checkpoint `id` (or
  /// final_checkpoint) is complete.
  void on_checkpoint_complete(uint64_t id);

  /// Restores a blob made by snapshot(); an error if it does not parse or
  /// holds a different number of operators.
  caf::error restore(const std::string& bytes);

  /// Signals end of input down the chain: each operator's end handler runs
  /// after every row its predecessor emitted on its own end reached it.
  void on_end_of_input();

  /// After a handler threw: the vertex id of the operator whose handler
  /// the exception escaped first (its origin, even when it passed through
  /// upstream operators' emit() calls), for failure messages.
  const std::string& current_vertex() const {
    return contexts_[thrower_].vertex;
  }

  /// Rows that entered the head operator.
  uint64_t rows_in() const {
    return rows_in_;
  }

private:
  class link;

  operator_chain() = default;

  /// Calls `f`, the handler of operator `i`, noting `i` as the origin of
  /// an exception that was not already seen escaping a downstream handler.
  template <class F>
  auto call(size_t i, F&& f) -> decltype(f());

  std::vector<operator_context> contexts_;
  std::vector<operator_behavior> ops_;
  std::vector<std::unique_ptr<collector>> links_;
  size_t thrower_ = 0;
  std::exception_ptr escaped_;
  uint64_t rows_in_ = 0;
};

} // namespace weir
