#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "config/logging.hpp"

#include "weir/proto/job_spec.pb.h"

namespace weir {

/// How batches that cross nodes travel (taskmanager.network.compression).
enum class network_compression { none, lz4 };

/// "none", "lz4".
const char* to_string(network_compression x);

/// The settings of a Weir cluster, read once at start-up by every process
/// (`weir jobmanager`, `weir taskmanager`) from the same YAML file, with
/// Flink's key names wherever the meaning is the same:
///
///   key                              type        default
///   jobmanager.rpc.address           host        127.0.0.1
///   jobmanager.rpc.port              [1, 65535]  6123
///   rest.address                     host        127.0.0.1
///   rest.port                        [0, 65535]  8081 (0: any free port)
///   rest.server.max-content-length   bytes       104857600 (Flink's)
///   web.cancel.enable                boolean     true
///   web.savepoint.enable             boolean     true
///   web.refresh-interval             duration    3 s
///   metrics.reporter.prom.port       [0, 65535]  9249 (0: any free port)
///   taskmanager.host                 host        127.0.0.1
///   taskmanager.rpc.port             [0, 65535]  0 (any free port)
///   taskmanager.numberOfTaskSlots    [1, 1024]   1
///   taskmanager.network.compression  none | lz4  none
///   heartbeat.interval               duration    1 s   (Flink: 10 s)
///   heartbeat.timeout                duration    5 s   (Flink: 50 s)
///   slot.request.timeout             duration    1 min (Flink: 5 min)
///   state.savepoints.dir             path        none
///   blob.storage.directory           path        a private temp directory
///   log.level                        level       info
///   log.dir                          path        . (the working directory)
///   execution.checkpointing.*, state.checkpoints.*, restart-strategy.*:
///                                    as job_setting_keys() says
///
/// Durations are Flink's (`500ms`, `10 s`, `2min`, `1h`; a bare number is
/// milliseconds) and must be positive; heartbeat.timeout must exceed
/// heartbeat.interval. Owned by each process's main; the actors it spawns
/// get copies of the parts they need.
struct cluster_config {
  // -- JobManager -------------------------------------------------------------

  /// jobmanager.rpc.address: where the JobManager listens and where
  /// TaskManagers and clients reach it.
  std::string jobmanager_address = "127.0.0.1";

  /// jobmanager.rpc.port: its actor (BASP) port.
  uint16_t jobmanager_port = 6123;

  // -- REST API ---------------------------------------------------------------

  /// rest.address: where the JobManager serves its REST API.
  std::string rest_address = "127.0.0.1";

  /// rest.port: 0 picks any free port (the JobManager logs which).
  uint16_t rest_port = 8081;

  /// rest.server.max-content-length: the largest request body, in bytes.
  uint32_t rest_max_content_length = 104857600;

  // -- web dashboard and metrics ---------------------------------------------

  /// web.cancel.enable / web.savepoint.enable: whether the dashboard
  /// offers its cancel and savepoint buttons (the REST calls stay open to
  /// the CLI either way, as in Flink).
  bool web_cancel = true;
  bool web_savepoint = true;

  /// web.refresh-interval: how often the dashboard refreshes itself.
  std::chrono::milliseconds web_refresh_interval{3000};

  /// metrics.reporter.prom.port: where the JobManager serves every metric
  /// of the cluster in Prometheus' text format (GET /metrics), on
  /// rest.address. When the port is taken the JobManager logs a warning
  /// and runs without it, as Flink's reporter does.
  uint16_t prometheus_port = 9249;

  // -- TaskManager ------------------------------------------------------------

  /// taskmanager.host: the address a TaskManager listens on and advertises
  /// to the others for data exchange.
  std::string taskmanager_host = "127.0.0.1";

  /// taskmanager.rpc.port: 0 picks any free port, so several TaskManagers
  /// on one host can share the file.
  uint16_t taskmanager_port = 0;

  /// taskmanager.numberOfTaskSlots: slots each TaskManager offers.
  uint32_t taskmanager_slots = 1;

  /// taskmanager.network.compression: LZ4 for batches between nodes. Off
  /// by default, as in Flink's streaming shuffle: on one host or a fast
  /// network compression costs more CPU than it saves.
  network_compression compression = network_compression::none;

  // -- failure detection and scheduling ---------------------------------------

  /// heartbeat.interval: how often the JobManager's resource manager and
  /// the TaskManagers exchange heartbeats. Tighter than Flink's 10 s: a
  /// dead process is seen through its broken connection within
  /// milliseconds, heartbeats only have to catch hung ones.
  std::chrono::milliseconds heartbeat_interval{1000};

  /// heartbeat.timeout: silence after which a peer counts as dead.
  std::chrono::milliseconds heartbeat_timeout{5000};

  /// slot.request.timeout: how long a job waits for slots before it fails.
  /// Flink waits 5 min; a minute is enough for TaskManagers started with
  /// the cluster to register, and a job short of slots says so sooner.
  std::chrono::milliseconds slot_request_timeout{60000};

  // -- state ------------------------------------------------------------------

  /// state.savepoints.dir: the default target of savepoints; empty: every
  /// savepoint request must name its directory.
  std::string savepoints_dir;

  /// blob.storage.directory: where the JobManager keeps uploaded user
  /// libraries and TaskManagers cache the ones they fetched; empty: a
  /// fresh private directory (mode 0700) under the system's temporary
  /// directory, per process.
  std::string blob_dir;

  // -- job defaults -----------------------------------------------------------

  /// execution.checkpointing.*, state.checkpoints.* and restart-strategy.*
  /// as key=value pairs in the order given (one pair per key, checked at
  /// load). The JobManager applies them to each submitted job, key by key,
  /// under what the job sets itself (see apply_job_defaults).
  std::vector<std::pair<std::string, std::string>> job_defaults;

  // -- logging ----------------------------------------------------------------

  /// log.level and log.dir: each process appends to
  /// `<log.dir>/weir-<role>.log` as well as writing to stderr; an empty
  /// log.dir means stderr only.
  log_settings log{log_level::info, "."};

  // -- provenance -------------------------------------------------------------

  /// The file the config was read from; empty when there was none.
  std::string source;
};

/// Every key a cluster config accepts: the ones above and
/// job_setting_keys(), sorted.
const std::vector<std::string>& cluster_config_keys();

/// Reads the cluster config from the YAML file at `path` (no file when
/// `path` is empty: the defaults), then applies `overrides`, "key=value"
/// strings from the command line (`-D key=value`), in order; an override
/// wins over the file and a later one over an earlier one.
///
/// The file is a mapping from keys to values, flat as in Flink's
/// flink-conf.yaml (`jobmanager.rpc.port: 6123`), nested
/// (`jobmanager: {rpc: {port: 6123}}`) or a mix: nested keys are joined
/// with dots. Every fault is an error naming where it is
/// (`FILE:LINE: ...` or `command line: ...`): malformed YAML, an unknown
/// key (with the nearest known one as a hint), a key given twice, a value
/// of the wrong type or out of range, and heartbeat.timeout not above
/// heartbeat.interval.
caf::expected<cluster_config>
load_cluster_config(const std::string& path,
                    const std::vector<std::string>& overrides = {});

/// Every setting's effective value as (key, value) text, in the order of
/// the table above, then the job defaults in their order: what REST's
/// GET /config shows. Loading the entries back yields the same config.
std::vector<std::pair<std::string, std::string>>
effective_entries(const cluster_config& cfg);

/// effective_entries() as a flat YAML mapping, loadable as a cluster config.
std::string to_yaml(const cluster_config& cfg);

/// Fills in the job defaults of `cfg` wherever `spec` leaves a setting
/// unset: key by key, the job's own settings (its descriptor and
/// `weir run -D`) win over the cluster config, as in Flink. So a cluster
/// may enable checkpoints every 10 s into its state.checkpoints.dir for
/// every job, and a job may still choose its own interval or mode.
/// Called by the JobManager on each submission, before it plans the job.
caf::error apply_job_defaults(const cluster_config& cfg, proto::JobSpec& spec);

/// Renders a duration as the largest whole unit: "1 h", "2 min", "10 s",
/// "250 ms"; parse_duration_ms reads it back.
std::string format_duration(std::chrono::milliseconds x);

} // namespace weir
