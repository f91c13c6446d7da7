#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace weir::cli {

/// Exit codes of the `weir` command.
enum exit_code : int {
  /// The command succeeded; for `run`, the job FINISHED.
  exit_ok = 0,
  /// The job FAILED (the cause is printed).
  exit_job_failed = 1,
  /// Bad usage or an invalid job descriptor (nothing ran).
  exit_usage = 2,
  /// The JobManager could not be reached (client commands).
  exit_unreachable = 3,
  /// The job was CANCELED (Ctrl-C or SIGTERM).
  exit_canceled = 130,
};

/// Runs the `weir` command line: `args` excludes the program name. Normal
/// output goes to `out`, diagnostics to `err`.
int main(const std::vector<std::string>& args, std::ostream& out,
         std::ostream& err);

} // namespace weir::cli
