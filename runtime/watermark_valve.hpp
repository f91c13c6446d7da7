#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "api/timers.hpp"

namespace weir {

/// Combines the watermarks of a subtask's input channels into the
/// subtask's own (Flink's StatusWatermarkValve): the minimum over the
/// channels that are active, where an ended channel counts as
/// max_watermark and an idle one does not count. The result only moves
/// forward: a channel that comes back from idleness behind the output
/// holds nothing back (it is left out of the minimum) until it catches up
/// with the output. When every channel that has not ended is idle, the
/// subtask is idle itself. Owned by one task; no CAF inside.
class watermark_valve {
public:
  /// What the subtask emits after a change.
  struct output {
    int64_t watermark = min_watermark;
    bool idle = false;
  };

  /// A valve over `channels`, starting at `initial` (a restored subtask's
  /// checkpointed watermark, or min_watermark).
  explicit watermark_valve(const std::vector<size_t>& channels,
                           int64_t initial = min_watermark);

  /// Channel `ch` reports watermark `wm` (idle false) or that it went idle
  /// (idle true, `wm` ignored). Returns the new output when the watermark
  /// advanced or the idle status changed. Unknown channels are ignored.
  std::optional<output> on_watermark(size_t ch, int64_t wm, bool idle);

  /// Channel `ch` ended: it no longer holds anything back.
  std::optional<output> on_end(size_t ch);

  /// The current output.
  output current() const {
    return current_;
  }

  /// The watermark a channel last reported (min_watermark before any).
  int64_t channel_watermark(size_t ch) const;

private:
  struct channel {
    int64_t watermark = min_watermark;
    bool idle = false;
    bool ended = false;
    /// False from a return from idleness until the channel's watermark
    /// reaches the output again; only aligned channels count.
    bool aligned = true;
  };

  std::optional<output> recompute();

  std::unordered_map<size_t, channel> channels_;
  output current_;
};

} // namespace weir
