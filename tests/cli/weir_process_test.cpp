// The child-process helper itself: output capture, exit codes, deadlines.

#include <chrono>
#include <csignal>

#include <doctest/doctest.h>

#include "cli/weir_process.hpp"

using namespace weir::test;

TEST_CASE("the helper captures stdout and stderr apart") {
  auto ok = run_weir({"--help"});
  CHECK_EQ(ok.exit_code, 0);
  CHECK_FALSE(ok.out.empty());
  CHECK(ok.err.empty());
  auto bad = run_weir({"frobnicate"});
  CHECK_EQ(bad.exit_code, 2);
  CHECK(bad.out.empty());
  CHECK_FALSE(bad.err.empty());
}

TEST_CASE("the helper kills a child past its deadline with SIGKILL") {
  weir_process child{{"run", "--local", job_fixture("unbounded.pbtxt")},
                     std::chrono::milliseconds{300}};
  auto r = child.wait();
  CHECK(r.timed_out);
  CHECK_EQ(r.term_signal, SIGKILL);
  CHECK_EQ(r.exit_code, -1);
}

TEST_CASE("the helper stops waiting for a line once the child exits") {
  weir_process child{{"validate", job_fixture("cycle.pbtxt")}};
  CHECK_FALSE(child.wait_for_stderr("never printed"));
  auto r = child.wait();
  CHECK_FALSE(r.timed_out);
  CHECK_EQ(r.exit_code, 2);
}
