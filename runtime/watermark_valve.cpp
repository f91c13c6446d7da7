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
  c.idle = idle;
  if (!idle)
    c.watermark = std::max(c.watermark, wm);
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
  auto low = max_watermark;
  for (const auto& [id, c] : channels_) {
    if (c.ended)
      continue;
    open = true;
    if (c.idle)
      continue;
    any_active = true;
    low = std::min(low, c.watermark);
  }
  output next = current_;
  next.idle = open && !any_active;
  if (!open)
    next.watermark = max_watermark;
  else if (any_active)
    next.watermark = std::max(current_.watermark, low);
  if (next.watermark == current_.watermark && next.idle == current_.idle)
    return std::nullopt;
  current_ = next;
  return current_;
}

} // namespace weir
