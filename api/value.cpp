#include "api/value.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace weir {

namespace {

// -- stable hashing -----------------------------------------------------------

// Word-wise multiply-xorshift over a canonical little-endian representation,
// followed by the 64-bit finalizer of MurmurHash3 so that the low bits (which
// pick key groups) mix well even for short inputs. Every step is spelled out
// on fixed-width integers: the result is identical on every platform, and
// it never changes without a test noticing (tests/api/value_test.cpp pins
// it), because key groups and so checkpointed state depend on it.
constexpr uint64_t hash_seed = 0xcbf29ce484222325ULL;
constexpr uint64_t golden = 0x9e3779b97f4a7c15ULL;

uint64_t step(uint64_t h, uint64_t word) {
  h = (h ^ word) * golden;
  return h ^ (h >> 29);
}

uint64_t hash_bytes(uint64_t h, const std::string& s) {
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t word = 0;
    for (size_t b = 0; b < 8; ++b)
      word |= uint64_t{static_cast<uint8_t>(s[i + b])} << (8 * b);
    h = step(h, word);
  }
  uint64_t tail = 0;
  for (size_t b = 0; i + b < s.size(); ++b)
    tail |= uint64_t{static_cast<uint8_t>(s[i + b])} << (8 * b);
  return step(step(h, tail), s.size());
}

} // namespace

uint64_t mix64(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

namespace {

uint64_t double_bits(double x) {
  // Equal values must hash equal: -0.0 == 0.0. NaNs are not equal to
  // anything, but a single canonical NaN keeps their hash stable anyway.
  if (x == 0.0)
    x = 0.0;
  else if (std::isnan(x))
    x = std::numeric_limits<double>::quiet_NaN();
  uint64_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  return bits;
}

// -- rendering ----------------------------------------------------------------

bool needs_quotes(const std::string& s) {
  return s.find_first_of(",\"\r\n") != std::string::npos;
}

} // namespace

const char* to_string(value_type x) {
  switch (x) {
    case value_type::null:
      return "null";
    case value_type::int64:
      return "int64";
    case value_type::float64:
      return "double";
    case value_type::string:
      return "string";
    case value_type::boolean:
      return "bool";
    case value_type::timestamp:
      return "timestamp";
  }
  return "???";
}

uint64_t value::hash() const {
  auto h = step(hash_seed, static_cast<uint64_t>(type()));
  switch (type()) {
    case value_type::null:
      break;
    case value_type::int64:
      h = step(h, static_cast<uint64_t>(as_int64()));
      break;
    case value_type::float64:
      h = step(h, double_bits(as_double()));
      break;
    case value_type::string:
      h = hash_bytes(h, as_string());
      break;
    case value_type::boolean:
      h = step(h, as_bool() ? 1 : 0);
      break;
    case value_type::timestamp:
      h = step(h, static_cast<uint64_t>(as_timestamp().millis));
      break;
  }
  return mix64(h);
}

std::string to_string(const value& x) {
  switch (x.type()) {
    case value_type::null:
      return {};
    case value_type::int64:
      return std::to_string(x.as_int64());
    case value_type::float64: {
      // Shortest text that parses back to the same double.
      char buf[32];
      auto res = std::to_chars(buf, buf + sizeof(buf), x.as_double());
      return std::string(buf, res.ptr);
    }
    case value_type::string:
      return x.as_string();
    case value_type::boolean:
      return x.as_bool() ? "true" : "false";
    case value_type::timestamp:
      return std::to_string(x.as_timestamp().millis);
  }
  return {};
}

std::string to_csv(const row& r) {
  std::string out;
  for (size_t i = 0; i < r.size(); ++i) {
    if (i > 0)
      out += ',';
    // Only strings can hold a comma, quote or line break.
    if (r[i].type() == value_type::string && needs_quotes(r[i].as_string())) {
      out += '"';
      for (char c : r[i].as_string()) {
        if (c == '"')
          out += '"';
        out += c;
      }
      out += '"';
    } else {
      out += to_string(r[i]);
    }
  }
  return out;
}

uint64_t hash_fields(const row& r, const std::vector<size_t>& indexes) {
  // Each field's hash, in order, through the same step; the field count
  // goes first so that prefixes differ.
  auto h = step(hash_seed, indexes.size());
  for (auto i : indexes)
    h = step(h, r.at(i).hash());
  return mix64(h);
}

int key_group_of(uint64_t key_hash, int max_parallelism) {
  return static_cast<int>(mix64(key_hash)
                          % static_cast<uint64_t>(max_parallelism));
}

} // namespace weir
