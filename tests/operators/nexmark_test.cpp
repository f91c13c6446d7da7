#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <string>

#include <doctest/doctest.h>

#include "api/state.hpp"
#include "operators/harness.hpp"
#include "operators/nexmark/generator.hpp"
#include "operators/nexmark_reference.hpp"

using namespace weir;
using namespace weir::test;
using namespace std::chrono_literals;
namespace nx = weir::nexmark;

namespace {

std::vector<nx::event> generate_all(uint64_t count,
                                    nx::generator_config config = {}) {
  nx::generator gen{config};
  std::vector<nx::event> out;
  out.reserve(count);
  for (uint64_t n = 0; n < count; ++n)
    out.push_back(gen.generate(n));
  return out;
}

std::vector<row> rows_of(const std::vector<nx::event>& events) {
  std::vector<row> out;
  for (const auto& e : events)
    out.push_back(nx::to_row(e));
  return out;
}

std::vector<row> sorted(std::vector<row> rows) {
  std::sort(rows.begin(), rows.end());
  return rows;
}

/// The int64 or timestamp field `name` of a nexmark row, as int64.
int64_t field(const row& r, const std::string& name) {
  const auto& fields = nx::row_fields();
  auto i = std::find(fields.begin(), fields.end(), name) - fields.begin();
  const auto& v = r.at(static_cast<size_t>(i));
  return v.type() == value_type::timestamp ? v.as_timestamp().millis
                                           : v.as_int64();
}

nx::event person(int64_t id, std::string name, std::string state, int64_t t) {
  nx::event e;
  e.kind = nx::event_kind::person;
  e.id = id;
  e.name = std::move(name);
  e.city = "Boise";
  e.state = std::move(state);
  e.date_time_ms = t;
  return e;
}

nx::event auction(int64_t id, int64_t seller, int64_t category, int64_t t,
                  int64_t expires) {
  nx::event e;
  e.kind = nx::event_kind::auction;
  e.auction_id = id;
  e.seller = seller;
  e.category = category;
  e.date_time_ms = t;
  e.expires_ms = expires;
  return e;
}

nx::event bid(int64_t auction, int64_t bidder, int64_t price, int64_t t) {
  nx::event e;
  e.kind = nx::event_kind::bid;
  e.auction = auction;
  e.bidder = bidder;
  e.price = price;
  e.date_time_ms = t;
  return e;
}

value ts(int64_t ms) {
  return value{timestamp{ms}};
}

} // namespace

// -- generator ---------------------------------------------------------------

TEST_CASE("nexmark events are a function of seed and event number") {
  auto a = rows_of(generate_all(2000));
  CHECK(a == rows_of(generate_all(2000)));
  nx::generator gen{nx::generator_config{}};
  // Any number alone gives the same event as in the run.
  for (uint64_t n : {0u, 1u, 4u, 49u, 50u, 1234u, 1999u})
    CHECK(nx::to_row(gen.generate(n)) == a[n]);
  // Reusing an event's buffers changes nothing.
  nx::event scratch;
  for (uint64_t n = 0; n < 2000; ++n) {
    gen.generate(n, scratch);
    REQUIRE(nx::to_row(scratch) == a[n]);
  }
  nx::generator_config other;
  other.seed = 1;
  auto b = rows_of(generate_all(2000, other));
  size_t differing = 0;
  for (size_t i = 0; i < a.size(); ++i)
    differing += a[i] != b[i] ? 1 : 0;
  CHECK(differing > 1900);
}

TEST_CASE("nexmark has exactly 1 person, 3 auctions and 46 bids per 50 "
          "events") {
  auto events = generate_all(50 * 200);
  for (size_t block = 0; block < 200; ++block) {
    std::map<nx::event_kind, int> kinds;
    for (size_t i = 0; i < 50; ++i)
      ++kinds[events[block * 50 + i].kind];
    CHECK(kinds[nx::event_kind::person] == 1);
    CHECK(kinds[nx::event_kind::auction] == 3);
    CHECK(kinds[nx::event_kind::bid] == 46);
  }
  CHECK(events[0].kind == nx::event_kind::person);
  CHECK(events[1].kind == nx::event_kind::auction);
  CHECK(events[3].kind == nx::event_kind::auction);
  CHECK(events[4].kind == nx::event_kind::bid);
}

TEST_CASE("nexmark ids refer only to people and auctions created earlier") {
  const std::set<std::string> states{"AZ", "CA", "ID", "OR", "WA", "WY"};
  auto events = generate_all(200'000);
  int64_t next_person = nx::first_person_id;
  int64_t next_auction = nx::first_auction_id;
  std::set<int64_t> sellers;
  std::set<int64_t> bidders;
  std::set<int64_t> bid_auctions;
  for (const auto& e : events) {
    switch (e.kind) {
      case nx::event_kind::person:
        REQUIRE(e.id == next_person++);
        REQUIRE(states.count(e.state) == 1);
        REQUIRE(!e.city.empty());
        REQUIRE(e.name.find(' ') != std::string::npos);
        REQUIRE(e.email_address.size() >= 6);
        REQUIRE(e.email_address.find('@') != std::string::npos);
        REQUIRE(e.email_address.substr(e.email_address.size() - 4) == ".com");
        REQUIRE(e.credit_card.size() == 19);
        break;
      case nx::event_kind::auction:
        REQUIRE(e.auction_id == next_auction++);
        REQUIRE(e.seller >= nx::first_person_id);
        REQUIRE(e.seller < next_person);
        REQUIRE(e.category >= nx::first_category_id);
        REQUIRE(e.category < nx::first_category_id + nx::num_categories);
        REQUIRE(e.initial_bid >= 100);
        REQUIRE(e.reserve > e.initial_bid);
        REQUIRE(e.expires_ms > e.date_time_ms);
        REQUIRE(e.item_name.size() < 20);
        REQUIRE(e.description.size() < 100);
        sellers.insert(e.seller);
        break;
      case nx::event_kind::bid:
        REQUIRE(e.auction >= nx::first_auction_id);
        REQUIRE(e.auction < next_auction);
        REQUIRE(e.bidder >= nx::first_person_id);
        REQUIRE(e.bidder < next_person);
        REQUIRE(e.price >= 100);
        REQUIRE(e.price <= 100'000'000);
        bidders.insert(e.bidder);
        bid_auctions.insert(e.auction);
        break;
    }
  }
  // Not only hot ones.
  CHECK(sellers.size() > 1000);
  CHECK(bidders.size() > 1000);
  CHECK(bid_auctions.size() > 5000);
}

TEST_CASE("nexmark event times lag the latest earlier one by at most the "
          "out-of-orderness bound") {
  for (double rate : {10'000'000.0, 1000.0}) {
    CAPTURE(rate);
    nx::generator_config config;
    config.event_time_rate = rate;
    nx::generator gen{config};
    int64_t latest = INT64_MIN;
    int64_t worst_lag = 0;
    size_t delayed = 0;
    const uint64_t count = 100'000;
    for (uint64_t n = 0; n < count; ++n) {
      auto e = gen.generate(n);
      REQUIRE(e.date_time_ms <= gen.nominal_time_ms(n));
      if (n > 0) {
        REQUIRE(e.date_time_ms >= latest - config.max_out_of_orderness_ms);
        worst_lag = std::max(worst_lag, latest - e.date_time_ms);
      }
      latest = std::max(latest, e.date_time_ms);
      delayed += e.date_time_ms < gen.nominal_time_ms(n) ? 1 : 0;
    }
    // The bound is nearly reached and about one event in ten is delayed.
    CHECK(worst_lag > config.max_out_of_orderness_ms - 100);
    CHECK(delayed > count / 12);
    CHECK(delayed < count / 8);
    CHECK(gen.nominal_time_ms(0) == nx::default_first_event_time_ms);
    CHECK(gen.nominal_time_ms(count)
          == nx::default_first_event_time_ms
               + static_cast<int64_t>(1000.0 * count / rate));
  }
}

TEST_CASE("nexmark without out-of-orderness is in event-time order") {
  nx::generator_config config;
  config.max_out_of_orderness_ms = 0;
  config.event_time_rate = 5000;
  nx::generator gen{config};
  int64_t latest = INT64_MIN;
  for (uint64_t n = 0; n < 20'000; ++n) {
    auto e = gen.generate(n);
    REQUIRE(e.date_time_ms == gen.nominal_time_ms(n));
    REQUIRE(e.date_time_ms >= latest);
    latest = e.date_time_ms;
  }
  CHECK(latest == config.first_event_time_ms + 20'000 / 5 - 1);
}

TEST_CASE("nexmark refuses a bad event time rate or out-of-orderness") {
  nx::generator_config config;
  config.event_time_rate = 0;
  CHECK_THROWS_AS(nx::generator{config}, std::invalid_argument);
  config.event_time_rate = 1;
  config.max_out_of_orderness_ms = -1;
  CHECK_THROWS_AS(nx::generator{config}, std::invalid_argument);
}

TEST_CASE("nexmark rows hold only the fields of their event's kind") {
  const auto& fields = nx::row_fields();
  REQUIRE(fields.size() == 19);
  CHECK(fields.front() == "event_type");
  CHECK(fields[13] == "auction_expires");
  CHECK(fields.back() == "bid_price");
  nx::generator gen{nx::generator_config{}};
  for (uint64_t n : {0u, 1u, 4u}) {
    auto e = gen.generate(n);
    auto r = nx::to_row(e);
    REQUIRE(r.size() == fields.size());
    CHECK(r[0] == value{static_cast<int64_t>(e.kind)});
    CHECK(r[1] == ts(e.date_time_ms));
    // Person fields are 2..7, auction fields 8..15, bid fields 16..18.
    size_t first = e.kind == nx::event_kind::person    ? 2
                   : e.kind == nx::event_kind::auction ? 8
                                                       : 16;
    size_t last = e.kind == nx::event_kind::person    ? 8
                  : e.kind == nx::event_kind::auction ? 16
                                                      : 19;
    for (size_t i = 2; i < r.size(); ++i) {
      CAPTURE(fields[i]);
      CHECK(r[i].is_null() == (i < first || i >= last));
    }
    CHECK(nx::to_row(nx::event{e}) == r);
  }
  auto a = nx::to_row(gen.generate(1));
  CHECK(a[13].type() == value_type::timestamp);
  CHECK(a[9].type() == value_type::string);
  auto p = nx::to_row(gen.generate(0));
  CHECK(p[2] == value{int64_t{1000}});
  CHECK(p[3].type() == value_type::string);
}

// -- source operator ---------------------------------------------------------

TEST_CASE("nexmark subtasks together emit the one-subtask stream") {
  const parameters params{{"events", "3001"}, {"seed", "7"}};
  nx::generator_config config;
  config.seed = 7;
  auto expected = rows_of(generate_all(3001, config));
  auto whole = make_op("nexmark", params);
  CHECK(whole.ctx.output_fields == nx::row_fields());
  CHECK(drain(whole.behavior, 64) == expected);
  for (int p = 2; p <= 3; ++p) {
    CAPTURE(p);
    std::vector<row> all;
    for (int i = 0; i < p; ++i) {
      auto op = make_op("nexmark", params, {}, i, p);
      auto part = drain(op.behavior, 50);
      // Subtask i emits numbers i, i + p, ... in order.
      for (size_t k = 0; k < part.size(); ++k)
        REQUIRE(part[k] == expected[static_cast<size_t>(i) + k * p]);
      all.insert(all.end(), part.begin(), part.end());
    }
    CHECK(sorted(all) == sorted(expected));
  }
}

TEST_CASE("nexmark emits at most budget rows per poll and nothing without "
          "events") {
  auto op = make_op("nexmark", {{"events", "10"}});
  vector_collector out;
  CHECK(op.behavior.on_poll(out, 4).kind == poll_result::more);
  CHECK(out.rows.size() == 4);
  CHECK(op.behavior.on_poll(out, 0).kind == poll_result::more);
  CHECK(out.rows.size() == 4);
  CHECK(op.behavior.on_poll(out, 6).kind == poll_result::finished);
  CHECK(out.rows.size() == 10);
  CHECK(op.behavior.on_poll(out, 6).kind == poll_result::finished);
  CHECK(out.rows.size() == 10);
  auto none = make_op("nexmark", {{"events", "0"}});
  CHECK(drain(none.behavior).empty());
  // More subtasks than events: the last ones have nothing.
  auto idle = make_op("nexmark", {{"events", "2"}}, {}, 2, 3);
  CHECK(drain(idle.behavior).empty());
}

TEST_CASE("nexmark passes its parameters to the generator") {
  auto op = make_op("nexmark", {{"events", "100"},
                                {"first_event_time", "0"},
                                {"event_rate", "10"},
                                {"out_of_orderness", "0"}});
  auto rows = drain(op.behavior);
  REQUIRE(rows.size() == 100);
  for (size_t n = 0; n < rows.size(); ++n)
    CHECK(field(rows[n], "date_time") == static_cast<int64_t>(n) * 100);
}

TEST_CASE("nexmark keeps its unfinished splits as operator state") {
  auto op = make_op("nexmark", {{"events", "10"}}, {}, 1, 3);
  vector_collector out;
  op.behavior.on_poll(out, 2);
  operator_state state;
  REQUIRE(!state.restore(op.behavior.on_snapshot()));
  // [next, step, end]
  CHECK(state.list("splits")
        == std::vector<value>{value{7}, value{3}, value{10}});
  op.behavior.on_poll(out, 5);
  operator_state done;
  REQUIRE(!done.restore(op.behavior.on_snapshot()));
  CHECK(done.names().empty());
}

TEST_CASE("nexmark restored at another parallelism emits exactly the events "
          "not emitted before the snapshot") {
  // One event per ms, in order: an event's number is its date_time.
  const uint64_t count = 2000;
  const parameters params{{"events", std::to_string(count)},
                          {"event_rate", "1000"},
                          {"out_of_orderness", "0"}};
  nx::generator_config config;
  config.event_time_rate = 1000;
  config.max_out_of_orderness_ms = 0;
  auto expected = rows_of(generate_all(count, config));
  auto number = [&](const row& r) {
    return field(r, "date_time") - config.first_event_time_ms;
  };
  for (int before : {1, 2, 3}) {
    for (int after : {1, 2, 4}) {
      CAPTURE(before);
      CAPTURE(after);
      std::vector<row> seen;
      std::vector<std::string> snaps;
      for (int s = 0; s < before; ++s) {
        auto op = make_op("nexmark", params, {}, s, before);
        vector_collector out;
        for (int k = 0; k <= s; ++k)
          op.behavior.on_poll(out, static_cast<size_t>(100 + 37 * s));
        seen.insert(seen.end(), out.rows.begin(), out.rows.end());
        snaps.push_back(op.behavior.on_snapshot());
      }
      for (int s = 0; s < after; ++s) {
        auto op = make_op("nexmark", params, {}, s, after, nullptr, true);
        for (int j = 0; j < before; ++j)
          if (j % after == s)
            op.behavior.on_restore(snaps[static_cast<size_t>(j)]);
        auto part = drain(op.behavior, 33);
        // Several splits take turns in event-number order.
        int64_t last = -1;
        for (const auto& r : part) {
          auto n = number(r);
          REQUIRE(n > last);
          REQUIRE(r == expected[static_cast<size_t>(n)]);
          last = n;
        }
        seen.insert(seen.end(), part.begin(), part.end());
      }
      CHECK(sorted(seen) == sorted(expected));
    }
  }
}

TEST_CASE("nexmark refuses corrupt splits") {
  auto op = make_op("nexmark", {{"events", "10"}}, {}, 0, 1, nullptr, true);
  operator_state bad;
  bad.list("splits") = {value{int64_t{1}}, value{int64_t{2}}};
  CHECK_THROWS_WITH_AS(op.behavior.on_restore(bad.snapshot()),
                       doctest::Contains("not triples"), std::runtime_error);
  bad.list("splits")
    = {value{int64_t{1}}, value{int64_t{0}}, value{int64_t{10}}};
  CHECK_THROWS_WITH_AS(op.behavior.on_restore(bad.snapshot()),
                       doctest::Contains("step below one"), std::runtime_error);
  CHECK_THROWS_WITH_AS(op.behavior.on_restore("\x07garbage"),
                       doctest::Contains("corrupt"), std::runtime_error);
}

TEST_CASE("rate-limited nexmark paces events with the task clock") {
  fake_clock clock;
  // 10 events/s over 2 subtasks: one every 200 ms per subtask.
  auto op = make_op("nexmark", {{"events", "1000"}, {"rate", "10"}}, {}, 0, 2,
                    &clock);
  vector_collector out;
  auto res = op.behavior.on_poll(out, 100);
  CHECK(out.rows.size() == 1);
  REQUIRE(res.kind == poll_result::wait);
  CHECK(res.delay > 199ms);
  CHECK(res.delay <= 200ms + 1us);
  clock.advance(200ms);
  op.behavior.on_poll(out, 100);
  CHECK(out.rows.size() == 2);
  clock.advance(1s);
  CHECK(op.behavior.on_poll(out, 3).kind == poll_result::more);
  CHECK(out.rows.size() == 5);
  CHECK(op.behavior.on_poll(out, 100).kind == poll_result::wait);
  CHECK(out.rows.size() == 7);
  nx::generator gen{nx::generator_config{}};
  for (size_t k = 0; k < out.rows.size(); ++k)
    CHECK(out.rows[k] == nx::to_row(gen.generate(2 * k)));
}

TEST_CASE("rate-limited nexmark finishes") {
  fake_clock clock;
  auto op
    = make_op("nexmark", {{"events", "3"}, {"rate", "1000"}}, {}, 0, 1, &clock);
  vector_collector out;
  for (int i = 0; i < 10; ++i) {
    auto res = op.behavior.on_poll(out, 100);
    if (res.kind == poll_result::finished)
      break;
    clock.advance(res.delay);
  }
  CHECK(out.rows.size() == 3);
}

TEST_CASE("nexmark validates its parameters with clear errors") {
  auto rejected
    = [](const parameters& params, const std::vector<std::string>& parts) {
        auto msg = validation_error("nexmark", params);
        CAPTURE(msg);
        REQUIRE(!msg.empty());
        for (const auto& part : parts)
          CHECK(msg.find(part) != std::string::npos);
      };
  rejected({}, {"missing required parameter 'events'"});
  rejected({{"events", "-1"}}, {"'events'", "negative"});
  rejected({{"events", "many"}}, {"'events'"});
  rejected({{"events", "10"}, {"rate", "0"}}, {"'rate'", "positive"});
  rejected({{"events", "10"}, {"rate", "-5"}}, {"'rate'", "positive"});
  rejected({{"events", "10"}, {"rate", "fast"}}, {"'rate'"});
  rejected({{"events", "10"}, {"rate", "inf"}}, {"'rate'"});
  rejected({{"events", "10"}, {"event_rate", "0"}}, {"'event_rate'"});
  rejected({{"events", "10"}, {"out_of_orderness", "-1"}},
           {"'out_of_orderness'", "negative"});
  rejected({{"events", "10"}, {"first_event_time", "9000000000000000000"}},
           {"int64 millisecond range"});
  rejected({{"events", "10000000000"}, {"event_rate", "0.000001"}},
           {"int64 millisecond range"});
  CHECK(validation_error("nexmark", {{"events", "0"}}).empty());
  CHECK(
    validation_error("nexmark", {{"events", "10"}, {"rate", "2.5"}}).empty());
}

// -- reference queries -------------------------------------------------------

TEST_CASE("reference q0 and q1 pass bids through, q1 converting the price") {
  std::vector<nx::event> events{
    person(1000, "Ann", "OR", 5), bid(1000, 1000, 1000, 7),
    auction(1000, 1000, 10, 6, 9), bid(1001, 1002, 250, 3)};
  CHECK(nx::reference::q0(events)
        == std::vector<row>{{value{1000}, value{1000}, value{1000}, ts(7)},
                            {value{1001}, value{1002}, value{250}, ts(3)}});
  CHECK(
    nx::reference::q1(events)
    == std::vector<row>{{value{1000}, value{1000}, value{1000 * 0.908}, ts(7)},
                        {value{1001}, value{1002}, value{250 * 0.908}, ts(3)}});
}

TEST_CASE("reference q2 keeps the bids of every 123rd auction") {
  std::vector<nx::event> events{bid(1107, 1, 5, 0), bid(1230, 1, 6, 0),
                                bid(1231, 1, 7, 0), bid(1230, 2, 8, 0),
                                bid(1353, 3, 9, 0)};
  CHECK(nx::reference::q2(events)
        == std::vector<row>{{value{1107}, value{5}},
                            {value{1230}, value{6}},
                            {value{1230}, value{8}},
                            {value{1353}, value{9}}});
}

TEST_CASE("reference q3 joins sellers from OR, ID and CA with category-10 "
          "auctions") {
  std::vector<nx::event> events{
    // Auctions may come before their seller: the join is unwindowed.
    auction(2000, 1001, 10, 0, 1), person(1000, "Ann", "OR", 0),
    person(1001, "Bob", "CA", 0),  person(1002, "Cid", "WA", 0),
    auction(2001, 1000, 10, 0, 1), auction(2002, 1000, 11, 0, 1),
    auction(2003, 1002, 10, 0, 1), auction(2004, 1000, 10, 0, 1),
  };
  CHECK(nx::reference::q3(events)
        == std::vector<row>{
          {value{"Ann"}, value{"Boise"}, value{"OR"}, value{2001}},
          {value{"Ann"}, value{"Boise"}, value{"OR"}, value{2004}},
          {value{"Bob"}, value{"Boise"}, value{"CA"}, value{2000}}});
}

TEST_CASE("reference q4 averages per category the highest bids within each "
          "auction's lifetime") {
  std::vector<nx::event> events{
    auction(1, 0, 10, 100, 200), auction(2, 0, 10, 100, 200),
    auction(3, 0, 11, 100, 200), auction(4, 0, 12, 100, 200),
    // Auction 1: 50 is the highest inside [100, 200]; 999 comes too early,
    // 998 too late.
    bid(1, 0, 999, 99), bid(1, 0, 30, 100), bid(1, 0, 50, 200),
    bid(1, 0, 998, 201),
    // Auction 2: final 101.
    bid(2, 0, 101, 150),
    // Auction 3: final 7.
    bid(3, 0, 7, 150), bid(3, 0, 5, 160),
    // Auction 4: no bid in time, so category 12 drops out.
    bid(4, 0, 1000, 300)};
  CHECK(nx::reference::q4(events)
        == std::vector<row>{{value{10}, value{75.5}}, {value{11}, value{7.0}}});
}

TEST_CASE("reference q5 keeps each sliding window's most-bid auctions") {
  std::vector<nx::event> events{
    // Windows [-8 s, 2 s), [-6 s, 4 s), ..., [0, 10 s) hold t = 1 s.
    bid(1, 0, 1, 1000), bid(1, 0, 1, 1500), bid(2, 0, 1, 1800),
    // t = 9 s: windows starting 0, 2, 4, 6, 8 s.
    bid(2, 0, 1, 9000),
    // t = 11 s: windows starting 2, ..., 10 s.
    bid(3, 0, 1, 11000)};
  std::vector<row> expected;
  auto add = [&](int64_t auction, int64_t num, int64_t end) {
    expected.push_back({value{auction}, value{num}, ts(end)});
  };
  // Windows ending 2, 4, 6, 8 s: auction 1 twice, auction 2 once.
  for (int64_t end : {2000, 4000, 6000, 8000})
    add(1, 2, end);
  // Ending 10 s: [0, 10 s) has auction 1 twice, auction 2 twice.
  add(1, 2, 10000);
  add(2, 2, 10000);
  // Ending 12..18 s: auctions 2 and 3 once each.
  for (int64_t end : {12000, 14000, 16000, 18000}) {
    add(2, 1, end);
    add(3, 1, end);
  }
  // Ending 20 s: only auction 3.
  add(3, 1, 20000);
  std::sort(expected.begin(), expected.end());
  CHECK(nx::reference::q5(events) == expected);
}

TEST_CASE("reference q7 keeps the bids at each tumbling window's highest "
          "price") {
  std::vector<nx::event> events{bid(1, 10, 5, 0),     bid(2, 11, 9, 9999),
                                bid(3, 12, 9, 5000),  bid(4, 13, 7, 10000),
                                bid(5, 14, 3, 19999), bid(6, 15, 8, -1)};
  CHECK(nx::reference::q7(events)
        == std::vector<row>{{value{2}, value{9}, value{11}, ts(9999)},
                            {value{3}, value{9}, value{12}, ts(5000)},
                            {value{4}, value{7}, value{13}, ts(10000)},
                            {value{6}, value{8}, value{15}, ts(-1)}});
}

TEST_CASE("reference q8 finds people who open an auction in their "
          "tumbling window") {
  std::vector<nx::event> events{
    person(1, "Ann", "OR", 1000), person(2, "Bob", "WA", 9000),
    person(3, "Cid", "ID", 12000),
    // Ann sells twice in [0, 10 s): one row.
    auction(100, 1, 10, 2000, 3000), auction(101, 1, 10, 9999, 10000),
    // Bob's auction is in the next window.
    auction(102, 2, 10, 10000, 11000),
    // Cid's is in his window [10 s, 20 s).
    auction(103, 3, 10, 19999, 20000)};
  CHECK(nx::reference::q8(events)
        == std::vector<row>{{value{1}, value{"Ann"}, ts(0)},
                            {value{3}, value{"Cid"}, ts(10000)}});
}

TEST_CASE("reference queries find results in a generated stream") {
  auto events = generate_all(50'000);
  CHECK(nx::reference::q0(events).size() == 46'000);
  CHECK(nx::reference::q1(events).size() == 46'000);
  CHECK(!nx::reference::q2(events).empty());
  CHECK(!nx::reference::q3(events).empty());
  CHECK(!nx::reference::q4(events).empty());
  CHECK(!nx::reference::q5(events).empty());
  CHECK(!nx::reference::q7(events).empty());
  CHECK(!nx::reference::q8(events).empty());
}
