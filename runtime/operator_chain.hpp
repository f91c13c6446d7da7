#pragma once

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "api/operator.hpp"
#include "api/registry.hpp"
#include "runtime/output_gate.hpp"
#include "runtime/timer_queue.hpp"
#include "scheduler/plan.hpp"

namespace weir {

class keyed_state_backend;

/// A checkpointed subtask's chain state offered to a restoring chain: what
/// snapshot() returned, and which subtask of how many took it. After
/// rescaling a subtask restores from several of them.
struct restore_source {
  std::string bytes;
  int subtask = 0;
  int parallelism = 1;
};

/// What a chain restores from: the vertices the checkpoint holds state of
/// (their operators start as restored, operator_context::restored, even
/// when none of their state falls to this subtask), and the blobs of the
/// old subtasks whose state does.
struct chain_restore {
  std::vector<std::string> vertices;
  std::vector<restore_source> sources;
};

/// The operators of one subtask, head first, wired so that each one's
/// collector feeds the next and the last one's feeds the output gate.
/// Built by a task at deployment; operator exceptions propagate to the
/// caller (the task), which turns them into a task failure.
class operator_chain {
public:
  /// Instantiates the operators of execution vertex `exec` of `p`, a
  /// plan of job `job`, and restores them from `restore` unless it is null
  /// (see restore()). `now` becomes every operator's clock. Factory
  /// exceptions and restore failures become an error naming the vertex.
  static caf::expected<std::unique_ptr<operator_chain>>
  make(const plan& p, size_t exec, output_gate& out,
       std::function<std::chrono::steady_clock::time_point()> now,
       const std::string& job = {}, const chain_restore* restore = nullptr);

  ~operator_chain();

  /// Whether the head operator is a source.
  bool is_source() const;

  /// Feeds one row of input `input` (0, or 1 for the second input of a
  /// two-input head) to the head operator.
  void on_record(const row& r, int input = 0);

  /// Polls the head (source) operator for at most `budget` rows.
  poll_result on_poll(size_t budget);

  // -- event time -------------------------------------------------------------

  /// Advances the chain's watermark to `wm` (ignored unless later): for
  /// each operator, head first, its due event-time timers fire, then its
  /// watermark handler runs; rows they emit reach the next operator before
  /// it sees the watermark.
  void on_watermark(int64_t wm);

  /// Fires the processing-time timers due at `now` (ms since epoch).
  void on_processing_time(int64_t now);

  /// The earliest processing-time timer of any operator.
  std::optional<int64_t> next_processing_timer() const;

  /// The chain's watermark: the last one passed to on_watermark(), or the
  /// restored one.
  int64_t watermark() const {
    return watermark_;
  }

  /// Whether the head is a source with a watermark strategy.
  bool generates_watermarks() const {
    return generator_.enabled;
  }

  /// For generates_watermarks(): the strategy, and the watermark it allows
  /// now from the timestamps the head emitted (min_watermark before any).
  const watermark_spec& watermark_strategy() const {
    return generator_;
  }
  int64_t generated_watermark() const;

  /// Rows the head operator emitted so far (for idleness).
  uint64_t head_rows_out() const {
    return rows_out_.empty() ? 0 : rows_out_.front();
  }

  /// The processing time operators see: the task clock in milliseconds
  /// since the Unix epoch.
  int64_t processing_time() const;

  /// The state of every operator of the chain for checkpoint
  /// `checkpoint_id`, head first, in one blob:
  ///
  ///   version       3
  ///   watermark     the chain's watermark (int64 + 2^63, as a varint)
  ///   max timestamp the largest event time the head emitted, same form
  ///   operators     count, then per operator, head first:
  ///     vertex      the vertex id (length-prefixed)
  ///     state       what its snapshot handler returned (length-prefixed)
  ///     max par.    max parallelism of its keyed state (0: not keyed)
  ///     key groups  count of non-empty key groups of its keyed state,
  ///                 then per group its number and its blob
  ///                 (keyed_state_backend's format, length-prefixed)
  ///
  /// State is found by vertex id, so a restoring job may chain its
  /// operators differently.
  std::string snapshot(uint64_t checkpoint_id = 0);

  /// Whether any operator commits output when checkpoints complete; such
  /// a subtask waits for the job's final commit after its input ended.
  bool is_committing() const;

  /// Tells every committing operator that checkpoint `id` (or
  /// final_checkpoint) is complete.
  void on_checkpoint_complete(uint64_t id);

  /// Restores the chain from the state of old subtasks (snapshot()
  /// blobs). For each operator of this chain, by vertex id: keyed state
  /// comes from the key groups this subtask owns, whichever old subtask
  /// held them; the operator state of old subtask j goes to the restore
  /// handler of subtask j % parallelism. The watermark and the largest
  /// emitted timestamp become the minimum over the blobs (version 2 blobs
  /// carry none). An error if a blob does not
  /// parse, holds a vertex twice, or a key group does not restore;
  /// exceptions of restore handlers propagate (see current_vertex()).
  /// Call it once, before any other event; make() does when asked to.
  caf::error restore(const std::vector<restore_source>& sources);

  /// The vertex ids of the chain, head first.
  std::vector<std::string> vertices() const;

  /// The vertex ids of the operators that keep state (a snapshot handler
  /// or keyed state).
  std::vector<std::string> stateful_vertices() const;

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

  /// Rows each operator of the chain emitted (side outputs included), head
  /// first: operator i's input is operator i-1's output.
  const std::vector<uint64_t>& operator_rows_out() const {
    return rows_out_;
  }

private:
  class link;

  operator_chain() = default;

  /// Calls `f`, the handler of operator `i`, noting `i` as the origin of
  /// an exception that was not already seen escaping a downstream handler.
  template <class F>
  auto call(size_t i, F&& f) -> decltype(f());

  /// Keyed state of operator i, and where its key sits in input rows.
  struct keyed {
    std::unique_ptr<keyed_state_backend> backend;
    std::vector<size_t> key_indexes;
    /// Of a two-input operator's second input.
    std::vector<size_t> second_key_indexes;
    /// Reused for key lookups: no allocation per record.
    row scratch;
  };

  /// Makes the key of `r` current in operator i's keyed state, if any.
  void select_key(size_t i, const row& r, int input = 0);

  /// Notes the event time of a row the head emitted.
  void observe(const row& r);

  /// Fires operator i's due event-time timers.
  void fire_event_timers(size_t i);

  std::vector<operator_context> contexts_;
  std::vector<keyed> keyed_;
  std::vector<operator_behavior> ops_;
  std::vector<std::unique_ptr<collector>> links_;
  std::vector<std::unique_ptr<timer_queue>> timers_;
  std::function<std::chrono::steady_clock::time_point()> now_;
  watermark_spec generator_;
  int64_t watermark_ = min_watermark;
  int64_t max_timestamp_ = min_watermark;
  /// Rows each operator emitted, side outputs included, head first.
  std::vector<uint64_t> rows_out_;
  size_t thrower_ = 0;
  std::exception_ptr escaped_;
  uint64_t rows_in_ = 0;
};

} // namespace weir
