#include "scheduler/lifecycle.hpp"

#include <cstddef>
#include <initializer_list>
#include <iterator>

namespace weir {

namespace {

using js = job_status;
using es = execution_state;

/// A set of states as a bit mask, bit n standing for the state of value n.
template <class State>
constexpr uint16_t states(std::initializer_list<State> xs) {
  uint16_t result = 0;
  for (auto x : xs)
    result = static_cast<uint16_t>(result | (1u << static_cast<unsigned>(x)));
  return result;
}

// -- the transition tables: legal targets of each state, indexed by it --------

// clang-format off

/// Flink's JobStatus transitions.
constexpr uint16_t job_exits[] = {
  /* INITIALIZING */ states({js::created, js::failed, js::cancelling,
                             js::suspended}),
  /* CREATED      */ states({js::running, js::failing, js::cancelling,
                             js::suspended}),
  /* RUNNING      */ states({js::failing, js::cancelling, js::finished,
                             js::restarting, js::suspended}),
  /* FAILING      */ states({js::failed, js::restarting, js::cancelling}),
  /* FAILED       */ states<js>({}),
  /* CANCELLING   */ states({js::canceled, js::failed}),
  /* CANCELED     */ states<js>({}),
  /* FINISHED     */ states<js>({}),
  /* RESTARTING   */ states({js::running, js::cancelling, js::failed,
                             js::suspended}),
  /* SUSPENDED    */ states<js>({}),
};

/// Flink's ExecutionState transitions.
constexpr uint16_t execution_exits[] = {
  /* CREATED      */ states({es::scheduled, es::canceling, es::canceled,
                             es::failed}),
  /* SCHEDULED    */ states({es::deploying, es::canceling, es::canceled,
                             es::failed}),
  /* DEPLOYING    */ states({es::initializing, es::running, es::canceling,
                             es::failed}),
  /* INITIALIZING */ states({es::running, es::finished, es::canceling,
                             es::failed}),
  /* RUNNING      */ states({es::finished, es::canceling, es::failed}),
  /* FINISHED     */ states<es>({}),
  /* CANCELING    */ states({es::canceled, es::failed}),
  /* CANCELED     */ states<es>({}),
  /* FAILED       */ states<es>({}),
};

// clang-format on

static_assert(std::size(job_exits)
              == static_cast<size_t>(job_status::suspended) + 1);
static_assert(std::size(execution_exits)
              == static_cast<size_t>(execution_state::failed) + 1);

constexpr const char* job_status_names[] = {
  "INITIALIZING", "CREATED",  "RUNNING",  "FAILING",    "FAILED",
  "CANCELLING",   "CANCELED", "FINISHED", "RESTARTING", "SUSPENDED",
};

constexpr const char* execution_state_names[] = {
  "CREATED",  "SCHEDULED", "DEPLOYING", "INITIALIZING", "RUNNING",
  "FINISHED", "CANCELING", "CANCELED",  "FAILED",
};

static_assert(std::size(job_status_names) == std::size(job_exits));
static_assert(std::size(execution_state_names) == std::size(execution_exits));

template <class State, size_t N>
bool lookup(const uint16_t (&table)[N], State from, State to) {
  auto i = static_cast<size_t>(from);
  auto j = static_cast<unsigned>(to);
  return i < N && j < N && (table[i] & (1u << j)) != 0;
}

template <class State, size_t N>
const char* name_of(const char* const (&names)[N], State x) {
  auto i = static_cast<size_t>(x);
  return i < N ? names[i] : "<invalid>";
}

} // namespace

const char* to_string(job_status x) {
  return name_of(job_status_names, x);
}

const char* to_string(execution_state x) {
  return name_of(execution_state_names, x);
}

bool is_terminal(job_status x) {
  switch (x) {
    case job_status::failed:
    case job_status::canceled:
    case job_status::finished:
    case job_status::suspended:
      return true;
    default:
      return false;
  }
}

bool is_terminal(execution_state x) {
  switch (x) {
    case execution_state::finished:
    case execution_state::canceled:
    case execution_state::failed:
      return true;
    default:
      return false;
  }
}

bool is_allowed(job_status from, job_status to) {
  return lookup(job_exits, from, to);
}

bool is_allowed(execution_state from, execution_state to) {
  return lookup(execution_exits, from, to);
}

} // namespace weir
