// `weir plan`: the chained execution plan of a job.

#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "cli/weir_process.hpp"

using namespace weir::test;

namespace {

process_result plan_wordcount(const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{
    "plan",    source_file("examples/wordcount.pbtxt"),
    "--param", "input=/tmp/weir-cli-in.txt",
    "--param", "output=/tmp/weir-cli-out"};
  args.insert(args.end(), extra.begin(), extra.end());
  return run_weir(args);
}

} // namespace

TEST_CASE("plan chains wordcount into two tasks joined by HASH(word)") {
  auto r = plan_wordcount();
  INFO("stdout: " << r.out);
  INFO("stderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  CHECK_EQ(r.exit_code, 0);
  CHECK(r.err.empty());
  CHECK(contains(r.out, "Job wordcount: 2 tasks, 4 subtasks, needs 2 slots"));
  CHECK(contains(r.out, "task 0 \"lines -> words\" parallelism 2 "
                        "(file_source -> tokenize)"));
  CHECK(contains(r.out, "  -> task 1 \"counts -> out\" by HASH(word)"));
  CHECK(contains(r.out, "task 1 \"counts -> out\" parallelism 2 "
                        "(aggregate -> file_sink)"));
}

TEST_CASE("plan applies -p to vertices without their own parallelism") {
  auto r = plan_wordcount({"-p", "4"});
  INFO("stderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  CHECK_EQ(r.exit_code, 0);
  CHECK(contains(r.out, "Job wordcount: 2 tasks, 8 subtasks, needs 4 slots"));
  CHECK(contains(r.out, "by HASH(word)"));
}

TEST_CASE("plan fills the parallelism placeholder from --param") {
  auto r = plan_wordcount({"--param", "parallelism=3"});
  INFO("stderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  CHECK_EQ(r.exit_code, 0);
  CHECK(contains(r.out, "Job wordcount: 2 tasks, 6 subtasks, needs 3 slots"));
}

TEST_CASE("plan rejects an invalid job like validate does") {
  auto r = run_weir({"plan", source_file("tests/cli/jobs/cycle.pbtxt")});
  REQUIRE_FALSE(r.timed_out);
  CHECK_EQ(r.exit_code, 2);
  CHECK(r.out.empty());
  CHECK(contains(r.err, "first -> second -> first"));
}
