#include <algorithm>
#include <cstdint>
#include <limits>
#include <set>

#include <doctest/doctest.h>

#include "api/state.hpp"
#include "operators/harness.hpp"

using namespace weir;
using namespace weir::test;
using namespace std::chrono_literals;

namespace {

std::vector<int64_t> values(const std::vector<row>& rows) {
  std::vector<int64_t> out;
  for (const auto& r : rows) {
    REQUIRE(r.size() == 1);
    out.push_back(r[0].as_int64());
  }
  return out;
}

} // namespace

TEST_CASE("sequence subtasks cover from up to to exactly once in contiguous "
          "ranges") {
  struct range {
    int64_t from;
    int64_t to;
  };
  for (auto rg : {range{0, 0}, range{0, 1}, range{0, 3}, range{5, 17},
                  range{-10, 10}, range{0, 100}, range{7, 8}}) {
    for (int p = 1; p <= 5; ++p) {
      CAPTURE(rg.from);
      CAPTURE(rg.to);
      CAPTURE(p);
      std::vector<int64_t> all;
      size_t smallest = std::numeric_limits<size_t>::max();
      size_t largest = 0;
      for (int i = 0; i < p; ++i) {
        auto op = make_op(
          "sequence",
          {{"from", std::to_string(rg.from)}, {"to", std::to_string(rg.to)}},
          {}, i, p);
        CHECK(op.ctx.output_fields == std::vector<std::string>{"value"});
        auto part = values(drain(op.behavior, 3));
        // Contiguous: each subtask's values are consecutive.
        for (size_t k = 1; k < part.size(); ++k)
          CHECK(part[k] == part[k - 1] + 1);
        smallest = std::min(smallest, part.size());
        largest = std::max(largest, part.size());
        all.insert(all.end(), part.begin(), part.end());
      }
      std::vector<int64_t> expected;
      for (auto x = rg.from; x < rg.to; ++x)
        expected.push_back(x);
      // In subtask order the parts concatenate to the whole range.
      CHECK(all == expected);
      CHECK(largest - smallest <= 1);
    }
  }
}

TEST_CASE("sequence defaults from to zero") {
  auto op = make_op("sequence", {{"to", "4"}});
  CHECK(values(drain(op.behavior)) == std::vector<int64_t>{0, 1, 2, 3});
}

TEST_CASE("sequence emits at most budget rows per poll") {
  auto op = make_op("sequence", {{"from", "0"}, {"to", "10"}});
  vector_collector out;
  CHECK(op.behavior.on_poll(out, 4).kind == poll_result::more);
  CHECK(out.rows.size() == 4);
  CHECK(op.behavior.on_poll(out, 0).kind == poll_result::more);
  CHECK(out.rows.size() == 4);
  CHECK(op.behavior.on_poll(out, 4).kind == poll_result::more);
  CHECK(op.behavior.on_poll(out, 4).kind == poll_result::finished);
  CHECK(values(out.rows) == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(op.behavior.on_poll(out, 4).kind == poll_result::finished);
  CHECK(out.rows.size() == 10);
}

TEST_CASE("unbounded sequence subtasks interleave from + i + k * p") {
  const int p = 3;
  std::vector<int64_t> all;
  for (int i = 0; i < p; ++i) {
    auto op = make_op("sequence", {{"from", "100"}}, {}, i, p);
    vector_collector out;
    for (int k = 0; k < 4; ++k)
      CHECK(op.behavior.on_poll(out, 5).kind == poll_result::more);
    auto part = values(out.rows);
    REQUIRE(part.size() == 20);
    for (size_t k = 0; k < part.size(); ++k)
      CHECK(part[k] == 100 + i + static_cast<int64_t>(k) * p);
    all.insert(all.end(), part.begin(), part.end());
  }
  std::sort(all.begin(), all.end());
  CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
  CHECK(all.front() == 100);
  CHECK(all.back() == 159);
}

TEST_CASE("unbounded sequence stops before overflowing int64") {
  auto max = std::numeric_limits<int64_t>::max();
  auto op = make_op("sequence", {{"from", std::to_string(max - 2)}});
  CHECK(values(drain(op.behavior))
        == std::vector<int64_t>{max - 2, max - 1, max});
}

TEST_CASE("sequence splits the full int64 range without overflow") {
  auto min = std::numeric_limits<int64_t>::min();
  auto max = std::numeric_limits<int64_t>::max();
  auto op = make_op(
    "sequence", {{"from", std::to_string(min)}, {"to", std::to_string(max)}},
    {}, 1, 2);
  vector_collector out;
  op.behavior.on_poll(out, 2);
  // n = 2^64 - 1; subtask 0 takes 2^63 values, so subtask 1 starts at 0.
  CHECK(values(out.rows) == std::vector<int64_t>{0, 1});
}

TEST_CASE("rate-limited sequence paces rows with the task clock") {
  fake_clock clock;
  // 10 rows/s over 2 subtasks: 5 rows/s, one every 200 ms, per subtask.
  auto op = make_op("sequence", {{"rate", "10"}}, {}, 0, 2, &clock);
  vector_collector out;
  auto res = op.behavior.on_poll(out, 100);
  CHECK(out.rows.size() == 1);
  REQUIRE(res.kind == poll_result::wait);
  CHECK(res.delay > 199ms);
  CHECK(res.delay <= 200ms + 1us);
  // Polling early yields nothing and a shorter wait.
  clock.advance(50ms);
  res = op.behavior.on_poll(out, 100);
  CHECK(out.rows.size() == 1);
  REQUIRE(res.kind == poll_result::wait);
  CHECK(res.delay > 149ms);
  CHECK(res.delay <= 150ms + 1us);
  clock.advance(150ms);
  op.behavior.on_poll(out, 100);
  CHECK(out.rows.size() == 2);
  // One second later, five more rows are due; the budget still applies.
  clock.advance(1s);
  CHECK(op.behavior.on_poll(out, 3).kind == poll_result::more);
  CHECK(out.rows.size() == 5);
  CHECK(op.behavior.on_poll(out, 100).kind == poll_result::wait);
  CHECK(out.rows.size() == 7);
  CHECK(values(out.rows) == std::vector<int64_t>{0, 2, 4, 6, 8, 10, 12});
}

TEST_CASE("rate-limited sequence bursts at most one second of rows") {
  fake_clock clock;
  auto op = make_op("sequence", {{"rate", "4"}}, {}, 0, 1, &clock);
  vector_collector out;
  op.behavior.on_poll(out, 100);
  clock.advance(60s);
  op.behavior.on_poll(out, 100);
  CHECK(out.rows.size() == 1 + 4);
}

TEST_CASE("rate-limited sequence follows its own waits at the set rate") {
  fake_clock clock;
  auto op
    = make_op("sequence", {{"from", "0"}, {"rate", "30"}}, {}, 2, 3, &clock);
  vector_collector out;
  // Poll whenever told to, for ten seconds of task time.
  while (clock.now().time_since_epoch() <= 10s) {
    auto res = op.behavior.on_poll(out, 1000);
    REQUIRE(res.kind == poll_result::wait);
    clock.advance(res.delay);
  }
  // 10 rows/s for 10 s, plus the row at time zero (waits may round up by a
  // nanosecond each, which can cost the very last row).
  CHECK(out.rows.size() >= 100);
  CHECK(out.rows.size() <= 101);
}

TEST_CASE("rate-limited bounded sequence finishes") {
  fake_clock clock;
  auto op
    = make_op("sequence", {{"to", "3"}, {"rate", "1000"}}, {}, 0, 1, &clock);
  vector_collector out;
  for (int i = 0; i < 10; ++i) {
    auto res = op.behavior.on_poll(out, 100);
    if (res.kind == poll_result::finished)
      break;
    clock.advance(res.delay);
  }
  CHECK(values(out.rows) == std::vector<int64_t>{0, 1, 2});
}

TEST_CASE("sequence keeps its splits as operator state") {
  auto first = make_op("sequence", {{"to", "10"}});
  vector_collector out;
  first.behavior.on_poll(out, 4);
  operator_state state;
  REQUIRE(!state.restore(first.behavior.on_snapshot()));
  CHECK(state.names() == std::vector<std::string>{"splits"});
  // [next, values left, step]
  CHECK(state.list("splits")
        == std::vector<value>{value{4}, value{6}, value{1}});
}

TEST_CASE("sequence splits follow a rescaled job: every value once at any "
          "new parallelism") {
  for (bool bounded : {true, false}) {
    for (int before : {1, 2, 3}) {
      for (int after : {1, 2, 5}) {
        CAPTURE(bounded);
        CAPTURE(before);
        CAPTURE(after);
        parameters params{{"from", "100"}};
        if (bounded)
          params["to"] = "400";
        std::multiset<int64_t> seen;
        std::vector<std::string> snaps;
        for (int s = 0; s < before; ++s) {
          auto op = make_op("sequence", params, {}, s, before);
          vector_collector out;
          op.behavior.on_poll(out, static_cast<size_t>(7 + 5 * s));
          for (auto& r : out.rows)
            seen.insert(r[0].as_int64());
          snaps.push_back(op.behavior.on_snapshot());
        }
        for (int s = 0; s < after; ++s) {
          auto op = make_op("sequence", params, {}, s, after, nullptr, true);
          for (int j = 0; j < before; ++j)
            if (j % after == s)
              op.behavior.on_restore(snaps[static_cast<size_t>(j)]);
          vector_collector out;
          if (bounded) {
            for (auto& r : drain(op.behavior))
              seen.insert(r[0].as_int64());
          } else {
            // Unbounded: take the values below 400 that the splits emit.
            for (int k = 0; k < 400; ++k)
              if (op.behavior.on_poll(out, 1).kind == poll_result::finished)
                break;
            for (auto& r : out.rows)
              if (r[0].as_int64() < 400)
                seen.insert(r[0].as_int64());
          }
        }
        if (!bounded) {
          // Values emitted before the snapshot may lie beyond 400 too.
          for (auto it = seen.begin(); it != seen.end();)
            it = *it >= 400 ? seen.erase(it) : std::next(it);
        }
        REQUIRE(seen.size() == 300);
        for (int64_t v = 100; v < 400; ++v)
          CHECK(seen.count(v) == 1);
      }
    }
  }
}

TEST_CASE("a restored sequence subtask without splits emits nothing") {
  auto op = make_op("sequence", {{"to", "10"}}, {}, 1, 2, nullptr, true);
  CHECK(drain(op.behavior).empty());
}

TEST_CASE("sequence refuses corrupt splits") {
  auto op = make_op("sequence", {{"to", "10"}}, {}, 0, 1, nullptr, true);
  operator_state bad;
  bad.list("splits") = {value{int64_t{1}}, value{int64_t{2}}};
  CHECK_THROWS_WITH_AS(op.behavior.on_restore(bad.snapshot()),
                       doctest::Contains("not triples"), std::runtime_error);
  bad.list("splits")
    = {value{int64_t{1}}, value{int64_t{2}}, value{int64_t{0}}};
  CHECK_THROWS_WITH_AS(op.behavior.on_restore(bad.snapshot()),
                       doctest::Contains("negative step"), std::runtime_error);
}
