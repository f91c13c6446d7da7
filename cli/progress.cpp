#include "cli/progress.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <iomanip>
#include <ostream>
#include <set>
#include <sstream>
#include <vector>

#include <sys/ioctl.h>
#include <unistd.h>

namespace weir::cli {

using json = nlohmann::json;

namespace {

const json& member(const json& j, const char* key) {
  static const json none;
  if (!j.is_object())
    return none;
  auto i = j.find(key);
  return i == j.end() ? none : *i;
}

int64_t int_at(const json& j, const char* key, int64_t fallback = 0) {
  const auto& v = member(j, key);
  return v.is_number() ? v.get<int64_t>() : fallback;
}

double number_at(const json& j, const char* key, double fallback) {
  const auto& v = member(j, key);
  return v.is_number() ? v.get<double>() : fallback;
}

std::string text_at(const json& j, const char* key) {
  const auto& v = member(j, key);
  return v.is_string() ? v.get<std::string>() : std::string{};
}

std::string trimmed(double x, int decimals) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(decimals) << x;
  auto s = os.str();
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0')
      s.pop_back();
    if (s.back() == '.')
      s.pop_back();
  }
  return s;
}

std::string human_duration_ms(int64_t ms) {
  if (ms < 1000)
    return std::to_string(ms) + " ms";
  if (ms < 60000)
    return trimmed(ms / 1000.0, 1) + " s";
  return trimmed(ms / 60000.0, 1) + " min";
}

} // namespace

bool parse_progress_style(const std::string& text, int fd,
                          progress_style& style, int& width) {
  if (text == "live" || text == "auto") {
    const char* term = std::getenv("TERM");
    bool terminal = isatty(fd) == 1 && !(term && std::string{term} == "dumb");
    style
      = terminal || text == "live" ? progress_style::live : progress_style::log;
    winsize ws{};
    width = terminal && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0
              ? ws.ws_col
              : 100;
    return true;
  }
  if (text == "log")
    style = progress_style::log;
  else if (text == "none")
    style = progress_style::none;
  else
    return false;
  return true;
}

job_progress job_progress::from_json(const json& job, const json& checkpoints) {
  job_progress p;
  p.state = text_at(job, "state");
  p.now = int_at(job, "now");
  p.restarts = int_at(job, "restarts");
  const auto& counts = member(job, "status-counts");
  if (counts.is_object())
    for (const auto& [state, n] : counts.items())
      p.subtasks += n.is_number() ? n.get<int64_t>() : 0;
  p.subtasks_running = int_at(counts, "RUNNING");
  p.subtasks_finished = int_at(counts, "FINISHED");
  const auto& cp = member(job, "checkpoints");
  p.checkpoints_completed = int_at(cp, "completed");
  p.checkpoints_failed = int_at(cp, "failed");
  // Sources are the vertices no edge enters, sinks those no edge leaves.
  std::set<std::string> fed, feeding;
  const auto& edges = member(job, "edges");
  if (edges.is_array())
    for (const auto& e : edges) {
      feeding.insert(text_at(e, "source"));
      fed.insert(text_at(e, "target"));
    }
  const auto& vertices = member(job, "vertices");
  if (vertices.is_array()) {
    for (const auto& v : vertices) {
      const auto& m = member(v, "metrics");
      if (!m.is_object())
        continue;
      auto id = text_at(v, "id");
      if (fed.count(id) == 0) {
        // What the source operator itself emits, before the operators
        // chained to it filter or multiply its rows.
        const auto& ops = member(v, "operator-metrics");
        auto rate = ops.is_array() && !ops.empty()
                      ? number_at(ops[0], "write-records-per-second", -1)
                      : -1.0;
        if (rate < 0)
          rate = number_at(m, "write-records-per-second", 0);
        p.records_in_per_second = std::max(p.records_in_per_second, 0.0) + rate;
      }
      if (feeding.count(id) == 0)
        p.records_out_per_second = std::max(p.records_out_per_second, 0.0)
                                   + number_at(m, "read-records-per-second", 0);
      auto bp = int_at(m, "backPressuredTimeMsPerSecond", -1);
      if (bp > p.backpressure_ms) {
        p.backpressure_ms = bp;
        p.backpressured_vertex = text_at(v, "name");
        p.backpressure_level = text_at(m, "backpressure-level");
      }
    }
  }
  const auto& latest = member(member(checkpoints, "latest"), "completed");
  if (latest.is_object()) {
    p.last_checkpoint = static_cast<uint64_t>(int_at(latest, "id"));
    p.last_checkpoint_at = int_at(latest, "trigger_timestamp");
    p.last_checkpoint_ms = int_at(latest, "end_to_end_duration");
    p.last_checkpoint_bytes
      = static_cast<uint64_t>(int_at(latest, "state_size"));
  }
  return p;
}

std::string human_count(double x) {
  if (!std::isfinite(x) || x < 0)
    return "-";
  if (x < 1000)
    return trimmed(x, x < 10 ? 1 : 0);
  if (x < 1e6)
    return trimmed(x / 1e3, 1) + "K";
  if (x < 1e9)
    return trimmed(x / 1e6, 1) + "M";
  return trimmed(x / 1e9, 1) + "G";
}

std::string human_bytes(uint64_t bytes) {
  static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double x = static_cast<double>(bytes);
  size_t u = 0;
  while (x >= 1024 && u + 1 < std::size(units)) {
    x /= 1024;
    ++u;
  }
  return (u == 0 ? std::to_string(bytes) : trimmed(x, 1)) + " " + units[u];
}

std::string utc_clock(int64_t epoch_ms) {
  auto secs = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%02d:%02d:%02d.%03d", tm.tm_hour, tm.tm_min,
                tm.tm_sec, static_cast<int>(epoch_ms % 1000));
  return buf;
}

std::string status_line(const job_progress& p) {
  std::ostringstream os;
  os << (p.state.empty() ? "?" : p.state) << " · " << p.subtasks_running << "/"
     << p.subtasks << " subtasks";
  if (p.subtasks_finished > 0)
    os << " (" << p.subtasks_finished << " finished)";
  if (p.records_in_per_second >= 0)
    os << " · in " << human_count(p.records_in_per_second) << " rec/s";
  if (p.records_out_per_second >= 0)
    os << " · out " << human_count(p.records_out_per_second) << " rec/s";
  if (p.last_checkpoint > 0) {
    os << " · checkpoint " << p.last_checkpoint;
    if (p.now > 0 && p.last_checkpoint_at > 0)
      os << " "
         << human_duration_ms(std::max<int64_t>(0, p.now - p.last_checkpoint_at
                                                     - p.last_checkpoint_ms))
         << " ago";
    os << " (" << human_duration_ms(p.last_checkpoint_ms) << ", "
       << human_bytes(p.last_checkpoint_bytes) << ")";
  } else {
    os << " · no checkpoint yet";
  }
  if (p.checkpoints_failed > 0)
    os << ", " << p.checkpoints_failed << " failed";
  if (p.backpressure_ms >= 0) {
    os << " · backpressure "
       << (p.backpressure_level.empty() ? "?" : p.backpressure_level);
    if (p.backpressure_ms > 0)
      os << " " << (p.backpressure_ms + 5) / 10 << "% at '"
         << p.backpressured_vertex << "'";
  }
  if (p.restarts > 0)
    os << " · " << p.restarts << (p.restarts == 1 ? " restart" : " restarts");
  return os.str();
}

const json& checkpoint_reader::update(const json& job, const getter& get) {
  const auto& counts = member(job, "checkpoints");
  auto counted = int_at(counts, "completed") + int_at(counts, "failed");
  if (counted != counted_) {
    auto stats = get(path_ + "/checkpoints");
    if (stats.is_object()) {
      stats_ = std::move(stats);
      counted_ = counted;
    }
  }
  return stats_;
}

progress_reporter::progress_reporter(std::ostream& out, progress_style style,
                                     int width, int fd)
  : out_(out), style_(style), width_(std::max(width, 20)), fd_(fd) {
}

void progress_reporter::clear() {
  if (line_shown_) {
    out_ << "\r\033[K" << std::flush;
    line_shown_ = false;
  }
}

void progress_reporter::event(const std::string& text) {
  clear();
  out_ << "weir: " << text << std::endl;
}

void progress_reporter::update(const json& job, const json& checkpoints,
                               int64_t clock_ms) {
  if (style_ == progress_style::none)
    return;
  const auto& transitions = member(job, "transitions");
  if (transitions.is_array()) {
    for (size_t i = transitions_seen_; i < transitions.size(); ++i) {
      const auto& t = transitions[i];
      event(utc_clock(int_at(t, "timestamp")) + " job " + text_at(t, "state"));
    }
    transitions_seen_ = std::max(transitions_seen_, transitions.size());
  }
  const auto& history = member(checkpoints, "history");
  if (history.is_array()) {
    // Newest first in the statistics; reported oldest first.
    std::vector<const json*> fresh;
    std::set<uint64_t> kept;
    for (const auto& c : history) {
      auto id = static_cast<uint64_t>(int_at(c, "id"));
      kept.insert(id);
      // One still in flight is reported once it completed or failed.
      if (checkpoints_seen_.count(id) == 0
          && text_at(c, "status") != "IN_PROGRESS")
        fresh.push_back(&c);
    }
    // Forget what the statistics dropped, so that the set stays small.
    for (auto i = checkpoints_seen_.begin(); i != checkpoints_seen_.end();)
      i = kept.count(*i) == 0 ? checkpoints_seen_.erase(i) : std::next(i);
    std::sort(fresh.begin(), fresh.end(), [](const json* a, const json* b) {
      return int_at(*a, "id") < int_at(*b, "id");
    });
    for (const auto* c : fresh) {
      auto id = static_cast<uint64_t>(int_at(*c, "id"));
      checkpoints_seen_.insert(id);
      // On a terminal the status line shows the latest checkpoint: only
      // savepoints and failures get a line of their own there.
      if (style_ == progress_style::live && text_at(*c, "status") == "COMPLETED"
          && member(*c, "is_savepoint") != true)
        continue;
      auto kind
        = member(*c, "is_savepoint") == true ? "savepoint " : "checkpoint ";
      auto at = int_at(*c, "trigger_timestamp");
      std::string text = utc_clock(at + int_at(*c, "end_to_end_duration")) + " "
                         + kind + std::to_string(id);
      if (text_at(*c, "status") == "COMPLETED") {
        text += " completed in "
                + human_duration_ms(int_at(*c, "end_to_end_duration")) + ", "
                + human_bytes(static_cast<uint64_t>(int_at(*c, "state_size")));
        auto path = text_at(*c, "external_path");
        if (!path.empty())
          text += ": " + path;
      } else {
        text = utc_clock(at) + " " + kind + std::to_string(id)
               + " failed: " + text_at(*c, "failure_message");
      }
      event(text);
    }
  }
  auto line = status_line(job_progress::from_json(job, checkpoints));
  if (style_ == progress_style::live) {
    winsize ws{};
    if (fd_ >= 0 && ioctl(fd_, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
      width_ = std::max(static_cast<int>(ws.ws_col), 20);
    if (line.size() > static_cast<size_t>(width_ - 1)) {
      // Cut on a character boundary: "·" is two bytes in UTF-8.
      size_t cut = static_cast<size_t>(width_ - 2);
      while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80)
        --cut;
      line = line.substr(0, cut) + "…";
    }
    out_ << "\r\033[K" << line << std::flush;
    line_shown_ = true;
    return;
  }
  if (last_status_.empty() || clock_ms - last_log_ms_ >= log_every_ms) {
    // The first reading, then every log_every_ms.
    out_ << "weir: " << line << std::endl;
    last_log_ms_ = clock_ms;
    last_status_ = line;
  }
}

} // namespace weir::cli
