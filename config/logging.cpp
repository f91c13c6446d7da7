#include "config/logging.hpp"

#include <cctype>
#include <vector>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "config/error.hpp"

namespace weir {

namespace {

spdlog::level::level_enum to_spdlog(log_level x) {
  switch (x) {
    case log_level::trace:
      return spdlog::level::trace;
    case log_level::debug:
      return spdlog::level::debug;
    case log_level::info:
      return spdlog::level::info;
    case log_level::warn:
      return spdlog::level::warn;
    case log_level::error:
      return spdlog::level::err;
    case log_level::off:
      break;
  }
  return spdlog::level::off;
}

} // namespace

const char* to_string(log_level x) {
  switch (x) {
    case log_level::trace:
      return "trace";
    case log_level::debug:
      return "debug";
    case log_level::info:
      return "info";
    case log_level::warn:
      return "warn";
    case log_level::error:
      return "error";
    case log_level::off:
      break;
  }
  return "off";
}

std::optional<log_level> parse_log_level(const std::string& text) {
  std::string t;
  for (auto c : text)
    t += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (t == "warning")
    return log_level::warn;
  for (auto x : {log_level::trace, log_level::debug, log_level::info,
                 log_level::warn, log_level::error, log_level::off})
    if (t == to_string(x))
      return x;
  return std::nullopt;
}

std::string log_file_path(const log_settings& settings,
                          const std::string& role) {
  if (settings.dir.empty())
    return {};
  auto dir = settings.dir;
  if (dir.back() != '/')
    dir += '/';
  return dir + "weir-" + role + ".log";
}

namespace {

/// Kept across setup_logging calls, so a replaced logger keeps the lines.
const std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt>& recent_lines() {
  static auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
  return sink;
}

} // namespace

std::vector<std::string> recent_log_lines(size_t n) {
  auto lines = recent_lines()->last_formatted(n);
  for (auto& l : lines)
    while (!l.empty() && (l.back() == '\n' || l.back() == '\r'))
      l.pop_back();
  return lines;
}

caf::error setup_logging(const std::string& role,
                         const log_settings& settings) {
  std::vector<spdlog::sink_ptr> sinks;
  sinks.push_back(std::make_shared<spdlog::sinks::stderr_sink_mt>());
  sinks.push_back(recent_lines());
  auto file = log_file_path(settings, role);
  if (!file.empty()) {
    try {
      // Appends, so a restarted process keeps its predecessor's lines.
      sinks.push_back(
        std::make_shared<spdlog::sinks::basic_file_sink_mt>(file, false));
    } catch (const spdlog::spdlog_ex& e) {
      return make_error(config_errc::logging_failed,
                        "log.dir: cannot open log file: "
                          + std::string{e.what()});
    }
  }
  auto log = std::make_shared<spdlog::logger>(role, sinks.begin(), sinks.end());
  log->set_pattern("%Y-%m-%d %H:%M:%S.%e %-7l %n: %v");
  log->set_level(to_spdlog(settings.level));
  // Control-plane messages are few; losing the last ones to a crash costs
  // more than flushing each.
  log->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(std::move(log));
  return caf::none;
}

std::shared_ptr<spdlog::logger> logger() {
  return spdlog::default_logger();
}

} // namespace weir
