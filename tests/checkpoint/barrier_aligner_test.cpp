#include "checkpoint/barrier_aligner.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <caf/deep_to_string.hpp>
#include <doctest/doctest.h>

using namespace weir;
using namespace std::chrono_literals;

namespace {

using ids = std::vector<uint64_t>;
using channel_list = std::vector<size_t>;

// Channel ids are sparse, as in a plan: the aligner must not assume 0..n-1.
constexpr size_t a = 10;
constexpr size_t b = 11;
constexpr size_t c = 12;

const alignment_clock::time_point t0{100s};

checkpoint_id cp(uint64_t value) {
  return checkpoint_id{value};
}

barrier_aligner exactly_once(channel_list channels) {
  return barrier_aligner{std::move(channels), alignment_mode::exactly_once};
}

barrier_aligner at_least_once(channel_list channels) {
  return barrier_aligner{std::move(channels), alignment_mode::at_least_once};
}

/// Unwraps a result the test expects to succeed.
alignment_result ok(caf::expected<alignment_result> result) {
  REQUIRE_MESSAGE(result, error_text(result.error()));
  return std::move(*result);
}

/// The aligner's code of a failed call.
template <class T>
alignment_errc errc_of(const caf::expected<T>& result) {
  REQUIRE(!result);
  CHECK(result.error().category() == caf::atom("weir_align"));
  return static_cast<alignment_errc>(result.error().code());
}

ids triggered(const alignment_result& r) {
  ids out;
  for (const auto& t : r.triggered)
    out.push_back(t.id.value);
  return out;
}

ids aborted(const alignment_result& r) {
  ids out;
  for (const auto& x : r.aborted)
    out.push_back(x.id.value);
  return out;
}

ids pending(const barrier_aligner& aligner) {
  ids out;
  for (auto id : aligner.pending())
    out.push_back(id.value);
  return out;
}

bool nothing_happened(const alignment_result& r) {
  return r.triggered.empty() && r.aborted.empty() && r.released.empty()
         && !r.late;
}

bool holds(const barrier_aligner& aligner, size_t channel) {
  auto action = aligner.on_record_batch(channel);
  REQUIRE(action);
  return *action == record_action::hold;
}

/// Everything observable about an aligner, to show that a rejected event
/// changed nothing.
std::string state_of(const barrier_aligner& aligner) {
  std::string out = "blocked:";
  for (auto ch : aligner.blocked_channels())
    out += " " + std::to_string(ch);
  out += " pending:";
  for (auto id : aligner.pending())
    out += " " + to_string(id);
  out += " live: " + std::to_string(aligner.live_channels());
  out += " latest: ";
  out += aligner.latest_seen() ? to_string(*aligner.latest_seen()) : "none";
  return out;
}

} // namespace

// -- checkpoint_id ------------------------------------------------------------

TEST_CASE("checkpoint ids compare, print and hash by value") {
  CHECK(cp(1) == cp(1));
  CHECK(cp(1) != cp(2));
  CHECK(cp(1) < cp(2));
  CHECK(cp(2) <= cp(2));
  CHECK(cp(3) > cp(2));
  CHECK(cp(3) >= cp(3));
  CHECK(to_string(cp(42)) == "42");
  CHECK(std::hash<checkpoint_id>{}(cp(7)) == std::hash<checkpoint_id>{}(cp(7)));
  std::unordered_set<checkpoint_id> set{cp(1), cp(2), cp(1)};
  CHECK(set.size() == 2);
}

TEST_CASE("a checkpoint id round-trips through CAF's binary serializer") {
  std::vector<char> buf;
  caf::binary_serializer sink{nullptr, buf};
  auto in = cp(0x0123456789abcdefu);
  REQUIRE(!sink(in));
  checkpoint_id out;
  caf::binary_deserializer source{nullptr, buf};
  REQUIRE(!source(out));
  CHECK(out == in);
  CHECK(caf::deep_to_string(in) == std::to_string(in.value));
}

TEST_CASE("alignment errors carry their own category, code and text") {
  auto err = make_error(alignment_errc::duplicate_barrier, "twice");
  CHECK(err.category() == caf::atom("weir_align"));
  CHECK(err.code() == static_cast<uint8_t>(alignment_errc::duplicate_barrier));
  CHECK(error_text(err) == "twice");
  CHECK(to_string(alignment_errc::event_on_blocked_channel)
        == "event_on_blocked_channel");
  CHECK(to_string(abort_reason::subsumed) == "subsumed");
  CHECK(to_string(alignment_mode::at_least_once) == "at_least_once");
  CHECK(to_string(record_action::hold) == "hold");
}

// -- exactly-once: basic alignment --------------------------------------------

TEST_CASE("a single input channel triggers on its barrier without blocking") {
  for (auto mode :
       {alignment_mode::exactly_once, alignment_mode::at_least_once}) {
    barrier_aligner aligner{{a}, mode};
    auto r = ok(aligner.on_barrier(a, cp(1), t0));
    CHECK(triggered(r) == ids{1});
    CHECK(r.triggered[0].alignment_start == t0);
    CHECK(r.triggered[0].alignment_time == alignment_clock::duration{0});
    CHECK(r.released.empty());
    CHECK(!aligner.is_blocked(a));
    CHECK(!holds(aligner, a));
    CHECK(aligner.pending().empty());
    CHECK(triggered(ok(aligner.on_barrier(a, cp(2), t0 + 1s))) == ids{2});
  }
}

TEST_CASE("aligner holds a channel after its first barrier") {
  auto aligner = exactly_once({a, b});
  CHECK(!holds(aligner, a));
  auto r = ok(aligner.on_barrier(a, cp(1), t0));
  CHECK(nothing_happened(r));
  CHECK(aligner.is_blocked(a));
  CHECK(aligner.blocked_channels() == channel_list{a});
  CHECK(pending(aligner) == ids{1});
  // Records behind the barrier wait; the other channel keeps flowing.
  CHECK(holds(aligner, a));
  CHECK(!holds(aligner, b));
  CHECK(!holds(aligner, b));
  CHECK(holds(aligner, a));
}

TEST_CASE("the last barrier triggers the checkpoint and releases every held "
          "channel, in any barrier order") {
  channel_list order{a, b, c};
  std::sort(order.begin(), order.end());
  do {
    CAPTURE(order[0]);
    CAPTURE(order[1]);
    auto aligner = exactly_once({a, b, c});
    CHECK(nothing_happened(ok(aligner.on_barrier(order[0], cp(1), t0))));
    CHECK(nothing_happened(ok(aligner.on_barrier(order[1], cp(1), t0))));
    CHECK(holds(aligner, order[0]));
    CHECK(holds(aligner, order[1]));
    CHECK(!holds(aligner, order[2]));
    auto r = ok(aligner.on_barrier(order[2], cp(1), t0));
    CHECK(triggered(r) == ids{1});
    CHECK(r.aborted.empty());
    // Released in the order the channels were given, whatever the barriers'.
    channel_list expected{order[0], order[1]};
    std::sort(expected.begin(), expected.end());
    CHECK(r.released == expected);
    CHECK(aligner.blocked_channels().empty());
    for (auto ch : {a, b, c})
      CHECK(!holds(aligner, ch));
  } while (std::next_permutation(order.begin(), order.end()));
}

TEST_CASE("consecutive checkpoints align one after the other") {
  auto aligner = exactly_once({a, b});
  for (uint64_t id = 1; id <= 5; ++id) {
    CAPTURE(id);
    auto first = id % 2 == 0 ? a : b;
    auto second = id % 2 == 0 ? b : a;
    CHECK(nothing_happened(ok(aligner.on_barrier(first, cp(id), t0))));
    auto r = ok(aligner.on_barrier(second, cp(id), t0));
    CHECK(triggered(r) == ids{id});
    CHECK(r.released == channel_list{first});
  }
  CHECK(aligner.latest_seen() == cp(5));
}

TEST_CASE("alignment time is measured from the first barrier") {
  auto aligner = exactly_once({a, b, c});
  ok(aligner.on_barrier(b, cp(1), t0 + 10ms));
  CHECK(aligner.alignment_start(cp(1)) == t0 + 10ms);
  CHECK(!aligner.alignment_start(cp(2)));
  ok(aligner.on_barrier(a, cp(1), t0 + 25ms));
  auto r = ok(aligner.on_barrier(c, cp(1), t0 + 40ms));
  REQUIRE(r.triggered.size() == 1);
  CHECK(r.triggered[0].alignment_start == t0 + 10ms);
  CHECK(r.triggered[0].alignment_time == 30ms);
  CHECK(!aligner.alignment_start(cp(1)));
}

// -- end of partition ---------------------------------------------------------

TEST_CASE("a channel that ended before a checkpoint counts as delivered") {
  auto aligner = exactly_once({a, b, c});
  CHECK(nothing_happened(ok(aligner.on_end_of_partition(a, t0))));
  CHECK(aligner.has_ended(a));
  CHECK(aligner.live_channels() == 2);
  CHECK(nothing_happened(ok(aligner.on_barrier(b, cp(1), t0))));
  CHECK(triggered(ok(aligner.on_barrier(c, cp(1), t0))) == ids{1});
  CHECK(nothing_happened(ok(aligner.on_end_of_partition(b, t0))));
  // With one live channel left, every later barrier triggers at once.
  CHECK(triggered(ok(aligner.on_barrier(c, cp(2), t0))) == ids{2});
  CHECK(aligner.blocked_channels().empty());
}

TEST_CASE("end of partition on the missing channel triggers the pending "
          "checkpoint") {
  auto aligner = exactly_once({a, b});
  ok(aligner.on_barrier(a, cp(1), t0));
  auto r = ok(aligner.on_end_of_partition(b, t0 + 5ms));
  CHECK(triggered(r) == ids{1});
  CHECK(r.triggered[0].alignment_time == 5ms);
  CHECK(r.released == channel_list{a});
  CHECK(!holds(aligner, a));
}

TEST_CASE("end of partition during alignment waits for the other live "
          "channels") {
  auto aligner = exactly_once({a, b, c});
  ok(aligner.on_barrier(a, cp(1), t0));
  CHECK(nothing_happened(ok(aligner.on_end_of_partition(b, t0))));
  CHECK(holds(aligner, a));
  CHECK(pending(aligner) == ids{1});
  auto r = ok(aligner.on_barrier(c, cp(1), t0));
  CHECK(triggered(r) == ids{1});
  CHECK(r.released == channel_list{a});
}

TEST_CASE("all unblocked inputs ending during an alignment trigger the "
          "pending checkpoint") {
  auto aligner = exactly_once({a, b, c});
  ok(aligner.on_barrier(b, cp(3), t0));
  CHECK(nothing_happened(ok(aligner.on_end_of_partition(a, t0))));
  auto r = ok(aligner.on_end_of_partition(c, t0 + 1ms));
  CHECK(triggered(r) == ids{3});
  CHECK(r.released == channel_list{b});
  // The released channel replays its held end of partition.
  CHECK(nothing_happened(ok(aligner.on_end_of_partition(b, t0 + 2ms))));
  CHECK(aligner.live_channels() == 0);
}

TEST_CASE("end of partition after an alignment changes nothing") {
  auto aligner = exactly_once({a, b});
  ok(aligner.on_barrier(a, cp(1), t0));
  ok(aligner.on_barrier(b, cp(1), t0));
  CHECK(nothing_happened(ok(aligner.on_end_of_partition(a, t0))));
  CHECK(nothing_happened(ok(aligner.on_end_of_partition(b, t0))));
  CHECK(aligner.pending().empty());
}

TEST_CASE("end of partition on a blocked channel is an error") {
  auto aligner = exactly_once({a, b});
  ok(aligner.on_barrier(a, cp(1), t0));
  auto before = state_of(aligner);
  CHECK(errc_of(aligner.on_end_of_partition(a, t0))
        == alignment_errc::event_on_blocked_channel);
  CHECK(state_of(aligner) == before);
}

TEST_CASE("a barrier on a channel that has already finished is an error") {
  for (auto mode :
       {alignment_mode::exactly_once, alignment_mode::at_least_once}) {
    barrier_aligner aligner{{a, b}, mode};
    ok(aligner.on_end_of_partition(a, t0));
    auto before = state_of(aligner);
    CHECK(errc_of(aligner.on_barrier(a, cp(1), t0))
          == alignment_errc::event_after_end);
    CHECK(errc_of(aligner.on_cancellation_barrier(a, cp(1)))
          == alignment_errc::event_after_end);
    CHECK(state_of(aligner) == before);
    // The finished channel still counts as delivered.
    CHECK(triggered(ok(aligner.on_barrier(b, cp(1), t0))) == ids{1});
  }
}

TEST_CASE("records and a second end of partition after the end are errors") {
  auto aligner = exactly_once({a, b});
  ok(aligner.on_end_of_partition(a, t0));
  CHECK(errc_of(aligner.on_record_batch(a)) == alignment_errc::event_after_end);
  CHECK(errc_of(aligner.on_end_of_partition(a, t0))
        == alignment_errc::event_after_end);
  CHECK(aligner.live_channels() == 1);
}

TEST_CASE("every input on an unknown channel is an error") {
  auto aligner = exactly_once({a, b});
  CHECK(errc_of(aligner.on_barrier(c, cp(1), t0))
        == alignment_errc::unknown_channel);
  CHECK(errc_of(aligner.on_cancellation_barrier(c, cp(1)))
        == alignment_errc::unknown_channel);
  CHECK(errc_of(aligner.on_end_of_partition(c, t0))
        == alignment_errc::unknown_channel);
  CHECK(errc_of(aligner.on_record_batch(c)) == alignment_errc::unknown_channel);
  CHECK(!aligner.is_blocked(c));
  CHECK(!aligner.has_ended(c));
  CHECK(aligner.latest_seen() == std::nullopt);
}

TEST_CASE("duplicate channel ids are merged") {
  auto aligner = exactly_once({b, a, b});
  CHECK(aligner.channels() == channel_list{b, a});
  CHECK(aligner.live_channels() == 2);
  ok(aligner.on_barrier(a, cp(1), t0));
  CHECK(triggered(ok(aligner.on_barrier(b, cp(1), t0))) == ids{1});
}

// -- subsumption, late and duplicate barriers ---------------------------------

TEST_CASE("a newer barrier subsumes the older alignment and starts aligning "
          "the newer one") {
  auto aligner = exactly_once({a, b});
  ok(aligner.on_barrier(a, cp(1), t0));
  auto r = ok(aligner.on_barrier(b, cp(2), t0 + 7ms));
  CHECK(r.triggered.empty());
  REQUIRE(r.aborted.size() == 1);
  CHECK(r.aborted[0].id == cp(1));
  CHECK(r.aborted[0].reason == abort_reason::subsumed);
  CHECK(r.released == channel_list{a});
  CHECK(aligner.blocked_channels() == channel_list{b});
  CHECK(pending(aligner) == ids{2});
  CHECK(aligner.alignment_start(cp(2)) == t0 + 7ms);
  CHECK(!holds(aligner, a));
  CHECK(holds(aligner, b));
  // Channel a replays what it held, up to its own barrier of checkpoint 2.
  auto done = ok(aligner.on_barrier(a, cp(2), t0 + 9ms));
  CHECK(triggered(done) == ids{2});
  CHECK(done.triggered[0].alignment_time == 2ms);
  CHECK(done.released == channel_list{b});
}

TEST_CASE("a newer barrier on a third channel subsumes an alignment with two "
          "blocked channels") {
  auto aligner = exactly_once({a, b, c});
  ok(aligner.on_barrier(a, cp(4), t0));
  ok(aligner.on_barrier(b, cp(4), t0));
  auto r = ok(aligner.on_barrier(c, cp(6), t0));
  CHECK(aborted(r) == ids{4});
  CHECK(r.released == channel_list{a, b});
  CHECK(aligner.blocked_channels() == channel_list{c});
  // A late barrier of checkpoint 5, from before a and b saw 6, is ignored.
  auto late = ok(aligner.on_barrier(a, cp(5), t0));
  CHECK(late.late);
  CHECK(late.aborted.empty());
  CHECK(!aligner.is_blocked(a));
  ok(aligner.on_barrier(a, cp(6), t0));
  CHECK(triggered(ok(aligner.on_barrier(b, cp(6), t0))) == ids{6});
}

TEST_CASE("a barrier older than the current alignment is ignored as late") {
  auto aligner = exactly_once({a, b, c});
  ok(aligner.on_barrier(a, cp(2), t0));
  auto r = ok(aligner.on_barrier(b, cp(1), t0));
  CHECK(r.late);
  CHECK(r.triggered.empty());
  CHECK(r.aborted.empty());
  CHECK(!aligner.is_blocked(b));
  CHECK(pending(aligner) == ids{2});
  CHECK(aligner.alignment_start(cp(2)) == t0);
  ok(aligner.on_barrier(b, cp(2), t0));
  CHECK(triggered(ok(aligner.on_barrier(c, cp(2), t0))) == ids{2});
}

TEST_CASE("a barrier older than the last completed checkpoint is ignored as "
          "late") {
  auto aligner = exactly_once({a, b});
  ok(aligner.on_barrier(a, cp(3), t0));
  ok(aligner.on_barrier(b, cp(3), t0));
  // a skipped 4 and 5; b's barrier 4 then arrives after a's 5.
  ok(aligner.on_barrier(a, cp(5), t0));
  auto r = ok(aligner.on_barrier(b, cp(4), t0));
  CHECK(r.late);
  CHECK(!aligner.is_blocked(b));
  CHECK(pending(aligner) == ids{5});
  CHECK(triggered(ok(aligner.on_barrier(b, cp(5), t0))) == ids{5});
}

TEST_CASE("a duplicate barrier on the same channel is an error") {
  SUBCASE("while the channel is blocked") {
    auto aligner = exactly_once({a, b});
    ok(aligner.on_barrier(a, cp(1), t0));
    auto before = state_of(aligner);
    CHECK(errc_of(aligner.on_barrier(a, cp(1), t0))
          == alignment_errc::duplicate_barrier);
    CHECK(state_of(aligner) == before);
  }
  SUBCASE("after the checkpoint triggered") {
    auto aligner = exactly_once({a, b});
    ok(aligner.on_barrier(a, cp(1), t0));
    ok(aligner.on_barrier(b, cp(1), t0));
    CHECK(errc_of(aligner.on_barrier(b, cp(1), t0))
          == alignment_errc::duplicate_barrier);
  }
  SUBCASE("in at-least-once mode") {
    auto aligner = at_least_once({a, b});
    ok(aligner.on_barrier(a, cp(1), t0));
    CHECK(errc_of(aligner.on_barrier(a, cp(1), t0))
          == alignment_errc::duplicate_barrier);
    CHECK(pending(aligner) == ids{1});
  }
  SUBCASE("a cancellation barrier after a barrier of the same checkpoint") {
    auto aligner = at_least_once({a, b});
    ok(aligner.on_barrier(a, cp(1), t0));
    CHECK(errc_of(aligner.on_cancellation_barrier(a, cp(1)))
          == alignment_errc::duplicate_barrier);
  }
}

TEST_CASE("an older barrier after a newer one on the same channel is out of "
          "order") {
  auto aligner = at_least_once({a, b});
  ok(aligner.on_barrier(a, cp(5), t0));
  auto before = state_of(aligner);
  CHECK(errc_of(aligner.on_barrier(a, cp(4), t0))
        == alignment_errc::out_of_order_barrier);
  CHECK(errc_of(aligner.on_cancellation_barrier(a, cp(3)))
        == alignment_errc::out_of_order_barrier);
  CHECK(state_of(aligner) == before);
}

TEST_CASE("a newer barrier on a blocked channel is an error") {
  auto aligner = exactly_once({a, b});
  ok(aligner.on_barrier(a, cp(1), t0));
  auto before = state_of(aligner);
  CHECK(errc_of(aligner.on_barrier(a, cp(2), t0))
        == alignment_errc::event_on_blocked_channel);
  CHECK(errc_of(aligner.on_cancellation_barrier(a, cp(2)))
        == alignment_errc::event_on_blocked_channel);
  CHECK(state_of(aligner) == before);
  CHECK(triggered(ok(aligner.on_barrier(b, cp(1), t0))) == ids{1});
}

// -- abort and cancellation ---------------------------------------------------

TEST_CASE("abort releases every blocked channel and makes later barriers of "
          "the checkpoint late") {
  auto aligner = exactly_once({a, b, c});
  ok(aligner.on_barrier(a, cp(1), t0));
  ok(aligner.on_barrier(c, cp(1), t0));
  auto r = aligner.abort(cp(1));
  REQUIRE(r.aborted.size() == 1);
  CHECK(r.aborted[0].id == cp(1));
  CHECK(r.aborted[0].reason == abort_reason::aborted);
  CHECK(r.released == channel_list{a, c});
  CHECK(aligner.blocked_channels().empty());
  CHECK(aligner.pending().empty());
  auto late = ok(aligner.on_barrier(b, cp(1), t0));
  CHECK(late.late);
  CHECK(!aligner.is_blocked(b));
  // The next checkpoint aligns normally.
  for (auto ch : {a, b})
    ok(aligner.on_barrier(ch, cp(2), t0));
  CHECK(triggered(ok(aligner.on_barrier(c, cp(2), t0))) == ids{2});
}

TEST_CASE("abort of a checkpoint not seen yet makes its barriers late") {
  auto aligner = exactly_once({a, b});
  ok(aligner.on_barrier(a, cp(1), t0));
  CHECK(nothing_happened(aligner.abort(cp(2))));
  CHECK(pending(aligner) == ids{1});
  CHECK(triggered(ok(aligner.on_barrier(b, cp(1), t0))) == ids{1});
  CHECK(ok(aligner.on_barrier(a, cp(2), t0)).late);
  CHECK(!aligner.is_blocked(a));
  CHECK(ok(aligner.on_barrier(b, cp(2), t0)).late);
  CHECK(aligner.pending().empty());
  ok(aligner.on_barrier(a, cp(3), t0));
  CHECK(triggered(ok(aligner.on_barrier(b, cp(3), t0))) == ids{3});
}

TEST_CASE("abort of a checkpoint already triggered or aborted changes "
          "nothing") {
  auto aligner = exactly_once({a, b});
  ok(aligner.on_barrier(a, cp(1), t0));
  ok(aligner.on_barrier(b, cp(1), t0));
  CHECK(nothing_happened(aligner.abort(cp(1))));
  ok(aligner.on_barrier(a, cp(2), t0));
  CHECK(aborted(aligner.abort(cp(2))) == ids{2});
  CHECK(nothing_happened(aligner.abort(cp(2))));
  CHECK(nothing_happened(aligner.abort(cp(1))));
}

TEST_CASE("a cancellation barrier aborts the pending checkpoint and releases "
          "the held channels") {
  auto aligner = exactly_once({a, b, c});
  ok(aligner.on_barrier(a, cp(1), t0));
  auto r = ok(aligner.on_cancellation_barrier(b, cp(1)));
  REQUIRE(r.aborted.size() == 1);
  CHECK(r.aborted[0].id == cp(1));
  CHECK(r.aborted[0].reason == abort_reason::cancelled);
  CHECK(r.released == channel_list{a});
  CHECK(aligner.blocked_channels().empty());
  // The remaining barrier of checkpoint 1 is late.
  CHECK(ok(aligner.on_barrier(c, cp(1), t0)).late);
  CHECK(!aligner.is_blocked(c));
}

TEST_CASE("a cancellation barrier for an unseen checkpoint reports it aborted "
          "once") {
  auto aligner = exactly_once({a, b});
  auto r = ok(aligner.on_cancellation_barrier(a, cp(1)));
  CHECK(aborted(r) == ids{1});
  CHECK(r.aborted[0].reason == abort_reason::cancelled);
  CHECK(r.released.empty());
  // Forwarded once: b's cancellation and barrier of 1 are late.
  CHECK(ok(aligner.on_cancellation_barrier(b, cp(1))).late);
  CHECK(aligner.pending().empty());
  ok(aligner.on_barrier(a, cp(2), t0));
  CHECK(triggered(ok(aligner.on_barrier(b, cp(2), t0))) == ids{2});
}

TEST_CASE("a cancellation barrier of a newer checkpoint subsumes the current "
          "alignment") {
  auto aligner = exactly_once({a, b});
  ok(aligner.on_barrier(a, cp(1), t0));
  auto r = ok(aligner.on_cancellation_barrier(b, cp(2)));
  REQUIRE(r.aborted.size() == 2);
  CHECK(r.aborted[0].id == cp(1));
  CHECK(r.aborted[0].reason == abort_reason::subsumed);
  CHECK(r.aborted[1].id == cp(2));
  CHECK(r.aborted[1].reason == abort_reason::cancelled);
  CHECK(r.released == channel_list{a});
  CHECK(ok(aligner.on_barrier(a, cp(2), t0)).late);
  CHECK(aligner.blocked_channels().empty());
}

// -- at-least-once ------------------------------------------------------------

TEST_CASE("at-least-once mode never blocks and triggers on the last barrier") {
  auto aligner = at_least_once({a, b, c});
  CHECK(nothing_happened(ok(aligner.on_barrier(c, cp(1), t0 + 1ms))));
  CHECK(nothing_happened(ok(aligner.on_barrier(a, cp(1), t0 + 2ms))));
  CHECK(aligner.blocked_channels().empty());
  for (auto ch : {a, b, c})
    CHECK(!holds(aligner, ch));
  auto r = ok(aligner.on_barrier(b, cp(1), t0 + 4ms));
  CHECK(triggered(r) == ids{1});
  CHECK(r.triggered[0].alignment_start == t0 + 1ms);
  CHECK(r.triggered[0].alignment_time == 3ms);
  CHECK(r.released.empty());
}

TEST_CASE("at-least-once mode tracks overlapping checkpoints and triggers them "
          "in order") {
  auto aligner = at_least_once({a, b});
  ok(aligner.on_barrier(a, cp(1), t0));
  ok(aligner.on_barrier(a, cp(2), t0));
  CHECK(pending(aligner) == ids{1, 2});
  CHECK(!holds(aligner, a));
  CHECK(triggered(ok(aligner.on_barrier(b, cp(1), t0))) == ids{1});
  CHECK(triggered(ok(aligner.on_barrier(b, cp(2), t0))) == ids{2});
  CHECK(aligner.pending().empty());
}

TEST_CASE("at-least-once mode gives up a checkpoint that a channel skipped") {
  auto aligner = at_least_once({a, b});
  ok(aligner.on_barrier(a, cp(1), t0));
  ok(aligner.on_barrier(a, cp(2), t0));
  auto r = ok(aligner.on_barrier(b, cp(2), t0));
  CHECK(aborted(r) == ids{1});
  CHECK(r.aborted[0].reason == abort_reason::subsumed);
  CHECK(triggered(r) == ids{2});
  CHECK(aligner.pending().empty());
}

TEST_CASE("at-least-once mode: end of partition can complete several pending "
          "checkpoints, oldest first") {
  auto aligner = at_least_once({a, b, c});
  for (auto ch : {a, b})
    for (uint64_t id : {1, 2})
      ok(aligner.on_barrier(ch, cp(id), t0 + std::chrono::milliseconds(id)));
  auto r = ok(aligner.on_end_of_partition(c, t0 + 10ms));
  CHECK(triggered(r) == ids{1, 2});
  CHECK(r.triggered[0].alignment_time == 9ms);
  CHECK(r.triggered[1].alignment_time == 8ms);
}

TEST_CASE("at-least-once mode: abort and late barriers leave other pending "
          "checkpoints alone") {
  auto aligner = at_least_once({a, b});
  ok(aligner.on_barrier(a, cp(1), t0));
  ok(aligner.on_barrier(a, cp(2), t0));
  CHECK(aborted(aligner.abort(cp(2))) == ids{2});
  CHECK(pending(aligner) == ids{1});
  CHECK(triggered(ok(aligner.on_barrier(b, cp(1), t0))) == ids{1});
  CHECK(ok(aligner.on_barrier(b, cp(2), t0)).late);
}

// -- randomized interleavings -------------------------------------------------

namespace {

/// One in-band event of an upstream channel.
struct script_event {
  enum kind_t { record, barrier, cancel, end } kind;
  /// Checkpoint id of a barrier or cancellation barrier; for a record, the
  /// id of the last barrier or cancellation barrier before it (its epoch).
  uint64_t id = 0;
};

/// Plays random scripts through an aligner as a task would, holding the
/// events of blocked channels, and checks the aligner's invariants after
/// every step.
class simulation {
public:
  simulation(std::mt19937& rng, alignment_mode mode, size_t channels,
             uint64_t checkpoints)
    : rng_(rng), mode_(mode), checkpoints_(checkpoints),
      aligner_(make_aligner(channels, mode)),
      processed_by_epoch_(checkpoints + 1, 0),
      total_by_epoch_(checkpoints + 1, 0), carried_by_(checkpoints + 1, 0) {
    for (size_t k = 0; k < channels; ++k)
      make_script();
  }

  void run() {
    std::uniform_real_distribution<double> coin{0.0, 1.0};
    for (;;) {
      std::vector<size_t> open;
      for (size_t k = 0; k < scripts_.size(); ++k)
        if (next_[k] < scripts_[k].size())
          open.push_back(k);
      if (open.empty())
        break;
      if (coin(rng_) < 0.03) {
        std::uniform_int_distribution<uint64_t> pick{1, checkpoints_ + 1};
        auto id = pick(rng_);
        if (triggered_.count(id) == 0)
          coordinator_aborted_.insert(id);
        handle(aligner_.abort(cp(id)));
      }
      auto k
        = open[std::uniform_int_distribution<size_t>{0, open.size() - 1}(rng_)];
      auto ev = scripts_[k][next_[k]++];
      // A task holds every event of a blocked channel, in order.
      if (aligner_.is_blocked(channel_id(k)) || !held_[k].empty())
        held_[k].push_back(ev);
      else
        deliver(k, ev);
    }
    check_final_state();
  }

private:
  static barrier_aligner make_aligner(size_t channels, alignment_mode mode) {
    channel_list list;
    for (size_t k = 0; k < channels; ++k)
      list.push_back(channel_id(k));
    return barrier_aligner{std::move(list), mode};
  }

  static size_t channel_id(size_t k) {
    return 3 * k + 5;
  }

  static size_t index_of(size_t channel) {
    return (channel - 5) / 3;
  }

  void make_script() {
    std::uniform_int_distribution<int> records{0, 3};
    std::uniform_real_distribution<double> coin{0.0, 1.0};
    std::vector<script_event> script;
    uint64_t epoch = 0;
    auto add_records = [&] {
      for (int i = records(rng_); i > 0; --i) {
        script.push_back({script_event::record, epoch});
        ++total_by_epoch_[epoch];
      }
    };
    for (uint64_t id = 1; id <= checkpoints_; ++id) {
      add_records();
      if (coin(rng_) < 0.1)
        break; // This channel ends early.
      auto roll = coin(rng_);
      if (roll < 0.8) {
        script.push_back({script_event::barrier, id});
        ++carried_by_[id];
      } else if (roll < 0.9) {
        script.push_back({script_event::cancel, id});
      } else {
        continue; // Skipped, as by a source that never saw the trigger.
      }
      epoch = id;
    }
    add_records();
    script.push_back({script_event::end, 0});
    scripts_.push_back(std::move(script));
    next_.push_back(0);
    held_.emplace_back();
    last_barrier_.push_back(0);
  }

  void deliver(size_t k, const script_event& ev) {
    auto ch = channel_id(k);
    now_ += 1ms;
    auto blocked_before = aligner_.blocked_channels();
    switch (ev.kind) {
      case script_event::record: {
        auto action = aligner_.on_record_batch(ch);
        REQUIRE(action);
        REQUIRE(*action == record_action::process);
        ++processed_by_epoch_[ev.id];
        break;
      }
      case script_event::barrier: {
        // Only the first barrier of an id can start its alignment.
        first_barrier_.emplace(ev.id, now_);
        last_barrier_[k] = ev.id;
        auto r = aligner_.on_barrier(ch, cp(ev.id), now_);
        REQUIRE_MESSAGE(r, error_text(r.error()));
        check_released(*r, blocked_before);
        handle(std::move(*r));
        break;
      }
      case script_event::cancel: {
        cancelled_.insert(ev.id);
        auto r = aligner_.on_cancellation_barrier(ch, cp(ev.id));
        REQUIRE_MESSAGE(r, error_text(r.error()));
        check_released(*r, blocked_before);
        handle(std::move(*r));
        break;
      }
      case script_event::end: {
        auto r = aligner_.on_end_of_partition(ch, now_);
        REQUIRE_MESSAGE(r, error_text(r.error()));
        check_released(*r, blocked_before);
        handle(std::move(*r));
        break;
      }
    }
    check_invariants();
  }

  void check_released(const alignment_result& r,
                      const channel_list& blocked_before) {
    for (auto ch : r.released) {
      CHECK(std::count(blocked_before.begin(), blocked_before.end(), ch) == 1);
      CHECK(!aligner_.is_blocked(ch));
    }
  }

  void handle(alignment_result r) {
    for (const auto& t : r.triggered) {
      auto id = t.id.value;
      CAPTURE(id);
      CHECK(id > last_triggered_);
      last_triggered_ = id;
      CHECK(triggered_.insert(id).second);
      CHECK(aborted_.count(id) == 0);
      CHECK(coordinator_aborted_.count(id) == 0);
      CHECK(cancelled_.count(id) == 0);
      REQUIRE(first_barrier_.count(id) == 1);
      CHECK(t.alignment_start == first_barrier_.at(id));
      CHECK(t.alignment_time == now_ - t.alignment_start);
      // Every record before barrier `id` was processed before the snapshot
      // in both modes; in exactly-once mode no record after it was.
      for (uint64_t e = 0; e <= checkpoints_; ++e) {
        CAPTURE(e);
        if (e < id)
          CHECK(processed_by_epoch_[e] == total_by_epoch_[e]);
        else if (mode_ == alignment_mode::exactly_once)
          CHECK(processed_by_epoch_[e] == 0);
      }
    }
    for (const auto& x : r.aborted) {
      CAPTURE(x.id.value);
      CHECK(triggered_.count(x.id.value) == 0);
      CHECK(aborted_.insert(x.id.value).second);
    }
    if (mode_ == alignment_mode::at_least_once)
      CHECK(r.released.empty());
    // Replay what the released channels held, stopping where a channel
    // blocks again.
    for (auto ch : r.released) {
      auto k = index_of(ch);
      while (!held_[k].empty() && !aligner_.is_blocked(ch)) {
        auto ev = held_[k].front();
        held_[k].pop_front();
        deliver(k, ev);
      }
    }
  }

  void check_invariants() {
    auto blocked = aligner_.blocked_channels();
    auto pending = aligner_.pending();
    if (mode_ == alignment_mode::at_least_once) {
      CHECK(blocked.empty());
    } else {
      CHECK(pending.size() <= 1);
    }
    for (auto ch : blocked) {
      // Blocked only between its barrier and the trigger or abort.
      REQUIRE(pending.size() == 1);
      auto id = pending.front().value;
      auto k = index_of(ch);
      CHECK(last_barrier_[k] == id);
      CHECK(triggered_.count(id) == 0);
      CHECK(aborted_.count(id) == 0);
    }
    // Records of blocked channels are never processable; others are.
    for (size_t k = 0; k < scripts_.size(); ++k) {
      auto ch = channel_id(k);
      auto action = aligner_.on_record_batch(ch);
      if (aligner_.has_ended(ch)) {
        CHECK(!action);
        continue;
      }
      REQUIRE(action);
      CHECK((*action == record_action::hold) == aligner_.is_blocked(ch));
    }
  }

  void check_final_state() {
    for (const auto& queue : held_)
      CHECK(queue.empty());
    CHECK(aligner_.live_channels() == 0);
    CHECK(aligner_.blocked_channels().empty());
    CHECK(aligner_.pending().empty());
    for (uint64_t id = 1; id <= checkpoints_; ++id) {
      CAPTURE(id);
      CHECK(!(triggered_.count(id) && aborted_.count(id)));
      // A checkpoint whose barrier every channel carried, and that nobody
      // aborted, always completes.
      if (carried_by_[id] == scripts_.size()
          && coordinator_aborted_.count(id) == 0)
        CHECK(triggered_.count(id) == 1);
    }
  }

  std::mt19937& rng_;
  alignment_mode mode_;
  uint64_t checkpoints_;
  barrier_aligner aligner_;
  std::vector<std::vector<script_event>> scripts_;
  std::vector<size_t> next_;
  std::vector<std::deque<script_event>> held_;
  std::vector<uint64_t> last_barrier_;
  std::vector<size_t> processed_by_epoch_;
  std::vector<size_t> total_by_epoch_;
  std::vector<size_t> carried_by_;
  std::map<uint64_t, alignment_clock::time_point> first_barrier_;
  std::set<uint64_t> triggered_;
  std::set<uint64_t> aborted_;
  std::set<uint64_t> cancelled_;
  std::set<uint64_t> coordinator_aborted_;
  uint64_t last_triggered_ = 0;
  alignment_clock::time_point now_ = t0;
};

} // namespace

TEST_CASE("random interleavings keep the aligner's invariants") {
  std::mt19937 rng{20240611};
  for (auto mode :
       {alignment_mode::exactly_once, alignment_mode::at_least_once}) {
    CAPTURE(to_string(mode));
    for (int iteration = 0; iteration < 3000; ++iteration) {
      CAPTURE(iteration);
      auto channels = std::uniform_int_distribution<size_t>{1, 4}(rng);
      auto checkpoints = std::uniform_int_distribution<uint64_t>{1, 8}(rng);
      simulation sim{rng, mode, channels, checkpoints};
      sim.run();
    }
  }
}
