// Stop-with-savepoint on SIGTERM and --from-savepoint with real `weir`
// processes: the lines of a stopped run and of the run resumed from its
// savepoint, at another parallelism, are those of one uninterrupted run.

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "cli/weir_process.hpp"
#include "support/temp_dir.hpp"

using namespace weir::test;

namespace fs = std::filesystem;

namespace {

/// Committed lines under `dir`, with their counts.
std::map<std::string, int> lines_in(const std::string& dir) {
  std::map<std::string, int> out;
  for (const auto& line : read_lines(dir))
    ++out[line];
  return out;
}

/// Whether `dir` holds a committed part file.
bool has_committed_file(const std::string& dir) {
  std::error_code ec;
  for (fs::directory_iterator i{dir, ec}, end; !ec && i != end; i.increment(ec))
    if (i->path().filename().string().rfind("part-", 0) == 0)
      return true;
  return false;
}

/// The text after `prefix` up to the end of its line in `text`.
std::string after(const std::string& text, const std::string& prefix) {
  auto pos = text.find(prefix);
  if (pos == std::string::npos)
    return {};
  pos += prefix.size();
  return text.substr(pos, text.find('\n', pos) - pos);
}

} // namespace

TEST_CASE("SIGTERM with --savepoint-dir stops the job with a savepoint, and "
          "a run from it at another parallelism completes the output "
          "exactly") {
  temp_dir dir;
  auto out = dir / "out";
  weir_process first{
    {"run", job_fixture("rate_limited_updates.pbtxt"), "--param", "out=" + out,
     "--param", "chk=" + (dir / "chk"), "--savepoint-dir", dir / "savepoints"}};
  REQUIRE(first.wait_for_stderr(") submitted: "));
  // Stop once a checkpoint committed output, well before the end (3 s).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  // Polls for a condition (no timing is asserted).
  while (!has_committed_file(out)
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(has_committed_file(out));
  first.send(SIGTERM);
  auto r1 = first.wait();
  INFO("first run: " << r1.err);
  REQUIRE_FALSE(r1.timed_out);
  CHECK_EQ(r1.exit_code, 0);
  CHECK(contains(r1.err, "stopping job with a savepoint into"));
  CHECK(contains(r1.err, "job 'rate_limited_updates' FINISHED"));
  auto savepoint = after(r1.err, "weir: savepoint written: ");
  REQUIRE_FALSE(savepoint.empty());
  CHECK(fs::exists(fs::path{savepoint} / "_metadata"));
  auto partial = lines_in(out);
  CHECK(partial.size() > 0);
  CHECK(partial.size() < 3000);
  auto r2
    = run_weir({"run", job_fixture("rate_limited_updates.pbtxt"), "--param",
                "out=" + out, "--param", "chk=" + (dir / "chk"), "-p", "3",
                "--from-savepoint", savepoint});
  INFO("second run: " << r2.err);
  REQUIRE_FALSE(r2.timed_out);
  CHECK_EQ(r2.exit_code, 0);
  CHECK(contains(r2.err, "restoring from " + savepoint));
  std::map<std::string, int> expected;
  for (int v = 0; v < 3000; ++v)
    expected[std::to_string(v) + ",1"] = 1;
  CHECK(lines_in(out) == expected);
}

TEST_CASE("run refuses a missing savepoint and a stray "
          "--allow-non-restored-state with exit code 2") {
  temp_dir dir;
  auto missing
    = run_weir({"run", job_fixture("rate_limited_updates.pbtxt"), "--param",
                "out=" + (dir / "out"), "--param", "chk=" + (dir / "chk"),
                "--from-savepoint", dir / "nowhere"});
  CHECK_EQ(missing.exit_code, 2);
  CHECK(contains(missing.err, "cannot restore from savepoint"));
  CHECK(contains(missing.err, dir / "nowhere"));
  auto stray = run_weir({"run", job_fixture("rate_limited_updates.pbtxt"),
                         "--param", "out=" + (dir / "out"), "--param",
                         "chk=" + (dir / "chk"), "--allow-non-restored-state"});
  CHECK_EQ(stray.exit_code, 2);
  CHECK(contains(stray.err, "--allow-non-restored-state needs "
                            "--from-savepoint"));
}
