#include <doctest/doctest.h>

#include "api/error.hpp"
#include "scheduler/job_settings.hpp"

using namespace weir;

TEST_CASE("durations take Flink's units; a bare number is milliseconds") {
  CHECK(parse_duration_ms("k", "250").value() == 250);
  CHECK(parse_duration_ms("k", "250ms").value() == 250);
  CHECK(parse_duration_ms("k", "10 s").value() == 10000);
  CHECK(parse_duration_ms("k", "2min").value() == 120000);
  CHECK(parse_duration_ms("k", "1h").value() == 3600000);
  for (auto bad :
       {"", "ms", "-5s", "1.5s", "10 parsecs", "99999999999999999"}) {
    CAPTURE(bad);
    auto x = parse_duration_ms("execution.checkpointing.interval", bad);
    REQUIRE_FALSE(x);
    CHECK(error_text(x.error()).find("execution.checkpointing.interval")
          != std::string::npos);
  }
}

TEST_CASE("settings override the descriptor's checkpointing and restarts") {
  proto::JobSpec spec;
  spec.mutable_checkpointing()->set_interval_ms(5000);
  auto err = apply_job_settings(
    spec, {"execution.checkpointing.interval=1s",
           "execution.checkpointing.timeout=2min",
           "execution.checkpointing.min-pause=100",
           "execution.checkpointing.max-concurrent-checkpoints=2",
           "execution.checkpointing.tolerable-failed-checkpoints=3",
           "execution.checkpointing.mode=at-least-once",
           "state.checkpoints.dir=/tmp/chk", "state.checkpoints.num-retained=4",
           "restart-strategy.type=fixed-delay",
           "restart-strategy.fixed-delay.attempts=7",
           "restart-strategy.fixed-delay.delay=3s",
           "restart-strategy.exponential-delay.backoff-multiplier=1.5"});
  REQUIRE_MESSAGE(!err, error_text(err));
  const auto& cp = spec.checkpointing();
  CHECK(cp.interval_ms() == 1000);
  CHECK(cp.timeout_ms() == 120000);
  CHECK(cp.min_pause_ms() == 100);
  CHECK(cp.max_concurrent() == 2);
  CHECK(cp.tolerable_failures() == 3);
  CHECK(cp.mode() == proto::AT_LEAST_ONCE);
  CHECK(cp.dir() == "/tmp/chk");
  CHECK(cp.retained() == 4);
  const auto& rs = spec.restart_strategy();
  CHECK(rs.type() == "fixed-delay");
  CHECK(rs.attempts() == 7);
  CHECK(rs.delay_ms() == 3000);
  CHECK(rs.backoff_multiplier() == doctest::Approx(1.5));
  // Later settings win.
  REQUIRE(
    !apply_job_settings(spec, {"execution.checkpointing.mode=EXACTLY_ONCE"}));
  CHECK(spec.checkpointing().mode() == proto::EXACTLY_ONCE);
}

TEST_CASE("bad settings are errors naming the key, with a hint for typos") {
  proto::JobSpec spec;
  auto text = [&](const std::string& s) {
    return error_text(apply_job_settings(spec, {s}));
  };
  CHECK(text("execution.checkpointing.intervall=1s")
        == "unknown setting 'execution.checkpointing.intervall'; did you mean "
           "'execution.checkpointing.interval'?");
  CHECK(text("nothing.like.it=1") == "unknown setting 'nothing.like.it'");
  CHECK(text("no-equals-sign")
        == "a setting must look like key=value, got 'no-equals-sign'");
  CHECK(text("execution.checkpointing.mode=twice")
        == "invalid value 'twice' for execution.checkpointing.mode: expected "
           "EXACTLY_ONCE or AT_LEAST_ONCE");
  CHECK(text("restart-strategy.type=sometimes")
        == "invalid value 'sometimes' for restart-strategy.type: expected "
           "none, fixed-delay, exponential-delay, failure-rate");
  CHECK(text("state.checkpoints.num-retained=many")
        == "invalid value 'many' for state.checkpoints.num-retained: "
           "expected an integer");
  CHECK(text("state.checkpoints.dir=").find("state.checkpoints.dir")
        != std::string::npos);
  // Nothing was applied by the failed calls.
  CHECK(!spec.has_checkpointing());
}
