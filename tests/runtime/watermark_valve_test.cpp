#include "runtime/watermark_valve.hpp"

#include <optional>
#include <vector>

#include <doctest/doctest.h>

using namespace weir;

namespace {

using output = watermark_valve::output;

/// The watermark of a change, or a value no test uses when there was none.
int64_t wm_of(const std::optional<output>& x) {
  return x ? x->watermark : -424242;
}

} // namespace

TEST_CASE("a valve forwards the minimum over its channels") {
  watermark_valve v{{3, 5, 8}};
  CHECK_EQ(v.current().watermark, min_watermark);
  CHECK_FALSE(v.current().idle);
  // Until every channel reported, the minimum is min_watermark.
  CHECK_FALSE(v.on_watermark(3, 100, false));
  CHECK_FALSE(v.on_watermark(5, 50, false));
  CHECK_EQ(wm_of(v.on_watermark(8, 70, false)), 50);
  CHECK_EQ(v.channel_watermark(3), 100);
  CHECK_EQ(v.channel_watermark(5), 50);
  // Raising a channel that is not the minimum changes nothing.
  CHECK_FALSE(v.on_watermark(3, 120, false));
  CHECK_EQ(wm_of(v.on_watermark(5, 90, false)), 70);
  CHECK_EQ(wm_of(v.on_watermark(8, 200, false)), 90);
  CHECK_EQ(v.current().watermark, 90);
  CHECK_FALSE(v.current().idle);
}

TEST_CASE("a valve's output and channels never go back") {
  watermark_valve v{{0, 1}};
  v.on_watermark(0, 100, false);
  CHECK_EQ(wm_of(v.on_watermark(1, 100, false)), 100);
  // A channel reporting an earlier watermark keeps its later one.
  CHECK_FALSE(v.on_watermark(0, 40, false));
  CHECK_EQ(v.channel_watermark(0), 100);
  CHECK_EQ(v.current().watermark, 100);
  CHECK_FALSE(v.on_watermark(1, 100, false));
  // Channel 1 is still at 100.
  CHECK_FALSE(v.on_watermark(0, 150, false));
  CHECK_EQ(wm_of(v.on_watermark(1, 120, false)), 120);
}

TEST_CASE("an idle channel does not hold the valve back") {
  watermark_valve v{{0, 1}};
  v.on_watermark(0, 100, false);
  CHECK_EQ(v.current().watermark, min_watermark);
  auto change = v.on_watermark(1, 5, true);
  REQUIRE(change);
  CHECK_EQ(change->watermark, 100);
  CHECK_FALSE(change->idle);
  // The idle report's watermark is ignored.
  CHECK_EQ(v.channel_watermark(1), min_watermark);
  CHECK_EQ(wm_of(v.on_watermark(0, 300, false)), 300);
}

TEST_CASE("a channel back from idleness behind the output holds nothing "
          "back until it catches up") {
  watermark_valve v{{0, 1}};
  v.on_watermark(0, 100, false);
  v.on_watermark(1, 100, false);
  REQUIRE_EQ(v.current().watermark, 100);
  v.on_watermark(1, 0, true);
  CHECK_EQ(wm_of(v.on_watermark(0, 200, false)), 200);
  // Channel 1 comes back at 150, behind the output: no step back, and
  // channel 0 moves the output on alone.
  CHECK_FALSE(v.on_watermark(1, 150, false));
  CHECK_EQ(v.current().watermark, 200);
  CHECK_EQ(wm_of(v.on_watermark(0, 300, false)), 300);
  CHECK_EQ(wm_of(v.on_watermark(0, 400, false)), 400);
  // Once channel 1 caught up, it counts again.
  CHECK_FALSE(v.on_watermark(1, 450, false));
  CHECK_EQ(wm_of(v.on_watermark(0, 600, false)), 450);
  CHECK_EQ(wm_of(v.on_watermark(1, 500, false)), 500);
}

TEST_CASE("a valve whose open channels are all idle is idle itself") {
  watermark_valve v{{0, 1}};
  v.on_watermark(0, 10, false);
  v.on_watermark(1, 20, false);
  REQUIRE_EQ(v.current().watermark, 10);
  CHECK_EQ(wm_of(v.on_watermark(0, 0, true)), 20);
  auto idle = v.on_watermark(1, 0, true);
  REQUIRE(idle);
  CHECK(idle->idle);
  CHECK_EQ(idle->watermark, 20);
  // Idle again changes nothing; an active report ends the idleness.
  CHECK_FALSE(v.on_watermark(1, 0, true));
  auto active = v.on_watermark(1, 20, false);
  REQUIRE(active);
  CHECK_FALSE(active->idle);
  CHECK_EQ(active->watermark, 20);
  // Channel 0 comes back behind: it does not count until it caught up.
  CHECK_FALSE(v.on_watermark(0, 5, false));
  CHECK_EQ(wm_of(v.on_watermark(1, 30, false)), 30);
}

TEST_CASE("an ended channel counts as max_watermark") {
  watermark_valve v{{0, 1}};
  v.on_watermark(0, 10, false);
  v.on_watermark(1, 20, false);
  CHECK_EQ(wm_of(v.on_end(0)), 20);
  CHECK_EQ(v.channel_watermark(0), max_watermark);
  CHECK_EQ(wm_of(v.on_watermark(1, 25, false)), 25);
  // Watermarks and a second end on an ended channel are ignored.
  CHECK_FALSE(v.on_watermark(0, 1000, false));
  CHECK_FALSE(v.on_end(0));
  CHECK_EQ(wm_of(v.on_end(1)), max_watermark);
  CHECK_FALSE(v.current().idle);
}

TEST_CASE("an ended channel does not let the valve jump to max_watermark "
          "while others are idle") {
  watermark_valve v{{0, 1, 2}};
  v.on_watermark(0, 10, false);
  v.on_watermark(1, 20, false);
  v.on_watermark(2, 30, false);
  v.on_watermark(1, 0, true);
  v.on_watermark(2, 0, true);
  REQUIRE_EQ(v.current().watermark, 10);
  auto change = v.on_end(0);
  REQUIRE(change);
  CHECK(change->idle);
  CHECK_EQ(change->watermark, 10);
  // An idle channel may still deliver rows: no jump.
  CHECK_EQ(v.current().watermark, 10);
  auto back = v.on_watermark(1, 40, false);
  REQUIRE(back);
  CHECK_FALSE(back->idle);
  CHECK_EQ(back->watermark, 40);
  v.on_end(1);
  CHECK(v.current().idle);
  CHECK_EQ(v.current().watermark, 40);
  auto last = v.on_end(2);
  REQUIRE(last);
  CHECK_EQ(last->watermark, max_watermark);
  CHECK_FALSE(last->idle);
}

TEST_CASE("a valve whose channels all ended outputs max_watermark") {
  watermark_valve v{{4, 6}};
  CHECK_FALSE(v.on_end(4));
  CHECK_EQ(v.current().watermark, min_watermark);
  CHECK_EQ(wm_of(v.on_end(6)), max_watermark);
}

TEST_CASE("a valve restored at a watermark never goes below it") {
  watermark_valve v{{0, 1}, 500};
  CHECK_EQ(v.current().watermark, 500);
  CHECK_FALSE(v.on_watermark(0, 100, false));
  CHECK_FALSE(v.on_watermark(1, 700, false));
  CHECK_EQ(v.current().watermark, 500);
  CHECK_FALSE(v.on_watermark(0, 450, false));
  // Both channels must pass the restored watermark before it moves.
  CHECK_EQ(wm_of(v.on_watermark(0, 600, false)), 600);
  CHECK_EQ(wm_of(v.on_watermark(0, 900, false)), 700);
}

TEST_CASE("a valve ignores unknown channels") {
  watermark_valve v{{1}};
  CHECK_FALSE(v.on_watermark(2, 100, false));
  CHECK_FALSE(v.on_watermark(2, 100, true));
  CHECK_FALSE(v.on_end(2));
  CHECK_EQ(v.channel_watermark(2), min_watermark);
  CHECK_EQ(v.current().watermark, min_watermark);
  CHECK_EQ(wm_of(v.on_watermark(1, 7, false)), 7);
}
