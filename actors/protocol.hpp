#pragma once

// The message vocabulary of Weir: every atom, message struct and typed actor
// interface, in one place. Register them with register_protocol() once per
// actor system config.

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/sec.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>

#include "api/codec.hpp"
#include "api/value.hpp"
#include "scheduler/lifecycle.hpp"

namespace weir {

/// The version every node of a cluster must run: a TaskManager of another
/// version is refused at registration (the message vocabulary may differ).
inline constexpr const char* weir_version = WEIR_VERSION;

// -- atoms --------------------------------------------------------------------

using ack_atom = caf::atom_constant<caf::atom("ack")>;
using barrier_atom = caf::atom_constant<caf::atom("barrier")>;
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
using commit_atom = caf::atom_constant<caf::atom("commit")>;
using complete_atom = caf::atom_constant<caf::atom("complete")>;
using decline_atom = caf::atom_constant<caf::atom("decline")>;
using fail_atom = caf::atom_constant<caf::atom("fail")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using trigger_atom = caf::atom_constant<caf::atom("trigger")>;
using connect_atom = caf::atom_constant<caf::atom("connect")>;
using credit_atom = caf::atom_constant<caf::atom("credit")>;
using data_atom = caf::atom_constant<caf::atom("data")>;
using deploy_atom = caf::atom_constant<caf::atom("deploy")>;
using end_atom = caf::atom_constant<caf::atom("end")>;
using fetch_atom = caf::atom_constant<caf::atom("fetch")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using heartbeat_atom = caf::atom_constant<caf::atom("heartbeat")>;
using info_atom = caf::atom_constant<caf::atom("info")>;
using job_state_atom = caf::atom_constant<caf::atom("jobstate")>;
using list_atom = caf::atom_constant<caf::atom("list")>;
using lost_atom = caf::atom_constant<caf::atom("lost")>;
using metrics_atom = caf::atom_constant<caf::atom("metrics")>;
using ok_atom = caf::atom_constant<caf::atom("ok")>;
using poll_atom = caf::atom_constant<caf::atom("poll")>;
using register_atom = caf::atom_constant<caf::atom("register")>;
using release_atom = caf::atom_constant<caf::atom("release")>;
using restart_atom = caf::atom_constant<caf::atom("restart")>;
using savepoint_atom = caf::atom_constant<caf::atom("savepoint")>;
using triggered_atom = caf::atom_constant<caf::atom("triggered")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using request_atom = caf::atom_constant<caf::atom("request")>;
using start_atom = caf::atom_constant<caf::atom("start")>;
using submit_atom = caf::atom_constant<caf::atom("submit")>;
using task_state_atom = caf::atom_constant<caf::atom("taskstate")>;
using tasks_atom = caf::atom_constant<caf::atom("tasks")>;
using timeout_atom = caf::atom_constant<caf::atom("timeout")>;
using wait_atom = caf::atom_constant<caf::atom("wait")>;
using timer_atom = caf::atom_constant<caf::atom("timer")>;
using watermark_atom = caf::atom_constant<caf::atom("watermark")>;
using log_atom = caf::atom_constant<caf::atom("log")>;

// -- strong ids ---------------------------------------------------------------

/// Identifies a submitted job: 32 hex digits, as Flink's JobID.
struct job_id {
  std::string value;

  friend bool operator==(const job_id& a, const job_id& b) {
    return a.value == b.value;
  }
  friend bool operator!=(const job_id& a, const job_id& b) {
    return a.value != b.value;
  }
  friend bool operator<(const job_id& a, const job_id& b) {
    return a.value < b.value;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_id& x) {
  return f(caf::meta::type_name("weir::job_id"), x.value);
}

inline std::string to_string(const job_id& x) {
  return x.value;
}

// -- data plane ---------------------------------------------------------------

/// A batch of rows on one channel. Inside a process it travels as objects
/// (CAF messages are copy-on-write, so nothing is copied); across nodes it
/// is encoded with the compact row codec.
struct batch {
  std::vector<row> rows;
};

/// Whether the batches this process encodes for the wire are LZ4-compressed
/// (taskmanager.network.compression). Only batches that leave the process
/// are ever encoded, so this costs nothing between tasks of one node. Set
/// once by a TaskManager at start-up; off by default.
void set_batch_compression(bool on);
bool batch_compression();

/// A batch's wire form: a tag byte, then the row codec's bytes, plain
/// ('R') or as an LZ4 block after their length ('Z'). Decoding reads
/// either, whatever this process's own setting.
std::string encode_batch(const std::vector<row>& rows);

/// nullopt for a malformed or truncated wire form.
std::optional<std::vector<row>> decode_batch(const std::string& bytes);

template <class Inspector>
typename std::enable_if<Inspector::reads_state,
                        typename Inspector::result_type>::type
inspect(Inspector& f, batch& x) {
  auto bytes = encode_batch(x.rows);
  return f(caf::meta::type_name("weir::batch"), bytes);
}

template <class Inspector>
typename std::enable_if<Inspector::writes_state,
                        typename Inspector::result_type>::type
inspect(Inspector& f, batch& x) {
  std::string bytes;
  if (auto err = f(caf::meta::type_name("weir::batch"), bytes))
    return err;
  auto rows = decode_batch(bytes);
  if (!rows)
    return caf::make_error(caf::sec::invalid_argument, "malformed batch");
  x.rows = std::move(*rows);
  return caf::none;
}

/// Flow-control and batching settings of a job's tasks.
struct data_plane_config {
  /// Batches a consumer grants each input channel (the in-flight bound).
  int32_t credits = 4;
  uint32_t batch_rows = 1024;
  uint32_t batch_bytes = 32 * 1024;
  int32_t flush_interval_ms = 10;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, data_plane_config& x) {
  return f(caf::meta::type_name("weir::data_plane_config"), x.credits,
           x.batch_rows, x.batch_bytes, x.flush_interval_ms);
}

/// Per-task counters, returned by a task on request (metrics_atom).
struct task_metrics {
  uint32_t execution = 0;
  uint64_t rows_in = 0;
  uint64_t rows_out = 0;
  uint64_t batches_in = 0;
  uint64_t batches_out = 0;
  /// Largest number of received, unprocessed batches on any input channel.
  int32_t max_outstanding = 0;
  /// Batches held back for lack of credit right now, over all channels.
  uint64_t queued_batches = 0;
  /// Times the task had to stop reading input for lack of credit.
  uint64_t backpressure_stalls = 0;
  /// The subtask's current output watermark (ms since epoch;
  /// min_watermark before the first), and whether it is idle.
  int64_t watermark = INT64_MIN;
  bool idle = false;
  /// Watermark messages received and sent.
  uint64_t watermarks_in = 0;
  uint64_t watermarks_out = 0;
  /// Approximate bytes of the rows received and routed (approximate_size).
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  /// Batches received and not yet processed plus batches waiting for
  /// credit: what sits between this subtask and its neighbours.
  uint64_t batches_in_flight = 0;
  /// The combined watermark of the input channels (min_watermark for
  /// sources and before the first).
  int64_t input_watermark = INT64_MIN;
  /// Bytes of the subtask's last checkpointed state.
  uint64_t state_bytes = 0;
  /// Since the subtask started running: time spent processing (busy), time
  /// stopped for lack of output credit (backpressured), and the whole
  /// span; idle is the rest. Nanoseconds, cumulative, so that a sampler
  /// derives Flink's ...TimeMsPerSecond from two readings.
  int64_t busy_nanos = 0;
  int64_t backpressured_nanos = 0;
  int64_t running_nanos = 0;
  /// Rows each operator of the chain emitted, head first (side outputs
  /// included); operator i's input is operator i-1's output, the head's
  /// is rows_in (a source's: none).
  std::vector<uint64_t> operator_rows_out;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, task_metrics& x) {
  return f(caf::meta::type_name("weir::task_metrics"), x.execution, x.rows_in,
           x.rows_out, x.batches_in, x.batches_out, x.max_outstanding,
           x.queued_batches, x.backpressure_stalls, x.watermark, x.idle,
           x.watermarks_in, x.watermarks_out, x.bytes_in, x.bytes_out,
           x.batches_in_flight, x.input_watermark, x.state_bytes, x.busy_nanos,
           x.backpressured_nanos, x.running_nanos, x.operator_rows_out);
}

// -- job results and views
// ------------------------------------------------------

/// The outcome of a job, sent to whoever waits for it.
struct job_result {
  job_id id;
  job_status status = job_status::initializing;
  /// The root cause for FAILED, empty otherwise.
  std::string cause;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_result& x) {
  return f(caf::meta::type_name("weir::job_result"), x.id, x.status, x.cause);
}

/// One subtask as the job master sees it.
struct subtask_info {
  std::string task;
  int32_t subtask = 0;
  execution_state state = execution_state::created;
  std::string task_manager;
  /// (state, epoch millis) per transition, oldest first.
  std::vector<std::pair<execution_state, int64_t>> transitions;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, subtask_info& x) {
  return f(caf::meta::type_name("weir::subtask_info"), x.task, x.subtask,
           x.state, x.task_manager, x.transitions);
}

/// One failure of a job, as kept in its exception history.
struct failure_info {
  /// Epoch millis.
  int64_t at = 0;
  /// The subtask that failed ("task 'x' subtask 2/4"), empty when the
  /// failure was not a subtask's (a failed checkpoint limit, say).
  std::string task;
  std::string cause;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, failure_info& x) {
  return f(caf::meta::type_name("weir::failure_info"), x.at, x.task, x.cause);
}

/// One checkpoint's outcome and timings, as the coordinator saw it.
/// One subtask's part of a completed checkpoint.
struct subtask_checkpoint_stats {
  /// Execution index in the plan.
  uint32_t execution = 0;
  /// Epoch millis of its acknowledgement.
  int64_t acked_at = 0;
  int64_t alignment_nanos = 0;
  int64_t snapshot_nanos = 0;
  uint64_t state_bytes = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f,
                                        subtask_checkpoint_stats& x) {
  return f(caf::meta::type_name("weir::subtask_checkpoint_stats"), x.execution,
           x.acked_at, x.alignment_nanos, x.snapshot_nanos, x.state_bytes);
}

struct checkpoint_stats {
  uint64_t id = 0;
  bool completed = false;
  /// Why it failed; empty when completed.
  std::string failure;
  /// Epoch millis when it was triggered.
  int64_t triggered_at = 0;
  /// From trigger to the last acknowledgement (completed ones only).
  int64_t duration_nanos = 0;
  /// Longest barrier alignment and longest synchronous snapshot of any
  /// subtask (completed ones only).
  int64_t max_alignment_nanos = 0;
  int64_t max_snapshot_nanos = 0;
  /// Bytes of state files written (completed ones only).
  uint64_t state_bytes = 0;
  /// Whether it was a savepoint, and where that went (completed ones).
  bool savepoint = false;
  std::string savepoint_path;
  /// Per subtask, by execution index (completed ones only).
  std::vector<subtask_checkpoint_stats> subtasks;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, checkpoint_stats& x) {
  return f(caf::meta::type_name("weir::checkpoint_stats"), x.id, x.completed,
           x.failure, x.triggered_at, x.duration_nanos, x.max_alignment_nanos,
           x.max_snapshot_nanos, x.state_bytes, x.savepoint, x.savepoint_path,
           x.subtasks);
}

/// An exchange into a task, for drawing the job graph.
struct task_input_info {
  /// Index of the producing task.
  int32_t from = 0;
  /// FORWARD, HASH, REBALANCE, ...
  std::string partitioner;
  /// Key fields of a HASH exchange.
  std::vector<std::string> keys;
  /// The producer's side output it carries; empty: the main output.
  std::string output;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, task_input_info& x) {
  return f(caf::meta::type_name("weir::task_input_info"), x.from, x.partitioner,
           x.keys, x.output);
}

/// One chained task of a job's plan.
struct task_info {
  std::string name;
  int32_t parallelism = 1;
  /// "id (operator)" per chained vertex, head first.
  std::vector<std::string> operators;
  std::vector<task_input_info> inputs;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, task_info& x) {
  return f(caf::meta::type_name("weir::task_info"), x.name, x.parallelism,
           x.operators, x.inputs);
}

/// How often a job was deployed from a checkpoint or savepoint, and the
/// latest of them.
struct restore_info {
  uint64_t count = 0;
  /// The checkpoint's id, when it was restored (epoch millis), its
  /// directory, and whether it was the savepoint the job was submitted
  /// with.
  uint64_t id = 0;
  int64_t at = 0;
  std::string path;
  bool savepoint = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, restore_info& x) {
  return f(caf::meta::type_name("weir::restore_info"), x.count, x.id, x.at,
           x.path, x.savepoint);
}

/// A job's checkpoint settings, as its master resolved them.
struct checkpoint_config_info {
  /// Whether the job has checkpoint storage (a directory): then it takes
  /// part in checkpoints and savepoints, periodic ones when interval > 0.
  bool storage = false;
  int64_t interval_ms = 0;
  int64_t timeout_ms = 0;
  int64_t min_pause_ms = 0;
  uint32_t max_concurrent = 0;
  uint32_t tolerable_failures = 0;
  bool exactly_once = true;
  uint32_t retained = 0;
  std::string dir;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f,
                                        checkpoint_config_info& x) {
  return f(caf::meta::type_name("weir::checkpoint_config_info"), x.storage,
           x.interval_ms, x.timeout_ms, x.min_pause_ms, x.max_concurrent,
           x.tolerable_failures, x.exactly_once, x.retained, x.dir);
}

/// A job's details (`weir info`, REST later).
struct job_info {
  job_id id;
  std::string name;
  job_status status = job_status::initializing;
  std::string cause;
  /// (state, epoch millis) per transition, oldest first.
  std::vector<std::pair<job_status, int64_t>> transitions;
  std::vector<subtask_info> subtasks;
  /// Every failure of the job, oldest first (the exception history).
  std::vector<failure_info> exceptions;
  /// The latest checkpoints (at most checkpoint_history of them), oldest
  /// first, and the totals over the job's life.
  std::vector<checkpoint_stats> checkpoints;
  uint64_t checkpoints_completed = 0;
  uint64_t checkpoints_failed = 0;
  /// The chained tasks, by task index (empty before the plan exists).
  std::vector<task_info> tasks;
  restore_info restores;
  checkpoint_config_info checkpoint_config;
  /// The final counters of the subtasks of the current attempt that ended
  /// (finished, canceled, failed), each with its execution index.
  std::vector<task_metrics> final_metrics;
  /// The checkpoints in flight (neither completed nor failed), oldest
  /// first, with the subtasks that acknowledged them so far.
  std::vector<checkpoint_stats> pending_checkpoints;
};

/// Checkpoints a job's details keep.
constexpr size_t checkpoint_history = 100;

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_info& x) {
  return f(caf::meta::type_name("weir::job_info"), x.id, x.name, x.status,
           x.cause, x.transitions, x.subtasks, x.exceptions, x.checkpoints,
           x.checkpoints_completed, x.checkpoints_failed, x.tasks, x.restores,
           x.checkpoint_config, x.final_metrics, x.pending_checkpoints);
}

/// Options of a submission that are not part of the JobSpec.
struct submit_options {
  /// Overrides the job's default parallelism when > 0.
  int32_t default_parallelism = 0;
  data_plane_config data_plane;
  /// Start from this savepoint (or retained checkpoint): its directory or
  /// its `_metadata` file (Flink's --fromSavepoint); empty for a fresh
  /// start.
  std::string savepoint_path;
  /// Drop state of vertices the job no longer has instead of refusing the
  /// savepoint (Flink's --allowNonRestoredState).
  bool allow_non_restored_state = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, submit_options& x) {
  return f(caf::meta::type_name("weir::submit_options"), x.default_parallelism,
           x.data_plane, x.savepoint_path, x.allow_non_restored_state);
}

// -- typed actor interfaces
// ------------------------------------------------------

/// Receives job status changes, and a terminal job's final details; the
/// job manager implements it.
using job_listener_actor = caf::typed_actor<
  caf::reacts_to<job_state_atom, job_id, job_status, std::string>,
  caf::reacts_to<info_atom, job_info>>;

/// One job's checkpoint coordinator: triggers checkpoints at the sources,
/// collects every subtask's acknowledgement and state handle, completes
/// checkpoints in the store, and tells the tasks.
using checkpoint_coordinator_actor = caf::typed_actor<
  // The job's subtasks, by execution index, once all of them run.
  caf::reacts_to<connect_atom, std::vector<caf::strong_actor_ptr>>,
  // Self-sent: the periodic trigger and the expiry check.
  caf::reacts_to<tick_atom>, caf::reacts_to<timeout_atom, uint64_t>,
  // Triggers a checkpoint now; replies with its id.
  caf::replies_to<trigger_atom>::with<uint64_t>,
  // Takes a savepoint into directory `target`; replies with its path once
  // it completed. With `stop` set, no checkpoint follows it (the job stops
  // with it); if it fails, periodic checkpoints resume.
  // Replies with the savepoint's checkpoint id and directory.
  caf::replies_to<savepoint_atom, std::string, bool>::with<uint64_t,
                                                           std::string>,
  // Subtask `execution` took checkpoint `id`; `handle` locates its state.
  caf::reacts_to<ack_atom, uint64_t, uint32_t, std::string>,
  // Subtask `execution` could not take checkpoint `id`, for `reason`.
  caf::reacts_to<decline_atom, uint64_t, uint32_t, std::string>,
  // The checkpoints in flight, oldest first, with the subtasks that
  // acknowledged them so far.
  caf::replies_to<info_atom>::with<std::vector<checkpoint_stats>>,
  // Stop: abort the checkpoints in flight, remove their files, exit.
  caf::reacts_to<cancel_atom>>;

/// One job's master: scheduling, lifecycle, failure handling.
using job_master_actor = caf::typed_actor<
  // A subtask reports a new execution state (and a cause for FAILED).
  caf::reacts_to<task_state_atom, uint32_t, execution_state, std::string>,
  // A subtask's final counters, just before its last state report (or its
  // wait for the final commit): what the job shows of it once it is gone.
  caf::reacts_to<metrics_atom, task_metrics>,
  // A subtask with committing operators finished its input and waits,
  // alive, for the job's final commit (counts as FINISHED).
  caf::reacts_to<commit_atom, uint32_t>,
  // Cancel the job.
  caf::reacts_to<cancel_atom>,
  // Fail the job with this cause (e.g. too many failed checkpoints).
  caf::reacts_to<fail_atom, std::string>,
  // The coordinator reports a completed or failed checkpoint.
  caf::reacts_to<complete_atom, checkpoint_stats>,
  // The coordinator triggered checkpoint `id`: the next coordinator (after
  // a restart) starts above it, so that ids never repeat.
  caf::reacts_to<triggered_atom, uint64_t>,
  // Trigger a checkpoint now; replies with its id.
  caf::replies_to<trigger_atom>::with<uint64_t>,
  // Take a savepoint into directory `target` (replies with its path); with
  // `stop` set, the job then stops: every subtask commits what the
  // savepoint covers and finishes, and the job is FINISHED (Flink's
  // stop-with-savepoint).
  caf::replies_to<savepoint_atom, std::string, bool>::with<std::string>,
  // The resource manager lost task manager `id` (no heartbeat, broken
  // connection) for `cause`: its subtasks count as failed.
  caf::reacts_to<lost_atom, std::string, std::string>,
  // Self-sent: the restart delay of attempt `n` has passed.
  caf::reacts_to<restart_atom, uint32_t>,
  // Details of the job.
  caf::replies_to<info_atom>::with<job_info>,
  // Handles of the deployed subtasks, by execution index (null where not
  // deployed); for metrics and tests.
  caf::replies_to<tasks_atom>::with<std::vector<caf::strong_actor_ptr>>>;

/// Everything a task manager needs to instantiate one subtask.
struct deploy_request {
  job_id job;
  /// The JobSpec, binary protobuf; the task manager plans it once per job.
  std::string spec;
  submit_options options;
  /// Index into the plan's execution vertices.
  uint32_t execution = 0;
  uint32_t slot = 0;
  job_master_actor master;
  /// Null when checkpoints are disabled.
  checkpoint_coordinator_actor coordinator;
  /// When restoring (restore_dir not empty): the checkpoint or savepoint
  /// directory, the vertices it holds state of, and the state handles
  /// (serialized SubtaskStateHandles) of the old subtasks whose state
  /// falls to this subtask (checkpoint/restore_assignment.hpp).
  std::string restore_dir;
  std::vector<std::string> restore_vertices;
  std::vector<std::string> restore_handles;
  /// Ids ("HOST:PORT") of every task manager with a subtask of this
  /// attempt of the job. A task manager in a cluster connects to the ones
  /// above its own id before it answers, so that batches between two of
  /// them travel directly from the first message on (see DESIGN.md).
  std::vector<std::string> peers;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, deploy_request& x) {
  return f(caf::meta::type_name("weir::deploy_request"), x.job, x.spec,
           x.options, x.execution, x.slot, x.master, x.coordinator,
           x.restore_dir, x.restore_vertices, x.restore_handles, x.peers);
}

/// One parallel subtask: a chain of operators with input and output
/// channels.
using task_actor = caf::typed_actor<
  // Peers of every execution vertex of the job (index = execution index);
  // the task picks its producers and consumers from its channels.
  caf::replies_to<connect_atom,
                  std::vector<caf::strong_actor_ptr>>::with<ok_atom>,
  // Begin: grant initial credits, sources start polling.
  caf::reacts_to<start_atom>,
  // Stop at once; the task reports CANCELED and exits.
  caf::reacts_to<cancel_atom>,
  // A batch on input channel `id`.
  caf::reacts_to<data_atom, uint64_t, batch>,
  // End of partition on input channel `id`.
  caf::reacts_to<end_atom, uint64_t>,
  // A watermark (or, with the flag, idleness) on input channel `id`.
  caf::reacts_to<watermark_atom, uint64_t, int64_t, bool>,
  // The earliest processing-time timer may be due.
  caf::reacts_to<timer_atom>,
  // The consumer of output channel `id` grants `n` more batches.
  caf::reacts_to<credit_atom, uint64_t, int32_t>,
  // Self-sent: poll the source again.
  caf::reacts_to<poll_atom>,
  // Self-sent: flush partially filled output buffers.
  caf::reacts_to<flush_atom>,
  // Sources: take checkpoint `id` now (from the coordinator).
  caf::reacts_to<trigger_atom, uint64_t>,
  // Barrier of checkpoint `id` on input channel `channel`.
  caf::reacts_to<barrier_atom, uint64_t, uint64_t>,
  // Checkpoint `id` completed (two-phase-commit sinks commit now).
  caf::reacts_to<complete_atom, uint64_t>,
  // Stop with savepoint `id`: commit what it covers, report FINISHED
  // without running end-of-input handlers, exit.
  caf::reacts_to<stop_atom, uint64_t>,
  // The job finished: commit everything, reply, exit (only subtasks that
  // announced they wait for it).
  caf::replies_to<commit_atom>::with<ok_atom>,
  caf::replies_to<metrics_atom>::with<task_metrics>>;

/// Runs subtasks in its slots.
using task_manager_actor = caf::typed_actor<
  caf::replies_to<deploy_atom, deploy_request>::with<task_actor>,
  // A heartbeat from the resource manager; answered with one.
  caf::reacts_to<heartbeat_atom>,
  // The newest lines of this task manager's process log, oldest first.
  caf::replies_to<log_atom>::with<std::vector<std::string>>,
  // The resource manager dropped this task manager for `cause` (it missed
  // heartbeats): cancel every task and register anew.
  caf::reacts_to<lost_atom, std::string>,
  // Self-sent: (re)connect to the JobManager; check its heartbeats.
  caf::reacts_to<connect_atom>, caf::reacts_to<tick_atom>>;

/// What a task manager tells the resource manager when it registers.
struct task_manager_registration {
  /// Unique in the cluster: "tm-0" in a mini cluster, "HOST:PORT" of its
  /// actor port in a cluster.
  std::string id;
  uint32_t slots = 0;
  /// weir_version of the task manager's process.
  std::string version;
  /// Process id and host, for REST's /taskmanagers.
  int64_t pid = 0;
  std::string host;
  task_manager_actor handle;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f,
                                        task_manager_registration& x) {
  return f(caf::meta::type_name("weir::task_manager_registration"), x.id,
           x.slots, x.version, x.pid, x.host, x.handle);
}

/// A registered task manager, for REST's /taskmanagers.
struct task_manager_info {
  std::string id;
  std::string host;
  int64_t pid = 0;
  uint32_t slots_total = 0;
  uint32_t slots_free = 0;
  /// Epoch millis of registration and of its last heartbeat.
  int64_t registered_at = 0;
  int64_t last_heartbeat = 0;
  /// Resident memory of its process, as its last heartbeat said (bytes).
  uint64_t memory_rss = 0;
  /// The job of each slot, by slot index; empty for a free slot.
  std::vector<std::string> slot_jobs;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, task_manager_info& x) {
  return f(caf::meta::type_name("weir::task_manager_info"), x.id, x.host, x.pid,
           x.slots_total, x.slots_free, x.registered_at, x.last_heartbeat,
           x.memory_rss, x.slot_jobs);
}

/// A slot granted to a job.
struct slot_grant {
  std::string task_manager_id;
  uint32_t task_manager_index = 0;
  uint32_t slot = 0;
  task_manager_actor task_manager;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, slot_grant& x) {
  return f(caf::meta::type_name("weir::slot_grant"), x.task_manager_id,
           x.task_manager_index, x.slot, x.task_manager);
}

/// Slots of the cluster, for overviews.
struct cluster_info {
  uint32_t task_managers = 0;
  uint32_t slots_total = 0;
  uint32_t slots_free = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_info& x) {
  return f(caf::meta::type_name("weir::cluster_info"), x.task_managers,
           x.slots_total, x.slots_free);
}

/// Tracks task managers and their slots; grants slots to job masters.
using resource_manager_actor = caf::typed_actor<
  // A task manager offers its slots; refused for a version mismatch, a
  // taken id or an absurd slot count.
  caf::replies_to<register_atom, task_manager_registration>::with<ok_atom>,
  // Task manager `id` answers a heartbeat with its resident memory
  // (bytes).
  caf::reacts_to<heartbeat_atom, std::string, uint64_t>,
  // The log tail of task manager `id` (asked of it).
  caf::replies_to<log_atom, std::string>::with<std::vector<std::string>>,
  // Self-sent: send heartbeats, drop the silent task managers.
  caf::reacts_to<tick_atom>,
  // The registered task managers.
  caf::replies_to<list_atom>::with<std::vector<task_manager_info>>,
  // The bytes of uploaded user library `id` (TaskManagers fetch them).
  caf::replies_to<fetch_atom, std::string>::with<std::string>,
  // A job master asks for `n` slots, waiting at most `timeout`.
  caf::replies_to<request_atom, job_id, uint32_t,
                  caf::timespan>::with<std::vector<slot_grant>>,
  // A job gives back all its slots.
  caf::reacts_to<release_atom, job_id>,
  // Self-sent: pending request `id` timed out.
  caf::reacts_to<timeout_atom, uint64_t>,
  caf::replies_to<info_atom>::with<cluster_info>>;

/// Accepts jobs and owns their masters.
using job_manager_actor = caf::typed_actor<
  // Submit a JobSpec (binary protobuf); replies with the new job's id, or
  // an error naming what is wrong with the job.
  caf::replies_to<submit_atom, std::string, submit_options>::with<job_id>,
  // Replies once the job reached a terminal status.
  caf::replies_to<wait_atom, job_id>::with<job_result>,
  caf::reacts_to<cancel_atom, job_id>,
  caf::replies_to<info_atom, job_id>::with<job_info>,
  // Trigger a checkpoint of a running job now; replies with its id.
  caf::replies_to<trigger_atom, job_id>::with<uint64_t>,
  // Take a savepoint of a running job into a directory; replies with its
  // path. With the flag set, the job stops with it (stop-with-savepoint).
  caf::replies_to<savepoint_atom, job_id, std::string, bool>::with<std::string>,
  caf::replies_to<tasks_atom, job_id>::with<std::vector<caf::strong_actor_ptr>>,
  caf::replies_to<list_atom>::with<std::vector<job_result>>,
  caf::reacts_to<job_state_atom, job_id, job_status, std::string>,
  caf::reacts_to<info_atom, job_info>>;

/// Registers every message type above with `cfg`.
void register_protocol(caf::actor_system_config& cfg);

} // namespace weir
