#include "checkpoint/checkpoint_tracker.hpp"

#include "checkpoint/error.hpp"

namespace weir {

caf::expected<checkpoint_settings>
resolve_checkpoint_settings(const proto::CheckpointConfig& cfg) {
  using std::chrono::milliseconds;
  checkpoint_settings s;
  auto bad = [](const std::string& text) {
    return make_error(checkpoint_errc::bad_settings, "checkpointing: " + text);
  };
  auto millis = [&](bool has, int64_t v, milliseconds& out, const char* name,
                    int64_t min) -> caf::error {
    if (!has)
      return caf::none;
    if (v < min)
      return bad(std::string{name} + " must be at least " + std::to_string(min)
                 + ", got " + std::to_string(v));
    out = milliseconds{v};
    return caf::none;
  };
  if (auto err = millis(cfg.has_interval_ms(), cfg.interval_ms(), s.interval,
                        "interval_ms", 0))
    return err;
  if (auto err = millis(cfg.has_timeout_ms(), cfg.timeout_ms(), s.timeout,
                        "timeout_ms", 1))
    return err;
  if (auto err = millis(cfg.has_min_pause_ms(), cfg.min_pause_ms(), s.min_pause,
                        "min_pause_ms", 0))
    return err;
  if (cfg.has_max_concurrent()) {
    if (cfg.max_concurrent() < 1)
      return bad("max_concurrent must be at least 1, got "
                 + std::to_string(cfg.max_concurrent()));
    s.max_concurrent = static_cast<uint32_t>(cfg.max_concurrent());
  }
  if (cfg.has_tolerable_failures()) {
    if (cfg.tolerable_failures() < 0)
      return bad("tolerable_failures must not be negative, got "
                 + std::to_string(cfg.tolerable_failures()));
    s.tolerable_failures = static_cast<uint32_t>(cfg.tolerable_failures());
  }
  if (cfg.has_retained()) {
    if (cfg.retained() < 1)
      return bad("retained must be at least 1, got "
                 + std::to_string(cfg.retained()));
    s.retained = static_cast<uint32_t>(cfg.retained());
  }
  s.exactly_once = cfg.mode() == proto::EXACTLY_ONCE;
  s.dir = cfg.dir();
  if (s.enabled() && s.dir.empty())
    return bad("dir (state.checkpoints.dir) is required when checkpoints "
               "are enabled");
  return s;
}

checkpoint_tracker::checkpoint_tracker(checkpoint_settings settings,
                                       size_t subtasks, uint64_t first_id)
  : settings_(std::move(settings)), subtasks_(subtasks), next_id_(first_id) {
  // nop
}

std::optional<uint64_t> checkpoint_tracker::try_trigger(clock::time_point now,
                                                        bool forced) {
  if (!forced && pending_.size() >= settings_.max_concurrent)
    return std::nullopt;
  // A min pause also keeps checkpoints from overlapping (as in Flink).
  if (!forced && settings_.min_pause.count() > 0) {
    if (!pending_.empty())
      return std::nullopt;
    if (last_finished_ && now - *last_finished_ < settings_.min_pause)
      return std::nullopt;
  }
  auto id = next_id_++;
  pending p;
  p.triggered = now;
  p.handles.resize(subtasks_);
  pending_.emplace(id, std::move(p));
  return id;
}

std::optional<checkpoint_tracker::completed>
checkpoint_tracker::acknowledge(uint64_t id, size_t subtask, std::string handle,
                                clock::time_point now) {
  auto i = pending_.find(id);
  if (i == pending_.end() || subtask >= subtasks_)
    return std::nullopt;
  auto& p = i->second;
  if (p.handles[subtask])
    return std::nullopt;
  p.handles[subtask] = std::move(handle);
  p.acked_at.resize(subtasks_);
  p.acked_at[subtask] = now;
  if (++p.acked < subtasks_)
    return std::nullopt;
  completed c;
  c.id = id;
  c.triggered = p.triggered;
  c.finished = now;
  for (auto& h : p.handles)
    c.handles.push_back(std::move(*h));
  c.acked_at = std::move(p.acked_at);
  // Everything older is subsumed: it could only complete to be outdated.
  for (auto j = pending_.begin(); j != pending_.end() && j->first < id;) {
    subsumed_.push_back({j->first,
                         "subsumed by checkpoint " + std::to_string(id),
                         j->second.triggered});
    j = pending_.erase(j);
  }
  pending_.erase(id);
  latest_ = c;
  last_finished_ = now;
  consecutive_failures_ = 0;
  return c;
}

checkpoint_tracker::failure_outcome
checkpoint_tracker::count_failure(std::vector<aborted> xs) {
  failure_outcome out;
  consecutive_failures_ += static_cast<uint32_t>(xs.size());
  out.aborted_checkpoints = std::move(xs);
  out.fail_job = consecutive_failures_ > settings_.tolerable_failures;
  return out;
}

checkpoint_tracker::failure_outcome
checkpoint_tracker::decline(uint64_t id, const std::string& reason) {
  auto i = pending_.find(id);
  if (i == pending_.end())
    return {};
  auto triggered = i->second.triggered;
  pending_.erase(i);
  return count_failure({aborted{id, reason, triggered}});
}

checkpoint_tracker::failure_outcome
checkpoint_tracker::expire(clock::time_point now) {
  std::vector<aborted> xs;
  for (auto i = pending_.begin(); i != pending_.end();) {
    if (now - i->second.triggered >= settings_.timeout) {
      xs.push_back(
        {i->first,
         "expired after " + std::to_string(settings_.timeout.count()) + " ms",
         i->second.triggered});
      i = pending_.erase(i);
    } else {
      ++i;
    }
  }
  if (xs.empty())
    return {};
  return count_failure(std::move(xs));
}

std::vector<checkpoint_tracker::aborted>
checkpoint_tracker::abort_all(const std::string& reason) {
  std::vector<aborted> xs;
  for (auto& kvp : pending_)
    xs.push_back({kvp.first, reason, kvp.second.triggered});
  pending_.clear();
  return xs;
}

std::vector<checkpoint_tracker::aborted> checkpoint_tracker::take_subsumed() {
  auto xs = std::move(subsumed_);
  subsumed_.clear();
  return xs;
}

std::optional<checkpoint_tracker::clock::time_point>
checkpoint_tracker::next_expiry() const {
  std::optional<clock::time_point> out;
  for (const auto& kvp : pending_) {
    auto t = kvp.second.triggered + settings_.timeout;
    if (!out || t < *out)
      out = t;
  }
  return out;
}

std::vector<uint64_t> checkpoint_tracker::pending_ids() const {
  std::vector<uint64_t> out;
  for (const auto& kvp : pending_)
    out.push_back(kvp.first);
  return out;
}

std::vector<checkpoint_tracker::progress>
checkpoint_tracker::in_flight() const {
  std::vector<progress> out;
  for (const auto& [id, p] : pending_) {
    progress x;
    x.id = id;
    x.triggered = p.triggered;
    for (size_t i = 0; i < p.handles.size(); ++i)
      if (p.handles[i])
        x.acks.push_back({i, *p.handles[i], p.acked_at[i]});
    out.push_back(std::move(x));
  }
  return out;
}

} // namespace weir
