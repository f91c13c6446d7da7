#include "runtime/output_gate.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "api/job_builder.hpp"
#include "scheduler/key_groups.hpp"

using namespace weir;

namespace weir::test {

// Defined in fixtures.cpp.
plan plan_of(const job_builder& job);

} // namespace weir::test

using namespace weir::test;

namespace {

using rows = std::vector<row>;
using sizes = std::vector<size_t>;

/// One call an output gate made to its callbacks.
struct sent {
  size_t channel = 0;
  rows batch;
  bool end = false;
};

/// Builds gates whose callbacks log every batch and end marker, in call
/// order. Must outlive the gates it builds.
class recorder {
public:
  output_gate gate(const plan& p, size_t exec, batch_limits limits) {
    return output_gate{p, exec, limits,
                       [this](size_t ch, rows&& batch) {
                         log.push_back(sent{ch, std::move(batch), false});
                       },
                       [this](size_t ch) {
                         log.push_back(sent{ch, {}, true});
                       }};
  }

  /// Rows sent on `ch`, batches concatenated.
  rows rows_on(size_t ch) const {
    rows result;
    for (const auto& x : log)
      if (x.channel == ch && !x.end)
        result.insert(result.end(), x.batch.begin(), x.batch.end());
    return result;
  }

  /// Sizes of the batches sent on `ch`, in order.
  sizes batch_sizes(size_t ch) const {
    sizes result;
    for (const auto& x : log)
      if (x.channel == ch && !x.end)
        result.push_back(x.batch.size());
    return result;
  }

  /// End markers sent on `ch`.
  size_t ends_on(size_t ch) const {
    return static_cast<size_t>(
      std::count_if(log.begin(), log.end(),
                    [ch](const sent& x) { return x.channel == ch && x.end; }));
  }

  /// Whether the end marker of `ch` is the last thing sent on `ch`.
  bool ends_last(size_t ch) const {
    for (auto i = log.rbegin(); i != log.rend(); ++i)
      if (i->channel == ch)
        return i->end;
    return false;
  }

  std::vector<sent> log;
};

constexpr size_t unlimited = std::numeric_limits<size_t>::max() / 2;

/// Cuts a batch every `n` rows; bytes never cut.
batch_limits by_rows(size_t n) {
  batch_limits limits;
  limits.max_rows = n;
  limits.max_bytes = unlimited;
  return limits;
}

/// Cuts a batch once `n` bytes are buffered; rows (practically) never cut.
batch_limits by_bytes(size_t n) {
  batch_limits limits;
  limits.max_rows = 100000;
  limits.max_bytes = n;
  return limits;
}

row kv(int64_t key, int64_t val) {
  return row{value{key}, value{val}};
}

/// Rows {i, tag} for i in [0, n).
rows numbered(int64_t n, int64_t tag = 0) {
  rows result;
  for (int64_t i = 0; i < n; ++i)
    result.push_back(kv(i, tag));
  return result;
}

void add_all(output_gate& gate, const rows& xs) {
  for (const auto& x : xs)
    gate.add(x);
}

void grant_all(output_gate& gate, int32_t n) {
  std::vector<size_t> ids;
  for (const auto& ch : gate.channels())
    ids.push_back(ch.id);
  for (auto id : ids)
    gate.grant(id, n);
}

std::vector<size_t> channel_ids(const output_gate& gate) {
  std::vector<size_t> result;
  for (const auto& ch : gate.channels())
    result.push_back(ch.id);
  return result;
}

const output_channel& channel_of(const output_gate& gate, size_t id) {
  for (const auto& ch : gate.channels())
    if (ch.id == id)
      return ch;
  FAIL("no channel " << id);
  return gate.channels().front();
}

/// The consumer subtask index at the far end of channel `ch`.
int consumer_subtask(const plan& p, size_t ch) {
  return p.executions[p.channels[ch].consumer].subtask;
}

/// The consumer task at the far end of channel `ch`.
int consumer_task(const plan& p, size_t ch) {
  return p.executions[p.channels[ch].consumer].task;
}

/// gen (parallelism 1) broadcasting to three sinks: three channels.
plan broadcast_plan() {
  return plan_of(job_builder{"bc"}
                   .vertex("gen", "gen", {}, 1)
                   .vertex("sink", "out", {}, 3)
                   .broadcast("gen", "sink"));
}

/// gen (parallelism 1) rebalancing to two sinks: two channels.
plan two_channel_plan() {
  return plan_of(job_builder{"rb"}
                   .vertex("gen", "gen", {}, 1)
                   .vertex("sink", "out", {}, 2)
                   .rebalance("gen", "sink"));
}

/// gen (parallelism 1) feeding one sink of parallelism 1 by rebalance: a
/// single unchained channel.
plan one_channel_plan() {
  return plan_of(job_builder{"one"}
                   .vertex("gen", "gen", {}, 1)
                   .vertex("sink", "out", {}, 1)
                   .rebalance("gen", "sink"));
}

} // namespace

// -- partitioning -------------------------------------------------------------

TEST_CASE("a forward edge sends subtask i only to consumer subtask i") {
  // Different max parallelism keeps the forward edge from being chained.
  auto p = plan_of(job_builder{"fwd"}
                     .vertex("gen", "gen", {}, 3, 64)
                     .vertex("sink", "out", {}, 3, 128)
                     .forward("gen", "sink"));
  REQUIRE_EQ(p.tasks.size(), 2u);
  REQUIRE_EQ(p.edges.size(), 1u);
  REQUIRE_EQ(p.edges[0].part, partitioner::forward);
  for (int s = 0; s < 3; ++s) {
    CAPTURE(s);
    recorder rec;
    auto exec = p.execution_index(0, s);
    auto gate = rec.gate(p, exec, by_rows(2));
    REQUIRE_EQ(gate.channels().size(), 1u);
    auto ch = gate.channels()[0].id;
    CHECK_EQ(p.channels[ch].producer, exec);
    CHECK_EQ(p.channels[ch].consumer, p.execution_index(1, s));
    grant_all(gate, 10);
    add_all(gate, numbered(5, s));
    gate.flush();
    CHECK_EQ(rec.rows_on(ch), numbered(5, s));
    CHECK_EQ(rec.batch_sizes(ch), sizes{2, 2, 1});
  }
}

TEST_CASE("a hash edge sends each row to the subtask owning its key group") {
  constexpr int max_par = 16;
  constexpr int par = 3;
  auto p = plan_of(job_builder{"hash"}
                     .max_parallelism(max_par)
                     .vertex("gen", "gen", {}, 2)
                     .vertex("keyed", "keyed", {{"key", "key"}}, par)
                     .vertex("sink", "out", {}, 1)
                     .hash("gen", "keyed", {"key"})
                     .rebalance("keyed", "sink"));
  rows input;
  for (int64_t i = 0; i < 300; ++i)
    input.push_back(kv(i * 7919, i));
  for (int i = 0; i < 100; ++i)
    input.push_back(row{value{"k" + std::to_string(i)}, value{i}});
  input.push_back(row{value{}, value{1}});
  input.push_back(row{value{2.5}, value{2}});
  input.push_back(row{value{true}, value{3}});
  for (int s = 0; s < 2; ++s) {
    CAPTURE(s);
    recorder rec;
    auto gate = rec.gate(p, p.execution_index(0, s), by_rows(8));
    REQUIRE_EQ(gate.channels().size(), static_cast<size_t>(par));
    grant_all(gate, 1000);
    add_all(gate, input);
    gate.flush();
    std::vector<size_t> per_consumer(par);
    size_t total = 0;
    for (const auto& x : rec.log) {
      REQUIRE_FALSE(x.end);
      CHECK_EQ(consumer_task(p, x.channel), 1);
      auto consumer = consumer_subtask(p, x.channel);
      for (const auto& r : x.batch) {
        auto kg = key_group_of(hash_fields(r, {0}), max_par);
        CHECK_EQ(consumer, subtask_of_key_group(max_par, par, kg));
        ++per_consumer[static_cast<size_t>(consumer)];
        ++total;
      }
    }
    CHECK_EQ(total, input.size());
    for (auto n : per_consumer)
      CHECK_GT(n, 0u);
  }
}

TEST_CASE("a hash edge uses the consumer's max parallelism and key order") {
  // The producer keeps the default 128 key groups; the consumer has 10. The
  // key fields sit at positions 2 and 1 of the producer's rows, in that
  // order.
  constexpr int max_par = 10;
  constexpr int par = 4;
  auto p = plan_of(job_builder{"hash"}
                     .vertex("gen", "gen", {{"columns", "a,key,b"}}, 1)
                     .vertex("keyed", "keyed", {{"key", "b,key"}}, par, max_par)
                     .vertex("sink", "out", {}, 1)
                     .hash("gen", "keyed", {"b", "key"})
                     .rebalance("keyed", "sink"));
  REQUIRE_EQ(p.edges[0].key_indexes, std::vector<size_t>{2, 1});
  recorder rec;
  auto gate = rec.gate(p, p.execution_index(0, 0), by_rows(1));
  grant_all(gate, 10000);
  rows input;
  for (int64_t i = 0; i < 400; ++i)
    input.push_back(
      row{value{"ignored" + std::to_string(i)}, value{i % 37}, value{i % 11}});
  add_all(gate, input);
  REQUIRE_EQ(rec.log.size(), input.size());
  std::vector<size_t> per_consumer(par);
  for (size_t i = 0; i < input.size(); ++i) {
    CAPTURE(i);
    REQUIRE_EQ(rec.log[i].batch, rows{input[i]});
    auto kg = key_group_of(hash_fields(input[i], {2, 1}), max_par);
    auto consumer = consumer_subtask(p, rec.log[i].channel);
    CHECK_EQ(consumer, subtask_of_key_group(max_par, par, kg));
    ++per_consumer[static_cast<size_t>(consumer)];
  }
  for (auto n : per_consumer)
    CHECK_GT(n, 0u);
}

TEST_CASE("rows with equal keys always take the same hash channel") {
  auto p = plan_of(job_builder{"hash"}
                     .vertex("gen", "gen", {}, 1)
                     .vertex("keyed", "keyed", {{"key", "key"}}, 5)
                     .vertex("sink", "out", {}, 1)
                     .hash("gen", "keyed", {"key"})
                     .rebalance("keyed", "sink"));
  recorder rec;
  auto gate = rec.gate(p, 0, by_rows(1));
  grant_all(gate, 1000);
  for (int round = 0; round < 3; ++round)
    for (int64_t k = 0; k < 50; ++k)
      gate.add(kv(k, round));
  std::vector<size_t> channel_of_key(50, 0);
  for (size_t i = 0; i < rec.log.size(); ++i) {
    auto key = static_cast<size_t>(rec.log[i].batch.at(0).at(0).as_int64());
    if (i < 50)
      channel_of_key[key] = rec.log[i].channel;
    else
      CHECK_EQ(rec.log[i].channel, channel_of_key[key]);
  }
}

TEST_CASE("a rebalance edge spreads rows evenly over all consumers") {
  auto p = plan_of(job_builder{"rb"}
                     .vertex("gen", "gen", {}, 2)
                     .vertex("sink", "out", {}, 3)
                     .rebalance("gen", "sink"));
  for (int64_t n : {1, 2, 3, 10, 11, 30, 100}) {
    for (int s = 0; s < 2; ++s) {
      CAPTURE(n);
      CAPTURE(s);
      recorder rec;
      auto gate = rec.gate(p, p.execution_index(0, s), by_rows(4));
      REQUIRE_EQ(gate.channels().size(), 3u);
      grant_all(gate, 1000);
      add_all(gate, numbered(n));
      gate.flush();
      sizes counts;
      rows all;
      for (auto ch : channel_ids(gate)) {
        auto got = rec.rows_on(ch);
        counts.push_back(got.size());
        all.insert(all.end(), got.begin(), got.end());
      }
      auto [lo, hi] = std::minmax_element(counts.begin(), counts.end());
      CHECK_LE(*hi - *lo, 1u);
      std::sort(all.begin(), all.end());
      CHECK_EQ(all, numbered(n));
    }
  }
}

TEST_CASE("a rebalance edge cycles through consumers row by row") {
  auto p = plan_of(job_builder{"rb"}
                     .vertex("gen", "gen", {}, 2)
                     .vertex("sink", "out", {}, 3)
                     .rebalance("gen", "sink"));
  std::vector<int> first_consumer;
  for (int s = 0; s < 2; ++s) {
    recorder rec;
    auto gate = rec.gate(p, p.execution_index(0, s), by_rows(1));
    grant_all(gate, 1000);
    add_all(gate, numbered(9));
    REQUIRE_EQ(rec.log.size(), 9u);
    first_consumer.push_back(consumer_subtask(p, rec.log[0].channel));
    for (size_t i = 0; i < 9; ++i)
      CHECK_EQ(consumer_subtask(p, rec.log[i].channel),
               (first_consumer.back() + static_cast<int>(i)) % 3);
  }
  // Parallel producers do not all start at consumer 0.
  CHECK_NE(first_consumer[0], first_consumer[1]);
}

TEST_CASE("a broadcast edge sends every row to every consumer") {
  auto p = broadcast_plan();
  recorder rec;
  auto gate = rec.gate(p, 0, by_rows(3));
  REQUIRE_EQ(gate.channels().size(), 3u);
  grant_all(gate, 100);
  add_all(gate, numbered(7));
  gate.flush();
  std::vector<int> consumers;
  for (auto ch : channel_ids(gate)) {
    CHECK_EQ(rec.rows_on(ch), numbered(7));
    CHECK_EQ(rec.batch_sizes(ch), sizes{3, 3, 1});
    consumers.push_back(consumer_subtask(p, ch));
  }
  CHECK_EQ(consumers, std::vector<int>{0, 1, 2});
  // A row counts once however many channels it went to.
  CHECK_EQ(gate.rows_out(), 7u);
}

TEST_CASE("a producer with several outputs routes each row on every output") {
  auto p = plan_of(job_builder{"fan_out"}
                     .vertex("gen", "gen", {}, 2)
                     .vertex("left", "out", {}, 2)
                     .vertex("right", "out", {}, 3)
                     .forward("gen", "left")
                     .broadcast("gen", "right"));
  REQUIRE_EQ(p.tasks.size(), 3u);
  recorder rec;
  auto exec = p.execution_index(0, 1);
  auto gate = rec.gate(p, exec, by_rows(2));
  REQUIRE_EQ(gate.channels().size(), 4u);
  grant_all(gate, 100);
  add_all(gate, numbered(5));
  gate.flush();
  size_t forward_channels = 0;
  size_t broadcast_channels = 0;
  for (auto ch : channel_ids(gate)) {
    CHECK_EQ(rec.rows_on(ch), numbered(5));
    auto task = static_cast<size_t>(consumer_task(p, ch));
    const auto& consumer_name = p.tasks[task].name;
    if (consumer_name == "left") {
      ++forward_channels;
      CHECK_EQ(consumer_subtask(p, ch), 1);
    } else {
      CHECK_EQ(consumer_name, "right");
      ++broadcast_channels;
    }
  }
  CHECK_EQ(forward_channels, 1u);
  CHECK_EQ(broadcast_channels, 3u);
  CHECK_EQ(gate.rows_out(), 5u);
}

// -- cutting batches ----------------------------------------------------------

TEST_CASE("a channel cuts a batch every max_rows rows") {
  auto p = one_channel_plan();
  recorder rec;
  auto gate = rec.gate(p, 0, by_rows(4));
  auto ch = gate.channels()[0].id;
  grant_all(gate, 100);
  add_all(gate, numbered(3));
  CHECK(rec.log.empty());
  CHECK(gate.has_partial());
  gate.add(kv(3, 0));
  CHECK_EQ(rec.batch_sizes(ch), sizes{4});
  CHECK_FALSE(gate.has_partial());
  for (int64_t i = 4; i < 10; ++i)
    gate.add(kv(i, 0));
  CHECK_EQ(rec.batch_sizes(ch), sizes{4, 4});
  CHECK(gate.has_partial());
  gate.flush();
  CHECK_EQ(rec.batch_sizes(ch), sizes{4, 4, 2});
  CHECK_EQ(rec.rows_on(ch), numbered(10));
  CHECK_FALSE(gate.has_partial());
  CHECK_EQ(channel_of(gate, ch).batches_sent, 3u);
  CHECK_EQ(channel_of(gate, ch).rows_sent, 10u);
  CHECK_EQ(gate.rows_out(), 10u);
}

TEST_CASE("a channel cuts a batch once its buffered bytes reach max_bytes") {
  auto p = one_channel_plan();
  auto sample = row{value{"abcdefgh"}, value{1}};
  auto size = approximate_size(sample);
  SUBCASE("exactly at the limit") {
    recorder rec;
    auto gate = rec.gate(p, 0, by_bytes(3 * size));
    auto ch = gate.channels()[0].id;
    grant_all(gate, 100);
    for (int i = 0; i < 8; ++i)
      gate.add(sample);
    CHECK_EQ(rec.batch_sizes(ch), sizes{3, 3});
    gate.flush();
    CHECK_EQ(rec.batch_sizes(ch), sizes{3, 3, 2});
  }
  SUBCASE("just above two rows") {
    recorder rec;
    auto gate = rec.gate(p, 0, by_bytes(2 * size + 1));
    auto ch = gate.channels()[0].id;
    grant_all(gate, 100);
    for (int i = 0; i < 6; ++i)
      gate.add(sample);
    CHECK_EQ(rec.batch_sizes(ch), sizes{3, 3});
  }
  SUBCASE("a row larger than the limit goes out alone") {
    recorder rec;
    auto gate = rec.gate(p, 0, by_bytes(size / 2));
    auto ch = gate.channels()[0].id;
    grant_all(gate, 100);
    for (int i = 0; i < 3; ++i)
      gate.add(sample);
    CHECK_EQ(rec.batch_sizes(ch), sizes{1, 1, 1});
  }
}

TEST_CASE("big rows cut batches sooner than small rows") {
  auto p = one_channel_plan();
  auto small = row{value{"x"}, value{1}};
  auto big = row{value{std::string(200, 'x')}, value{1}};
  recorder rec;
  auto gate = rec.gate(p, 0, by_bytes(approximate_size(big) + 1));
  auto ch = gate.channels()[0].id;
  grant_all(gate, 100);
  gate.add(small);
  gate.add(big);
  CHECK_EQ(rec.batch_sizes(ch), sizes{2});
  for (int i = 0; i < 5; ++i)
    gate.add(small);
  CHECK_EQ(rec.batch_sizes(ch), sizes{2});
  CHECK(gate.has_partial());
}

TEST_CASE("flush never sends an empty batch") {
  auto p = broadcast_plan();
  recorder rec;
  auto gate = rec.gate(p, 0, by_rows(4));
  grant_all(gate, 10);
  gate.flush();
  CHECK(rec.log.empty());
  CHECK_FALSE(gate.has_partial());
  add_all(gate, numbered(4));
  gate.flush();
  for (auto ch : channel_ids(gate))
    CHECK_EQ(rec.batch_sizes(ch), sizes{4});
}

// -- credits and backpressure -------------------------------------------------

TEST_CASE("without credit nothing is sent and a cut batch blocks the gate") {
  auto p = one_channel_plan();
  recorder rec;
  auto gate = rec.gate(p, 0, by_rows(2));
  auto ch = gate.channels()[0].id;
  CHECK_EQ(channel_of(gate, ch).credits, 0);
  gate.add(kv(0, 0));
  CHECK_FALSE(gate.blocked());
  gate.add(kv(1, 0));
  CHECK(gate.blocked());
  CHECK(rec.log.empty());
  CHECK_EQ(channel_of(gate, ch).queued.size(), 1u);
  add_all(gate, numbered(6));
  CHECK(rec.log.empty());
  CHECK_EQ(channel_of(gate, ch).queued.size(), 4u);
  CHECK_EQ(gate.rows_out(), 8u);
}

TEST_CASE("flush without credit queues the partial buffer and blocks") {
  auto p = one_channel_plan();
  recorder rec;
  auto gate = rec.gate(p, 0, by_rows(10));
  gate.add(kv(0, 0));
  CHECK_FALSE(gate.blocked());
  gate.flush();
  CHECK(gate.blocked());
  CHECK_FALSE(gate.has_partial());
  CHECK(rec.log.empty());
}

TEST_CASE("grant releases exactly n queued batches in order") {
  auto p = one_channel_plan();
  recorder rec;
  auto gate = rec.gate(p, 0, by_rows(2));
  auto ch = gate.channels()[0].id;
  add_all(gate, numbered(10));
  REQUIRE_EQ(channel_of(gate, ch).queued.size(), 5u);
  gate.grant(ch, 2);
  REQUIRE_EQ(rec.log.size(), 2u);
  CHECK_EQ(rec.log[0].batch, (rows{kv(0, 0), kv(1, 0)}));
  CHECK_EQ(rec.log[1].batch, (rows{kv(2, 0), kv(3, 0)}));
  CHECK(gate.blocked());
  CHECK_EQ(channel_of(gate, ch).credits, 0);
  CHECK_EQ(channel_of(gate, ch).queued.size(), 3u);
  gate.grant(ch, 1);
  CHECK_EQ(rec.log.size(), 3u);
  CHECK(gate.blocked());
  gate.grant(ch, 2);
  CHECK_EQ(rec.log.size(), 5u);
  CHECK_FALSE(gate.blocked());
  CHECK_EQ(rec.rows_on(ch), numbered(10));
  CHECK_EQ(channel_of(gate, ch).batches_sent, 5u);
  CHECK_EQ(channel_of(gate, ch).rows_sent, 10u);
}

TEST_CASE("credit beyond the queue is kept for later batches") {
  auto p = one_channel_plan();
  recorder rec;
  auto gate = rec.gate(p, 0, by_rows(2));
  auto ch = gate.channels()[0].id;
  add_all(gate, numbered(2));
  gate.grant(ch, 3);
  CHECK_EQ(rec.log.size(), 1u);
  CHECK_EQ(channel_of(gate, ch).credits, 2);
  add_all(gate, numbered(4));
  CHECK_EQ(rec.log.size(), 3u);
  CHECK_EQ(channel_of(gate, ch).credits, 0);
  CHECK_FALSE(gate.blocked());
  add_all(gate, numbered(2));
  CHECK_EQ(rec.log.size(), 3u);
  CHECK(gate.blocked());
}

TEST_CASE("credit on one channel does not release another channel") {
  auto p = two_channel_plan();
  recorder rec;
  // Rebalance alternates rows between the two channels.
  auto gate = rec.gate(p, 0, by_rows(1));
  auto ids = channel_ids(gate);
  REQUIRE_EQ(ids.size(), 2u);
  add_all(gate, numbered(4));
  CHECK_EQ(channel_of(gate, ids[0]).queued.size(), 2u);
  CHECK_EQ(channel_of(gate, ids[1]).queued.size(), 2u);
  gate.grant(ids[0], 5);
  CHECK_EQ(rec.batch_sizes(ids[0]), sizes{1, 1});
  CHECK(rec.batch_sizes(ids[1]).empty());
  CHECK(gate.blocked());
  gate.grant(ids[1], 1);
  CHECK_EQ(rec.batch_sizes(ids[1]), sizes{1});
  CHECK(gate.blocked());
  gate.grant(ids[1], 1);
  CHECK_FALSE(gate.blocked());
}

TEST_CASE("grant on a channel the gate does not own is ignored") {
  auto p = plan_of(job_builder{"rb"}
                     .vertex("gen", "gen", {}, 2)
                     .vertex("sink", "out", {}, 1)
                     .rebalance("gen", "sink"));
  recorder rec;
  auto gate0 = rec.gate(p, p.execution_index(0, 0), by_rows(1));
  auto gate1 = rec.gate(p, p.execution_index(0, 1), by_rows(1));
  gate0.add(kv(0, 0));
  REQUIRE(gate0.blocked());
  // Subtask 1's channel and an id outside the plan.
  gate0.grant(gate1.channels()[0].id, 5);
  gate0.grant(12345, 5);
  CHECK(rec.log.empty());
  CHECK(gate0.blocked());
  CHECK_EQ(gate0.channels()[0].credits, 0);
}

// -- end of partition ---------------------------------------------------------

TEST_CASE("finish sends end on every channel only after its queued batches") {
  auto p = broadcast_plan();
  recorder rec;
  auto gate = rec.gate(p, 0, by_rows(2));
  auto ids = channel_ids(gate);
  add_all(gate, numbered(5));
  gate.finish();
  // Two full batches and the flushed partial one wait on every channel.
  CHECK(rec.log.empty());
  CHECK(gate.blocked());
  CHECK_FALSE(gate.has_partial());
  CHECK_FALSE(gate.drained());
  for (auto ch : ids)
    CHECK_EQ(channel_of(gate, ch).queued.size(), 3u);
  gate.grant(ids[0], 2);
  CHECK_EQ(rec.ends_on(ids[0]), 0u);
  gate.grant(ids[0], 1);
  CHECK_EQ(rec.ends_on(ids[0]), 1u);
  CHECK(rec.ends_last(ids[0]));
  CHECK_EQ(rec.batch_sizes(ids[0]), sizes{2, 2, 1});
  CHECK_FALSE(gate.drained());
  gate.grant(ids[1], 3);
  CHECK_FALSE(gate.drained());
  gate.grant(ids[2], 10);
  CHECK(gate.drained());
  CHECK_FALSE(gate.blocked());
  for (auto ch : ids) {
    CHECK_EQ(rec.rows_on(ch), numbered(5));
    CHECK_EQ(rec.ends_on(ch), 1u);
    CHECK(rec.ends_last(ch));
    CHECK(channel_of(gate, ch).end_sent);
  }
}

TEST_CASE("finish with nothing queued ends every channel at once") {
  auto p = broadcast_plan();
  recorder rec;
  auto gate = rec.gate(p, 0, by_rows(2));
  CHECK_FALSE(gate.drained());
  gate.finish();
  REQUIRE_EQ(rec.log.size(), 3u);
  for (const auto& x : rec.log)
    CHECK(x.end);
  CHECK(gate.drained());
}

TEST_CASE("finish with credit sends the partial batch before the end") {
  auto p = one_channel_plan();
  recorder rec;
  auto gate = rec.gate(p, 0, by_rows(10));
  auto ch = gate.channels()[0].id;
  gate.grant(ch, 1);
  add_all(gate, numbered(3));
  CHECK(rec.log.empty());
  gate.finish();
  REQUIRE_EQ(rec.log.size(), 2u);
  CHECK_EQ(rec.log[0].batch, numbered(3));
  CHECK_FALSE(rec.log[0].end);
  CHECK(rec.log[1].end);
  CHECK(gate.drained());
}

TEST_CASE("finish twice sends one end per channel") {
  auto p = broadcast_plan();
  recorder rec;
  auto gate = rec.gate(p, 0, by_rows(2));
  gate.finish();
  gate.finish();
  gate.flush();
  grant_all(gate, 3);
  for (auto ch : channel_ids(gate))
    CHECK_EQ(rec.ends_on(ch), 1u);
  CHECK_EQ(rec.log.size(), 3u);
}

TEST_CASE("a gate is not drained before finish even with nothing queued") {
  auto p = one_channel_plan();
  recorder rec;
  auto gate = rec.gate(p, 0, by_rows(1));
  grant_all(gate, 5);
  add_all(gate, numbered(3));
  CHECK_FALSE(gate.blocked());
  CHECK_FALSE(gate.has_partial());
  CHECK_FALSE(gate.drained());
  gate.finish();
  CHECK(gate.drained());
}

TEST_CASE("a sink has no output channels and is drained right after finish") {
  auto p = one_channel_plan();
  recorder rec;
  auto sink = rec.gate(p, p.execution_index(1, 0), by_rows(1));
  CHECK(sink.empty());
  CHECK(sink.channels().empty());
  add_all(sink, numbered(3));
  CHECK_EQ(sink.rows_out(), 3u);
  CHECK_FALSE(sink.blocked());
  CHECK_FALSE(sink.has_partial());
  CHECK_FALSE(sink.drained());
  sink.finish();
  CHECK(sink.drained());
  CHECK(rec.log.empty());
}

TEST_CASE("a producer with outputs is not empty") {
  auto p = one_channel_plan();
  recorder rec;
  auto gate = rec.gate(p, 0, by_rows(1));
  CHECK_FALSE(gate.empty());
}

// -- barriers
// -------------------------------------------------------------------

TEST_CASE("a barrier follows the data emitted before it and needs no "
          "credit") {
  auto p = one_channel_plan();
  std::vector<std::string> log;
  output_gate gate{p, 0, batch_limits{2, 1 << 20, 10},
                   [&](size_t, std::vector<row>&& rows) {
                     log.push_back("batch " + std::to_string(rows.size()));
                   },
                   [&](size_t) { log.push_back("end"); }};
  gate.on_barrier([&](size_t, uint64_t id) {
    log.push_back("barrier " + std::to_string(id));
  });
  // Three rows: one full batch queued, one row partial; no credit yet.
  for (int i = 0; i < 3; ++i)
    gate.add(row{value{i}});
  gate.emit_barrier(7);
  CHECK(log.empty());
  // Data after the barrier must come after it.
  gate.add(row{value{99}});
  gate.flush();
  gate.grant(p.channels[0].id, 1);
  CHECK(log == std::vector<std::string>{"batch 2"});
  gate.grant(p.channels[0].id, 1);
  CHECK(log == std::vector<std::string>{"batch 2", "batch 1", "barrier 7"});
  gate.finish();
  gate.grant(p.channels[0].id, 5);
  CHECK(log
        == std::vector<std::string>{"batch 2", "batch 1", "barrier 7",
                                    "batch 1", "end"});
}

TEST_CASE("a barrier on a channel with nothing queued goes out at once") {
  auto p = two_channel_plan();
  std::vector<std::pair<size_t, uint64_t>> seen;
  output_gate gate{p, 0, batch_limits{}, [](size_t, std::vector<row>&&) {},
                   [](size_t) {}};
  gate.on_barrier([&](size_t ch, uint64_t id) { seen.emplace_back(ch, id); });
  gate.emit_barrier(1);
  gate.emit_barrier(2);
  REQUIRE(seen.size() == 4);
  CHECK(seen[0].second == 1);
  CHECK(seen[1].second == 1);
  CHECK(seen[2].second == 2);
  CHECK(!gate.blocked());
}

// -- watermarks ---------------------------------------------------------------

namespace {

using lines = std::vector<std::string>;

/// Builds gates on execution 0 of a plan that log, per channel, batches
/// ("batch <rows>"), watermarks ("wm <t>", or "idle <t>" with the idle
/// flag), barriers ("barrier <id>") and end markers ("end").
class event_log {
public:
  output_gate gate(const plan& p, batch_limits limits) {
    output_gate g{p, 0, limits,
                  [this](size_t ch, rows&& batch) {
                    log[ch].push_back("batch " + std::to_string(batch.size()));
                  },
                  [this](size_t ch) { log[ch].push_back("end"); }};
    g.on_barrier([this](size_t ch, uint64_t id) {
      log[ch].push_back("barrier " + std::to_string(id));
    });
    g.on_watermark([this](size_t ch, int64_t wm, bool idle) {
      log[ch].push_back((idle ? "idle " : "wm ") + std::to_string(wm));
    });
    return g;
  }

  std::map<size_t, lines> log;
};

} // namespace

TEST_CASE("a watermark on an empty channel goes out at once without "
          "credit") {
  auto p = one_channel_plan();
  event_log ev;
  auto gate = ev.gate(p, by_rows(2));
  auto ch = gate.channels()[0].id;
  gate.emit_watermark(10);
  CHECK_EQ(ev.log[ch], lines{"wm 10"});
  CHECK_EQ(gate.watermarks_out(), 1u);
  CHECK_EQ(gate.channels()[0].credits, 0);
  CHECK_FALSE(gate.blocked());
}

TEST_CASE("a watermark never overtakes rows routed before it") {
  auto p = one_channel_plan();
  event_log ev;
  auto gate = ev.gate(p, by_rows(2));
  auto ch = gate.channels()[0].id;
  // One full batch queued without credit, one row in the buffer.
  add_all(gate, numbered(3));
  gate.emit_watermark(10);
  CHECK(ev.log[ch].empty());
  CHECK_EQ(gate.watermarks_out(), 0u);
  gate.grant(ch, 1);
  CHECK_EQ(ev.log[ch], lines{"batch 2"});
  // The buffered row is still ahead of the watermark. A row routed after
  // the watermark fills that batch: the watermark follows the batch.
  gate.add(kv(9, 9));
  CHECK_EQ(ev.log[ch], lines{"batch 2"});
  gate.grant(ch, 1);
  CHECK_EQ(ev.log[ch], (lines{"batch 2", "batch 2", "wm 10"}));
  CHECK_EQ(gate.watermarks_out(), 1u);
  CHECK_EQ(channel_of(gate, ch).rows_sent, 4u);
}

TEST_CASE("a watermark on every channel waits only for that channel's "
          "rows") {
  auto p = two_channel_plan();
  event_log ev;
  auto gate = ev.gate(p, by_rows(1));
  auto ids = channel_ids(gate);
  REQUIRE_EQ(ids.size(), 2u);
  // Rebalance from subtask 0: the first row goes to the first channel.
  gate.add(kv(1, 1));
  gate.emit_watermark(5);
  CHECK(ev.log[ids[0]].empty());
  CHECK_EQ(ev.log[ids[1]], lines{"wm 5"});
  gate.grant(ids[0], 1);
  CHECK_EQ(ev.log[ids[0]], (lines{"batch 1", "wm 5"}));
  CHECK_EQ(gate.watermarks_out(), 2u);
}

TEST_CASE("a watermark waits for the partial batch instead of cutting it") {
  auto p = one_channel_plan();
  event_log ev;
  auto gate = ev.gate(p, by_rows(4));
  auto ch = gate.channels()[0].id;
  gate.grant(ch, 10);
  add_all(gate, numbered(2));
  gate.emit_watermark(5);
  CHECK(ev.log[ch].empty());
  CHECK(gate.has_partial());
  CHECK_EQ(channel_of(gate, ch).buffer.size(), 2u);
  // The batch fills up as usual and the watermark follows it.
  add_all(gate, numbered(2, 1));
  CHECK_EQ(ev.log[ch], (lines{"batch 4", "wm 5"}));
  // A flush sends the partial batch, then the watermark behind it.
  gate.add(kv(7, 7));
  gate.emit_watermark(6);
  CHECK_EQ(ev.log[ch], (lines{"batch 4", "wm 5"}));
  gate.flush();
  CHECK_EQ(ev.log[ch], (lines{"batch 4", "wm 5", "batch 1", "wm 6"}));
}

TEST_CASE("a watermark waiting behind the same batches is replaced by a "
          "later one") {
  auto p = one_channel_plan();
  event_log ev;
  auto gate = ev.gate(p, by_rows(2));
  auto ch = gate.channels()[0].id;
  gate.add(kv(0, 0));
  gate.emit_watermark(1);
  gate.emit_watermark(2);
  gate.add(kv(1, 1));
  // Still behind the same (now full, queued) batch.
  gate.emit_watermark(3);
  CHECK_EQ(channel_of(gate, ch).barriers.size(), 1u);
  // Behind a further batch: a new mark.
  gate.add(kv(2, 2));
  gate.emit_watermark(4);
  CHECK_EQ(channel_of(gate, ch).barriers.size(), 2u);
  gate.grant(ch, 10);
  CHECK_EQ(ev.log[ch], (lines{"batch 2", "wm 3"}));
  gate.flush();
  CHECK_EQ(ev.log[ch], (lines{"batch 2", "wm 3", "batch 1", "wm 4"}));
  CHECK_EQ(gate.watermarks_out(), 2u);
}

TEST_CASE("a barrier after a watermark keeps their order") {
  auto p = one_channel_plan();
  event_log ev;
  auto gate = ev.gate(p, by_rows(10));
  auto ch = gate.channels()[0].id;
  add_all(gate, numbered(3));
  gate.emit_watermark(10);
  gate.emit_barrier(1);
  // A watermark after the barrier is not merged into the one before it.
  gate.emit_watermark(11);
  gate.add(kv(5, 5));
  gate.emit_barrier(2);
  CHECK(ev.log[ch].empty());
  gate.grant(ch, 10);
  CHECK_EQ(ev.log[ch], (lines{"batch 3", "wm 10", "barrier 1", "wm 11",
                              "batch 1", "barrier 2"}));
}

TEST_CASE("no watermark goes out after finish, and one waiting goes out "
          "before the end") {
  auto p = one_channel_plan();
  event_log ev;
  auto gate = ev.gate(p, by_rows(10));
  auto ch = gate.channels()[0].id;
  add_all(gate, numbered(2));
  gate.emit_watermark(10);
  gate.finish();
  gate.emit_watermark(20);
  gate.emit_watermark(max_watermark, true);
  CHECK(ev.log[ch].empty());
  gate.grant(ch, 1);
  CHECK_EQ(ev.log[ch], (lines{"batch 2", "wm 10", "end"}));
  gate.emit_watermark(30);
  CHECK_EQ(ev.log[ch], (lines{"batch 2", "wm 10", "end"}));
  CHECK_EQ(gate.watermarks_out(), 1u);
  CHECK(gate.drained());
}

TEST_CASE("the idle flag passes through the gate") {
  auto p = one_channel_plan();
  event_log ev;
  auto gate = ev.gate(p, by_rows(10));
  auto ch = gate.channels()[0].id;
  gate.emit_watermark(10, true);
  gate.emit_watermark(10, false);
  CHECK_EQ(ev.log[ch], (lines{"idle 10", "wm 10"}));
  // Waiting behind the same batch: an idle mark does not swallow the
  // watermark before it, whose value the consumer would never see.
  gate.add(kv(1, 1));
  gate.emit_watermark(20);
  gate.emit_watermark(20, true);
  gate.emit_watermark(25, true);
  gate.flush();
  gate.grant(ch, 1);
  CHECK_EQ(ev.log[ch],
           (lines{"idle 10", "wm 10", "batch 1", "wm 20", "idle 25"}));
}
