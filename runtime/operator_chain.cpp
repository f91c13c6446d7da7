#include "runtime/operator_chain.hpp"

#include <exception>

#include "api/codec.hpp"
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
    if (next_ < chain_->ops_.size()) {
      auto* c = chain_;
      auto i = next_;
      c->call(i, [&] { c->ops_[i].on_record(r, *c->links_[i]); });
    } else {
      out_->add(std::move(r));
    }
  }

private:
  operator_chain* chain_;
  size_t next_;
  output_gate* out_;
};

caf::expected<std::unique_ptr<operator_chain>>
operator_chain::make(const plan& p, size_t exec, output_gate& out,
                     std::function<std::chrono::steady_clock::time_point()> now,
                     const std::string& job) {
  const auto& ev = p.executions[exec];
  const auto& task = p.tasks[ev.task];
  std::unique_ptr<operator_chain> chain{new operator_chain};
  chain->contexts_.reserve(task.chain.size());
  for (auto vi : task.chain) {
    const auto& v = p.graph.vertices[vi];
    operator_context ctx;
    ctx.job = job;
    ctx.vertex = v.id;
    ctx.subtask = ev.subtask;
    ctx.parallelism = v.parallelism;
    ctx.max_parallelism = v.max_parallelism;
    ctx.params = v.params;
    ctx.input_fields = v.input_fields;
    ctx.output_fields = v.output_fields;
    ctx.now = now;
    chain->contexts_.push_back(std::move(ctx));
  }
  for (size_t i = 0; i < task.chain.size(); ++i) {
    const auto& v = p.graph.vertices[task.chain[i]];
    try {
      chain->ops_.push_back(v.op->factory(chain->contexts_[i]));
    } catch (const std::exception& e) {
      return make_error(
        runtime_errc::operator_failed,
        "vertex '" + v.id + "' (subtask " + std::to_string(ev.subtask + 1) + "/"
          + std::to_string(v.parallelism) + ") failed to start: " + e.what());
    } catch (...) {
      return make_error(runtime_errc::operator_failed,
                        "vertex '" + v.id + "' (subtask "
                          + std::to_string(ev.subtask + 1) + "/"
                          + std::to_string(v.parallelism)
                          + ") failed to start: a non-standard exception");
    }
  }
  for (size_t i = 0; i < task.chain.size(); ++i)
    chain->links_.push_back(std::make_unique<link>(chain.get(), i + 1, &out));
  return chain;
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

void operator_chain::on_record(const row& r) {
  ++rows_in_;
  call(0, [&] { ops_.front().on_record(r, *links_.front()); });
}

poll_result operator_chain::on_poll(size_t budget) {
  return call(0, [&] { return ops_.front().on_poll(*links_.front(), budget); });
}

std::string operator_chain::snapshot(uint64_t checkpoint_id) {
  std::string out;
  append_varint(out, ops_.size());
  for (size_t i = 0; i < ops_.size(); ++i) {
    auto bytes = call(i, [&] { return ops_[i].on_snapshot(checkpoint_id); });
    append_varint(out, bytes.size());
    out += bytes;
  }
  return out;
}

caf::error operator_chain::restore(const std::string& bytes) {
  size_t pos = 0;
  uint64_t n = 0;
  if (!read_varint(bytes.data(), bytes.size(), pos, n) || n != ops_.size())
    return make_error(runtime_errc::protocol_violation,
                      "chain state holds " + std::to_string(n)
                        + " operators, the chain has "
                        + std::to_string(ops_.size()));
  std::vector<std::string> parts;
  for (size_t i = 0; i < ops_.size(); ++i) {
    uint64_t len = 0;
    if (!read_varint(bytes.data(), bytes.size(), pos, len)
        || len > bytes.size() - pos)
      return make_error(runtime_errc::protocol_violation,
                        "chain state is truncated at operator "
                          + contexts_[i].vertex);
    parts.push_back(bytes.substr(pos, len));
    pos += len;
  }
  if (pos != bytes.size())
    return make_error(runtime_errc::protocol_violation,
                      "chain state has trailing bytes");
  for (size_t i = 0; i < ops_.size(); ++i)
    call(i, [&] { ops_[i].on_restore(parts[i]); });
  return caf::none;
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
  for (size_t i = 0; i < ops_.size(); ++i)
    call(i, [&] { ops_[i].on_end_of_input(*links_[i]); });
}

} // namespace weir
