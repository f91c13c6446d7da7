#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "api/error.hpp"
#include "checkpoint/checkpoint_id.hpp"

namespace weir {

// -- errors -------------------------------------------------------------------

/// Protocol violations the barrier aligner detects. Every one means that the
/// caller or an upstream task broke the in-band protocol; a task fails on
/// them rather than take an inconsistent snapshot.
enum class alignment_errc : uint8_t {
  /// The channel is not one of the task's input channels.
  unknown_channel = 1,
  /// A barrier, cancellation barrier, record batch or second end of partition
  /// arrived on a channel after its end of partition.
  event_after_end,
  /// A channel delivered a second barrier or cancellation barrier for the
  /// same checkpoint.
  duplicate_barrier,
  /// A channel delivered a barrier or cancellation barrier for an older
  /// checkpoint than one it delivered before.
  out_of_order_barrier,
  /// A barrier, cancellation barrier or end of partition was handed over
  /// for a channel that is blocked in alignment; the caller must hold every
  /// event of a blocked channel until the aligner releases it.
  event_on_blocked_channel,
};

/// The name of `code`, as written in the enum.
std::string to_string(alignment_errc code);

/// Builds an error in category `weir_align` with `text` as its context.
caf::error make_error(alignment_errc code, std::string text);

// -- results ------------------------------------------------------------------

/// How a task treats checkpoint barriers on its inputs
/// (execution.checkpointing.mode).
enum class alignment_mode : uint8_t {
  /// Hold the channels that delivered a barrier until every input did: each
  /// record is either in the snapshot or after it.
  exactly_once,
  /// Never hold a channel; snapshot when the last barrier arrives. Records
  /// behind an early barrier may end up in the snapshot and be replayed.
  at_least_once,
};

std::string to_string(alignment_mode mode);

/// What the caller does with a record batch.
enum class record_action : uint8_t {
  /// Process the batch now.
  process,
  /// Queue the batch, and every later event of its channel, until the
  /// aligner lists the channel as released.
  hold,
};

std::string to_string(record_action action);

/// Why the aligner gave up on a checkpoint.
enum class abort_reason : uint8_t {
  /// A channel delivered a barrier or cancellation barrier of a newer
  /// checkpoint before this one's, so this one can never align.
  subsumed,
  /// A channel delivered a cancellation barrier for this checkpoint.
  cancelled,
  /// The caller called abort(), e.g. because the coordinator expired or
  /// declined the checkpoint.
  aborted,
};

std::string to_string(abort_reason reason);

/// The clock of alignment times: CAF's actor clock in 0.17 is steady_clock.
using alignment_clock = std::chrono::steady_clock;

/// A checkpoint for which every live input delivered its barrier: the task
/// snapshots its operators now, forwards the barrier and acks.
struct triggered_checkpoint {
  checkpoint_id id;
  /// When the first barrier of `id` arrived.
  alignment_clock::time_point alignment_start;
  /// From the first barrier to the event that completed the alignment.
  alignment_clock::duration alignment_time{0};
};

/// A checkpoint this task will not snapshot: the task declines it to the
/// coordinator and sends a cancellation barrier downstream.
struct aborted_checkpoint {
  checkpoint_id id;
  abort_reason reason = abort_reason::subsumed;
};

/// What one input event changed.
struct alignment_result {
  /// Checkpoints to snapshot now, oldest first. At most one in exactly-once
  /// mode; in at-least-once mode an end of partition can complete several.
  std::vector<triggered_checkpoint> triggered;
  /// Checkpoints given up, oldest first; they never trigger afterwards.
  std::vector<aborted_checkpoint> aborted;
  /// Channels no longer blocked, in the order the aligner was given them.
  /// The caller replays their held events in arrival order, one at a time,
  /// and stops at an event the aligner blocks again.
  std::vector<size_t> released;
  /// True if the barrier or cancellation barrier was for a checkpoint older
  /// than the newest one this task has seen, or already aborted, and was
  /// ignored (a late barrier).
  bool late = false;
};

// -- barrier_aligner ----------------------------------------------------------

/// Aligns checkpoint barriers across the input channels of one task, as
/// Flink's CheckpointBarrierAligner (exactly-once) and
/// CheckpointBarrierTracker (at-least-once) do.
///
/// Owned by the task that reads the input gate; no CAF actor inside. The task
/// feeds it every in-band event in arrival order and acts on the results:
/// snapshot for `triggered`, decline and cancel downstream for `aborted`,
/// replay held events of `released` channels. While a channel is blocked the
/// task holds all of that channel's events (on_record_batch() says `hold`),
/// so the aligner never sees a barrier or end of partition behind a held
/// record.
///
/// Rules:
/// - Barrier ids increase on every channel; a repeat is a duplicate_barrier,
///   a smaller one an out_of_order_barrier error.
/// - A channel that ended counts as delivered for every pending and later
///   checkpoint. An end of partition that completes an alignment triggers
///   the checkpoint. Any event after end of partition is an error: end of
///   partition is the last event of a channel, so whatever follows it is a
///   broken channel, not a late barrier.
/// - A barrier or cancellation barrier of checkpoint m on a channel that did
///   not deliver pending checkpoint n < m subsumes n: n can never align.
///   In exactly-once mode this is Flink's "newer barrier aborts the current
///   alignment"; in at-least-once mode older checkpoints stay pending as long
///   as they can still complete.
/// - A barrier of a checkpoint older than the newest seen, or already
///   triggered or aborted, is late and ignored.
/// - On error the aligner is unchanged.
class barrier_aligner {
public:
  /// Aligns over `channels` (the input gate's channel ids; duplicates are
  /// merged). Every channel starts live and unblocked.
  barrier_aligner(std::vector<size_t> channels, alignment_mode mode);

  // -- inputs -----------------------------------------------------------------

  /// A barrier for `id` arrived on `channel` at `now`.
  caf::expected<alignment_result> on_barrier(size_t channel, checkpoint_id id,
                                             alignment_clock::time_point now);

  /// A cancellation barrier (Flink's CancelCheckpointMarker) for `id`
  /// arrived on `channel`: upstream declined `id`. Aborts `id` if pending,
  /// and reports it aborted if this task had not seen it yet, so that the
  /// task forwards the cancellation downstream.
  caf::expected<alignment_result> on_cancellation_barrier(size_t channel,
                                                          checkpoint_id id);

  /// `channel` delivered end of partition at `now`.
  caf::expected<alignment_result>
  on_end_of_partition(size_t channel, alignment_clock::time_point now);

  /// Whether a record batch of `channel` may be processed now. Never
  /// changes the state.
  caf::expected<record_action> on_record_batch(size_t channel) const;

  /// Gives up `id` on the caller's behalf (coordinator abort or timeout).
  /// Releases its blocked channels if it is pending; if no barrier of `id`
  /// arrived yet, its barriers will be ignored as late. No effect on an id
  /// already triggered or aborted.
  alignment_result abort(checkpoint_id id);

  // -- queries ----------------------------------------------------------------

  alignment_mode mode() const {
    return mode_;
  }

  /// Input channel ids, in the order given, without duplicates.
  const std::vector<size_t>& channels() const {
    return ids_;
  }

  /// Channels that have not delivered end of partition.
  size_t live_channels() const;

  /// True if `channel` is blocked in alignment (exactly-once mode only).
  bool is_blocked(size_t channel) const;

  /// Blocked channels, in the order given to the constructor.
  std::vector<size_t> blocked_channels() const;

  /// True if `channel` delivered end of partition.
  bool has_ended(size_t channel) const;

  /// Checkpoints that received some barriers but are neither triggered nor
  /// aborted, oldest first. At most one in exactly-once mode.
  std::vector<checkpoint_id> pending() const;

  /// When the first barrier of pending checkpoint `id` arrived.
  std::optional<alignment_clock::time_point>
  alignment_start(checkpoint_id id) const;

  /// The newest checkpoint id any channel delivered a barrier or
  /// cancellation barrier for.
  std::optional<checkpoint_id> latest_seen() const {
    return latest_;
  }

private:
  struct channel_state {
    /// Id of the last barrier or cancellation barrier on this channel.
    std::optional<checkpoint_id> last_marker;
    bool ended = false;
    bool blocked = false;
  };

  struct pending_checkpoint {
    /// Indexed like states_.
    std::vector<bool> delivered;
    alignment_clock::time_point start;
  };

  /// Index of `channel` in states_, or an unknown_channel error.
  caf::expected<size_t> index_of(size_t channel) const;

  /// Checks a barrier or cancellation barrier (`what`) before any change.
  caf::error check_marker(size_t index, checkpoint_id id,
                          const char* what) const;

  /// Records that channel `index` delivered a marker for `id`: subsumes the
  /// pending checkpoints it skipped and advances latest_.
  void note_marker(size_t index, checkpoint_id id, alignment_result& result);

  bool is_complete(const pending_checkpoint& p) const;

  void trigger(checkpoint_id id, alignment_clock::time_point now,
               alignment_result& result);

  void drop(checkpoint_id id, abort_reason reason, alignment_result& result);

  /// Unblocks the channels blocked for `p` and lists them in `result`.
  void release(const pending_checkpoint& p, alignment_result& result);

  alignment_mode mode_;
  std::vector<size_t> ids_;
  std::unordered_map<size_t, size_t> index_;
  std::vector<channel_state> states_;
  std::map<checkpoint_id, pending_checkpoint> pending_;
  std::optional<checkpoint_id> latest_;
  /// Ids aborted by abort() before any of their barriers arrived.
  std::set<checkpoint_id> aborted_ahead_;
};

} // namespace weir
