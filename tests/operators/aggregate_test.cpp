#include <limits>
#include <stdexcept>

#include <doctest/doctest.h>

#include "operators/harness.hpp"

using namespace weir;
using namespace weir::test;

namespace {

const std::vector<std::string> sales_fields{"shop", "item", "amount"};

const std::vector<row> sales{
  {"north", "tea", int64_t{3}},  {"south", "tea", int64_t{1}},
  {"north", "cake", int64_t{5}}, {"north", "tea", int64_t{4}},
  {"east", "tea", value{}},      {"south", "cake", int64_t{-2}},
};

op_under_test aggregate(parameters params) {
  return make_op("aggregate", params, sales_fields);
}

} // namespace

TEST_CASE("aggregate counts rows per key at end of input, sorted by key") {
  auto op = aggregate({{"key", "shop"}, {"function", "count"}});
  CHECK(op.ctx.output_fields == std::vector<std::string>{"shop", "count"});
  vector_collector out;
  for (const auto& r : sales)
    op.behavior.on_record(r, out);
  CHECK(out.rows.empty());
  op.behavior.on_end_of_input(out);
  CHECK(out.rows
        == std::vector<row>{
          {"east", int64_t{1}}, {"north", int64_t{3}}, {"south", int64_t{2}}});
}

TEST_CASE("aggregate sums int64 fields as int64 per composite key") {
  auto op = aggregate({{"key", "shop,item"},
                       {"function", "sum"},
                       {"field", "amount"},
                       {"as", "total"}});
  CHECK(op.ctx.output_fields
        == std::vector<std::string>{"shop", "item", "total"});
  // A key whose values are all null sums to null.
  CHECK(run(op.behavior, sales)
        == std::vector<row>{{"east", "tea", value{}},
                            {"north", "cake", int64_t{5}},
                            {"north", "tea", int64_t{7}},
                            {"south", "cake", int64_t{-2}},
                            {"south", "tea", int64_t{1}}});
}

TEST_CASE("aggregate sums doubles as doubles and mixed numbers as doubles") {
  auto op
    = make_op("aggregate", {{"key", "k"}, {"function", "sum"}, {"field", "x"}},
              {"k", "x"});
  CHECK(
    run(op.behavior, {{"a", 0.5}, {"a", 0.25}, {"b", int64_t{1}}, {"b", 0.5}})
    == std::vector<row>{{"a", 0.75}, {"b", 1.5}});
}

TEST_CASE("aggregate finds minima and maxima of any comparable type") {
  auto mn
    = aggregate({{"key", "item"}, {"function", "min"}, {"field", "amount"}});
  CHECK(run(mn.behavior, sales)
        == std::vector<row>{{"cake", int64_t{-2}}, {"tea", int64_t{1}}});
  auto mx
    = aggregate({{"key", "item"}, {"function", "max"}, {"field", "shop"}});
  CHECK(mx.ctx.output_fields == std::vector<std::string>{"item", "max"});
  CHECK(run(mx.behavior, sales)
        == std::vector<row>{{"cake", "south"}, {"tea", "south"}});
}

TEST_CASE("aggregate with emit updates emits every new value and no final") {
  auto op = aggregate({{"key", "shop"},
                       {"function", "sum"},
                       {"field", "amount"},
                       {"emit", "updates"}});
  CHECK(run(op.behavior, sales)
        == std::vector<row>{{"north", int64_t{3}},
                            {"south", int64_t{1}},
                            {"north", int64_t{8}},
                            {"north", int64_t{12}},
                            {"east", value{}},
                            {"south", int64_t{-1}}});
  auto counts
    = aggregate({{"key", "item"}, {"function", "count"}, {"emit", "updates"}});
  CHECK(run(counts.behavior, sales)
        == std::vector<row>{{"tea", int64_t{1}},
                            {"tea", int64_t{2}},
                            {"cake", int64_t{1}},
                            {"tea", int64_t{3}},
                            {"tea", int64_t{4}},
                            {"cake", int64_t{2}}});
}

TEST_CASE("aggregate keys distinguish value types") {
  auto op = make_op("aggregate", {{"key", "k"}, {"function", "count"}}, {"k"});
  CHECK(run(op.behavior, {{int64_t{1}}, {"1"}, {1.0}, {int64_t{1}}})
        == std::vector<row>{
          {int64_t{1}, int64_t{2}}, {1.0, int64_t{1}}, {"1", int64_t{1}}});
}

TEST_CASE("aggregate sum rejects non-numeric values and int64 overflow") {
  auto op
    = make_op("aggregate", {{"key", "k"}, {"function", "sum"}, {"field", "x"}},
              {"k", "x"});
  vector_collector out;
  CHECK_THROWS_WITH_AS(op.behavior.on_record({"a", "text"}, out),
                       doctest::Contains("field 'x'"), std::runtime_error);
  op.behavior.on_record({"b", std::numeric_limits<int64_t>::max()}, out);
  CHECK_THROWS_WITH_AS(op.behavior.on_record({"b", int64_t{1}}, out),
                       doctest::Contains("overflow"), std::runtime_error);
}

TEST_CASE("aggregate declares its key parameter") {
  auto* d = builtin_registry().find("aggregate");
  REQUIRE(d != nullptr);
  CHECK(d->key_param == "key");
}

TEST_CASE("aggregate averages numbers as doubles, ignoring nulls, also as "
          "updates") {
  auto op
    = make_op("aggregate", {{"key", "k"}, {"function", "avg"}, {"field", "x"}},
              {"k", "x"});
  CHECK(run(op.behavior, {{"a", int64_t{1}},
                          {"a", int64_t{2}},
                          {"b", 0.5},
                          {"a", value{}},
                          {"a", int64_t{4}}})
        == std::vector<row>{{"a", 7.0 / 3}, {"b", 0.5}});
  auto updates = make_op(
    "aggregate",
    {{"key", "k"}, {"function", "avg"}, {"field", "x"}, {"emit", "updates"}},
    {"k", "x"});
  CHECK(run(updates.behavior, {{"a", int64_t{1}}, {"a", int64_t{2}}})
        == std::vector<row>{{"a", 1.0}, {"a", 1.5}});
}
