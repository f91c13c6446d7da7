#include "scheduler/restart_strategy.hpp"

#include "api/error.hpp"

#include <vector>

#include <doctest/doctest.h>

using namespace weir;
using namespace std::chrono;
using clk = restart_policy::clock;

TEST_CASE("restart strategy none never restarts") {
  restart_policy p{restart_settings{}};
  auto d = p.on_failure(clk::time_point{});
  CHECK(!d.restart);
  CHECK(d.reason == "the restart strategy is none");
}

TEST_CASE("fixed delay restarts its number of attempts, then gives up") {
  restart_settings s;
  s.kind = restart_settings::fixed_delay;
  s.attempts = 3;
  s.delay = milliseconds{250};
  restart_policy p{s};
  clk::time_point t{};
  for (int i = 0; i < 3; ++i) {
    auto d = p.on_failure(t);
    CHECK(d.restart);
    CHECK(d.delay == milliseconds{250});
  }
  auto d = p.on_failure(t);
  CHECK(!d.restart);
  CHECK(d.reason.find("3 restart(s), all used") != std::string::npos);
  CHECK(p.restarts() == 3);
}

TEST_CASE("exponential delay grows to its cap and resets after stable "
          "running") {
  restart_settings s;
  s.kind = restart_settings::exponential_delay;
  s.initial_backoff = milliseconds{100};
  s.max_backoff = milliseconds{1000};
  s.multiplier = 2.0;
  s.reset_threshold = milliseconds{5000};
  s.jitter = 0.0;
  restart_policy p{s};
  clk::time_point t{};
  std::vector<int64_t> delays;
  for (int i = 0; i < 6; ++i) {
    p.on_running(t);
    t += milliseconds{10};
    delays.push_back(p.on_failure(t).delay.count());
  }
  CHECK(delays == std::vector<int64_t>{100, 200, 400, 800, 1000, 1000});
  // Running longer than the threshold resets the backoff.
  p.on_running(t);
  t += milliseconds{5000};
  CHECK(p.on_failure(t).delay == milliseconds{100});
}

TEST_CASE("exponential delay jitter stays within its factor") {
  restart_settings s;
  s.kind = restart_settings::exponential_delay;
  s.initial_backoff = milliseconds{1000};
  s.jitter = 0.1;
  for (double u : {0.0, 0.25, 0.5, 0.99}) {
    restart_policy p{s};
    auto d = p.on_failure(clk::time_point{}, u);
    CHECK(d.restart);
    CHECK(d.delay.count() >= 900);
    CHECK(d.delay.count() <= 1100);
  }
}

TEST_CASE("failure rate gives up when failures in the interval exceed the "
          "limit") {
  restart_settings s;
  s.kind = restart_settings::failure_rate;
  s.max_failures = 2;
  s.interval = milliseconds{1000};
  s.delay = milliseconds{10};
  restart_policy p{s};
  clk::time_point t{};
  CHECK(p.on_failure(t).restart);
  CHECK(p.on_failure(t + milliseconds{100}).restart);
  // The first failure ages out of the window: still allowed.
  CHECK(p.on_failure(t + milliseconds{1050}).restart);
  auto d = p.on_failure(t + milliseconds{1080});
  CHECK(!d.restart);
  CHECK(d.reason.find("2 failure(s) per 1000 ms, and 3 happened")
        != std::string::npos);
}

TEST_CASE("restart settings default as Flink's and reject bad options") {
  proto::RestartStrategyConfig cfg;
  CHECK(resolve_restart_settings(cfg, false)->kind == restart_settings::none);
  CHECK(resolve_restart_settings(cfg, true)->kind
        == restart_settings::exponential_delay);
  cfg.set_type("fixed-delay");
  cfg.set_attempts(5);
  cfg.set_delay_ms(20);
  auto s = resolve_restart_settings(cfg, true);
  REQUIRE(s);
  CHECK(s->kind == restart_settings::fixed_delay);
  CHECK(s->attempts == 5);
  CHECK(s->delay == std::chrono::milliseconds{20});
  cfg.set_type("fixed-dely");
  CHECK(!resolve_restart_settings(cfg, true));
  cfg.set_type("exponential-delay");
  cfg.set_backoff_multiplier(0.5);
  auto err = resolve_restart_settings(cfg, true);
  REQUIRE(!err);
  CHECK(error_text(err.error()).find("backoff_multiplier")
        != std::string::npos);
  cfg.clear_backoff_multiplier();
  cfg.set_delay_ms(-1);
  CHECK(!resolve_restart_settings(cfg, true));
}
