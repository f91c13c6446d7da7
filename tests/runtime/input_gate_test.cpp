#include "runtime/input_gate.hpp"

#include <cstdint>
#include <vector>

#include <doctest/doctest.h>

#include "api/job_builder.hpp"

using namespace weir;

namespace weir::test {

// Defined in fixtures.cpp.
plan plan_of(const job_builder& job);

} // namespace weir::test

using namespace weir::test;

namespace {

using rows = std::vector<row>;
using ids = std::vector<size_t>;

rows one_row(int64_t x) {
  return rows{row{value{x}}};
}

/// Two producers rebalancing into three consumers: every consumer subtask
/// has two input channels, one per producer.
plan two_to_three() {
  return plan_of(job_builder{"rb"}
                   .vertex("gen", "gen", {}, 2)
                   .vertex("sink", "out", {}, 3)
                   .rebalance("gen", "sink"));
}

/// The consumer (task 1, subtask 0) of two_to_three() with `credits`.
struct two_channels {
  explicit two_channels(int32_t credits = 2)
    : p(two_to_three()), gate(p, p.execution_index(1, 0), credits) {
    REQUIRE_EQ(gate.channels().size(), 2u);
    a = gate.channels()[0];
    b = gate.channels()[1];
  }

  plan p;
  input_gate gate;
  size_t a = 0;
  size_t b = 0;
};

} // namespace

// -- channels -----------------------------------------------------------------

TEST_CASE("an input gate lists the channels of its subtask by producer") {
  auto p = two_to_three();
  for (int s = 0; s < 3; ++s) {
    CAPTURE(s);
    auto exec = p.execution_index(1, s);
    input_gate gate{p, exec, 4};
    REQUIRE_EQ(gate.channels().size(), 2u);
    for (size_t k = 0; k < 2; ++k) {
      auto ch = gate.channels()[k];
      CHECK_EQ(p.channels[ch].consumer, exec);
      CHECK_EQ(p.channels[ch].producer,
               p.execution_index(0, static_cast<int>(k)));
      CHECK_EQ(gate.producer_of(ch), p.execution_index(0, static_cast<int>(k)));
      CHECK_EQ(gate.outstanding(ch), 0);
    }
    CHECK_EQ(gate.initial_credits(), 4);
    CHECK_FALSE(gate.has_pending());
    CHECK_FALSE(gate.all_ended());
  }
}

TEST_CASE("an input gate with several inputs lists every input's channels") {
  auto p = plan_of(job_builder{"union"}
                     .vertex("left", "gen", {}, 2)
                     .vertex("right", "gen", {}, 1)
                     .vertex("sink", "out", {}, 1)
                     .rebalance("left", "sink")
                     .rebalance("right", "sink"));
  auto sink_task = static_cast<int>(p.tasks.size()) - 1;
  auto exec = p.execution_index(sink_task, 0);
  input_gate gate{p, exec, 1};
  REQUIRE_EQ(gate.channels().size(), 3u);
  ids expected;
  for (const auto& group : p.executions[exec].input_channels)
    expected.insert(expected.end(), group.begin(), group.end());
  CHECK_EQ(gate.channels(), expected);
  for (auto ch : gate.channels())
    CHECK_EQ(gate.producer_of(ch), p.channels[ch].producer);
}

TEST_CASE("a source has no input channels and counts as ended at once") {
  auto p = two_to_three();
  input_gate gate{p, p.execution_index(0, 1), 2};
  CHECK(gate.channels().empty());
  CHECK_FALSE(gate.has_pending());
  CHECK(gate.all_ended());
}

// -- arrival ------------------------------------------------------------------

TEST_CASE("an input gate hands out events in arrival order across channels") {
  two_channels f;
  CHECK(f.gate.push_batch(f.a, one_row(1)));
  CHECK(f.gate.push_batch(f.b, one_row(2)));
  CHECK(f.gate.push_end(f.b));
  CHECK(f.gate.push_batch(f.a, one_row(3)));
  CHECK(f.gate.has_pending());
  auto e1 = f.gate.pop();
  CHECK_EQ(e1.channel, f.a);
  CHECK_EQ(e1.rows, one_row(1));
  CHECK_FALSE(e1.end);
  auto e2 = f.gate.pop();
  CHECK_EQ(e2.channel, f.b);
  CHECK_EQ(e2.rows, one_row(2));
  auto e3 = f.gate.pop();
  CHECK_EQ(e3.channel, f.b);
  CHECK(e3.end);
  CHECK(e3.rows.empty());
  auto e4 = f.gate.pop();
  CHECK_EQ(e4.channel, f.a);
  CHECK_EQ(e4.rows, one_row(3));
  CHECK_FALSE(f.gate.has_pending());
  CHECK_EQ(f.gate.batches_in(), 3u);
}

TEST_CASE("an input gate keeps the rows of a batch intact") {
  two_channels f;
  rows batch{row{value{1}, value{"a"}}, row{value{2}, value{"b"}},
             row{value{}, value{true}}};
  CHECK(f.gate.push_batch(f.a, rows{batch}));
  CHECK_EQ(f.gate.pop().rows, batch);
}

// -- credits ------------------------------------------------------------------

TEST_CASE("outstanding counts batches until release, not until pop") {
  two_channels f{3};
  CHECK(f.gate.push_batch(f.a, one_row(1)));
  CHECK(f.gate.push_batch(f.a, one_row(2)));
  CHECK_EQ(f.gate.outstanding(f.a), 2);
  CHECK_EQ(f.gate.outstanding(f.b), 0);
  f.gate.pop();
  CHECK_EQ(f.gate.outstanding(f.a), 2);
  f.gate.release(f.a);
  CHECK_EQ(f.gate.outstanding(f.a), 1);
  f.gate.pop();
  f.gate.release(f.a);
  CHECK_EQ(f.gate.outstanding(f.a), 0);
}

TEST_CASE("a batch beyond the granted credit is a protocol violation") {
  two_channels f{2};
  CHECK(f.gate.push_batch(f.a, one_row(1)));
  CHECK(f.gate.push_batch(f.a, one_row(2)));
  CHECK_FALSE(f.gate.push_batch(f.a, one_row(3)));
  CHECK_EQ(f.gate.outstanding(f.a), 2);
  CHECK_EQ(f.gate.batches_in(), 2u);
  // The refused batch was not queued.
  f.gate.pop();
  f.gate.pop();
  CHECK_FALSE(f.gate.has_pending());
  // Credit is per channel: the other channel still has its own.
  CHECK(f.gate.push_batch(f.b, one_row(4)));
  CHECK(f.gate.push_batch(f.b, one_row(5)));
  CHECK_FALSE(f.gate.push_batch(f.b, one_row(6)));
}

TEST_CASE("releasing a batch lets the producer send one more") {
  two_channels f{1};
  CHECK(f.gate.push_batch(f.a, one_row(1)));
  CHECK_FALSE(f.gate.push_batch(f.a, one_row(2)));
  f.gate.pop();
  CHECK_FALSE(f.gate.push_batch(f.a, one_row(2)));
  f.gate.release(f.a);
  CHECK(f.gate.push_batch(f.a, one_row(2)));
  CHECK_EQ(f.gate.pop().rows, one_row(2));
}

TEST_CASE("an input gate with zero credit refuses every batch") {
  two_channels f{0};
  CHECK_FALSE(f.gate.push_batch(f.a, one_row(1)));
  CHECK_FALSE(f.gate.has_pending());
  // End of partition needs no credit.
  CHECK(f.gate.push_end(f.a));
}

TEST_CASE("release never drives outstanding below zero") {
  two_channels f{1};
  f.gate.release(f.a);
  CHECK_EQ(f.gate.outstanding(f.a), 0);
  CHECK(f.gate.push_batch(f.a, one_row(1)));
  CHECK_FALSE(f.gate.push_batch(f.a, one_row(2)));
  f.gate.release(f.a);
  f.gate.release(f.a);
  CHECK_EQ(f.gate.outstanding(f.a), 0);
  CHECK(f.gate.push_batch(f.a, one_row(3)));
  CHECK_FALSE(f.gate.push_batch(f.a, one_row(4)));
}

TEST_CASE("max_outstanding remembers the peak over all channels") {
  two_channels f{3};
  CHECK_EQ(f.gate.max_outstanding(), 0);
  f.gate.push_batch(f.a, one_row(1));
  f.gate.push_batch(f.b, one_row(1));
  f.gate.push_batch(f.b, one_row(2));
  CHECK_EQ(f.gate.max_outstanding(), 2);
  f.gate.release(f.b);
  f.gate.release(f.b);
  CHECK_EQ(f.gate.max_outstanding(), 2);
  f.gate.push_batch(f.a, one_row(2));
  f.gate.push_batch(f.a, one_row(3));
  CHECK_EQ(f.gate.max_outstanding(), 3);
}

// -- protocol violations ------------------------------------------------------

TEST_CASE("a batch after end of partition is refused") {
  two_channels f;
  CHECK(f.gate.push_end(f.a));
  // Refused whether or not the end was taken yet.
  CHECK_FALSE(f.gate.push_batch(f.a, one_row(1)));
  f.gate.pop();
  CHECK_FALSE(f.gate.push_batch(f.a, one_row(1)));
  CHECK_EQ(f.gate.batches_in(), 0u);
  CHECK_FALSE(f.gate.has_pending());
  CHECK(f.gate.push_batch(f.b, one_row(1)));
}

TEST_CASE("a second end on the same channel is refused") {
  two_channels f;
  CHECK(f.gate.push_end(f.a));
  CHECK_FALSE(f.gate.push_end(f.a));
  f.gate.pop();
  CHECK_FALSE(f.gate.push_end(f.a));
  CHECK_FALSE(f.gate.has_pending());
}

TEST_CASE("a batch or end on an unknown channel is refused") {
  two_channels f;
  // A channel of the plan that feeds another subtask, and one outside it.
  size_t foreign = f.p.channels.size();
  for (const auto& ch : f.p.channels)
    if (ch.id != f.a && ch.id != f.b) {
      foreign = ch.id;
      break;
    }
  REQUIRE_LT(foreign, f.p.channels.size());
  for (auto ch : {foreign, size_t{9999}}) {
    CAPTURE(ch);
    CHECK_FALSE(f.gate.push_batch(ch, one_row(1)));
    CHECK_FALSE(f.gate.push_end(ch));
    CHECK_EQ(f.gate.outstanding(ch), 0);
    f.gate.release(ch);
  }
  CHECK_FALSE(f.gate.has_pending());
  CHECK_EQ(f.gate.batches_in(), 0u);
  CHECK_EQ(f.gate.max_outstanding(), 0);
}

// -- end of input -------------------------------------------------------------

TEST_CASE("all_ended waits for every channel's end and every pending event") {
  two_channels f;
  CHECK(f.gate.push_end(f.a));
  CHECK_FALSE(f.gate.all_ended());
  f.gate.pop();
  CHECK_FALSE(f.gate.all_ended());
  CHECK(f.gate.push_batch(f.b, one_row(1)));
  CHECK(f.gate.push_end(f.b));
  // Both ends arrived, but a batch and an end were not taken yet.
  CHECK_FALSE(f.gate.all_ended());
  f.gate.pop();
  CHECK_FALSE(f.gate.all_ended());
  auto last = f.gate.pop();
  CHECK(last.end);
  CHECK(f.gate.all_ended());
}

TEST_CASE("all_ended does not depend on released credit") {
  two_channels f;
  CHECK(f.gate.push_batch(f.a, one_row(1)));
  CHECK(f.gate.push_end(f.a));
  CHECK(f.gate.push_end(f.b));
  while (f.gate.has_pending())
    f.gate.pop();
  CHECK(f.gate.all_ended());
  CHECK_EQ(f.gate.outstanding(f.a), 1);
}

// -- watermarks ---------------------------------------------------------------

TEST_CASE("watermarks keep their place among a channel's batches and need "
          "no credit") {
  two_channels f{1};
  CHECK(f.gate.push_batch(f.a, one_row(1)));
  CHECK(f.gate.push_watermark(f.a, 100, false));
  // Beyond the one credit only for batches.
  CHECK(f.gate.push_watermark(f.a, 200, false));
  CHECK(f.gate.push_watermark(f.b, 50, true));
  CHECK_FALSE(f.gate.push_batch(f.a, one_row(2)));
  CHECK_EQ(f.gate.outstanding(f.a), 1);
  auto e1 = f.gate.pop();
  CHECK_EQ(e1.rows, one_row(1));
  CHECK_FALSE(e1.is_watermark);
  auto e2 = f.gate.pop();
  CHECK(e2.is_watermark);
  CHECK_EQ(e2.channel, f.a);
  CHECK_EQ(e2.watermark, 100);
  CHECK_FALSE(e2.idle);
  CHECK(e2.rows.empty());
  CHECK_FALSE(e2.end);
  CHECK_EQ(e2.barrier, 0u);
  auto e3 = f.gate.pop();
  CHECK(e3.is_watermark);
  CHECK_EQ(e3.watermark, 200);
  auto e4 = f.gate.pop();
  CHECK(e4.is_watermark);
  CHECK_EQ(e4.channel, f.b);
  CHECK_EQ(e4.watermark, 50);
  CHECK(e4.idle);
  CHECK_FALSE(f.gate.has_pending());
  // Popping a watermark frees no credit: only the batch's release does.
  CHECK_EQ(f.gate.outstanding(f.a), 1);
  f.gate.release(f.a);
  CHECK(f.gate.push_batch(f.a, one_row(2)));
}

TEST_CASE("a watermark after end of partition or on an unknown channel is "
          "refused") {
  two_channels f;
  CHECK(f.gate.push_watermark(f.a, 1, false));
  CHECK(f.gate.push_end(f.a));
  CHECK_FALSE(f.gate.push_watermark(f.a, 2, false));
  CHECK_FALSE(f.gate.push_watermark(f.a, 2, true));
  CHECK_FALSE(f.gate.push_watermark(12345, 2, false));
  // What was refused is not queued; the watermark before the end is.
  auto e1 = f.gate.pop();
  CHECK(e1.is_watermark);
  CHECK_EQ(e1.watermark, 1);
  auto e2 = f.gate.pop();
  CHECK(e2.end);
  CHECK_FALSE(e2.is_watermark);
  CHECK_FALSE(f.gate.has_pending());
  // Watermarks do not count towards all_ended.
  CHECK(f.gate.push_watermark(f.b, 3, false));
  CHECK(f.gate.push_end(f.b));
  CHECK_FALSE(f.gate.all_ended());
  f.gate.pop();
  f.gate.pop();
  CHECK(f.gate.all_ended());
}
