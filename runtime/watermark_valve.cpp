#include "runtime/watermark_valve.hpp"

#include <algorithm>

namespace weir {

watermark_valve::watermark_valve(const std::vector<size_t>& channels,
                                 int64_t initial) {
  for (auto ch : channels)
    channels_.emplace(ch, channel{});
  current_.watermark = initial;
}

std::optional<watermark_valve::output>
watermark_valve::on_watermark(size_t ch, int64_t wm, bool idle) {
  auto i = channels_.find(ch);
  if (i == channels_.end() || i->second.ended)
    return std::nullopt;
  auto& c = i->second;
  if (idle) {
    c.idle = true;
    c.aligned = false;
    return recompute();
  }
  c.idle = false;
  c.watermark = std::max(c.watermark, wm);
  // A channel back from idleness behind the output must not hold back the
  // channels that moved on meanwhile.
  if (!c.aligned && c.watermark >= current_.watermark)
    c.aligned = true;
  return recompute();
}

std::optional<watermark_valve::output> watermark_valve::on_end(size_t ch) {
  auto i = channels_.find(ch);
  if (i == channels_.end() || i->second.ended)
    return std::nullopt;
  i->second.ended = true;
  i->second.idle = false;
  i->second.watermark = max_watermark;
  return recompute();
}

int64_t watermark_valve::channel_watermark(size_t ch) const {
  auto i = channels_.find(ch);
  return i == channels_.end() ? min_watermark : i->second.watermark;
}

std::optional<watermark_valve::output> watermark_valve::recompute() {
  // Ended channels hold nothing back, but do not make idle ones count:
  // while some channel may still deliver rows, only active channels move
  // the watermark.
  bool open = false;
  bool any_active = false;
  bool any_aligned = false;
  auto low = max_watermark;
  for (const auto& [id, c] : channels_) {
    if (c.ended)
      continue;
    open = true;
    if (c.idle)
      continue;
    any_active = true;
    if (!c.aligned)
      continue;
    any_aligned = true;
    low = std::min(low, c.watermark);
  }
  output next = current_;
  next.idle = open && !any_active;
  if (!open)
    next.watermark = max_watermark;
  else if (any_aligned)
    next.watermark = std::max(current_.watermark, low);
  if (next.watermark > current_.watermark)
    for (auto& [id, c] : channels_)
      if (!c.aligned && !c.idle && c.watermark >= next.watermark)
        c.aligned = true;
  if (next.watermark == current_.watermark && next.idle == current_.idle)
    return std::nullopt;
  current_ = next;
  return current_;
}

} // namespace weir
