#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

namespace weir::cli {

/// How `weir run` shows a job it waits for.
enum class progress_style {
  /// One status line, redrawn in place (a terminal); events scroll above
  /// it.
  live,
  /// Plain log lines: every event, and the status line every
  /// progress_reporter::log_every_ms (a pipe or a file).
  log,
  /// Nothing until the job ends.
  none,
};

/// The help text of `weir run --progress`.
inline constexpr const char* progress_option_help
  = "how to show the job while it runs: live (a status line redrawn in "
    "place), log (plain lines: state changes, checkpoints, and the status "
    "every 10 s), none, or auto (live on a terminal, log otherwise)";

/// Reads `--progress`: "live", "log", "none", or "auto" (live when `fd`
/// is a terminal whose TERM is not "dumb", log otherwise). Sets `width` to
/// the terminal's columns for live. False for another word.
bool parse_progress_style(const std::string& text, int fd,
                          progress_style& style, int& width);

/// The figures `weir run` shows of a running job, taken from the REST
/// API's job details (GET /jobs/{id}) and checkpoint statistics (GET
/// /jobs/{id}/checkpoints), which the embedded mini cluster serves in
/// process too. Each one is absent (negative, or empty) until known.
struct job_progress {
  std::string state;
  int64_t subtasks = 0;
  int64_t subtasks_running = 0;
  int64_t subtasks_finished = 0;
  int64_t restarts = 0;
  /// Records per second the source operators emit and the sinks receive
  /// (the vertices without inputs and without outputs); negative while no
  /// subtask reported metrics.
  double records_in_per_second = -1;
  double records_out_per_second = -1;
  /// The most backpressured vertex and its backPressuredTimeMsPerSecond.
  std::string backpressured_vertex;
  int64_t backpressure_ms = -1;
  std::string backpressure_level;
  int64_t checkpoints_completed = 0;
  int64_t checkpoints_failed = 0;
  /// The latest completed checkpoint: id (0: none), trigger time (epoch
  /// ms), end-to-end duration (ms), state size (bytes).
  uint64_t last_checkpoint = 0;
  int64_t last_checkpoint_at = 0;
  int64_t last_checkpoint_ms = 0;
  uint64_t last_checkpoint_bytes = 0;
  /// The JobManager's clock when it answered (epoch ms).
  int64_t now = 0;

  /// Reads the figures from a job's details and, unless null, its
  /// checkpoint statistics; missing or mistyped fields leave defaults.
  static job_progress from_json(const nlohmann::json& job,
                                const nlohmann::json& checkpoints);
};

/// "RUNNING · 8/8 subtasks · in 92.3K rec/s · out 40.1K rec/s · checkpoint
/// 4 2 s ago (161 ms, 565.3 KiB) · backpressure high 88% at 'x'".
std::string status_line(const job_progress& p);

/// Formats 92300 as "92.3K", 12 as "12", 3.1e6 as "3.1M".
std::string human_count(double x);

/// Formats a byte count as "565.3 KiB", "12 B", "1.2 GiB".
std::string human_bytes(uint64_t bytes);

/// Formats epoch milliseconds as "01:12:31.120" (UTC).
std::string utc_clock(int64_t epoch_ms);

/// A job's checkpoint statistics for a progress_reporter, asked for again
/// (GET /jobs/{id}/checkpoints) only when the job's details show that a
/// checkpoint completed or failed since. Used by one thread.
class checkpoint_reader {
public:
  /// Answers GET `path` with the body, or null when it failed.
  using getter = std::function<nlohmann::json(const std::string& path)>;

  explicit checkpoint_reader(std::string job_path)
    : path_(std::move(job_path)) {
  }

  /// The statistics that go with `job`, the job's details just read.
  const nlohmann::json& update(const nlohmann::json& job, const getter& get);

private:
  std::string path_;
  int64_t counted_ = -1;
  nlohmann::json stats_;
};

/// Shows a job's progress on a stream while `weir run` waits for it:
/// every state transition (from the job's timestamped history, so none is
/// missed between two readings), checkpoints (in log style each one; in
/// live style savepoints and failures, the status line showing the latest
/// completed one), and the status line: redrawn in place in live style,
/// printed every log_every_ms in log style. Lines start with "weir: ". Used
/// by one thread.
class progress_reporter {
public:
  /// How often log style repeats the status line while the job runs.
  static constexpr int64_t log_every_ms = 10000;

  /// `width` bounds the live line (the terminal's columns); with `fd` a
  /// terminal, its width is read again at every update (the window may
  /// change).
  progress_reporter(std::ostream& out, progress_style style, int width = 100,
                    int fd = -1);

  /// Takes a new reading: the job's details and its checkpoint statistics
  /// (null when not read this time). `clock_ms` is the caller's monotonic
  /// clock, for log_every.
  void update(const nlohmann::json& job, const nlohmann::json& checkpoints,
              int64_t clock_ms);

  /// Clears the live line so that other output can follow; the next
  /// update() draws it again.
  void clear();

  /// Transitions reported so far.
  size_t transitions_seen() const {
    return transitions_seen_;
  }

private:
  /// Prints an event line (above the live line).
  void event(const std::string& text);

  std::ostream& out_;
  progress_style style_;
  int width_;
  int fd_;
  bool line_shown_ = false;
  size_t transitions_seen_ = 0;
  /// The checkpoints reported (failures may come after later successes);
  /// ids the statistics no longer keep are dropped.
  std::set<uint64_t> checkpoints_seen_;
  int64_t last_log_ms_ = 0;
  std::string last_status_;
};

} // namespace weir::cli
