#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace weir::cli {

/// `weir jobmanager --config FILE [-D key=value]... [flags]`: runs a
/// JobManager (resource manager, job manager, REST API) until SIGTERM or
/// Ctrl-C.
int cmd_jobmanager(const std::vector<std::string>& args, std::ostream& out,
                   std::ostream& err);

/// `weir taskmanager --config FILE [-D key=value]... [flags]`: runs a
/// TaskManager that registers with the JobManager of the config, until
/// SIGTERM or Ctrl-C, or until its registration is refused (exit 1).
int cmd_taskmanager(const std::vector<std::string>& args, std::ostream& out,
                    std::ostream& err);

/// The REST client commands: `weir run -m HOST:PORT ...` (when `-m` is
/// given), `weir list`, `weir info`, `weir cancel`, `weir savepoint`,
/// `weir stop`. `command` is the first argument.
int cmd_remote_run(const std::vector<std::string>& args, std::ostream& out,
                   std::ostream& err);
int cmd_list(const std::vector<std::string>& args, std::ostream& out,
             std::ostream& err);
int cmd_info(const std::vector<std::string>& args, std::ostream& out,
             std::ostream& err);
int cmd_cancel(const std::vector<std::string>& args, std::ostream& out,
               std::ostream& err);
int cmd_savepoint(const std::vector<std::string>& args, std::ostream& out,
                  std::ostream& err);
int cmd_stop(const std::vector<std::string>& args, std::ostream& out,
             std::ostream& err);

/// Whether `args` (after `run`) address a remote JobManager (`-m` or
/// `--jobmanager`).
bool wants_remote(const std::vector<std::string>& args);

} // namespace weir::cli
