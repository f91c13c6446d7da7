#include "scheduler/lifecycle.hpp"

#include <set>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

using namespace weir;

namespace {

// The expected tables, written out as Flink documents them (by name, not by
// enum value, so a swapped enumerator in lifecycle.cpp cannot hide).

const std::set<std::string> job_moves = {
  "INITIALIZING -> CREATED",    "INITIALIZING -> FAILED",
  "INITIALIZING -> CANCELLING", "INITIALIZING -> SUSPENDED",
  "CREATED -> RUNNING",         "CREATED -> FAILING",
  "CREATED -> CANCELLING",      "CREATED -> SUSPENDED",
  "RUNNING -> FAILING",         "RUNNING -> CANCELLING",
  "RUNNING -> FINISHED",        "RUNNING -> RESTARTING",
  "RUNNING -> SUSPENDED",       "FAILING -> FAILED",
  "FAILING -> RESTARTING",      "FAILING -> CANCELLING",
  "RESTARTING -> RUNNING",      "RESTARTING -> CANCELLING",
  "RESTARTING -> FAILED",       "RESTARTING -> SUSPENDED",
  "CANCELLING -> CANCELED",     "CANCELLING -> FAILED",
};

const std::set<std::string> execution_moves = {
  "CREATED -> SCHEDULED",      "CREATED -> CANCELING",
  "CREATED -> CANCELED",       "CREATED -> FAILED",
  "SCHEDULED -> DEPLOYING",    "SCHEDULED -> CANCELING",
  "SCHEDULED -> CANCELED",     "SCHEDULED -> FAILED",
  "DEPLOYING -> INITIALIZING", "DEPLOYING -> RUNNING",
  "DEPLOYING -> FAILED",       "DEPLOYING -> CANCELING",
  "INITIALIZING -> RUNNING",   "INITIALIZING -> FAILED",
  "INITIALIZING -> CANCELING", "INITIALIZING -> FINISHED",
  "RUNNING -> FINISHED",       "RUNNING -> FAILED",
  "RUNNING -> CANCELING",      "CANCELING -> CANCELED",
  "CANCELING -> FAILED",
};

const std::vector<job_status> all_job_statuses = {
  job_status::initializing, job_status::created,  job_status::running,
  job_status::failing,      job_status::failed,   job_status::cancelling,
  job_status::canceled,     job_status::finished, job_status::restarting,
  job_status::suspended,
};

const std::vector<execution_state> all_execution_states = {
  execution_state::created,   execution_state::scheduled,
  execution_state::deploying, execution_state::initializing,
  execution_state::running,   execution_state::finished,
  execution_state::canceling, execution_state::canceled,
  execution_state::failed,
};

template <class State>
std::string move_name(State from, State to) {
  return std::string{to_string(from)} + " -> " + to_string(to);
}

template <class State>
void check_table(const std::vector<State>& states,
                 const std::set<std::string>& expected) {
  size_t allowed = 0;
  for (auto from : states) {
    for (auto to : states) {
      auto name = move_name(from, to);
      INFO(name);
      CHECK_EQ(is_allowed(from, to), expected.count(name) == 1);
      if (is_allowed(from, to))
        ++allowed;
    }
  }
  // Every expected move names real states (no typo in the sets above).
  CHECK_EQ(allowed, expected.size());
}

template <class State>
std::vector<State> exits_of(const std::vector<State>& states, State from) {
  std::vector<State> result;
  for (auto to : states)
    if (is_allowed(from, to))
      result.push_back(to);
  return result;
}

} // namespace

TEST_CASE("job statuses print with Flink's names") {
  std::vector<std::string> names;
  for (auto x : all_job_statuses)
    names.emplace_back(to_string(x));
  CHECK_EQ(names, std::vector<std::string>{"INITIALIZING", "CREATED", "RUNNING",
                                           "FAILING", "FAILED", "CANCELLING",
                                           "CANCELED", "FINISHED", "RESTARTING",
                                           "SUSPENDED"});
}

TEST_CASE("execution states print with Flink's names") {
  std::vector<std::string> names;
  for (auto x : all_execution_states)
    names.emplace_back(to_string(x));
  CHECK_EQ(names, std::vector<std::string>{
                    "CREATED", "SCHEDULED", "DEPLOYING", "INITIALIZING",
                    "RUNNING", "FINISHED", "CANCELING", "CANCELED", "FAILED"});
}

TEST_CASE("every pair of job statuses is allowed exactly as Flink's "
          "JobStatus allows it") {
  check_table(all_job_statuses, job_moves);
}

TEST_CASE("every pair of execution states is allowed exactly as Flink's "
          "ExecutionState allows it") {
  check_table(all_execution_states, execution_moves);
}

TEST_CASE("terminal job statuses are exactly those without exits") {
  std::set<job_status> terminal{job_status::failed, job_status::canceled,
                                job_status::finished, job_status::suspended};
  for (auto x : all_job_statuses) {
    INFO(to_string(x));
    CHECK_EQ(is_terminal(x), terminal.count(x) == 1);
    CHECK_EQ(exits_of(all_job_statuses, x).empty(), is_terminal(x));
  }
}

TEST_CASE("terminal execution states are exactly those without exits") {
  std::set<execution_state> terminal{execution_state::finished,
                                     execution_state::canceled,
                                     execution_state::failed};
  for (auto x : all_execution_states) {
    INFO(to_string(x));
    CHECK_EQ(is_terminal(x), terminal.count(x) == 1);
    CHECK_EQ(exits_of(all_execution_states, x).empty(), is_terminal(x));
  }
}

TEST_CASE("no state may move to itself") {
  for (auto x : all_job_statuses)
    CHECK_FALSE(is_allowed(x, x));
  for (auto x : all_execution_states)
    CHECK_FALSE(is_allowed(x, x));
}

TEST_CASE("a state machine records every transition with its time") {
  job_state_machine sm{job_status::initializing, 100};
  CHECK_EQ(sm.current(), job_status::initializing);
  CHECK_EQ(sm.entered_at(), 100);
  CHECK(sm.history().empty());
  CHECK_FALSE(sm.move_to(job_status::created, 110));
  CHECK_FALSE(sm.move_to(job_status::running, 120));
  CHECK_FALSE(sm.move_to(job_status::finished, 300));
  CHECK_EQ(sm.current(), job_status::finished);
  CHECK_EQ(sm.entered_at(), 300);
  REQUIRE_EQ(sm.history().size(), 3u);
  const auto& h = sm.history();
  CHECK_EQ(h[0].from, job_status::initializing);
  CHECK_EQ(h[0].to, job_status::created);
  CHECK_EQ(h[0].at, 110);
  CHECK_EQ(h[1].to, job_status::running);
  CHECK_EQ(h[1].at, 120);
  CHECK_EQ(h[2].from, job_status::running);
  CHECK_EQ(h[2].to, job_status::finished);
  CHECK_EQ(h[2].at, 300);
}

TEST_CASE("a state machine refuses an illegal move and stays unchanged") {
  execution_state_machine sm{execution_state::created, 5};
  REQUIRE_FALSE(sm.move_to(execution_state::scheduled, 10));
  auto err = sm.move_to(execution_state::running, 20);
  REQUIRE(err);
  CHECK_EQ(err.code(),
           static_cast<uint8_t>(scheduler_errc::illegal_transition));
  CHECK_EQ(err.category(), caf::atom("weir_sched"));
  CHECK_EQ(error_text(err), "illegal transition from SCHEDULED to RUNNING");
  CHECK_EQ(sm.current(), execution_state::scheduled);
  CHECK_EQ(sm.entered_at(), 10);
  CHECK_EQ(sm.history().size(), 1u);
}

TEST_CASE("a finished job cannot be restarted") {
  job_state_machine sm{job_status::running, 0};
  REQUIRE_FALSE(sm.move_to(job_status::finished, 1));
  for (auto x : all_job_statuses)
    CHECK(sm.move_to(x, 2));
  CHECK_EQ(sm.current(), job_status::finished);
  CHECK_EQ(sm.history().size(), 1u);
}
