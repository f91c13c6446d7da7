#pragma once

#include <cstdint>
#include <string>

#include <caf/error.hpp>
#include <caf/timespan.hpp>

namespace weir {

/// Fault points of a task, for deterministic fault injection (sim/): a
/// task of a mini cluster built with an injector asks it at each point
/// what to do. Production clusters have none. Called from task actors,
/// one at a time under the deterministic scheduler; an implementation for
/// real threads must synchronize itself.
class fault_injector {
public:
  virtual ~fault_injector();

  /// Before subtask `execution` writes its state for checkpoint `id`: an
  /// error makes the write fail with it (the task declines the
  /// checkpoint, as after a full disk).
  virtual caf::error before_state_write(uint64_t id, uint32_t execution) = 0;

  /// After the state file `path` was written: the injector may damage it
  /// (the checkpoint then completes with a file that fails its checksum on
  /// restore).
  virtual void after_state_write(uint64_t id, uint32_t execution,
                                 const std::string& path)
    = 0;

  /// What happens to the acknowledgement of checkpoint `id` by subtask
  /// `execution`.
  struct ack_action {
    /// Never sent.
    bool drop = false;
    /// Sent after this delay (zero: at once).
    caf::timespan delay{0};
  };

  virtual ack_action on_ack(uint64_t id, uint32_t execution) = 0;
};

} // namespace weir
