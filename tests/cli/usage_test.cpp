// `weir --help`, per-command help and bad usage, run as a child process.

#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "cli/weir_process.hpp"

using namespace weir::test;

namespace {

/// Runs `weir args...`, expecting it to finish in time and print a usage
/// synopsis to stdout with exit code 0.
void check_help(const std::vector<std::string>& args,
                const std::string& synopsis) {
  auto r = run_weir(args);
  INFO("stdout: " << r.out);
  INFO("stderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  CHECK_EQ(r.exit_code, 0);
  CHECK(contains(r.out, synopsis));
  CHECK(r.err.empty());
}

} // namespace

TEST_CASE("weir --help lists every command and exits 0") {
  auto r = run_weir({"--help"});
  INFO("stderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  CHECK_EQ(r.exit_code, 0);
  CHECK(contains(r.out, "usage: weir <command> [options]"));
  for (auto cmd : {"run", "validate", "plan", "operators"})
    CHECK_MESSAGE(contains(r.out, std::string{"  "} + cmd + " "), cmd);
}

TEST_CASE("weir -h and weir help print the same usage as --help") {
  auto expected = run_weir({"--help"}).out;
  REQUIRE_FALSE(expected.empty());
  for (auto flag : {"-h", "help"}) {
    auto r = run_weir({flag});
    CAPTURE(flag);
    REQUIRE_FALSE(r.timed_out);
    CHECK_EQ(r.exit_code, 0);
    CHECK_EQ(r.out, expected);
  }
}

TEST_CASE("weir run --help prints the run usage and its options") {
  check_help({"run", "--help"}, "usage: weir run ");
  auto out = run_weir({"run", "--help"}).out;
  for (auto option : {"--local", "--param", "--parallelism", "--taskmanagers",
                      "--slots", "--slot-timeout", "--credits", "-D [ --set ]",
                      "execution.checkpointing.interval"})
    CHECK_MESSAGE(contains(out, option), option);
}

TEST_CASE("weir validate --help prints the validate usage") {
  check_help({"validate", "--help"}, "usage: weir validate JOB.pbtxt");
  CHECK(contains(run_weir({"validate", "-h"}).out, "--param"));
}

TEST_CASE("weir plan --help prints the plan usage") {
  check_help({"plan", "--help"}, "usage: weir plan JOB.pbtxt");
  CHECK(contains(run_weir({"plan", "-h"}).out, "--parallelism"));
}

TEST_CASE("weir operators --help prints the operators usage") {
  check_help({"operators", "--help"}, "usage: weir operators");
}

TEST_CASE("weir operators lists the built-in operators with parameters") {
  auto r = run_weir({"operators"});
  INFO("stderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  CHECK_EQ(r.exit_code, 0);
  for (auto op : {"aggregate", "discard", "file_sink", "file_source", "filter",
                  "print", "select", "sequence", "tokenize"})
    CHECK_MESSAGE(contains(r.out, std::string{op} + " ("), op);
  CHECK(contains(r.out, "path: string, required"));
}

TEST_CASE("weir without a command prints usage to stderr and exits 2") {
  auto r = run_weir({});
  REQUIRE_FALSE(r.timed_out);
  CHECK_EQ(r.exit_code, 2);
  CHECK(r.out.empty());
  CHECK(contains(r.err, "usage: weir <command>"));
}

TEST_CASE("an unknown command exits 2 and names the command") {
  auto r = run_weir({"frobnicate", "job.pbtxt"});
  REQUIRE_FALSE(r.timed_out);
  CHECK_EQ(r.exit_code, 2);
  CHECK(r.out.empty());
  CHECK(contains(r.err, "unknown command 'frobnicate'"));
  CHECK(contains(r.err, "usage: weir <command>"));
}

TEST_CASE("an unknown option exits 2 and names the option for each command") {
  for (auto cmd : {"run", "validate", "plan", "operators"}) {
    CAPTURE(cmd);
    auto r = run_weir({cmd, "--frobnicate"});
    INFO("stderr: " << r.err);
    REQUIRE_FALSE(r.timed_out);
    CHECK_EQ(r.exit_code, 2);
    CHECK(r.out.empty());
    CHECK(contains(r.err, "--frobnicate"));
    CHECK(contains(r.err, std::string{"usage: weir "} + cmd));
  }
}

TEST_CASE("a command that needs a job descriptor exits 2 without one") {
  for (auto cmd : {"run", "validate", "plan"}) {
    CAPTURE(cmd);
    auto r = run_weir({cmd});
    INFO("stderr: " << r.err);
    REQUIRE_FALSE(r.timed_out);
    CHECK_EQ(r.exit_code, 2);
    CHECK(contains(r.err, "no job descriptor given"));
  }
}

TEST_CASE("a second job descriptor exits 2") {
  auto job = job_fixture("unbounded.pbtxt");
  auto r = run_weir({"validate", job, job});
  INFO("stderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  CHECK_EQ(r.exit_code, 2);
  CHECK(contains(r.err, "too many positional options"));
}

TEST_CASE("a --param without '=' exits 2 and names the parameter") {
  auto r = run_weir({"validate", job_fixture("unfilled_placeholder.pbtxt"),
                     "--param", "count"});
  REQUIRE_FALSE(r.timed_out);
  CHECK_EQ(r.exit_code, 2);
  CHECK(contains(r.err, "--param 'count' must have the form name=value"));
}

TEST_CASE("a --param given twice exits 2 and names the parameter") {
  auto r = run_weir({"validate", job_fixture("unfilled_placeholder.pbtxt"),
                     "--param", "count=1", "--param", "count=2"});
  REQUIRE_FALSE(r.timed_out);
  CHECK_EQ(r.exit_code, 2);
  CHECK(contains(r.err, "--param 'count' is given twice"));
}

TEST_CASE("a negative --parallelism exits 2") {
  auto r = run_weir(
    {"validate", job_fixture("unbounded.pbtxt"), "--parallelism=-1"});
  REQUIRE_FALSE(r.timed_out);
  CHECK_EQ(r.exit_code, 2);
  CHECK(contains(r.err, "--parallelism must be positive"));
}

TEST_CASE("a zero --parallelism exits 2") {
  auto r = run_weir({"validate", job_fixture("unbounded.pbtxt"), "-p", "0"});
  REQUIRE_FALSE(r.timed_out);
  CHECK_EQ(r.exit_code, 2);
  CHECK(contains(r.err, "--parallelism must be positive"));
}
