#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/error.hpp>

#include "scheduler/error.hpp"

namespace weir {

/// A job's status, with Flink's names.
enum class job_status : uint8_t {
  initializing,
  created,
  running,
  failing,
  failed,
  cancelling,
  canceled,
  finished,
  restarting,
  suspended,
};

/// A subtask's execution state, with Flink's names.
enum class execution_state : uint8_t {
  created,
  scheduled,
  deploying,
  initializing,
  running,
  finished,
  canceling,
  canceled,
  failed,
};

/// "RUNNING", "CANCELLING", ... as Flink prints them.
const char* to_string(job_status x);
const char* to_string(execution_state x);

/// True for FAILED, CANCELED, FINISHED (and SUSPENDED for jobs: the job
/// manager gave it up, though another may resume it).
bool is_terminal(job_status x);
bool is_terminal(execution_state x);

/// The transition tables: the only place that says which moves are legal.
bool is_allowed(job_status from, job_status to);
bool is_allowed(execution_state from, execution_state to);

/// Wall-clock milliseconds since the epoch, as REST and logs show them.
using epoch_millis = int64_t;

/// One recorded transition.
template <class State>
struct transition {
  State from;
  State to;
  epoch_millis at = 0;
};

/// A state machine over the tables above that timestamps every transition.
/// Owned by whoever owns the job or subtask (job_master); not thread-safe.
template <class State>
class state_machine {
public:
  explicit state_machine(State initial, epoch_millis now)
    : current_(initial), entered_at_(now) {
    // nop
  }

  State current() const {
    return current_;
  }

  /// When the current state was entered.
  epoch_millis entered_at() const {
    return entered_at_;
  }

  /// All transitions so far, oldest first.
  const std::vector<transition<State>>& history() const {
    return history_;
  }

  /// Moves to `to` at time `now`; an illegal_transition error (and no
  /// change) when the table forbids it.
  caf::error move_to(State to, epoch_millis now) {
    if (!is_allowed(current_, to))
      return make_error(scheduler_errc::illegal_transition,
                        std::string{"illegal transition from "}
                          + to_string(current_) + " to " + to_string(to));
    history_.push_back({current_, to, now});
    current_ = to;
    entered_at_ = now;
    return caf::none;
  }

private:
  State current_;
  epoch_millis entered_at_;
  std::vector<transition<State>> history_;
};

using job_state_machine = state_machine<job_status>;
using execution_state_machine = state_machine<execution_state>;

} // namespace weir
