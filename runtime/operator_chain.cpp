#include "runtime/operator_chain.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <stdexcept>

#include "api/codec.hpp"
#include "api/state.hpp"
#include "runtime/error.hpp"

namespace weir {

/// Forwards rows from operator i to operator i + 1, or to the output gate.
class operator_chain::link : public collector {
public:
  link(operator_chain* chain, size_t next, output_gate* out)
    : chain_(chain), next_(next), out_(out) {
    // nop
  }

  void emit(row r) override {
    ++chain_->rows_out_[next_ - 1];
    if (next_ == 1 && chain_->generator_.enabled)
      chain_->observe(r);
    if (next_ < chain_->ops_.size()) {
      auto* c = chain_;
      auto i = next_;
      c->call(i, [&] {
        c->select_key(i, r);
        c->ops_[i].on_record(r, *c->links_[i]);
      });
    } else {
      out_->add(std::move(r));
    }
  }

  void emit_to(const std::string& output, row r) override {
    // Only the last operator of a chain has side outputs: an edge taking
    // one never chains.
    if (next_ >= chain_->ops_.size()) {
      ++chain_->rows_out_[next_ - 1];
      out_->add_to(output, std::move(r));
    }
  }

private:
  operator_chain* chain_;
  size_t next_;
  output_gate* out_;
};

namespace {

/// Version of the chain's snapshot blob; version 2 (without watermarks)
/// is still read.
constexpr uint64_t chain_state_version = 3;

/// An int64 as an order-preserving unsigned varint payload.
uint64_t encode_time(int64_t x) {
  return static_cast<uint64_t>(x) ^ (uint64_t{1} << 63);
}

int64_t decode_time(uint64_t x) {
  return static_cast<int64_t>(x ^ (uint64_t{1} << 63));
}

/// Milliseconds between the steady clock's epoch and the Unix epoch, taken
/// once per process so that processing time never jumps.
int64_t wall_offset_ms() {
  using namespace std::chrono;
  static const int64_t offset
    = duration_cast<milliseconds>(system_clock::now().time_since_epoch())
        .count()
      - duration_cast<milliseconds>(steady_clock::now().time_since_epoch())
          .count();
  return offset;
}

/// A chain blob's event time: watermark and largest emitted timestamp.
struct chain_times {
  int64_t watermark = min_watermark;
  int64_t max_timestamp = min_watermark;
};

/// One operator's part of a chain blob.
struct operator_part {
  std::string vertex;
  std::string state;
  /// Of the keyed state; 0 for operators without.
  uint64_t max_parallelism = 0;
  /// (key group, blob) of the non-empty key groups.
  std::vector<std::pair<int, std::string>> groups;
};

/// Bounds-checked reading of a chain blob.
class blob_reader {
public:
  explicit blob_reader(const std::string& bytes) : bytes_(bytes) {
  }

  bool varint(uint64_t& x) {
    return read_varint(bytes_.data(), bytes_.size(), pos_, x);
  }

  bool string(std::string& x) {
    uint64_t n = 0;
    if (!varint(n) || n > bytes_.size() - pos_)
      return false;
    x.assign(bytes_, pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return true;
  }

  bool at_end() const {
    return pos_ == bytes_.size();
  }

private:
  const std::string& bytes_;
  size_t pos_ = 0;
};

caf::expected<std::vector<operator_part>>
parse_chain_state(const std::string& bytes, chain_times& times) {
  auto corrupt = [](const std::string& what) {
    return make_error(runtime_errc::protocol_violation,
                      "chain state is corrupt: " + what);
  };
  blob_reader in{bytes};
  uint64_t version = 0;
  if (!in.varint(version))
    return corrupt("no version");
  if (version != chain_state_version && version != 2)
    return make_error(runtime_errc::protocol_violation,
                      "chain state has format version "
                        + std::to_string(version) + ", this build reads 2 to "
                        + std::to_string(chain_state_version));
  times = chain_times{};
  if (version >= 3) {
    uint64_t wm = 0;
    uint64_t ts = 0;
    if (!in.varint(wm) || !in.varint(ts))
      return corrupt("no watermark");
    times.watermark = decode_time(wm);
    times.max_timestamp = decode_time(ts);
  }
  uint64_t n = 0;
  if (!in.varint(n) || n > bytes.size())
    return corrupt("bad operator count");
  std::vector<operator_part> parts;
  for (uint64_t i = 0; i < n; ++i) {
    operator_part part;
    uint64_t groups = 0;
    if (!in.string(part.vertex) || !in.string(part.state)
        || !in.varint(part.max_parallelism) || !in.varint(groups)
        || groups > bytes.size())
      return corrupt("truncated at operator " + std::to_string(i));
    for (const auto& other : parts)
      if (other.vertex == part.vertex)
        return corrupt("vertex '" + part.vertex + "' appears twice");
    for (uint64_t g = 0; g < groups; ++g) {
      uint64_t kg = 0;
      std::string blob;
      if (!in.varint(kg) || kg > INT32_MAX || !in.string(blob))
        return corrupt("truncated in the keyed state of vertex '" + part.vertex
                       + "'");
      part.groups.emplace_back(static_cast<int>(kg), std::move(blob));
    }
    parts.push_back(std::move(part));
  }
  if (!in.at_end())
    return corrupt("trailing bytes");
  return parts;
}

} // namespace

caf::expected<std::unique_ptr<operator_chain>>
operator_chain::make(const plan& p, size_t exec, output_gate& out,
                     std::function<std::chrono::steady_clock::time_point()> now,
                     const std::string& job, const chain_restore* restore) {
  const auto& ev = p.executions[exec];
  const auto& task = p.tasks[ev.task];
  std::vector<std::string> restored;
  if (restore != nullptr)
    restored = restore->vertices;
  std::unique_ptr<operator_chain> chain{new operator_chain};
  chain->contexts_.reserve(task.chain.size());
  chain->keyed_.resize(task.chain.size());
  chain->now_ = now;
  const auto& head = p.graph.vertices[task.chain.front()];
  if (head.op->kind == operator_kind::source)
    chain->generator_ = head.watermarks;
  for (size_t i = 0; i < task.chain.size(); ++i) {
    const auto& v = p.graph.vertices[task.chain[i]];
    operator_context ctx;
    ctx.job = job;
    ctx.vertex = v.id;
    ctx.subtask = ev.subtask;
    ctx.parallelism = v.parallelism;
    ctx.max_parallelism = v.max_parallelism;
    ctx.params = v.params;
    ctx.input_fields = v.input_fields;
    ctx.second_input_fields = v.second_input_fields;
    ctx.output_fields = v.output_fields;
    ctx.now = now;
    ctx.restored
      = std::find(restored.begin(), restored.end(), v.id) != restored.end();
    if (!v.op->key_param.empty()) {
      auto& k = chain->keyed_[i];
      k.backend = std::make_unique<keyed_state_backend>(
        v.max_parallelism, ev.key_groups.first, ev.key_groups.last);
      k.key_indexes = v.key_indexes;
      k.second_key_indexes = v.second_key_indexes;
      ctx.keyed_state = k.backend.get();
    }
    auto* raw = chain.get();
    chain->timers_.push_back(
      std::make_unique<timer_queue>(chain->keyed_[i].backend.get(),
                                    [raw] { return raw->processing_time(); }));
    ctx.timers = chain->timers_.back().get();
    chain->contexts_.push_back(std::move(ctx));
  }
  auto label = [&](const job_vertex& v) {
    return "vertex '" + v.id + "' (subtask " + std::to_string(ev.subtask + 1)
           + "/" + std::to_string(v.parallelism) + ")";
  };
  for (size_t i = 0; i < task.chain.size(); ++i) {
    const auto& v = p.graph.vertices[task.chain[i]];
    try {
      chain->ops_.push_back(v.op->factory(chain->contexts_[i]));
    } catch (const std::exception& e) {
      return make_error(runtime_errc::operator_failed,
                        label(v) + " failed to start: " + e.what());
    } catch (...) {
      return make_error(runtime_errc::operator_failed,
                        label(v)
                          + " failed to start: a non-standard exception");
    }
  }
  for (size_t i = 0; i < task.chain.size(); ++i)
    chain->links_.push_back(std::make_unique<link>(chain.get(), i + 1, &out));
  chain->rows_out_.assign(task.chain.size(), 0);
  if (restore != nullptr) {
    caf::error err;
    try {
      err = chain->restore(restore->sources);
    } catch (const std::exception& e) {
      err = make_error(runtime_errc::operator_failed,
                       "vertex '" + chain->current_vertex()
                         + "' failed to restore: " + e.what());
    } catch (...) {
      err = make_error(runtime_errc::operator_failed,
                       "vertex '" + chain->current_vertex()
                         + "' failed to restore: a non-standard exception");
    }
    if (err)
      return err;
  }
  return chain;
}

operator_chain::~operator_chain() {
  // Operators may hold handles into the keyed state: they go first.
  ops_.clear();
}

int64_t operator_chain::processing_time() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(now_().time_since_epoch()).count()
         + wall_offset_ms();
}

void operator_chain::observe(const row& r) {
  const auto& x = r.at(generator_.timestamp_index);
  int64_t t = 0;
  switch (x.type()) {
    case value_type::timestamp:
      t = x.as_timestamp().millis;
      break;
    case value_type::int64:
      t = x.as_int64();
      break;
    default:
      throw std::runtime_error(
        "the watermark strategy's timestamp field '"
        + contexts_.front().output_fields.at(generator_.timestamp_index)
        + "' (position " + std::to_string(generator_.timestamp_index + 1)
        + ") holds a " + to_string(x.type())
        + " value; event time must be a timestamp or an int64 of ms");
  }
  if (t > max_timestamp_)
    max_timestamp_ = t;
}

int64_t operator_chain::generated_watermark() const {
  if (!generator_.enabled || max_timestamp_ == min_watermark)
    return min_watermark;
  auto delay = generator_.max_out_of_orderness_ms;
  // Flink's bounded out-of-orderness: max timestamp - delay - 1.
  if (max_timestamp_ < min_watermark + delay + 1)
    return min_watermark;
  return max_timestamp_ - delay - 1;
}

void operator_chain::fire_event_timers(size_t i) {
  auto& q = *timers_[i];
  while (auto t = q.pop_due_event())
    ops_[i].on_timer(*t, *links_[i]);
}

void operator_chain::on_watermark(int64_t wm) {
  if (wm <= watermark_)
    return;
  watermark_ = wm;
  for (size_t i = 0; i < ops_.size(); ++i) {
    timers_[i]->advance_watermark(wm);
    call(i, [&] {
      fire_event_timers(i);
      ops_[i].on_watermark(wm, *links_[i]);
    });
  }
}

void operator_chain::on_processing_time(int64_t now) {
  for (size_t i = 0; i < ops_.size(); ++i)
    call(i, [&] {
      auto& q = *timers_[i];
      while (auto t = q.pop_due_processing(now))
        ops_[i].on_timer(*t, *links_[i]);
    });
}

std::optional<int64_t> operator_chain::next_processing_timer() const {
  std::optional<int64_t> result;
  for (const auto& q : timers_)
    if (auto t = q->next_processing(); t && (!result || *t < *result))
      result = t;
  return result;
}

void operator_chain::select_key(size_t i, const row& r, int input) {
  auto& k = keyed_[i];
  if (!k.backend)
    return;
  k.scratch.clear();
  for (auto pos : input == 1 ? k.second_key_indexes : k.key_indexes)
    k.scratch.push_back(r.at(pos));
  // The backend computes the key group only for keys it has not seen.
  k.backend->set_current_key(k.scratch);
}

bool operator_chain::is_source() const {
  return !ops_.empty() && ops_.front().is_source();
}

template <class F>
auto operator_chain::call(size_t i, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (...) {
    auto ep = std::current_exception();
    if (ep != escaped_) {
      escaped_ = ep;
      thrower_ = i;
    }
    throw;
  }
}

void operator_chain::on_record(const row& r, int input) {
  ++rows_in_;
  call(0, [&] {
    select_key(0, r, input);
    if (input == 1)
      ops_.front().on_second_record(r, *links_.front());
    else
      ops_.front().on_record(r, *links_.front());
  });
}

poll_result operator_chain::on_poll(size_t budget) {
  return call(0, [&] { return ops_.front().on_poll(*links_.front(), budget); });
}

std::string operator_chain::snapshot(uint64_t checkpoint_id) {
  std::string out;
  append_varint(out, chain_state_version);
  append_varint(out, encode_time(watermark_));
  append_varint(out, encode_time(max_timestamp_));
  append_varint(out, ops_.size());
  auto append_string = [&out](const std::string& x) {
    append_varint(out, x.size());
    out += x;
  };
  for (size_t i = 0; i < ops_.size(); ++i) {
    append_string(contexts_[i].vertex);
    append_string(call(i, [&] { return ops_[i].on_snapshot(checkpoint_id); }));
    auto* backend = keyed_[i].backend.get();
    if (!backend) {
      append_varint(out, 0);
      append_varint(out, 0);
      continue;
    }
    append_varint(out, static_cast<uint64_t>(backend->max_parallelism()));
    auto groups = backend->snapshot_nonempty();
    append_varint(out, groups.size());
    for (auto& [kg, blob] : groups) {
      append_varint(out, static_cast<uint64_t>(kg));
      append_string(blob);
    }
  }
  return out;
}

caf::error operator_chain::restore(const std::vector<restore_source>& sources) {
  std::vector<std::pair<const restore_source*, std::vector<operator_part>>>
    parsed;
  std::optional<chain_times> restored;
  for (const auto& src : sources) {
    chain_times times;
    auto parts = parse_chain_state(src.bytes, times);
    if (!parts)
      return parts.error();
    parsed.emplace_back(&src, std::move(*parts));
    if (!restored) {
      restored = times;
    } else {
      restored->watermark = std::min(restored->watermark, times.watermark);
      restored->max_timestamp
        = std::min(restored->max_timestamp, times.max_timestamp);
    }
  }
  if (restored) {
    watermark_ = restored->watermark;
    max_timestamp_ = restored->max_timestamp;
    for (auto& q : timers_)
      q->advance_watermark(watermark_);
  }
  for (size_t i = 0; i < ops_.size(); ++i) {
    const auto& ctx = contexts_[i];
    auto* backend = keyed_[i].backend.get();
    for (auto& [src, parts] : parsed) {
      for (auto& part : parts) {
        if (part.vertex != ctx.vertex)
          continue;
        if (!part.groups.empty() && !backend)
          return make_error(runtime_errc::protocol_violation,
                            "vertex '" + ctx.vertex
                              + "' has keyed state in the checkpoint but its "
                                "operator is not keyed");
        if (!part.groups.empty()
            && part.max_parallelism
                 != static_cast<uint64_t>(backend->max_parallelism()))
          return make_error(
            runtime_errc::protocol_violation,
            "vertex '" + ctx.vertex + "' was checkpointed with max parallelism "
              + std::to_string(part.max_parallelism) + ", it has "
              + std::to_string(backend->max_parallelism())
              + " now: keyed state keeps its key groups only at the same max "
                "parallelism");
        if (src->subtask % ctx.parallelism == ctx.subtask)
          call(i, [&] { ops_[i].on_restore(part.state); });
        for (auto& [kg, blob] : part.groups) {
          if (!backend->owns_key_group(kg))
            continue;
          if (auto err = backend->restore(kg, blob))
            return make_error(runtime_errc::protocol_violation,
                              "vertex '" + ctx.vertex
                                + "': " + error_text(err));
        }
      }
    }
    timers_[i]->rebuild();
  }
  return caf::none;
}

std::vector<std::string> operator_chain::stateful_vertices() const {
  std::vector<std::string> result;
  for (size_t i = 0; i < ops_.size(); ++i)
    if (ops_[i].is_stateful() || keyed_[i].backend)
      result.push_back(contexts_[i].vertex);
  return result;
}

std::vector<std::string> operator_chain::vertices() const {
  std::vector<std::string> result;
  for (const auto& ctx : contexts_)
    result.push_back(ctx.vertex);
  return result;
}

bool operator_chain::is_committing() const {
  for (const auto& op : ops_)
    if (op.is_committing())
      return true;
  return false;
}

void operator_chain::on_checkpoint_complete(uint64_t id) {
  for (size_t i = 0; i < ops_.size(); ++i)
    call(i, [&] { ops_[i].on_checkpoint_complete(id); });
}

void operator_chain::on_end_of_input() {
  // Event time ends with the input: every event-time timer fires, and
  // each operator sees its last watermark before its end handler.
  for (size_t i = 0; i < ops_.size(); ++i)
    call(i, [&] {
      if (watermark_ < max_watermark) {
        timers_[i]->advance_watermark(max_watermark);
        fire_event_timers(i);
        ops_[i].on_watermark(max_watermark, *links_[i]);
      }
      ops_[i].on_end_of_input(*links_[i]);
    });
  watermark_ = max_watermark;
}

} // namespace weir
