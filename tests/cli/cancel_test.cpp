// Ctrl-C and SIGTERM cancel a running job: `weir run` exits 130 after the
// job is CANCELED.

#include <csignal>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "cli/weir_process.hpp"

using namespace weir::test;

namespace {

/// Starts the never-ending fixture job with `extra` arguments, waits for its
/// "submitted" line, sends `sig` and expects the job to end CANCELED with
/// exit code 130.
void check_cancel_on(int sig, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"run", "--local",
                                job_fixture("unbounded.pbtxt")};
  args.insert(args.end(), extra.begin(), extra.end());
  weir_process child{args};
  auto submitted = child.wait_for_stderr(") submitted: ");
  INFO("stderr so far: " << child.err());
  REQUIRE(submitted);
  child.send(sig);
  auto r = child.wait();
  INFO("stderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  CHECK_EQ(r.term_signal, 0);
  CHECK_EQ(r.exit_code, 130);
  CHECK(contains(r.err, "weir: cancelling job (CANCELLING)..."));
  CHECK(contains(r.err, "weir: job 'unbounded' CANCELED after "));
}

} // namespace

TEST_CASE("SIGINT cancels a running job and run exits 130") {
  check_cancel_on(SIGINT);
}

TEST_CASE("SIGTERM cancels a running job and run exits 130") {
  check_cancel_on(SIGTERM);
}

TEST_CASE("SIGINT cancels a job still waiting for slots before the slot "
          "timeout") {
  // Four subtasks on one slot never start; the 50 s timeout never passes
  // within the child deadline, so only the cancellation can end the job.
  check_cancel_on(SIGINT, {"-p", "4", "--slots", "1", "--slot-timeout", "50"});
}

TEST_CASE("a second SIGINT during cancellation still exits 130") {
  weir_process child{{"run", "--local", job_fixture("unbounded.pbtxt")}};
  REQUIRE(child.wait_for_stderr(") submitted: "));
  child.send(SIGINT);
  child.send(SIGINT);
  auto r = child.wait();
  INFO("stderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  CHECK_EQ(r.term_signal, 0);
  CHECK_EQ(r.exit_code, 130);
  // Either the second signal arrived while cancelling (immediate exit) or
  // after the job was already CANCELED.
  CHECK((contains(r.err, "second interrupt, exiting without waiting")
         || contains(r.err, "weir: job 'unbounded' CANCELED after ")));
}
