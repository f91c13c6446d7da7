#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "scheduler/job_loader.hpp"

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

/// Parses `--param name=value` values into `out`; false, with the bad one
/// named on `err`, for a value without '=' or a name given twice.
bool parse_params(const std::vector<std::string>& raw, job_params& out,
                  std::ostream& err);

/// Runs the `weir` command line: `args` excludes the program name. Normal
/// output goes to `out`, diagnostics to `err`.
int main(const std::vector<std::string>& args, std::ostream& out,
         std::ostream& err);

} // namespace weir::cli
