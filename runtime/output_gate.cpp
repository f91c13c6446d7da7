#include "runtime/output_gate.hpp"

#include <algorithm>
#include <cassert>

#include "scheduler/key_groups.hpp"

namespace weir {

output_gate::output_gate(const plan& p, size_t exec, batch_limits limits,
                         send_fn send, end_fn end)
  : limits_(limits), send_(std::move(send)), end_(std::move(end)) {
  const auto& ev = p.executions[exec];
  const auto& task = p.tasks[ev.task];
  for (size_t k = 0; k < task.outputs.size(); ++k) {
    const auto& te = p.edges[task.outputs[k]];
    const auto& consumer = p.tasks[te.to];
    edge_router router;
    router.part = te.part;
    router.key_indexes = te.key_indexes;
    router.consumer_parallelism = consumer.parallelism;
    router.consumer_max_parallelism = consumer.max_parallelism;
    // Rebalance starts at the producer's own index so that parallel
    // producers do not all hit consumer 0 first.
    router.next = static_cast<size_t>(ev.subtask);
    router.output = te.output;
    for (auto ch : ev.output_channels[k]) {
      output_channel oc;
      oc.id = ch;
      slot_of_channel_.emplace(ch, channels_.size());
      router.slots.push_back(channels_.size());
      channels_.push_back(std::move(oc));
    }
    routers_.push_back(std::move(router));
  }
  std::stable_partition(routers_.begin(), routers_.end(),
                        [](const edge_router& r) { return r.output.empty(); });
  for (const auto& r : routers_)
    if (r.output.empty())
      ++main_routers_;
}

void output_gate::add(row r) {
  ++rows_out_;
  // The last router may take the row by move; earlier ones copy.
  for (size_t i = 0; i < main_routers_; ++i)
    route(routers_[i], r, i + 1 == main_routers_);
}

void output_gate::add_to(const std::string& output, row r) {
  for (size_t i = main_routers_; i < routers_.size(); ++i)
    if (routers_[i].output == output) {
      ++rows_out_;
      route(routers_[i], r, false);
    }
}

void output_gate::route(edge_router& rt, row& r, bool last) {
  switch (rt.part) {
    case partitioner::forward:
      if (last)
        push(rt.slots[0], std::move(r));
      else
        push(rt.slots[0], r);
      break;
    case partitioner::hash: {
      auto kg = key_group_of(hash_fields(r, rt.key_indexes),
                             rt.consumer_max_parallelism);
      auto target = subtask_of_key_group(rt.consumer_max_parallelism,
                                         rt.consumer_parallelism, kg);
      if (last)
        push(rt.slots[static_cast<size_t>(target)], std::move(r));
      else
        push(rt.slots[static_cast<size_t>(target)], r);
      break;
    }
    case partitioner::rebalance: {
      auto target = rt.next++ % rt.slots.size();
      if (last)
        push(rt.slots[target], std::move(r));
      else
        push(rt.slots[target], r);
      break;
    }
    case partitioner::broadcast:
      for (size_t j = 0; j < rt.slots.size(); ++j)
        push(rt.slots[j], r);
      break;
  }
}

void output_gate::push(size_t slot, const row& r) {
  push(slot, row{r});
}

void output_gate::push(size_t slot, row&& r) {
  auto& ch = channels_[slot];
  // Reserved on first use, so that idle channels of wide all-to-all
  // exchanges cost no buffer memory.
  if (ch.buffer.capacity() == 0)
    ch.buffer.reserve(limits_.max_rows);
  auto size = approximate_size(r);
  ch.buffer_bytes += size;
  bytes_out_ += size;
  ch.buffer.push_back(std::move(r));
  if (ch.buffer.size() >= limits_.max_rows
      || ch.buffer_bytes >= limits_.max_bytes) {
    cut(slot);
    pump(slot);
  }
}

void output_gate::cut(size_t slot) {
  auto& ch = channels_[slot];
  if (ch.buffer.empty())
    return;
  ch.queued.push_back(std::move(ch.buffer));
  ch.buffer = std::vector<row>{};
  ch.buffer_bytes = 0;
}

void output_gate::pump(size_t slot) {
  auto& ch = channels_[slot];
  for (;;) {
    if (!ch.barriers.empty() && ch.barriers.front().before == 0) {
      auto m = ch.barriers.front();
      ch.barriers.pop_front();
      if (m.checkpoint != 0) {
        if (barrier_)
          barrier_(ch.id, m.checkpoint);
      } else if (watermark_) {
        ++watermarks_out_;
        watermark_(ch.id, m.watermark, m.idle);
      }
      continue;
    }
    if (ch.credits <= 0 || ch.queued.empty())
      break;
    auto b = std::move(ch.queued.front());
    ch.queued.pop_front();
    --ch.credits;
    ++ch.batches_sent;
    ch.rows_sent += b.size();
    for (auto& mark : ch.barriers)
      --mark.before;
    send_(ch.id, std::move(b));
  }
  if (ch.queued.empty() && ch.barriers.empty() && ch.end_pending
      && !ch.end_sent) {
    ch.end_sent = true;
    end_(ch.id);
  }
}

void output_gate::flush() {
  for (size_t i = 0; i < channels_.size(); ++i) {
    cut(i);
    pump(i);
  }
}

void output_gate::emit_barrier(uint64_t id) {
  for (size_t i = 0; i < channels_.size(); ++i) {
    auto& ch = channels_[i];
    cut(i);
    output_channel::mark m;
    m.checkpoint = id;
    m.before = ch.queued.size();
    ch.barriers.push_back(m);
    pump(i);
  }
}

void output_gate::emit_watermark(int64_t wm, bool idle) {
  for (size_t i = 0; i < channels_.size(); ++i) {
    auto& ch = channels_[i];
    if (ch.end_pending)
      continue;
    // A watermark may come later than rows emitted after it (it only says
    // that no earlier time follows), never earlier than rows before it: it
    // waits for the partial buffer instead of cutting it, so batches keep
    // their size.
    auto n = ch.queued.size() + (ch.buffer.empty() ? 0 : 1);
    // Only a mark of the same idleness is replaced: a consumer ignores the
    // watermark of an idle mark, so replacing an active one by an idle one
    // would lose its watermark.
    if (!ch.barriers.empty() && ch.barriers.back().checkpoint == 0
        && ch.barriers.back().before == n && ch.barriers.back().idle == idle) {
      ch.barriers.back().watermark = wm;
    } else {
      output_channel::mark m;
      m.watermark = wm;
      m.idle = idle;
      m.before = n;
      ch.barriers.push_back(m);
    }
    pump(i);
  }
}

void output_gate::grant(size_t channel, int32_t n) {
  auto i = slot_of_channel_.find(channel);
  if (i == slot_of_channel_.end())
    return;
  channels_[i->second].credits += n;
  pump(i->second);
}

void output_gate::finish() {
  finishing_ = true;
  for (auto& ch : channels_) {
    ch.end_pending = true;
  }
  flush();
}

bool output_gate::blocked() const {
  for (const auto& ch : channels_)
    if (!ch.queued.empty())
      return true;
  return false;
}

bool output_gate::has_partial() const {
  for (const auto& ch : channels_)
    if (!ch.buffer.empty())
      return true;
  return false;
}

bool output_gate::drained() const {
  if (!finishing_)
    return false;
  for (const auto& ch : channels_)
    if (!ch.end_sent)
      return false;
  return true;
}

} // namespace weir
