#include <stdexcept>

#include <doctest/doctest.h>

#include "operators/harness.hpp"

using namespace weir;
using namespace weir::test;

namespace {

const std::vector<std::string> doc_fields{"id", "text"};

/// Runs `filter` with `op` and `value` on `field` over `rows`; returns the
/// ids (field 0) of the rows it keeps.
std::vector<value> kept(const std::string& field, const std::string& op,
                        const std::string& operand,
                        const std::vector<row>& rows) {
  auto f = make_op("filter", {{"field", field}, {"op", op}, {"value", operand}},
                   {"id", "x"});
  CHECK(f.ctx.output_fields == std::vector<std::string>{"id", "x"});
  std::vector<value> ids;
  for (const auto& r : run(f.behavior, rows))
    ids.push_back(r[0]);
  return ids;
}

using ids = std::vector<value>;

} // namespace

// -- tokenize -----------------------------------------------------------------

TEST_CASE("tokenize emits one lower-cased row per word") {
  auto op = make_op("tokenize", {{"field", "text"}}, doc_fields);
  CHECK(op.ctx.output_fields == doc_fields);
  auto rows = run(op.behavior, {{int64_t{1}, "Hello, World!  it's 42x--HELLO"},
                                {int64_t{2}, ""},
                                {int64_t{3}, " ,.; "},
                                {int64_t{4}, "Über straße"}});
  CHECK(rows
        == std::vector<row>{{int64_t{1}, "hello"},
                            {int64_t{1}, "world"},
                            {int64_t{1}, "it"},
                            {int64_t{1}, "s"},
                            {int64_t{1}, "42x"},
                            {int64_t{1}, "hello"},
                            // Only ASCII is lower-cased; UTF-8 stays whole.
                            {int64_t{4}, "Über"},
                            {int64_t{4}, "straße"}});
}

TEST_CASE("tokenize keeps case when asked and renames the field") {
  auto op = make_op("tokenize",
                    {{"field", "text"}, {"lowercase", "false"}, {"as", "word"}},
                    doc_fields);
  CHECK(op.ctx.output_fields == std::vector<std::string>{"id", "word"});
  CHECK(run(op.behavior, {{int64_t{1}, "Big\tDeal"}})
        == std::vector<row>{{int64_t{1}, "Big"}, {int64_t{1}, "Deal"}});
}

TEST_CASE("tokenize skips null fields and rejects non-strings") {
  auto op = make_op("tokenize", {{"field", "text"}}, doc_fields);
  CHECK(run(op.behavior, {{int64_t{1}, value{}}}).empty());
  vector_collector out;
  CHECK_THROWS_WITH_AS(op.behavior.on_record({int64_t{1}, int64_t{5}}, out),
                       doctest::Contains("'text'"), std::runtime_error);
}

// -- filter -------------------------------------------------------------------

TEST_CASE("filter compares int64 fields numerically") {
  std::vector<row> rows{
    {1, int64_t{-3}}, {2, int64_t{5}}, {3, int64_t{10}}, {4, value{}}};
  CHECK(kept("x", "==", "5", rows) == ids{2});
  CHECK(kept("x", "!=", "5", rows) == ids{1, 3, 4});
  CHECK(kept("x", "<", "5", rows) == ids{1});
  CHECK(kept("x", "<=", "5", rows) == ids{1, 2});
  CHECK(kept("x", ">", "5", rows) == ids{3});
  CHECK(kept("x", ">=", "5", rows) == ids{2, 3});
  // 10 > 9 numerically although "10" < "9" as text.
  CHECK(kept("x", ">", "9", rows) == ids{3});
  CHECK(kept("x", ">", "4.5", rows) == ids{2, 3});
  CHECK(kept("x", "contains", "1", rows) == ids{3});
}

TEST_CASE("filter compares double fields numerically") {
  std::vector<row> rows{{1, 0.5}, {2, 2.0}, {3, 1e10}, {4, value{}}};
  CHECK(kept("x", "==", "2", rows) == ids{2});
  CHECK(kept("x", "<", "2.0", rows) == ids{1});
  CHECK(kept("x", ">=", "2", rows) == ids{2, 3});
  CHECK(kept("x", "!=", "0.5", rows) == ids{2, 3, 4});
}

TEST_CASE("filter compares strings lexicographically") {
  std::vector<row> rows{
    {1, "apple"}, {2, "banana"}, {3, "cherry"}, {4, value{}}, {5, ""}};
  CHECK(kept("x", "==", "banana", rows) == ids{2});
  CHECK(kept("x", "<", "banana", rows) == ids{1, 5});
  CHECK(kept("x", ">=", "b", rows) == ids{2, 3});
  CHECK(kept("x", "contains", "an", rows) == ids{2});
  CHECK(kept("x", "contains", "", rows) == ids{1, 2, 3, 5});
  CHECK(kept("x", "==", "", rows) == ids{5});
  // Numbers in a string field are still text.
  CHECK(kept("x", "<", "10", std::vector<row>{{1, "9"}, {2, "1"}}) == ids{2});
}

TEST_CASE("filter compares bools and timestamps by value") {
  std::vector<row> flags{{1, true}, {2, false}, {3, value{}}};
  CHECK(kept("x", "==", "true", flags) == ids{1});
  CHECK(kept("x", "!=", "true", flags) == ids{2, 3});
  CHECK(kept("x", "<", "yes", flags) == ids{2});
  std::vector<row> times{
    {1, timestamp{0}}, {2, timestamp{86400000}}, {3, timestamp{172800000}}};
  CHECK(kept("x", ">=", "1970-01-02", times) == ids{2, 3});
  CHECK(kept("x", "<", "86400000", times) == ids{1});
  CHECK(kept("x", "==", "1970-01-03T00:00:00Z", times) == ids{3});
}

TEST_CASE("filter rejects a value that does not parse as the field's type") {
  auto f = make_op("filter", {{"field", "x"}, {"op", ">"}, {"value", "abc"}},
                   {"id", "x"});
  vector_collector out;
  // Strings are fine, numbers are not.
  f.behavior.on_record({1, "abd"}, out);
  CHECK(out.rows.size() == 1);
  CHECK_THROWS_WITH_AS(f.behavior.on_record({2, int64_t{5}}, out),
                       doctest::Contains("'abc'"), std::runtime_error);
  CHECK_THROWS_WITH_AS(f.behavior.on_record({3, 1.5}, out),
                       doctest::Contains("field 'x'"), std::runtime_error);
  CHECK_THROWS_WITH_AS(f.behavior.on_record({4, true}, out),
                       doctest::Contains("bool"), std::runtime_error);
}

TEST_CASE("filter passes rows through unchanged") {
  auto f = make_op("filter", {{"field", "x"}, {"op", "=="}, {"value", "a"}},
                   {"id", "x", "y"});
  CHECK(run(f.behavior, {{1, "a", 2.5}, {2, "b", 1.0}})
        == std::vector<row>{{1, "a", 2.5}});
}

// -- select -------------------------------------------------------------------

TEST_CASE("select projects the listed fields in the listed order") {
  auto op = make_op("select", {{"fields", "c, a"}}, {"a", "b", "c"});
  CHECK(op.ctx.output_fields == std::vector<std::string>{"c", "a"});
  CHECK(run(op.behavior, {{1, 2, 3}, {"x", value{}, true}})
        == std::vector<row>{{3, 1}, {true, "x"}});
}
