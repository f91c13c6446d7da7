#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <vector>

#include "api/value.hpp"
#include "scheduler/plan.hpp"

namespace weir {

/// The input side of a subtask: which channels feed it, what arrived and is
/// not yet processed, and which channels have ended. Batches are held here
/// while the task is backpressured; the producer's credit bounds how many.
/// Owned by one task; no CAF inside.
class input_gate {
public:
  /// What arrived on a channel, in arrival order.
  struct event {
    size_t channel = 0;
    /// Rows of a batch; empty with `end` set for end of partition.
    std::vector<row> rows;
    bool end = false;
    /// Non-zero for a checkpoint barrier (ids start at 1).
    uint64_t barrier = 0;
    /// A watermark (or, with `idle`, the producer going idle).
    bool is_watermark = false;
    int64_t watermark = 0;
    bool idle = false;
  };

  /// Builds the gate for execution vertex `exec` of `p`. Every input
  /// channel will be granted `credits` batches.
  input_gate(const plan& p, size_t exec, int32_t credits);

  /// Input channel ids, in a stable order.
  const std::vector<size_t>& channels() const {
    return channels_;
  }

  /// Execution index of the producer of `channel`.
  size_t producer_of(size_t channel) const;

  int32_t initial_credits() const {
    return credits_;
  }

  /// Queues a batch; false if the channel is unknown, already ended, or the
  /// producer sent beyond its credit (a protocol violation).
  bool push_batch(size_t channel, std::vector<row>&& rows);

  /// Queues end of partition; false if the channel is unknown or ended.
  bool push_end(size_t channel);

  /// Queues a checkpoint barrier; false if the channel is unknown or ended.
  bool push_barrier(size_t channel, uint64_t id);

  /// Queues a watermark or idle status; false if the channel is unknown or
  /// ended. Needs no credit, like a barrier.
  bool push_watermark(size_t channel, int64_t wm, bool idle);

  bool has_pending() const {
    return !pending_.empty();
  }

  /// Takes the oldest pending event. A batch's credit returns to the
  /// producer when the caller reports it processed (release()).
  event pop();

  /// Marks one batch of `channel` as processed, freeing its credit.
  void release(size_t channel);

  /// True once every input channel has delivered end of partition and all
  /// pending events were taken.
  bool all_ended() const {
    return ended_count_ == channels_.size() && pending_.empty();
  }

  /// Batches received and not yet released on `channel` (at most the
  /// credits granted).
  int32_t outstanding(size_t channel) const;

  /// Largest outstanding() seen on any channel since start.
  int32_t max_outstanding() const {
    return max_outstanding_;
  }

  uint64_t batches_in() const {
    return batches_in_;
  }

private:
  struct channel_state {
    size_t producer = 0;
    int32_t outstanding = 0;
    bool end_received = false;
    bool ended = false;
  };

  int32_t credits_;
  std::vector<size_t> channels_;
  std::unordered_map<size_t, channel_state> states_;
  std::deque<event> pending_;
  size_t ended_count_ = 0;
  int32_t max_outstanding_ = 0;
  uint64_t batches_in_ = 0;
};

} // namespace weir
