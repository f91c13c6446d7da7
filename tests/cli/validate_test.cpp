// `weir validate`: the example job passes; each fixture in tests/cli/jobs/
// holds one fault, which must exit 2 with a message naming it.

#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "cli/weir_process.hpp"

using namespace weir::test;

namespace {

using strings = std::vector<std::string>;

/// Runs `weir validate args...` and expects exit code 2, nothing on stdout,
/// and each of `parts` in stderr.
void check_rejected(const strings& args, const strings& parts) {
  strings argv{"validate"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_weir(argv);
  INFO("stderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  CHECK_EQ(r.exit_code, 2);
  CHECK(r.out.empty());
  CHECK(contains(r.err, "weir: error: "));
  for (const auto& part : parts)
    CHECK_MESSAGE(contains(r.err, part), part);
}

/// Rejects fixture `name`, whose path must prefix the message as well.
void check_fixture_rejected(const std::string& name, const strings& parts) {
  auto with_origin = parts;
  with_origin.push_back(job_fixture(name));
  check_rejected({job_fixture(name)}, with_origin);
}

strings wordcount_params() {
  return {"--param", "input=/tmp/weir-cli-in.txt", "--param",
          "output=/tmp/weir-cli-out"};
}

} // namespace

TEST_CASE("validate accepts the wordcount example and summarizes it") {
  auto job = source_file("examples/wordcount.pbtxt");
  strings args{"validate", job};
  for (auto& p : wordcount_params())
    args.push_back(p);
  auto r = run_weir(args);
  INFO("stderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  CHECK_EQ(r.exit_code, 0);
  CHECK(r.err.empty());
  CHECK(contains(r.out, job
                          + ": job 'wordcount' is valid: 4 vertices, "
                            "3 edges"));
}

TEST_CASE("validate accepts the wordcount example with a parallelism "
          "parameter") {
  strings args{"validate", source_file("examples/wordcount.pbtxt"), "--param",
               "parallelism=4"};
  for (auto& p : wordcount_params())
    args.push_back(p);
  auto r = run_weir(args);
  INFO("stderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  CHECK_EQ(r.exit_code, 0);
}

TEST_CASE("validate rejects text that does not parse with its line and "
          "column") {
  check_fixture_rejected("bad_syntax.pbtxt",
                         {"bad_syntax.pbtxt:5:31: ", "Expected \":\""});
}

TEST_CASE("validate rejects an unknown operator and names the vertex") {
  check_fixture_rejected("unknown_operator.pbtxt",
                         {"vertex 'splitter'",
                          "unknown operator 'no_such_operator'",
                          "known operators: "});
}

TEST_CASE("validate rejects an unknown parameter and names the vertex") {
  check_fixture_rejected(
    "unknown_parameter.pbtxt",
    {"vertex 'numbers' (sequence)", "unknown parameter 'stride'"});
}

TEST_CASE("validate rejects a missing parameter and names the vertex") {
  check_fixture_rejected(
    "missing_parameter.pbtxt",
    {"vertex 'keep_small' (filter)", "missing required parameter 'value'"});
}

TEST_CASE("validate rejects an edge to an unknown vertex and names it") {
  check_fixture_rejected(
    "unknown_vertex.pbtxt",
    {"edge keep_small -> sink_vertex", "unknown vertex 'sink_vertex'"});
}

TEST_CASE("validate rejects a cycle and names the vertices on it") {
  check_fixture_rejected("cycle.pbtxt",
                         {"has a cycle", "first -> second -> first"});
}

TEST_CASE("validate rejects a job without a source") {
  check_fixture_rejected("no_source.pbtxt", {"job 'no_source' has no source"});
}

TEST_CASE("validate rejects a job without a sink") {
  check_fixture_rejected("no_sink.pbtxt", {"job 'no_sink' has no sink"});
}

TEST_CASE("validate rejects parallelism 0 and names the vertex") {
  check_fixture_rejected(
    "parallelism_zero.pbtxt",
    {"vertex 'numbers'", "parallelism must be at least 1 (got 0)"});
}

TEST_CASE("validate rejects a negative parallelism and names the vertex") {
  check_fixture_rejected(
    "parallelism_negative.pbtxt",
    {"vertex 'numbers'", "parallelism must be at least 1 (got -3)"});
}

TEST_CASE("validate rejects parallelism above max parallelism") {
  check_fixture_rejected(
    "parallelism_above_max.pbtxt",
    {"vertex 'numbers'", "parallelism 8 exceeds max_parallelism 4"});
}

TEST_CASE("validate rejects a HASH key the upstream does not produce") {
  check_fixture_rejected("unknown_hash_key.pbtxt",
                         {"edge words -> counts", "key field 'term'",
                          "not produced by vertex 'words'", "emits: word"});
}

TEST_CASE("validate rejects an unfilled placeholder with its line") {
  check_fixture_rejected(
    "unfilled_placeholder.pbtxt",
    {"unfilled_placeholder.pbtxt:7: ", "placeholder ${count} has no value",
     "--param count="});
}

TEST_CASE("validate accepts the placeholder job once its parameter is "
          "given") {
  auto r = run_weir({"validate", job_fixture("unfilled_placeholder.pbtxt"),
                     "--param", "count=5"});
  INFO("stderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  CHECK_EQ(r.exit_code, 0);
}

TEST_CASE("validate rejects an unused --param and names it") {
  auto args = wordcount_params();
  args.insert(args.begin(), source_file("examples/wordcount.pbtxt"));
  args.push_back("--param");
  args.push_back("inptu=/tmp/typo.txt");
  check_rejected(args, {"--param 'inptu' is not used by",
                        "its placeholders: input, output, parallelism"});
}

TEST_CASE("validate rejects a missing job file and names the path") {
  auto missing = job_fixture("no_such_job.pbtxt");
  check_rejected({missing}, {"cannot read job file '" + missing + "'",
                             "No such file or directory"});
}

TEST_CASE("validate rejects a directory as job file") {
  auto dir = source_file("tests/cli/jobs");
  check_rejected({dir},
                 {"cannot read job file '" + dir + "'", "is a directory"});
}
