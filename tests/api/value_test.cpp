#include "api/value.hpp"

#include <algorithm>
#include <limits>

#include <doctest/doctest.h>

using namespace weir;

TEST_CASE("value types render as in descriptors") {
  CHECK(std::string{to_string(value_type::null)} == "null");
  CHECK(std::string{to_string(value_type::int64)} == "int64");
  CHECK(std::string{to_string(value_type::float64)} == "double");
  CHECK(std::string{to_string(value_type::string)} == "string");
  CHECK(std::string{to_string(value_type::boolean)} == "bool");
  CHECK(std::string{to_string(value_type::timestamp)} == "timestamp");
}

TEST_CASE("constructors pick the expected type") {
  CHECK(value{}.type() == value_type::null);
  CHECK(value{1}.type() == value_type::int64);
  CHECK(value{int64_t{1}}.type() == value_type::int64);
  CHECK(value{1.0}.type() == value_type::float64);
  CHECK(value{"a"}.type() == value_type::string);
  CHECK(value{true}.type() == value_type::boolean);
  CHECK(value{timestamp{1}}.type() == value_type::timestamp);
}

// These numbers decide key groups, hence which subtask owns which state: a
// change here breaks restoring every existing checkpoint. Do not update them
// without a migration plan.
TEST_CASE("value hashes are pinned to concrete numbers") {
  CHECK(value{}.hash() == 0xc8e03b709c0522f5ULL);
  CHECK(value{0}.hash() == 0xd09c38ba3d4f50a5ULL);
  CHECK(value{42}.hash() == 0xf6c097d429894bf3ULL);
  CHECK(value{-1}.hash() == 0x6432c2341203af90ULL);
  CHECK(value{1.5}.hash() == 0x86afa92e6245cdf7ULL);
  CHECK(value{0.0}.hash() == 0xad52f56583d0f52aULL);
  CHECK(value{""}.hash() == 0xb99f1dbbb396b699ULL);
  CHECK(value{"hello"}.hash() == 0x4da2816df6609d8eULL);
  CHECK(value{true}.hash() == 0x8414c30e6fc147b8ULL);
  CHECK(value{false}.hash() == 0xbcdc85cd2ca304dfULL);
  CHECK(value{timestamp{1700000000000}}.hash() == 0x7acabdba9b43841cULL);
}

TEST_CASE("hash_fields is pinned and follows the index order") {
  row r{42, "hello"};
  CHECK(hash_fields(r, {1, 0}) == 0x359cb3fc1123c33dULL);
  CHECK(hash_fields(r, {0, 1}) != hash_fields(r, {1, 0}));
  CHECK(hash_fields(r, {0}) == hash_fields(row{42, 7}, {0}));
  CHECK(hash_fields(r, {}) == hash_fields(row{}, {}));
}

TEST_CASE("equal values hash equal") {
  CHECK(value{7}.hash() == value{int64_t{7}}.hash());
  CHECK(value{"abc"}.hash() == value{std::string{"abc"}}.hash());
  CHECK(value{0.0}.hash() == value{-0.0}.hash());
  auto nan = std::numeric_limits<double>::quiet_NaN();
  CHECK(value{nan}.hash() == value{-nan}.hash());
}

TEST_CASE("values of different types hash apart") {
  CHECK(value{1}.hash() != value{timestamp{1}}.hash());
  CHECK(value{0}.hash() != value{}.hash());
  CHECK(value{true}.hash() != value{1}.hash());
  CHECK(value{""}.hash() != value{}.hash());
}

TEST_CASE("values order by type tag first, then by value") {
  std::vector<value> xs{"b", 2, timestamp{0}, true, 1.5, value{}, "a", -3};
  std::sort(xs.begin(), xs.end());
  std::vector<value> want{value{}, -3, 2, 1.5, "a", "b", true, timestamp{0}};
  CHECK(xs == want);
  CHECK(value{1} < value{2});
  CHECK_FALSE(value{2} < value{2});
  CHECK(value{5} != value{timestamp{5}});
}

TEST_CASE("values render for humans") {
  CHECK(to_string(value{}) == "");
  CHECK(to_string(value{-12}) == "-12");
  CHECK(to_string(value{std::numeric_limits<int64_t>::min()})
        == "-9223372036854775808");
  CHECK(to_string(value{0.1}) == "0.1");
  CHECK(to_string(value{2.5}) == "2.5");
  CHECK(to_string(value{1e300}) == "1e+300");
  CHECK(to_string(value{"a b"}) == "a b");
  CHECK(to_string(value{true}) == "true");
  CHECK(to_string(value{false}) == "false");
  CHECK(to_string(value{timestamp{1234}}) == "1234");
}

TEST_CASE("doubles render as text that parses back to the same double") {
  for (double x : {0.1 + 0.2, 1.0 / 3, 6.02214076e23, -1e-300, 123456.789})
    CHECK(std::stod(to_string(value{x})) == x);
}

TEST_CASE("csv quotes only fields that need it") {
  CHECK(to_csv(row{}) == "");
  CHECK(to_csv(row{1, "a", value{}, 2.5, true}) == "1,a,,2.5,true");
  CHECK(to_csv(row{"a,b"}) == "\"a,b\"");
  CHECK(to_csv(row{"say \"hi\""}) == "\"say \"\"hi\"\"\"");
  CHECK(to_csv(row{"two\nlines", "cr\r"}) == "\"two\nlines\",\"cr\r\"");
  CHECK(to_csv(row{"plain text", ""}) == "plain text,");
}
