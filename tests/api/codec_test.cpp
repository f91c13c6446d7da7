#include "api/codec.hpp"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include <doctest/doctest.h>

using namespace weir;

namespace {

std::optional<row> round_trip(const row& r) {
  std::string bytes;
  encode_row(r, bytes);
  size_t pos = 0;
  auto result = decode_row(bytes.data(), bytes.size(), pos);
  if (result && pos != bytes.size())
    return std::nullopt;
  return result;
}

std::string encoded(const row& r) {
  std::string bytes;
  encode_row(r, bytes);
  return bytes;
}

std::string bytes_of(std::initializer_list<int> xs) {
  std::string out;
  for (auto x : xs)
    out += static_cast<char>(x);
  return out;
}

std::optional<row> decode_all(const std::string& bytes) {
  size_t pos = 0;
  auto r = decode_row(bytes.data(), bytes.size(), pos);
  if (r)
    CHECK(pos == bytes.size());
  return r;
}

} // namespace

TEST_CASE("every value type survives a round trip") {
  constexpr auto min = std::numeric_limits<int64_t>::min();
  constexpr auto max = std::numeric_limits<int64_t>::max();
  std::vector<row> rows{
    {},
    {value{}},
    {0, 1, -1, 63, -64, 64, -65, min, max},
    {0.0, -0.0, 1.5, -2.25, 1e-310, std::numeric_limits<double>::infinity(),
     -std::numeric_limits<double>::infinity(),
     std::numeric_limits<double>::max()},
    {"", "a", std::string("with\0nul", 8), std::string(100000, 'x')},
    {true, false},
    {timestamp{0}, timestamp{-1}, timestamp{min}, timestamp{max},
     timestamp{1700000000000}},
    {value{}, 3, 3.5, "s", true, timestamp{4}, value{}},
  };
  for (auto& r : rows) {
    auto back = round_trip(r);
    REQUIRE(back);
    CHECK(*back == r);
  }
}

TEST_CASE("negative zero keeps its sign and NaN its bits") {
  auto nan = std::numeric_limits<double>::quiet_NaN();
  auto back = round_trip(row{-0.0, nan, -nan});
  REQUIRE(back);
  REQUIRE(back->size() == 3);
  CHECK(std::signbit((*back)[0].as_double()));
  for (size_t i = 1; i < 3; ++i) {
    auto want = i == 1 ? nan : -nan;
    auto got = (*back)[i].as_double();
    CHECK(std::isnan(got));
    CHECK(std::memcmp(&want, &got, sizeof(double)) == 0);
  }
}

TEST_CASE("the wire format is the documented one") {
  CHECK(encoded(row{}) == bytes_of({0}));
  CHECK(encoded(row{value{}}) == bytes_of({1, 0}));
  // zigzag: -1 -> 1, 1 -> 2, 64 -> 128 (two varint bytes).
  CHECK(encoded(row{-1, 1, 64}) == bytes_of({3, 1, 1, 1, 2, 1, 0x80, 0x01}));
  CHECK(encoded(row{1.0}) == bytes_of({1, 2, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f}));
  CHECK(encoded(row{"ab"}) == bytes_of({1, 3, 2, 'a', 'b'}));
  CHECK(encoded(row{true, false}) == bytes_of({2, 4, 1, 4, 0}));
  CHECK(encoded(row{timestamp{-2}}) == bytes_of({1, 5, 3}));
}

TEST_CASE("encode_row appends to what the buffer holds") {
  std::string bytes = "head";
  encode_row(row{1}, bytes);
  encode_row(row{"x"}, bytes);
  CHECK(bytes.substr(0, 4) == "head");
  size_t pos = 4;
  auto a = decode_row(bytes.data(), bytes.size(), pos);
  auto b = decode_row(bytes.data(), bytes.size(), pos);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(*a == row{1});
  CHECK(*b == row{"x"});
  CHECK(pos == bytes.size());
}

TEST_CASE("every truncation of valid input is rejected") {
  std::vector<row> rows{
    {value{}, -300, 2.5, "hello", true, timestamp{1700000000000}},
    {},
    {std::numeric_limits<int64_t>::min(), std::string(200, 'y')},
  };
  auto bytes = encode_rows(rows);
  REQUIRE(decode_rows(bytes));
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto prefix = bytes.substr(0, n);
    CHECK_MESSAGE(!decode_rows(prefix), "prefix length ", n);
  }
  auto one = encoded(rows[0]);
  for (size_t n = 0; n < one.size(); ++n) {
    size_t pos = 0;
    CHECK_MESSAGE(!decode_row(one.data(), n, pos), "prefix length ", n);
    CHECK(pos == 0);
  }
}

TEST_CASE("decode_row fails on a position past the end") {
  auto bytes = encoded(row{1});
  size_t pos = bytes.size() + 1;
  CHECK(!decode_row(bytes.data(), bytes.size(), pos));
  pos = bytes.size();
  CHECK(!decode_row(bytes.data(), bytes.size(), pos));
}

TEST_CASE("unknown tags are rejected") {
  CHECK(!decode_all(bytes_of({1, 6})));
  CHECK(!decode_all(bytes_of({1, 0xff, 0})));
}

TEST_CASE("booleans other than 0 and 1 are rejected") {
  CHECK(decode_all(bytes_of({1, 4, 1})));
  CHECK(!decode_all(bytes_of({1, 4, 2})));
}

TEST_CASE("over-long and non-minimal varints are rejected") {
  // Ten bytes is the longest valid varint; the tenth holds only one bit.
  // All 64 bits set is the zigzag form of INT64_MIN.
  auto max = bytes_of(
    {1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01});
  auto r = decode_all(max);
  REQUIRE(r);
  CHECK(*r == row{std::numeric_limits<int64_t>::min()});
  CHECK(!decode_all(bytes_of(
    {1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02})));
  CHECK(!decode_all(bytes_of(
    {1, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00})));
  CHECK(!decode_all(bytes_of({1, 1, 0x82, 0x00})));
}

TEST_CASE("lengths and counts past the end are rejected") {
  CHECK(!decode_all(bytes_of({1, 3, 5, 'a', 'b'})));
  CHECK(!decode_all(bytes_of(
    {1, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})));
  CHECK(!decode_all(bytes_of({5, 0, 0})));
  CHECK(!decode_rows(bytes_of({3, 0, 0})));
  CHECK(!decode_rows(
    bytes_of({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})));
}

TEST_CASE("decode_rows rejects trailing bytes") {
  auto bytes = encode_rows({row{1}, row{"a"}});
  REQUIRE(decode_rows(bytes));
  CHECK(!decode_rows(bytes + '\0'));
  CHECK(!decode_rows(bytes + bytes));
}

TEST_CASE("an empty batch round-trips") {
  auto bytes = encode_rows({});
  CHECK(bytes == bytes_of({0}));
  auto back = decode_rows(bytes);
  REQUIRE(back);
  CHECK(back->empty());
  CHECK(!decode_rows(""));
}

TEST_CASE("random rows round-trip") {
  std::mt19937_64 rng{20240601};
  auto random_value = [&]() -> value {
    switch (rng() % 6) {
      case 0:
        return {};
      case 1:
        // Mix small and full-range integers to cover every varint length.
        return static_cast<int64_t>(rng() >> (rng() % 64));
      case 2: {
        auto bits = rng();
        double d;
        std::memcpy(&d, &bits, sizeof(d));
        // NaN never compares equal; checked separately above.
        return std::isnan(d) ? value{0.5} : value{d};
      }
      case 3: {
        std::string s(rng() % 300, '\0');
        for (auto& c : s)
          c = static_cast<char>(rng());
        return s;
      }
      case 4:
        return rng() % 2 == 0;
      default:
        return timestamp{static_cast<int64_t>(rng())};
    }
  };
  std::vector<row> rows(500);
  for (auto& r : rows) {
    r.resize(rng() % 12);
    for (auto& x : r)
      x = random_value();
  }
  auto back = decode_rows(encode_rows(rows));
  REQUIRE(back);
  CHECK(*back == rows);
  std::string concat;
  for (auto& r : rows)
    encode_row(r, concat);
  size_t pos = 0;
  for (auto& r : rows) {
    auto x = decode_row(concat.data(), concat.size(), pos);
    REQUIRE(x);
    CHECK(*x == r);
  }
  CHECK(pos == concat.size());
}
