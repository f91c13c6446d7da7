#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "api/timers.hpp"
#include "api/value.hpp"

namespace weir {

/// Receives the rows an operator emits. The task behind it routes them to
/// the next operator of the chain or to the output partitioners.
class collector {
public:
  virtual ~collector() = default;

  /// Emits one row downstream.
  virtual void emit(row r) = 0;

  /// Emits one row to the side output `output` (declared by the operator's
  /// descriptor); rows of a side output no edge takes are dropped.
  virtual void emit_to(const std::string& output, row r) {
    (void)output;
    (void)r;
  }
};

/// Tag of the end-of-input handler: `[](weir::end_of_input_t, collector&)`.
struct end_of_input_t {};
constexpr end_of_input_t end_of_input{};

/// Tag of a source's poll handler:
/// `[](weir::poll_t, collector&, size_t budget) -> weir::poll_result`.
struct poll_t {};
constexpr poll_t poll{};

/// Tag of the watermark handler, called when the operator's watermark
/// advances: `[](weir::watermark_t, int64_t watermark, collector&)`, after
/// the event-time timers up to `watermark` fired and before the watermark
/// goes on downstream. The last call, at end of input, has max_watermark.
struct watermark_t {};
constexpr watermark_t watermark{};

/// Tag of the timer handler, called for each timer that fires, with its
/// key current in the keyed state:
/// `[](weir::timer_fired_t, const weir::fired_timer&, collector&)`.
struct timer_fired_t {};
constexpr timer_fired_t timer_fired{};

/// Tag of the second input's record handler of two-input operators
/// (operator_descriptor::inputs = 2, joins):
/// `[](weir::second_input_t, const row&, collector&)`; the plain record
/// handler takes the first input's rows.
struct second_input_t {};
constexpr second_input_t second_input{};

/// Tag of the snapshot handler, called when a checkpoint barrier passes
/// the operator: `[](weir::snapshot_t) -> std::string`, returning the
/// operator's state as bytes (encode rows with api/codec.hpp, or use
/// api/state.hpp's backends and their snapshot()). Operators that commit
/// output per checkpoint take the checkpoint's id as well:
/// `[](weir::snapshot_t, uint64_t checkpoint_id) -> std::string`.
struct snapshot_t {};
constexpr snapshot_t snapshot{};

/// Tag of the commit handler of two-phase-commit operators, called once
/// checkpoint `id` is complete on every subtask of the job:
/// `[](weir::checkpoint_complete_t, uint64_t id)`. Whatever the operator
/// pre-committed in its snapshots up to `id` may become visible now.
/// Notifications can be skipped (a later id covers earlier ones) and come
/// again after a restore; handlers must be idempotent.
struct checkpoint_complete_t {};
constexpr checkpoint_complete_t checkpoint_complete{};

/// The id passed to the commit handler when the whole job has finished:
/// everything the operator produced, including what it pre-committed at
/// end of input, is final. A subtask whose operators have a commit
/// handler stays alive after its input ended until this commit (or a
/// restart) arrives.
constexpr uint64_t final_checkpoint = UINT64_MAX;

/// Tag of the restore handler, called before any other handler when a
/// subtask starts from a checkpoint: `[](weir::restore_t, const
/// std::string& bytes)`, with what the snapshot handler returned.
struct restore_t {};
constexpr restore_t restore{};

/// What a source's poll handler reports after emitting at most `budget` rows.
struct poll_result {
  enum kind_t {
    /// More rows are ready: poll again as soon as outputs have room.
    more,
    /// Nothing now: poll again after `wait` (rate limits, empty inputs).
    wait,
    /// The source is exhausted; end of input follows downstream.
    finished,
  };
  kind_t kind = more;
  std::chrono::nanoseconds delay{0};

  static poll_result ready() {
    return {more, std::chrono::nanoseconds{0}};
  }
  static poll_result wait_for(std::chrono::nanoseconds d) {
    return {wait, d};
  }
  static poll_result done() {
    return {finished, std::chrono::nanoseconds{0}};
  }
};

class keyed_state_backend;

/// Operator parameters as written in the descriptor, all strings.
using parameters = std::map<std::string, std::string>;

/// What an operator factory learns about the subtask it runs in. Owned by
/// the task; valid for the operator's whole life.
struct operator_context {
  /// The job's id (32 hex digits); empty outside a job (operator tests).
  std::string job;
  /// The vertex id from the descriptor.
  std::string vertex;
  /// Index of this parallel instance, in [0, parallelism).
  int subtask = 0;
  int parallelism = 1;
  int max_parallelism = 128;
  /// Parameters after defaults were applied and types checked.
  parameters params;
  /// Names of the fields of incoming rows (empty for sources).
  std::vector<std::string> input_fields;
  /// Two-input operators: the field names of the second input.
  std::vector<std::string> second_input_fields;
  /// Names of the fields this operator emits.
  std::vector<std::string> output_fields;
  /// The task's clock; deterministic under the test scheduler.
  std::function<std::chrono::steady_clock::time_point()> now
    = [] { return std::chrono::steady_clock::now(); };
  /// Keyed operators only (their descriptor names a key parameter): the
  /// subtask's keyed state (api/state.hpp), owned by the task. The task
  /// makes each record's key current before the record handler runs;
  /// other handlers iterate keys with for_each_key(). The task snapshots
  /// and restores it per key group, so keyed state follows its keys when
  /// a job is rescaled. Null for other operators.
  keyed_state_backend* keyed_state = nullptr;
  /// The operator's watermark, clock and timers (api/timers.hpp), owned by
  /// the task. Every operator has one; registering timers needs keyed
  /// state (it throws std::logic_error in other operators).
  timer_service* timers = nullptr;
  /// True when the subtask starts from a checkpoint or savepoint that holds
  /// state of this vertex. The restore handler then runs once for each
  /// piece of the vertex's operator state that falls to this subtask:
  /// after rescaling that may be several pieces, or none. Sources that
  /// split their input start from what they restore, not from a fresh
  /// split, when this is set.
  bool restored = false;

  /// Typed parameter access. The registry has validated present values
  /// against the declared types, so these fail only for a parameter that
  /// is absent (optional without default: test with has() first); they
  /// throw std::invalid_argument naming the vertex and parameter then.
  const std::string& get_string(const std::string& name) const;
  int64_t get_int(const std::string& name) const;
  double get_double(const std::string& name) const;
  bool get_bool(const std::string& name) const;
  bool has(const std::string& name) const;

  /// Position of `field` among input_fields, or -1.
  int input_index(const std::string& field) const;
};

/// An operator instance, built like a CAF `behavior` from lambdas whose
/// signatures say which event they handle:
///
///   weir::operator_behavior{
///     [=](const weir::row& r, weir::collector& out) { ... },   // a record
///     [=](weir::end_of_input_t, weir::collector& out) { ... }, // input ended
///     [=](weir::poll_t, weir::collector& out, size_t budget)   // sources
///       -> weir::poll_result { ... },
///     [=](weir::watermark_t, int64_t wm, weir::collector& out) { ... },
///     [=](weir::timer_fired_t, const weir::fired_timer& t,
///         weir::collector& out) { ... },
///   };
///
/// Handlers may capture state (shared_ptr, or a mutable lambda); the task
/// calls them from one thread at a time. A handler that throws fails its
/// task, and the exception's message becomes the failure cause.
class operator_behavior {
public:
  using record_handler = std::function<void(const row&, collector&)>;
  using end_handler = std::function<void(collector&)>;
  using poll_handler = std::function<poll_result(collector&, size_t)>;
  using snapshot_handler = std::function<std::string(uint64_t)>;
  using commit_handler = std::function<void(uint64_t)>;
  using restore_handler = std::function<void(const std::string&)>;
  using watermark_handler = std::function<void(int64_t, collector&)>;
  using second_record_handler = std::function<void(const row&, collector&)>;
  using timer_handler = std::function<void(const fired_timer&, collector&)>;

  operator_behavior() = default;

  template <class... Fs>
  explicit operator_behavior(Fs... fs) {
    (assign(std::move(fs)), ...);
  }

  /// Adds the handler `f`, or replaces the one of the same event: for
  /// behaviours put together step by step (wrappers that decorate another
  /// operator's handlers, say).
  template <class F>
  operator_behavior& on(F f) {
    assign(std::move(f));
    return *this;
  }

  bool is_source() const {
    return static_cast<bool>(poll_);
  }

  /// Handles one record; records without a handler are dropped.
  void on_record(const row& r, collector& out) const {
    if (record_)
      record_(r, out);
  }

  /// Handles one record of the second input (two-input operators).
  void on_second_record(const row& r, collector& out) const {
    if (second_record_)
      second_record_(r, out);
  }

  /// The operator's watermark advanced to `wm`.
  void on_watermark(int64_t wm, collector& out) const {
    if (watermark_)
      watermark_(wm, out);
  }

  /// Timer `t` of the current key fired.
  void on_timer(const fired_timer& t, collector& out) const {
    if (timer_)
      timer_(t, out);
  }

  /// Signals end of input; a default end handler does nothing.
  void on_end_of_input(collector& out) const {
    if (end_)
      end_(out);
  }

  /// Whether the operator keeps state across checkpoints.
  bool is_stateful() const {
    return static_cast<bool>(snapshot_);
  }

  /// The operator's state for checkpoint `checkpoint_id`; empty for
  /// stateless operators.
  std::string on_snapshot(uint64_t checkpoint_id = 0) const {
    return snapshot_ ? snapshot_(checkpoint_id) : std::string{};
  }

  /// Whether the operator commits output when checkpoints complete.
  bool is_committing() const {
    return static_cast<bool>(commit_);
  }

  /// Checkpoint `id` (or final_checkpoint) is complete: commit.
  void on_checkpoint_complete(uint64_t id) const {
    if (commit_)
      commit_(id);
  }

  /// Restores state taken by on_snapshot(); stateless operators ignore it.
  void on_restore(const std::string& bytes) const {
    if (restore_)
      restore_(bytes);
  }

  /// Asks a source for at most `budget` rows; only for sources
  /// (is_source()).
  poll_result on_poll(collector& out, size_t budget) const {
    return poll_(out, budget);
  }

private:
  template <class F>
  void assign(F f) {
    if constexpr (std::is_invocable_r_v<poll_result, F&, poll_t, collector&,
                                        size_t>) {
      poll_ = [f = std::move(f)](collector& out, size_t budget) mutable {
        return f(poll, out, budget);
      };
    } else if constexpr (std::is_invocable_r_v<std::string, F&, snapshot_t,
                                               uint64_t>) {
      snapshot_
        = [f = std::move(f)](uint64_t id) mutable { return f(snapshot, id); };
    } else if constexpr (std::is_invocable_r_v<std::string, F&, snapshot_t>) {
      snapshot_ = [f = std::move(f)](uint64_t) mutable { return f(snapshot); };
    } else if constexpr (std::is_invocable_v<F&, checkpoint_complete_t,
                                             uint64_t>) {
      commit_ = [f = std::move(f)](uint64_t id) mutable {
        f(checkpoint_complete, id);
      };
    } else if constexpr (std::is_invocable_v<F&, restore_t,
                                             const std::string&>) {
      restore_ = [f = std::move(f)](const std::string& bytes) mutable {
        f(restore, bytes);
      };
    } else if constexpr (std::is_invocable_v<F&, second_input_t, const row&,
                                             collector&>) {
      second_record_
        = [f = std::move(f)](const row& r, collector& out) mutable {
            f(second_input, r, out);
          };
    } else if constexpr (std::is_invocable_v<F&, watermark_t, int64_t,
                                             collector&>) {
      watermark_ = [f = std::move(f)](int64_t wm, collector& out) mutable {
        f(watermark, wm, out);
      };
    } else if constexpr (std::is_invocable_v<F&, timer_fired_t,
                                             const fired_timer&, collector&>) {
      timer_
        = [f = std::move(f)](const fired_timer& t, collector& out) mutable {
            f(timer_fired, t, out);
          };
    } else if constexpr (std::is_invocable_v<F&, end_of_input_t, collector&>) {
      end_
        = [f = std::move(f)](collector& out) mutable { f(end_of_input, out); };
    } else if constexpr (std::is_invocable_v<F&, const row&, collector&>) {
      record_ = [f = std::move(f)](const row& r, collector& out) mutable {
        f(r, out);
      };
    } else {
      static_assert(sizeof(F) == 0,
                    "an operator handler must take (const row&, collector&), "
                    "(end_of_input_t, collector&) or "
                    "(poll_t, collector&, size_t) -> poll_result, "
                    "(snapshot_t[, uint64_t]) -> std::string, "
                    "(restore_t, const std::string&), "
                    "(checkpoint_complete_t, uint64_t), "
                    "(second_input_t, const row&, collector&), "
                    "(watermark_t, int64_t, collector&) or "
                    "(timer_fired_t, const fired_timer&, collector&)");
    }
  }

  record_handler record_;
  end_handler end_;
  poll_handler poll_;
  snapshot_handler snapshot_;
  restore_handler restore_;
  commit_handler commit_;
  watermark_handler watermark_;
  second_record_handler second_record_;
  timer_handler timer_;
};

} // namespace weir
