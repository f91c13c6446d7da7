#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

#include "api/error.hpp"
#include "config/logging.hpp"
#include "support/temp_dir.hpp"

using namespace weir;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/// Sends what the process writes to stderr into `path` while alive.
class stderr_capture {
public:
  explicit stderr_capture(const std::string& path) {
    std::fflush(stderr);
    saved_ = dup(STDERR_FILENO);
    auto* f = std::fopen(path.c_str(), "w");
    dup2(fileno(f), STDERR_FILENO);
    std::fclose(f);
  }

  ~stderr_capture() {
    std::fflush(stderr);
    dup2(saved_, STDERR_FILENO);
    ::close(saved_);
  }

  stderr_capture(const stderr_capture&) = delete;
  stderr_capture& operator=(const stderr_capture&) = delete;

private:
  int saved_ = -1;
};

} // namespace

TEST_CASE("log levels parse case-insensitively and render back") {
  CHECK(parse_log_level("trace") == log_level::trace);
  CHECK(parse_log_level("DEBUG") == log_level::debug);
  CHECK(parse_log_level("Info") == log_level::info);
  CHECK(parse_log_level("warn") == log_level::warn);
  CHECK(parse_log_level("warning") == log_level::warn);
  CHECK(parse_log_level("error") == log_level::error);
  CHECK(parse_log_level("off") == log_level::off);
  CHECK_FALSE(parse_log_level("loud"));
  CHECK(std::string{to_string(log_level::warn)} == "warn");
}

TEST_CASE("the log file is weir-<role>.log in log.dir, none without one") {
  CHECK(log_file_path({log_level::info, "/var/log"}, "jobmanager")
        == "/var/log/weir-jobmanager.log");
  CHECK(log_file_path({log_level::info, "logs/"}, "taskmanager-2")
        == "logs/weir-taskmanager-2.log");
  CHECK(log_file_path({}, "jobmanager").empty());
}

TEST_CASE("the log file gets the lines at or above the level, with the role") {
  test::temp_dir dir;
  auto logs = dir / "logs";
  {
    stderr_capture quiet{dir / "stderr"};
    REQUIRE(!setup_logging("taskmanager-7", {log_level::warn, logs}));
    logger()->info("slots offered: {}", 4);
    logger()->warn("heartbeat from {} is late", "jobmanager");
    logger()->error("lost the job manager");
  }
  auto text = read_file(logs + "/weir-taskmanager-7.log");
  CHECK(text.find("slots offered") == std::string::npos);
  CHECK(text.find("warning taskmanager-7: heartbeat from jobmanager is late\n")
        != std::string::npos);
  CHECK(text.find("error   taskmanager-7: lost the job manager\n")
        != std::string::npos);
  // Every line starts with the date and time to the millisecond.
  std::istringstream lines{text};
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    ++n;
    CAPTURE(line);
    REQUIRE(line.size() > 24);
    CHECK(line[4] == '-');
    CHECK(line[10] == ' ');
    CHECK(line[13] == ':');
    CHECK(line[19] == '.');
  }
  CHECK(n == 2);
  // stderr got the same lines.
  CHECK(read_file(dir / "stderr") == text);
}

TEST_CASE("a second process start appends to the log file") {
  test::temp_dir dir;
  stderr_capture quiet{dir / "stderr"};
  REQUIRE(!setup_logging("jobmanager", {log_level::info, dir / ""}));
  logger()->info("first run");
  REQUIRE(!setup_logging("jobmanager", {log_level::info, dir / ""}));
  logger()->info("second run");
  auto text = read_file(dir / "weir-jobmanager.log");
  CHECK(text.find("first run") != std::string::npos);
  CHECK(text.find("second run") != std::string::npos);
}

TEST_CASE("without log.dir lines go to stderr only") {
  test::temp_dir dir;
  {
    stderr_capture capture{dir / "stderr"};
    REQUIRE(!setup_logging("local", {log_level::debug, ""}));
    logger()->debug("planned {} tasks", 3);
    logger()->trace("not shown");
  }
  auto text = read_file(dir / "stderr");
  CHECK(text.find("debug   local: planned 3 tasks\n") != std::string::npos);
  CHECK(text.find("not shown") == std::string::npos);
}

TEST_CASE("a log file that cannot be opened is an error naming log.dir") {
  test::temp_dir dir;
  auto blocker = dir.write("file", "not a directory");
  auto err = setup_logging("jobmanager", {log_level::info, blocker + "/sub"});
  REQUIRE(err);
  CHECK(error_text(err).rfind("log.dir: cannot open log file: ", 0) == 0);
}
