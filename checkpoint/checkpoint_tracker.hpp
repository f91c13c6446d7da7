#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "weir/proto/job_spec.pb.h"

namespace weir {

/// Checkpoint settings with Flink's names and defaults (see CheckpointConfig
/// in job_spec.proto).
struct checkpoint_settings {
  /// execution.checkpointing.interval; zero disables checkpoints.
  std::chrono::milliseconds interval{0};
  std::chrono::milliseconds timeout{600000};
  std::chrono::milliseconds min_pause{0};
  uint32_t max_concurrent = 1;
  uint32_t tolerable_failures = 0;
  bool exactly_once = true;
  uint32_t retained = 1;
  std::string dir;

  /// Whether checkpoints are taken periodically.
  bool enabled() const {
    return interval.count() > 0;
  }

  /// Whether the job has checkpoint storage: then its tasks take part in
  /// checkpoints, and savepoints can be taken, even without periodic ones.
  bool has_storage() const {
    return !dir.empty();
  }
};

/// Reads and checks a job's checkpoint settings; errors name the option.
caf::expected<checkpoint_settings>
resolve_checkpoint_settings(const proto::CheckpointConfig& cfg);

/// The coordinator's bookkeeping, without actors or I/O: which checkpoints
/// are pending, which subtasks acknowledged them (with their state
/// handles), when a trigger is allowed (max concurrent, min pause), when a
/// pending checkpoint expires, and when failed checkpoints exceed what the
/// job tolerates (consecutive failures, as Flink counts them). Ids grow by
/// one per trigger and never repeat. Owned by the checkpoint_coordinator
/// actor of one job.
class checkpoint_tracker {
public:
  using clock = std::chrono::steady_clock;

  /// A completed checkpoint: every subtask's state handle, by subtask
  /// index (the execution index of the plan).
  struct completed {
    uint64_t id = 0;
    clock::time_point triggered;
    clock::time_point finished;
    std::vector<std::string> handles;
    /// When each subtask's acknowledgement arrived, indexed like handles.
    std::vector<clock::time_point> acked_at;
  };

  /// What happened to a checkpoint that did not complete.
  struct aborted {
    uint64_t id = 0;
    std::string reason;
    /// When it was triggered.
    clock::time_point triggered;
  };

  /// Result of a failure (decline, expiry): the aborted checkpoints, and
  /// whether the job must now fail (more failures than tolerated).
  struct failure_outcome {
    std::vector<aborted> aborted_checkpoints;
    bool fail_job = false;
  };

  /// `subtasks`: how many acknowledgements complete a checkpoint.
  /// `first_id`: the id of the first trigger (after a restore: the
  /// restored id + 1, so ids keep increasing across restarts).
  checkpoint_tracker(checkpoint_settings settings, size_t subtasks,
                     uint64_t first_id = 1);

  /// Starts a checkpoint at `now` if max concurrent and min pause allow,
  /// or regardless of them when `forced` (savepoints, as in Flink);
  /// returns its id.
  std::optional<uint64_t> try_trigger(clock::time_point now,
                                      bool forced = false);

  /// Records subtask `subtask`'s acknowledgement of `id` with its state
  /// handle. Returns the completed checkpoint when this was the last
  /// missing one; older pending checkpoints are then subsumed (aborted,
  /// listed in `subsumed()`). Unknown ids (expired, aborted) and duplicate
  /// acks are ignored.
  std::optional<completed> acknowledge(uint64_t id, size_t subtask,
                                       std::string handle,
                                       clock::time_point now);

  /// A subtask declined `id` (snapshot failed, write error): the checkpoint
  /// aborts and counts as a failure.
  failure_outcome decline(uint64_t id, const std::string& reason);

  /// Aborts every pending checkpoint older than the timeout at `now`; each
  /// counts as a failure.
  failure_outcome expire(clock::time_point now);

  /// Aborts every pending checkpoint without counting failures (job
  /// restarting or stopping).
  std::vector<aborted> abort_all(const std::string& reason);

  /// Checkpoints subsumed by the last completion (to clean up their files).
  std::vector<aborted> take_subsumed();

  /// The earliest time a pending checkpoint expires, if any is pending.
  std::optional<clock::time_point> next_expiry() const;

  size_t pending_count() const {
    return pending_.size();
  }

  /// Ids of pending checkpoints, ascending.
  std::vector<uint64_t> pending_ids() const;

  /// A pending checkpoint as far as it got: the subtasks that acknowledged
  /// it, with their state handles and when.
  struct progress {
    uint64_t id = 0;
    clock::time_point triggered;
    struct ack {
      size_t subtask = 0;
      std::string handle;
      clock::time_point at;
    };
    std::vector<ack> acks;
  };

  /// The pending checkpoints, ascending by id.
  std::vector<progress> in_flight() const;

  /// The newest completed checkpoint, if any.
  const std::optional<completed>& latest() const {
    return latest_;
  }

  uint32_t consecutive_failures() const {
    return consecutive_failures_;
  }

  const checkpoint_settings& settings() const {
    return settings_;
  }

private:
  struct pending {
    clock::time_point triggered;
    std::vector<std::optional<std::string>> handles;
    std::vector<clock::time_point> acked_at;
    size_t acked = 0;
  };

  failure_outcome count_failure(std::vector<aborted> xs);

  checkpoint_settings settings_;
  size_t subtasks_;
  uint64_t next_id_;
  std::map<uint64_t, pending> pending_;
  std::optional<completed> latest_;
  std::optional<clock::time_point> last_finished_;
  std::vector<aborted> subsumed_;
  uint32_t consecutive_failures_ = 0;
};

} // namespace weir
