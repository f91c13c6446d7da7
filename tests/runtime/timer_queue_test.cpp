#include "runtime/timer_queue.hpp"

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "api/state.hpp"

using namespace weir;

namespace {

/// A fired timer as (key, time), for comparing sequences.
using firing = std::pair<std::string, int64_t>;
using firings = std::vector<firing>;

row key_of(const std::string& k) {
  return row{value{k}};
}

/// The key group the backend gives `k` (all fields hashed).
int group_of(const std::string& k, int max_parallelism) {
  return key_group_of(hash_fields(key_of(k), {0}), max_parallelism);
}

/// A keyed backend over all 16 key groups and a queue on it, with a clock
/// the test sets.
struct queue_fixture {
  explicit queue_fixture(int first = 0, int last = 15)
    : backend(std::make_unique<keyed_state_backend>(16, first, last)),
      queue(
        std::make_unique<timer_queue>(backend.get(), [this] { return now; })) {
  }

  /// Makes `k` current, as the chain does before a record.
  queue_fixture& at(const std::string& k) {
    backend->set_current_key(key_of(k));
    return *this;
  }

  void event(const std::string& k, int64_t t) {
    at(k).queue->register_event_time_timer(t);
  }

  void processing(const std::string& k, int64_t t) {
    at(k).queue->register_processing_time_timer(t);
  }

  /// Pops every due event-time timer, checking its key is current.
  firings due_events() {
    firings out;
    while (auto t = queue->pop_due_event()) {
      CHECK(t->domain == time_domain::event_time);
      REQUIRE(backend->has_current_key());
      out.emplace_back(backend->current_key().at(0).as_string(), t->time);
    }
    return out;
  }

  firings due_processing(int64_t upto) {
    firings out;
    while (auto t = queue->pop_due_processing(upto)) {
      CHECK(t->domain == time_domain::processing_time);
      REQUIRE(backend->has_current_key());
      out.emplace_back(backend->current_key().at(0).as_string(), t->time);
    }
    return out;
  }

  int64_t now = 1000;
  std::unique_ptr<keyed_state_backend> backend;
  std::unique_ptr<timer_queue> queue;
};

} // namespace

TEST_CASE_FIXTURE(queue_fixture,
                  "event-time timers fire in time order, ties in key order") {
  event("b", 20);
  event("a", 30);
  event("c", 10);
  event("a", 20);
  event("c", 20);
  CHECK_EQ(queue->size(), 5u);
  CHECK(queue->advance_watermark(100));
  CHECK_EQ(due_events(),
           (firings{{"c", 10}, {"a", 20}, {"b", 20}, {"c", 20}, {"a", 30}}));
  CHECK_EQ(queue->size(), 0u);
  CHECK_FALSE(queue->pop_due_event());
}

TEST_CASE_FIXTURE(queue_fixture,
                  "a timer registered twice for one key fires once") {
  event("a", 5);
  event("a", 5);
  event("b", 5);
  CHECK_EQ(queue->size(), 2u);
  queue->advance_watermark(5);
  CHECK_EQ(due_events(), (firings{{"a", 5}, {"b", 5}}));
}

TEST_CASE_FIXTURE(queue_fixture, "a deleted timer does not fire") {
  event("a", 5);
  event("a", 6);
  event("b", 5);
  processing("a", 1100);
  at("a").queue->delete_event_time_timer(5);
  // Deleting what the current key does not have changes nothing.
  at("a").queue->delete_event_time_timer(99);
  at("b").queue->delete_processing_time_timer(1100);
  CHECK_EQ(queue->size(), 3u);
  at("a").queue->delete_processing_time_timer(1100);
  CHECK_EQ(queue->size(), 2u);
  CHECK_FALSE(queue->next_processing());
  queue->advance_watermark(10);
  CHECK_EQ(due_events(), (firings{{"b", 5}, {"a", 6}}));
  CHECK(due_processing(5000).empty());
}

TEST_CASE_FIXTURE(queue_fixture,
                  "only timers at or before the watermark are due") {
  event("a", 10);
  event("b", 11);
  event("c", 12);
  CHECK_EQ(queue->current_watermark(), min_watermark);
  CHECK(due_events().empty());
  CHECK(queue->advance_watermark(10));
  CHECK_EQ(queue->current_watermark(), 10);
  CHECK_EQ(due_events(), (firings{{"a", 10}}));
  CHECK(queue->advance_watermark(11));
  CHECK_EQ(due_events(), (firings{{"b", 11}}));
  // The watermark does not go back.
  CHECK_FALSE(queue->advance_watermark(5));
  CHECK_FALSE(queue->advance_watermark(11));
  CHECK_EQ(queue->current_watermark(), 11);
  CHECK(due_events().empty());
  CHECK_EQ(queue->size(), 1u);
}

TEST_CASE_FIXTURE(queue_fixture,
                  "processing-time timers are due once the clock passes "
                  "them") {
  processing("b", 1200);
  processing("a", 1100);
  processing("c", 1300);
  event("a", 0);
  CHECK_EQ(queue->current_processing_time(), 1000);
  now = 1250;
  CHECK_EQ(queue->current_processing_time(), 1250);
  CHECK_EQ(queue->next_processing(), std::optional<int64_t>{1100});
  CHECK(due_processing(1099).empty());
  CHECK_EQ(due_processing(1200), (firings{{"a", 1100}, {"b", 1200}}));
  CHECK_EQ(queue->next_processing(), std::optional<int64_t>{1300});
  // Processing timers ignore the watermark, event timers the clock.
  queue->advance_watermark(max_watermark);
  CHECK_EQ(due_processing(1299), firings{});
  CHECK_EQ(due_events(), (firings{{"a", 0}}));
  CHECK_EQ(due_processing(max_watermark), (firings{{"c", 1300}}));
  CHECK_FALSE(queue->next_processing());
}

TEST_CASE_FIXTURE(queue_fixture,
                  "popping a timer makes its key current in the keyed "
                  "state") {
  auto count = backend->value_state("count");
  at("a");
  count.update(value{1});
  at("b");
  count.update(value{2});
  event("a", 7);
  event("b", 8);
  // A record of another key was the last one.
  at("zz");
  queue->advance_watermark(100);
  auto t = queue->pop_due_event();
  REQUIRE(t);
  CHECK_EQ(t->time, 7);
  CHECK_EQ(backend->current_key(), key_of("a"));
  CHECK_EQ(count.get_or(value{0}), value{1});
  t = queue->pop_due_event();
  REQUIRE(t);
  CHECK_EQ(backend->current_key(), key_of("b"));
  CHECK_EQ(count.get_or(value{0}), value{2});
  // The handler may register a new timer for the key just fired.
  queue->register_event_time_timer(50);
  CHECK_EQ(due_events(), (firings{{"b", 50}}));
}

TEST_CASE_FIXTURE(queue_fixture,
                  "timers live in the keyed state under their own names") {
  event("a", 3);
  processing("a", 2000);
  at("a");
  auto ev = backend->map_state(timer_queue::event_state);
  auto pr = backend->map_state(timer_queue::processing_state);
  CHECK(ev.contains(value{3}));
  CHECK(pr.contains(value{2000}));
  CHECK_EQ(backend->keys(timer_queue::event_state),
           std::vector<row>{key_of("a")});
  queue->advance_watermark(3);
  CHECK_EQ(due_events(), (firings{{"a", 3}}));
  queue->pop_due_processing(2000);
  // Fired timers leave no state behind.
  CHECK(backend->empty());
}

TEST_CASE("timers restored from a keyed state snapshot fire as before") {
  queue_fixture first;
  for (const auto* k : {"a", "b", "c", "d"}) {
    first.event(k, 100);
    first.event(k, 200);
    first.processing(k, 5000);
  }
  first.at("b").queue->delete_event_time_timer(200);
  first.queue->advance_watermark(100);
  REQUIRE_EQ(first.due_events(),
             (firings{{"a", 100}, {"b", 100}, {"c", 100}, {"d", 100}}));
  auto blobs = first.backend->snapshot_nonempty();
  REQUIRE_FALSE(blobs.empty());
  queue_fixture second;
  for (const auto& [kg, blob] : blobs)
    REQUIRE_FALSE(second.backend->restore(kg, blob));
  // Nothing is indexed before rebuild().
  CHECK_EQ(second.queue->size(), 0u);
  second.queue->rebuild();
  CHECK_EQ(second.queue->size(), 7u);
  second.queue->advance_watermark(1000);
  CHECK_EQ(second.due_events(), (firings{{"a", 200}, {"c", 200}, {"d", 200}}));
  CHECK_EQ(second.queue->next_processing(), std::optional<int64_t>{5000});
  CHECK_EQ(second.due_processing(5000),
           (firings{{"a", 5000}, {"b", 5000}, {"c", 5000}, {"d", 5000}}));
  // Registering an existing restored timer again keeps one.
  second.event("a", 300);
  second.event("a", 300);
  CHECK_EQ(second.due_events(), (firings{{"a", 300}}));
}

TEST_CASE("a rescaled subtask restores only the timers of its key groups") {
  queue_fixture first;
  std::vector<std::string> keys;
  for (int i = 0; i < 40; ++i)
    keys.push_back("k" + std::to_string(i));
  for (size_t i = 0; i < keys.size(); ++i)
    first.event(keys[i], static_cast<int64_t>(i));
  auto blobs = first.backend->snapshot_nonempty();
  // Two new subtasks: key groups [0, 7] and [8, 15].
  for (auto [lo, hi] : {std::pair{0, 7}, std::pair{8, 15}}) {
    CAPTURE(lo);
    queue_fixture part{lo, hi};
    for (const auto& [kg, blob] : blobs)
      if (kg >= lo && kg <= hi)
        REQUIRE_FALSE(part.backend->restore(kg, blob));
    part.queue->rebuild();
    firings expected;
    for (size_t i = 0; i < keys.size(); ++i) {
      auto kg = group_of(keys[i], 16);
      if (kg >= lo && kg <= hi)
        expected.emplace_back(keys[i], static_cast<int64_t>(i));
    }
    REQUIRE_FALSE(expected.empty());
    REQUIRE_LT(expected.size(), keys.size());
    part.queue->advance_watermark(max_watermark);
    CHECK_EQ(part.due_events(), expected);
  }
}

TEST_CASE("an unkeyed operator's timers throw on registration") {
  timer_queue q{nullptr, [] { return int64_t{77}; }};
  CHECK_THROWS_AS(q.register_event_time_timer(1), std::logic_error);
  CHECK_THROWS_AS(q.register_processing_time_timer(1), std::logic_error);
  CHECK_THROWS_AS(q.delete_event_time_timer(1), std::logic_error);
  CHECK_THROWS_WITH(q.register_event_time_timer(1),
                    doctest::Contains("keyed operator"));
  // It still has a watermark and a clock, and nothing ever fires.
  CHECK_EQ(q.current_processing_time(), 77);
  CHECK(q.advance_watermark(5));
  CHECK_EQ(q.current_watermark(), 5);
  CHECK_FALSE(q.pop_due_event());
  CHECK_FALSE(q.pop_due_processing(max_watermark));
  CHECK_FALSE(q.next_processing());
  q.rebuild();
  CHECK_EQ(q.size(), 0u);
}

TEST_CASE_FIXTURE(queue_fixture,
                  "a keyed operator's timer needs a current key") {
  CHECK_THROWS_WITH_AS(queue->register_event_time_timer(1),
                       doctest::Contains("current key"), std::logic_error);
}
