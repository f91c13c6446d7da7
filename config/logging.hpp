#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <spdlog/logger.h>

namespace weir {

/// Severity threshold of the process log (log.level).
enum class log_level { trace, debug, info, warn, error, off };

/// "trace", "debug", "info", "warn", "error", "off".
const char* to_string(log_level x);

/// Parses a level as above, case-insensitively ("WARN" and "warning" too).
std::optional<log_level> parse_log_level(const std::string& text);

/// Where and how much a process logs (log.level, log.dir). The defaults are
/// the CLI's: info to stderr only. Cluster processes get theirs from the
/// cluster config, which writes a file into the working directory.
struct log_settings {
  /// Messages below this level are dropped.
  log_level level = log_level::info;
  /// Directory of the log file `weir-<role>.log`; empty: no file, stderr
  /// only.
  std::string dir;
};

/// The log file of `role` under `settings`: `<dir>/weir-<role>.log`, or ""
/// when `settings.dir` is empty.
std::string log_file_path(const log_settings& settings,
                          const std::string& role);

/// Makes the process logger (also spdlog's default logger) write to stderr
/// and, unless `settings.dir` is empty, append to log_file_path(settings,
/// role), creating the directory if needed. Every line carries the time
/// (local, milliseconds), the level and `role` ("jobmanager",
/// "taskmanager-<id>", ...). Lines are flushed as they are written, so a
/// killed process loses none. Called once by each process's main, before
/// it starts its actor system; calling it again replaces the logger.
caf::error setup_logging(const std::string& role, const log_settings& settings);

/// The newest `n` lines the process logged since setup_logging, oldest
/// first, as formatted (at most 1000 are kept).
std::vector<std::string> recent_log_lines(size_t n);

/// The process logger: the one setup_logging made, or spdlog's stock
/// stderr logger before that. Thread-safe; each call takes a lock, so code
/// that logs often keeps the pointer.
std::shared_ptr<spdlog::logger> logger();

} // namespace weir
