#include "sim/faults.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <stdexcept>

#include "api/error.hpp"

namespace weir::sim {

const std::vector<fault_kind>& all_fault_kinds() {
  static const std::vector<fault_kind> kinds{
    fault_kind::operator_exception,  fault_kind::kill_task,
    fault_kind::kill_task_manager,   fault_kind::fail_state_write,
    fault_kind::corrupt_state_write, fault_kind::drop_ack,
    fault_kind::delay_ack,           fault_kind::snapshot_failure,
    fault_kind::restore_failure,
  };
  return kinds;
}

const char* to_string(fault_kind x) {
  switch (x) {
    case fault_kind::operator_exception:
      return "operator_exception";
    case fault_kind::kill_task:
      return "kill_task";
    case fault_kind::kill_task_manager:
      return "kill_task_manager";
    case fault_kind::fail_state_write:
      return "fail_state_write";
    case fault_kind::corrupt_state_write:
      return "corrupt_state_write";
    case fault_kind::drop_ack:
      return "drop_ack";
    case fault_kind::delay_ack:
      return "delay_ack";
    case fault_kind::snapshot_failure:
      return "snapshot_failure";
    case fault_kind::restore_failure:
      return "restore_failure";
  }
  return "???";
}

void armed_faults::arm(fault_kind kind) {
  armed_.push_back(kind);
}

bool armed_faults::take(fault_kind kind, const std::string& where) {
  auto i = std::find(armed_.begin(), armed_.end(), kind);
  if (i == armed_.end())
    return false;
  armed_.erase(i);
  fired_.push_back(std::string{to_string(kind)} + ": " + where);
  return true;
}

namespace {

std::string at(uint64_t id, uint32_t execution) {
  return "checkpoint " + std::to_string(id) + ", subtask "
         + std::to_string(execution);
}

} // namespace

caf::error armed_injector::before_state_write(uint64_t id, uint32_t execution) {
  if (armed_->take(fault_kind::fail_state_write, at(id, execution)))
    return make_weir_error(1, caf::atom("weir_sim"),
                           "injected state write failure (no space left on "
                           "device)");
  return caf::none;
}

void armed_injector::after_state_write(uint64_t id, uint32_t execution,
                                       const std::string& path) {
  if (!armed_->take(fault_kind::corrupt_state_write, at(id, execution)))
    return;
  std::fstream f{path, std::ios::in | std::ios::out | std::ios::binary};
  f.seekg(0, std::ios::end);
  auto size = static_cast<uint64_t>(f.tellg());
  if (size == 0)
    return;
  // Any byte: the header, the frame or the payload; each is checked.
  auto pos = static_cast<std::streamoff>(armed_->random() % size);
  f.seekg(pos);
  char c = 0;
  f.get(c);
  f.seekp(pos);
  f.put(static_cast<char>(c ^ 0x5a));
}

fault_injector::ack_action armed_injector::on_ack(uint64_t id,
                                                  uint32_t execution) {
  ack_action action;
  if (armed_->take(fault_kind::drop_ack, at(id, execution)))
    action.drop = true;
  else if (armed_->take(fault_kind::delay_ack, at(id, execution)))
    action.delay = std::chrono::milliseconds(
      50 + static_cast<int64_t>(armed_->random() % 3000));
  return action;
}

std::shared_ptr<operator_registry>
with_fault_points(const operator_registry& registry,
                  std::shared_ptr<armed_faults> armed) {
  auto out = std::make_shared<operator_registry>();
  for (const auto& name : registry.names()) {
    auto d = *registry.find(name);
    auto inner = d.factory;
    d.factory = [inner, armed](const operator_context& ctx) {
      auto b = std::make_shared<operator_behavior>(inner(ctx));
      auto where
        = "vertex '" + ctx.vertex + "' subtask " + std::to_string(ctx.subtask);
      operator_behavior w{
        [b, armed, where](const row& r, collector& out) {
          if (armed->take(fault_kind::operator_exception, where))
            throw std::runtime_error("injected operator exception");
          b->on_record(r, out);
        },
        [b](end_of_input_t, collector& out) { b->on_end_of_input(out); },
        [b, armed, where](second_input_t, const row& r, collector& out) {
          if (armed->take(fault_kind::operator_exception, where))
            throw std::runtime_error("injected operator exception");
          b->on_second_record(r, out);
        },
        [b](watermark_t, int64_t wm, collector& out) {
          b->on_watermark(wm, out);
        },
        [b](timer_fired_t, const fired_timer& t, collector& out) {
          b->on_timer(t, out);
        },
      };
      if (b->is_source())
        w.on([b](poll_t, collector& out, size_t budget) {
          return b->on_poll(out, budget);
        });
      if (b->is_stateful()) {
        w.on([b, armed, where](snapshot_t, uint64_t id) {
          if (armed->take(fault_kind::snapshot_failure,
                          where + ", checkpoint " + std::to_string(id)))
            throw std::runtime_error("injected snapshot failure");
          return b->on_snapshot(id);
        });
        w.on([b, armed, where](restore_t, const std::string& bytes) {
          if (armed->take(fault_kind::restore_failure, where))
            throw std::runtime_error("injected restore failure");
          b->on_restore(bytes);
        });
      }
      if (b->is_committing())
        w.on([b](checkpoint_complete_t, uint64_t id) {
          b->on_checkpoint_complete(id);
        });
      return w;
    };
    if (auto err = out->add(std::move(d)))
      throw std::logic_error("with_fault_points: " + error_text(err));
  }
  return out;
}

} // namespace weir::sim
