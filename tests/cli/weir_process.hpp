#pragma once

// Runs the real `weir` binary as a child process for the CLI tests: its
// stdout and stderr arrive through pipes, and every wait has a hard deadline
// after which the child is killed with SIGKILL (the test then fails on
// `timed_out` instead of hanging the suite).

#include <chrono>
#include <string>
#include <sys/types.h>
#include <vector>

namespace weir::test {

/// How long any one child may take before it is killed.
constexpr std::chrono::seconds child_deadline{60};

/// Path of the `weir` binary under test.
std::string weir_binary();

/// Absolute path of `name` in tests/cli/jobs/.
std::string job_fixture(const std::string& name);

/// Absolute path of `name` under the source tree (e.g. examples/...).
std::string source_file(const std::string& name);

/// What a finished (or killed) child left behind.
struct process_result {
  /// The exit status when the child exited, else -1.
  int exit_code = -1;
  /// The signal that ended the child, else 0.
  int term_signal = 0;
  /// Whether the deadline passed and the child was killed with SIGKILL.
  bool timed_out = false;
  std::string out;
  std::string err;
};

/// The executable of a child that is not `weir` (a browser driver, say).
struct program_path {
  std::string path;
};

/// One running `weir` child. Created by start(); the destructor kills and
/// reaps a child still running, so no test leaves a process behind.
class weir_process {
public:
  /// Starts `weir args...` with stdin from /dev/null and default signal
  /// dispositions; throws std::runtime_error if it cannot.
  explicit weir_process(const std::vector<std::string>& args,
                        std::chrono::steady_clock::duration deadline
                        = child_deadline);

  /// Starts another program the same way.
  weir_process(const program_path& program,
               const std::vector<std::string>& args,
               std::chrono::steady_clock::duration deadline = child_deadline);

  ~weir_process();

  weir_process(const weir_process&) = delete;
  weir_process& operator=(const weir_process&) = delete;

  /// Reads the child's output until stderr holds `text` (returns true), the
  /// child closes its pipes (false) or the deadline passes (false, and the
  /// child is killed).
  bool wait_for_stderr(const std::string& text);

  /// Sends `sig` to the child.
  void send(int sig);

  /// Reads all output and reaps the child, killing it at the deadline.
  process_result wait();

  /// Output read so far.
  const std::string& err() const {
    return result_.err;
  }

private:
  /// Reads whatever is available within the deadline; false once both pipes
  /// are closed or the deadline has passed.
  bool pump();

  void kill_and_reap();

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::chrono::steady_clock::time_point deadline_;
  process_result result_;
};

/// Runs `weir args...` to completion (see weir_process).
process_result run_weir(const std::vector<std::string>& args);

/// Whether `text` contains `part`.
inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace weir::test
