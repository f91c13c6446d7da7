#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "actors/faults.hpp"
#include "api/registry.hpp"

namespace weir::sim {

/// The faults a simulation injects (issue: seeded fault schedules).
enum class fault_kind : uint8_t {
  /// The next record any operator handles throws.
  operator_exception,
  /// A running task actor is killed.
  kill_task,
  /// A task manager actor is killed, with every task it runs.
  kill_task_manager,
  /// The next state file write fails (as on a full disk).
  fail_state_write,
  /// The next state file written is damaged after the write (its checksum
  /// no longer matches).
  corrupt_state_write,
  /// The next checkpoint acknowledgement is lost.
  drop_ack,
  /// The next checkpoint acknowledgement arrives late.
  delay_ack,
  /// The next operator snapshot throws.
  snapshot_failure,
  /// The next operator restore throws.
  restore_failure,
};

/// Every kind, in declaration order.
const std::vector<fault_kind>& all_fault_kinds();

/// "operator_exception", "kill_task", ...
const char* to_string(fault_kind x);

/// Faults armed for the next matching event, shared by the fault injector
/// of the tasks and the wrapped operators. One simulation run owns one;
/// everything happens on the deterministic scheduler's single thread.
class armed_faults {
public:
  explicit armed_faults(uint64_t seed) : rng_(seed) {
  }

  /// Arms `kind` for its next event.
  void arm(fault_kind kind);

  /// Whether `kind` is armed; if so it fires now: disarmed and logged.
  bool take(fault_kind kind, const std::string& where);

  /// A random number for decisions inside a fault (which byte to damage).
  uint64_t random() {
    return rng_();
  }

  /// What fired, in order ("corrupt_state_write: checkpoint 3, subtask 1").
  const std::vector<std::string>& fired() const {
    return fired_;
  }

  /// Notes something that fired outside take() (kills).
  void log(std::string what) {
    fired_.push_back(std::move(what));
  }

private:
  std::vector<fault_kind> armed_;
  std::vector<std::string> fired_;
  std::mt19937_64 rng_;
};

/// The tasks' fault points (actors/faults.hpp), driven by `armed`.
class armed_injector : public fault_injector {
public:
  explicit armed_injector(std::shared_ptr<armed_faults> armed)
    : armed_(std::move(armed)) {
  }

  caf::error before_state_write(uint64_t id, uint32_t execution) override;

  void after_state_write(uint64_t id, uint32_t execution,
                         const std::string& path) override;

  ack_action on_ack(uint64_t id, uint32_t execution) override;

private:
  std::shared_ptr<armed_faults> armed_;
};

/// A copy of `registry` whose operators throw when `armed` says so: in a
/// record handler (operator_exception), a snapshot (snapshot_failure) or a
/// restore (restore_failure). Otherwise they behave exactly as the
/// originals; operators keep their kind, parameters and handlers.
std::shared_ptr<operator_registry>
with_fault_points(const operator_registry& registry,
                  std::shared_ptr<armed_faults> armed);

} // namespace weir::sim
