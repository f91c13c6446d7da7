#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/protocol.hpp"
#include "api/registry.hpp"
#include "sim/faults.hpp"
#include "weir/proto/job_spec.pb.h"

namespace weir::sim {

/// How a simulation runs a job.
struct simulation_config {
  /// The mini cluster: task managers and slots each.
  uint32_t task_managers = 2;
  uint32_t slots_per_task_manager = 4;
  /// Small batches and few credits: many messages, so many interleavings
  /// (and backpressure) even for small inputs.
  data_plane_config data_plane{2, 16, 32 * 1024, 10};
  /// The fault kinds a run may inject (default: all of them).
  std::vector<fault_kind> faults = all_fault_kinds();
  /// At most this many faults per run; the first fault comes after
  /// `first_fault_step` steps, then each step injects one with probability
  /// `fault_rate`.
  uint32_t max_faults = 4;
  uint64_t first_fault_step = 100;
  double fault_rate = 1.0 / 500;
  /// Share of steps that fire the next timer (advancing virtual time)
  /// although messages are ready; timers fire anyway when none are.
  double timer_rate = 0.05;
  /// A killed task manager is replaced by a fresh one (a machine joining)
  /// after this much virtual time; zero leaves it dead.
  caf::timespan replace_task_manager_after = std::chrono::seconds(2);
  /// A run that takes more steps than this is a violation (a hang).
  uint64_t max_steps = 3'000'000;
  /// Where, under a run's directory, the job's file sink writes: the
  /// committed output that runs are compared by.
  std::string output_dir = "out";
  /// Exactly-once: each run's committed lines equal the reference's, each
  /// as often. Otherwise (at-least-once jobs) each reference line must be
  /// there at least once.
  bool exactly_once = true;
};

/// What one run did and what was wrong with it.
struct run_report {
  uint64_t seed = 0;
  /// The job's outcome; FAILED or CANCELED here is a violation too.
  job_result result;
  /// Scheduler steps taken (messages run and timers fired).
  uint64_t steps = 0;
  /// A hash of the whole schedule: which actor ran which message when,
  /// which timer fired, which fault was injected. Equal seeds give equal
  /// hashes (WEIR_SEED replays a run).
  uint64_t trace_hash = 0;
  /// The faults that fired, in order.
  std::vector<std::string> faults;
  /// The job's failures (exception history) and completed checkpoints.
  std::vector<failure_info> exceptions;
  std::vector<uint64_t> completed_checkpoints;
  /// Committed output lines and how often each appears.
  std::map<std::string, int> output;
  /// Every invariant that did not hold, one sentence each; empty for a
  /// good run.
  std::vector<std::string> violations;

  bool ok() const {
    return violations.empty();
  }

  /// A readable account: seed, outcome, faults, violations, and how to
  /// replay it.
  std::string describe() const;
};

/// Builds the job of one run; `dir` is a fresh, empty directory for that
/// run's output and checkpoints (the job's file sink must write to
/// `dir`/simulation_config::output_dir).
using job_factory = std::function<proto::JobSpec(const std::string& dir)>;

/// Runs a job on a whole mini cluster on CAF's deterministic scheduler,
/// under a seeded schedule: at every step a seeded random generator picks
/// which ready actor runs its next message (or fires the next timer), and
/// injects faults at seeded points (simulation_config::faults). Runs are
/// checked against a reference run without faults, in FIFO order:
///
///   - the job FINISHED and its committed output equals the reference's
///     (exactly once, or at least once for at-least-once jobs);
///   - checkpoint ids increase, across restarts too;
///   - every completed checkpoint holds the state of every subtask;
///   - no uncommitted output file of the sink is left behind.
///
/// The same seed replays the same run step for step (the same trace hash).
/// A user tests an operator of their own by registering it in `registry`
/// and running a job that uses it (examples/simulation_test.cpp).
///
/// Lifecycle: construct, then reference() once (run() calls it if needed),
/// then run() any number of seeds. Each run gets its own actor system and
/// directory under `work_dir`, removed afterwards unless it failed.
class simulation {
public:
  simulation(std::shared_ptr<const operator_registry> registry,
             job_factory make_job, std::string work_dir,
             simulation_config cfg = {});

  ~simulation();

  simulation(const simulation&) = delete;
  simulation& operator=(const simulation&) = delete;

  /// The fault-free run every seeded run is compared with.
  const run_report& reference();

  /// One seeded run.
  run_report run(uint64_t seed);

  /// The seeds a test should run: `WEIR_SEED=<n>` in the environment
  /// gives just {n}; otherwise `count` seeds from `first` on.
  static std::vector<uint64_t> seeds(uint64_t first, size_t count);

private:
  run_report execute(uint64_t seed, bool faults);

  std::shared_ptr<const operator_registry> registry_;
  job_factory make_job_;
  std::string work_dir_;
  simulation_config cfg_;
  std::optional<run_report> reference_;
};

} // namespace weir::sim
