#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <unordered_map>
#include <vector>

#include "api/value.hpp"
#include "runtime/batch.hpp"
#include "scheduler/plan.hpp"

namespace weir {

/// One outgoing channel of a subtask: a buffer being filled, batches waiting
/// for credit, and the credit the consumer granted.
struct output_channel {
  /// Channel id in the plan.
  size_t id = 0;
  std::vector<row> buffer;
  size_t buffer_bytes = 0;
  /// Batches that are full (or flushed) but not sent for lack of credit.
  std::deque<std::vector<row>> queued;
  /// A checkpoint barrier or a watermark waiting for the `before` queued
  /// batches ahead of it; marks need no credit but never overtake data.
  struct mark {
    /// Non-zero for a barrier; otherwise a watermark.
    uint64_t checkpoint = 0;
    int64_t watermark = 0;
    bool idle = false;
    size_t before = 0;
  };
  std::deque<mark> barriers;
  /// Batches the consumer can still accept.
  int32_t credits = 0;
  /// Whether end of partition must follow the queued batches.
  bool end_pending = false;
  bool end_sent = false;
  /// Statistics.
  uint64_t batches_sent = 0;
  uint64_t rows_sent = 0;
};

/// Routes a subtask's output rows to its output channels (partitioning),
/// cuts them into batches, and releases batches only against credit.
/// Owned by one task; driven by the task's behaviour; no CAF inside, so the
/// flow-control logic is testable alone.
class output_gate {
public:
  /// Called for every batch that may go out now.
  using send_fn = std::function<void(size_t channel, std::vector<row>&&)>;
  /// Called once per channel when its end of partition may go out.
  using end_fn = std::function<void(size_t channel)>;
  /// Called when a checkpoint barrier may go out on a channel.
  using barrier_fn = std::function<void(size_t channel, uint64_t id)>;
  /// Called when a watermark (or an idle status) may go out on a channel.
  using watermark_fn
    = std::function<void(size_t channel, int64_t watermark, bool idle)>;

  /// Builds the gate for execution vertex `exec` of `p`.
  output_gate(const plan& p, size_t exec, batch_limits limits, send_fn send,
              end_fn end);

  /// Routes one row to its channel(s); sends batches that fill up when
  /// their channel has credit.
  void add(row r);

  /// Routes one row of side output `output` to the channels of the edges
  /// that take it; dropped when none does.
  void add_to(const std::string& output, row r);

  /// Moves partially filled buffers into the send queues and sends what
  /// credit allows. Called by the flush timer and at end of input.
  void flush();

  /// Grants `n` more credits to `channel`, then sends what they allow.
  void grant(size_t channel, int32_t n);

  /// Flushes, then marks every channel to end after its queued batches.
  void finish();

  /// Sets where barriers go (before the first emit_barrier call).
  void on_barrier(barrier_fn f) {
    barrier_ = std::move(f);
  }

  /// Sets where watermarks go (before the first emit_watermark call).
  void on_watermark(watermark_fn f) {
    watermark_ = std::move(f);
  }

  /// Sends watermark `wm` (or, with `idle`, that this subtask is idle at
  /// `wm`) on every channel after the rows already routed there, once the
  /// partially filled buffer goes out with its batch (by size or flush), so
  /// batches keep their size. A watermark still waiting behind the same
  /// batches with the same idleness is replaced rather than followed.
  void emit_watermark(int64_t wm, bool idle = false);

  /// Watermarks handed to the send function so far.
  uint64_t watermarks_out() const {
    return watermarks_out_;
  }

  /// Flushes every channel, then sends barrier `id` on each of them right
  /// after the batches already queued there (in-band: never ahead of data
  /// emitted before the snapshot, never behind data emitted after it).
  void emit_barrier(uint64_t id);

  /// True when some channel holds batches it cannot send: the task must stop
  /// reading input (backpressure) until credit arrives.
  bool blocked() const;

  /// True when any buffer holds rows not yet cut into a batch.
  bool has_partial() const;

  /// True after finish() once every batch and end marker went out.
  bool drained() const;

  /// No output channels at all (a sink).
  bool empty() const {
    return channels_.empty();
  }

  /// Rows routed so far.
  uint64_t rows_out() const {
    return rows_out_;
  }

  /// Approximate bytes (approximate_size) of the rows routed so far, each
  /// counted once per channel it went to.
  uint64_t bytes_out() const {
    return bytes_out_;
  }

  const std::vector<output_channel>& channels() const {
    return channels_;
  }

private:
  struct edge_router {
    partitioner part = partitioner::forward;
    std::vector<size_t> key_indexes;
    int consumer_parallelism = 1;
    int consumer_max_parallelism = 128;
    /// Indexes into channels_, in consumer subtask order.
    std::vector<size_t> slots;
    size_t next = 0;
    /// The side output it takes; empty: the main output.
    std::string output;
  };

  void route(edge_router& rt, row& r, bool last);

  void push(size_t slot, const row& r);
  void push(size_t slot, row&& r);
  void cut(size_t slot);
  void pump(size_t slot);

  batch_limits limits_;
  send_fn send_;
  end_fn end_;
  barrier_fn barrier_;
  watermark_fn watermark_;
  uint64_t watermarks_out_ = 0;
  /// Main-output routers first, then side-output ones.
  std::vector<edge_router> routers_;
  size_t main_routers_ = 0;
  std::vector<output_channel> channels_;
  /// channel id -> index into channels_.
  std::unordered_map<size_t, size_t> slot_of_channel_;
  uint64_t rows_out_ = 0;
  uint64_t bytes_out_ = 0;
  bool finishing_ = false;
};

} // namespace weir
