#include "api/operator.hpp"

#include <memory>
#include <stdexcept>
#include <string>

#include <doctest/doctest.h>

using namespace weir;

namespace {

struct vector_collector : collector {
  std::vector<row> rows;

  void emit(row r) override {
    rows.push_back(std::move(r));
  }
};

operator_context make_context() {
  operator_context ctx;
  ctx.vertex = "agg";
  ctx.params = {{"name", "total"}, {"n", "-42"},     {"big", "9000000000"},
                {"ratio", "0.25"}, {"t1", "TRUE"},   {"t2", "yes"},
                {"t3", "1"},       {"f1", "False"},  {"f2", "NO"},
                {"f3", "0"},       {"junk", "12ab"}, {"empty", ""}};
  ctx.input_fields = {"key", "value", "ts"};
  return ctx;
}

// Runs `f` and returns the message of the std::invalid_argument it throws.
template <class F>
std::string invalid_argument_text(F f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "<no exception>";
}

} // namespace

TEST_CASE("operator_behavior dispatches handlers by signature") {
  std::vector<std::string> calls;
  operator_behavior b{
    [&](const row& r, collector& out) {
      calls.push_back("record");
      out.emit(r);
    },
    [&](end_of_input_t, collector& out) {
      calls.push_back("end");
      out.emit(row{"done"});
    },
  };
  vector_collector out;
  b.on_record(row{1}, out);
  b.on_end_of_input(out);
  CHECK(calls == std::vector<std::string>{"record", "end"});
  CHECK(out.rows == std::vector<row>{row{1}, row{"done"}});
  CHECK_FALSE(b.is_source());
}

TEST_CASE("a behavior with a poll handler is a source") {
  int polled = 0;
  operator_behavior b{
    [&](poll_t, collector& out, size_t budget) -> poll_result {
      ++polled;
      for (size_t i = 0; i < budget; ++i)
        out.emit(row{static_cast<int64_t>(i)});
      return poll_result::done();
    },
  };
  REQUIRE(b.is_source());
  vector_collector out;
  auto res = b.on_poll(out, 3);
  CHECK(res.kind == poll_result::finished);
  CHECK(polled == 1);
  CHECK(out.rows.size() == 3);
}

TEST_CASE("poll results carry their delay") {
  using namespace std::chrono_literals;
  auto w = poll_result::wait_for(5ms);
  CHECK(w.kind == poll_result::wait);
  CHECK(w.delay == 5ms);
  CHECK(poll_result::ready().kind == poll_result::more);
  CHECK(poll_result::done().delay == 0ns);
}

TEST_CASE("missing handlers drop records and ignore end of input") {
  operator_behavior b;
  vector_collector out;
  b.on_record(row{1}, out);
  b.on_end_of_input(out);
  CHECK(out.rows.empty());
  CHECK_FALSE(b.is_source());
}

TEST_CASE("a mutable lambda keeps its state across calls") {
  operator_behavior b{
    [count = int64_t{0}](const row&, collector& out) mutable {
      out.emit(row{++count});
    },
  };
  vector_collector out;
  for (int i = 0; i < 3; ++i)
    b.on_record(row{}, out);
  CHECK(out.rows == std::vector<row>{row{1}, row{2}, row{3}});
}

TEST_CASE("handlers may share state through a shared_ptr") {
  auto sum = std::make_shared<int64_t>(0);
  operator_behavior b{
    [sum](const row& r, collector&) { *sum += r[0].as_int64(); },
    [sum](end_of_input_t, collector& out) { out.emit(row{*sum}); },
  };
  vector_collector out;
  b.on_record(row{2}, out);
  b.on_record(row{40}, out);
  b.on_end_of_input(out);
  CHECK(out.rows == std::vector<row>{row{42}});
}

TEST_CASE("context getters parse typed parameters") {
  auto ctx = make_context();
  CHECK(ctx.get_string("name") == "total");
  CHECK(ctx.get_string("empty") == "");
  CHECK(ctx.get_int("n") == -42);
  CHECK(ctx.get_int("big") == 9000000000);
  CHECK(ctx.get_double("ratio") == 0.25);
  CHECK(ctx.get_double("n") == -42.0);
  for (auto name : {"t1", "t2", "t3"})
    CHECK(ctx.get_bool(name));
  for (auto name : {"f1", "f2", "f3"})
    CHECK_FALSE(ctx.get_bool(name));
  CHECK(ctx.has("name"));
  CHECK_FALSE(ctx.has("nope"));
}

TEST_CASE("context getters name vertex and parameter when they fail") {
  auto ctx = make_context();
  auto missing = invalid_argument_text([&] { ctx.get_string("nope"); });
  CHECK(missing.find("agg") != std::string::npos);
  CHECK(missing.find("nope") != std::string::npos);
  auto bad_int = invalid_argument_text([&] { ctx.get_int("junk"); });
  CHECK(bad_int.find("agg") != std::string::npos);
  CHECK(bad_int.find("junk") != std::string::npos);
  CHECK_THROWS_AS(ctx.get_int("ratio"), std::invalid_argument);
  CHECK_THROWS_AS(ctx.get_int("empty"), std::invalid_argument);
  CHECK_THROWS_AS(ctx.get_double("junk"), std::invalid_argument);
  CHECK_THROWS_AS(ctx.get_bool("name"), std::invalid_argument);
  CHECK_THROWS_AS(ctx.get_bool("nope"), std::invalid_argument);
}

TEST_CASE("an integer parameter out of range is an error") {
  operator_context ctx;
  ctx.params = {{"x", "99999999999999999999"}};
  CHECK_THROWS_AS(ctx.get_int("x"), std::invalid_argument);
}

TEST_CASE("input_index finds fields by name") {
  auto ctx = make_context();
  CHECK(ctx.input_index("key") == 0);
  CHECK(ctx.input_index("ts") == 2);
  CHECK(ctx.input_index("missing") == -1);
}

TEST_CASE("a behaviour dispatches second-input rows, watermarks and timers "
          "to their own handlers") {
  std::vector<std::string> seen;
  operator_behavior b{
    [&](const row& r, collector&) {
      seen.push_back("first " + std::to_string(r[0].as_int64()));
    },
    [&](second_input_t, const row& r, collector&) {
      seen.push_back("second " + std::to_string(r[0].as_int64()));
    },
    [&](watermark_t, int64_t wm, collector&) {
      seen.push_back("watermark " + std::to_string(wm));
    },
    [&](timer_fired_t, const fired_timer& t, collector& out) {
      seen.push_back(std::string{"timer "} + to_string(t.domain) + " "
                     + std::to_string(t.time));
      out.emit(row{value{t.time}});
    },
  };
  vector_collector out;
  b.on_record(row{value{1}}, out);
  b.on_second_record(row{value{2}}, out);
  b.on_watermark(30, out);
  b.on_timer(fired_timer{25, time_domain::processing_time}, out);
  CHECK(seen
        == std::vector<std::string>{"first 1", "second 2", "watermark 30",
                                    "timer processing time 25"});
  CHECK(out.rows == std::vector<row>{row{value{25}}});
  // Without handlers these events do nothing.
  operator_behavior plain{[](const row&, collector&) {}};
  plain.on_second_record(row{value{1}}, out);
  plain.on_watermark(max_watermark, out);
  plain.on_timer(fired_timer{}, out);
  CHECK(out.rows.size() == 1);
}
