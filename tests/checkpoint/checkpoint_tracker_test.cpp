#include "checkpoint/checkpoint_tracker.hpp"

#include <doctest/doctest.h>

#include "api/error.hpp"

using namespace weir;
using namespace std::chrono;
using clk = checkpoint_tracker::clock;

namespace {

checkpoint_settings every_second() {
  checkpoint_settings s;
  s.interval = milliseconds{1000};
  s.timeout = milliseconds{5000};
  s.dir = "/tmp/x";
  return s;
}

} // namespace

TEST_CASE("a checkpoint completes when every subtask acknowledged it") {
  checkpoint_tracker t{every_second(), 3};
  clk::time_point now{};
  auto id = t.try_trigger(now);
  REQUIRE(id);
  CHECK(*id == 1);
  CHECK(!t.acknowledge(1, 0, "a", now));
  CHECK(!t.acknowledge(1, 2, "c", now));
  // A duplicate ack changes nothing.
  CHECK(!t.acknowledge(1, 2, "c2", now));
  auto done = t.acknowledge(1, 1, "b", now + milliseconds{7});
  REQUIRE(done);
  CHECK(done->handles == std::vector<std::string>{"a", "b", "c"});
  CHECK(done->finished - done->triggered == milliseconds{7});
  CHECK(t.latest()->id == 1);
  CHECK(t.pending_count() == 0);
}

TEST_CASE("max concurrent checkpoints bounds triggers") {
  auto s = every_second();
  s.max_concurrent = 2;
  checkpoint_tracker t{s, 1};
  clk::time_point now{};
  CHECK(t.try_trigger(now) == 1u);
  CHECK(t.try_trigger(now) == 2u);
  CHECK(!t.try_trigger(now));
  CHECK(t.acknowledge(1, 0, "h", now));
  CHECK(t.try_trigger(now) == 3u);
}

TEST_CASE("min pause waits after a completion and forbids overlap") {
  auto s = every_second();
  s.min_pause = milliseconds{500};
  s.max_concurrent = 4;
  checkpoint_tracker t{s, 1};
  clk::time_point now{};
  CHECK(t.try_trigger(now) == 1u);
  CHECK(!t.try_trigger(now));
  t.acknowledge(1, 0, "h", now + milliseconds{100});
  CHECK(!t.try_trigger(now + milliseconds{599}));
  CHECK(t.try_trigger(now + milliseconds{600}) == 2u);
}

TEST_CASE("a newer completion subsumes older pending checkpoints") {
  auto s = every_second();
  s.max_concurrent = 3;
  checkpoint_tracker t{s, 1};
  clk::time_point now{};
  t.try_trigger(now);
  t.try_trigger(now);
  t.try_trigger(now);
  REQUIRE(t.acknowledge(2, 0, "h2", now));
  auto subsumed = t.take_subsumed();
  REQUIRE(subsumed.size() == 1);
  CHECK(subsumed[0].id == 1);
  CHECK(t.pending_ids() == std::vector<uint64_t>{3});
  // A late ack of the subsumed checkpoint is ignored.
  CHECK(!t.acknowledge(1, 0, "h1", now));
  CHECK(t.latest()->id == 2);
}

TEST_CASE("declined and expired checkpoints count against the tolerable "
          "failures, and a completion resets the count") {
  auto s = every_second();
  s.tolerable_failures = 1;
  checkpoint_tracker t{s, 2};
  clk::time_point now{};
  t.try_trigger(now);
  auto out = t.decline(1, "disk full");
  REQUIRE(out.aborted_checkpoints.size() == 1);
  CHECK(out.aborted_checkpoints[0].reason == "disk full");
  CHECK(!out.fail_job);
  t.try_trigger(now);
  t.acknowledge(2, 0, "a", now);
  t.acknowledge(2, 1, "b", now);
  CHECK(t.consecutive_failures() == 0);
  t.try_trigger(now);
  CHECK(t.next_expiry() == now + milliseconds{5000});
  CHECK(t.expire(now + milliseconds{4999}).aborted_checkpoints.empty());
  out = t.expire(now + milliseconds{5000});
  REQUIRE(out.aborted_checkpoints.size() == 1);
  CHECK(!out.fail_job);
  t.try_trigger(now + milliseconds{6000});
  out = t.decline(4, "snapshot threw");
  CHECK(out.fail_job);
  CHECK(t.consecutive_failures() == 2);
}

TEST_CASE("ids keep increasing across aborts and from a restored id") {
  checkpoint_tracker t{every_second(), 1, 42};
  clk::time_point now{};
  CHECK(t.try_trigger(now) == 42u);
  auto xs = t.abort_all("job restarting");
  REQUIRE(xs.size() == 1);
  CHECK(xs[0].id == 42);
  CHECK(t.consecutive_failures() == 0);
  CHECK(t.try_trigger(now) == 43u);
}

TEST_CASE("checkpoint settings default as Flink's and reject bad values") {
  proto::CheckpointConfig cfg;
  auto s = resolve_checkpoint_settings(cfg);
  REQUIRE(s);
  CHECK(!s->enabled());
  CHECK(s->timeout == milliseconds{600000});
  CHECK(s->max_concurrent == 1);
  CHECK(s->exactly_once);
  cfg.set_interval_ms(1000);
  auto missing_dir = resolve_checkpoint_settings(cfg);
  REQUIRE(!missing_dir);
  CHECK(error_text(missing_dir.error()).find("state.checkpoints.dir")
        != std::string::npos);
  cfg.set_dir("/tmp/chk");
  cfg.set_mode(proto::AT_LEAST_ONCE);
  cfg.set_retained(3);
  s = resolve_checkpoint_settings(cfg);
  REQUIRE(s);
  CHECK(!s->exactly_once);
  CHECK(s->retained == 3);
  cfg.set_timeout_ms(0);
  CHECK(!resolve_checkpoint_settings(cfg));
  cfg.clear_timeout_ms();
  cfg.set_max_concurrent(0);
  CHECK(!resolve_checkpoint_settings(cfg));
}
