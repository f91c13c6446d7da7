#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "checkpoint/error.hpp"
#include "weir/proto/checkpoint.pb.h"

namespace weir {

/// A checkpoint or savepoint whose `_metadata` and every state file it
/// lists were found intact (present, of the recorded size, checksum ok).
struct completed_checkpoint {
  /// The directory holding `_metadata` and the state files.
  std::string dir;
  /// The decoded `_metadata`.
  proto::CheckpointMetadata metadata;
  /// One sentence per newer checkpoint that latest() passed over, saying
  /// what was wrong with it; empty when the newest one was intact.
  std::vector<std::string> warnings;
};

/// One subtask's state, to be written into a savepoint.
struct subtask_state {
  /// Describes the subtask; write_savepoint fills in `file` and `size`.
  proto::SubtaskStateHandle handle;
  /// The serialized state.
  std::string payload;
};

/// The completed checkpoints of one job on a (possibly shared) file
/// system, as Flink's FsCheckpointStorage and CompletedCheckpointStore:
///
///   <root>/<job_id>/chk-<id>/<vertex>-<subtask>.state   one per subtask
///   <root>/<job_id>/chk-<id>/_metadata                  written last
///
/// Every file is a state file (checkpoint/state_file.hpp): framed,
/// checksummed and written atomically. A checkpoint is complete exactly
/// when its `_metadata` exists, so a crash at any point leaves either a
/// complete checkpoint or a `chk-<id>` directory without `_metadata`,
/// which latest() ignores and cleanup_incomplete() removes.
///
/// A savepoint is a directory of the same shape anywhere,
/// `<dir>/savepoint-<job id prefix>-<random>/`, self-contained (file names
/// are relative) and never pruned; load() reads one, or any `chk-<id>`
/// directory, to start a job from it.
///
/// Lifecycle: the job's checkpoint coordinator owns one store for the
/// job's lifetime and calls complete(), abort(), latest() and
/// cleanup_incomplete(). Subtasks write their state with
/// write_subtask_state(), through the same store or through a store of
/// their own on the same directory (different subtasks never touch the
/// same file). Not thread-safe. Every failure is a caf::error made with
/// checkpoint_errc that names the path concerned; nothing throws.
class checkpoint_store {
public:
  /// A store for `job_id` (as Weir's job ids: 32 hex digits) under `root`
  /// (state.checkpoints.dir) that keeps the newest `retain` completed
  /// checkpoints (at least one). Touches no file until used.
  checkpoint_store(std::string root, std::string job_id, size_t retain);

  // -- paths ------------------------------------------------------------------

  /// `<root>/<job_id>`.
  const std::string& job_dir() const {
    return job_dir_;
  }

  /// `<root>/<job_id>/chk-<id>`.
  std::string checkpoint_dir(uint64_t id) const;

  // -- taking checkpoints -----------------------------------------------------

  /// The id the next checkpoint should use: one more than every
  /// `chk-<id>` present, complete or not, so ids keep increasing across
  /// restarts; 1 for a fresh job. Call it before cleanup_incomplete() on
  /// recovery so that ids of checkpoints in flight at a crash (whose
  /// two-phase-commit transactions may still exist) are not reused.
  caf::expected<uint64_t> next_id() const;

  /// Writes the state of subtask `subtask` of `vertex` for checkpoint `id`
  /// into `chk-<id>/<vertex>-<subtask>.state` (characters other than
  /// letters, digits and `_.-` in `vertex` are %-escaped) and returns its
  /// handle with `vertex_or_task_id`, `subtask`, `file` (relative) and
  /// `size` set; the caller adds parallelism and key groups and acks the
  /// checkpoint with it (serialized, as checkpoint_tracker's handles).
  /// Fails if checkpoint `id` is already complete: completed checkpoints
  /// are never modified.
  caf::expected<proto::SubtaskStateHandle>
  write_subtask_state(uint64_t id, const std::string& vertex, uint32_t subtask,
                      const std::string& payload);

  /// Declares checkpoint `metadata.checkpoint_id()` complete: checks that
  /// every listed state file exists with its recorded size, writes
  /// `_metadata` atomically, then deletes the completed checkpoints beyond
  /// the newest `retain`. Fills in an empty job id; refuses metadata of
  /// another job and ids not greater than every completed checkpoint's.
  /// Pruning is best effort: what it cannot delete now, it deletes on a
  /// later call.
  caf::error complete(proto::CheckpointMetadata metadata);

  /// Deletes the directory of checkpoint `id`, which must not be complete
  /// (declined, timed out, or superseded). No error if it does not exist.
  caf::error abort(uint64_t id);

  // -- recovery ---------------------------------------------------------------

  /// The ids of the completed checkpoints (those with `_metadata`; their
  /// contents unchecked), ascending; empty for a job that has none yet.
  caf::expected<std::vector<uint64_t>> list() const;

  /// The newest completed checkpoint that is intact: its `_metadata`
  /// decodes and names it, and every state file it lists exists with the
  /// recorded size and decodes. Newer broken ones are skipped, each with a
  /// warning in the result. Fails with io_error when the job has no
  /// completed checkpoint at all (list() is empty) and with corrupt, every
  /// reason listed, when none of them is intact.
  caf::expected<completed_checkpoint> latest() const;

  /// Removes every `chk-<id>` directory without `_metadata` (left by a
  /// crash mid-checkpoint, or by aborts that failed); returns how many.
  /// Call it only while no checkpoint is in flight, e.g. on recovery.
  caf::expected<size_t> cleanup_incomplete();

  // -- savepoints -------------------------------------------------------------

  /// Writes a savepoint of this job into a new directory
  /// `<target_dir>/savepoint-<job id prefix>-<random>` (creating
  /// `target_dir` if needed) and returns its path. The subtasks of
  /// `metadata` are replaced by those of `states`; `savepoint` is set and
  /// an empty job id filled in. `_metadata` is written last; on failure
  /// the partial directory is removed.
  caf::expected<std::string>
  write_savepoint(const std::string& target_dir,
                  proto::CheckpointMetadata metadata,
                  const std::vector<subtask_state>& states) const;

  /// Turns completed checkpoint `id` of this job into a savepoint: a new
  /// directory `<target_dir>/savepoint-<job id prefix>-<random>` holding
  /// its state files (hard links where the file system allows, copies
  /// otherwise) and its `_metadata` marked as a savepoint, written last.
  /// Returns the directory; on failure the partial directory is removed.
  /// The checkpoint itself stays, subject to pruning as before.
  caf::expected<std::string>
  export_savepoint(uint64_t id, const std::string& target_dir) const;

  /// Reads and verifies a savepoint or checkpoint, given as its directory
  /// or its `_metadata` file (what `--from-savepoint` accepts), as
  /// latest() verifies a checkpoint.
  static caf::expected<completed_checkpoint> load(const std::string& path);

  /// Reads the state file of `handle` in the checkpoint directory `dir`
  /// after checking its recorded size.
  static caf::expected<std::string>
  read_subtask_state(const std::string& dir,
                     const proto::SubtaskStateHandle& handle);

private:
  /// Creates a fresh, empty savepoint directory under `target_dir`.
  caf::expected<std::string>
  make_savepoint_dir(const std::string& target_dir) const;

  /// Deletes completed checkpoints beyond the newest `retain_`.
  void prune();

  std::string root_;
  std::string job_id_;
  std::string job_dir_;
  size_t retain_;
};

} // namespace weir
