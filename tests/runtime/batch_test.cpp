#include "runtime/batch.hpp"

#include <string>

#include <doctest/doctest.h>

using namespace weir;

TEST_CASE("default batch limits follow the design: 1024 rows, 32 KiB, 10 ms") {
  batch_limits limits;
  CHECK_EQ(limits.max_rows, 1024u);
  CHECK_EQ(limits.max_bytes, 32u * 1024u);
  CHECK_EQ(limits.flush_interval_ms, 10);
}

TEST_CASE("an empty row still has a positive size") {
  CHECK_GT(approximate_size(row{}), 0u);
}

TEST_CASE("every field adds to the size of a row") {
  auto one = approximate_size(row{value{1}});
  auto two = approximate_size(row{value{1}, value{2}});
  auto three = approximate_size(row{value{1}, value{2}, value{3}});
  CHECK_LT(approximate_size(row{}), one);
  CHECK_LT(one, two);
  // Fixed-width fields cost the same each.
  CHECK_EQ(two - one, three - two);
}

TEST_CASE("fixed-width fields cost the same whatever their type or value") {
  auto int_size = approximate_size(row{value{int64_t{1} << 60}});
  CHECK_EQ(approximate_size(row{value{0}}), int_size);
  CHECK_EQ(approximate_size(row{value{2.5}}), int_size);
  CHECK_EQ(approximate_size(row{value{true}}), int_size);
  CHECK_EQ(approximate_size(row{value{timestamp{123}}}), int_size);
  CHECK_EQ(approximate_size(row{value{}}), int_size);
}

TEST_CASE("a string field adds its length to the size of a row") {
  auto empty = approximate_size(row{value{""}});
  CHECK_EQ(approximate_size(row{value{"abc"}}), empty + 3);
  CHECK_EQ(approximate_size(row{value{std::string(1000, 'x')}}), empty + 1000);
  CHECK_EQ(approximate_size(row{value{"ab"}, value{"cd"}}),
           approximate_size(row{value{""}, value{""}}) + 4);
}
