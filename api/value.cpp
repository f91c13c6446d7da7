#include "api/value.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace weir {

namespace {

// -- stable hashing -----------------------------------------------------------

// FNV-1a over a canonical byte representation, followed by the 64-bit
// finalizer of MurmurHash3 so that the low bits (which pick key groups) mix
// well even for short inputs. Every step is spelled out on fixed-width
// integers: the result is identical on every platform and never changes
// without a test noticing (tests/api/value_test.cpp pins it).
constexpr uint64_t fnv_offset = 0xcbf29ce484222325ULL;
constexpr uint64_t fnv_prime = 0x100000001b3ULL;

uint64_t fnv_byte(uint64_t h, uint8_t b) {
  return (h ^ b) * fnv_prime;
}

uint64_t fnv_u64(uint64_t h, uint64_t x) {
  // Little-endian byte order, whatever the host's.
  for (int i = 0; i < 8; ++i)
    h = fnv_byte(h, static_cast<uint8_t>(x >> (8 * i)));
  return h;
}

uint64_t fnv_bytes(uint64_t h, const std::string& s) {
  for (char c : s)
    h = fnv_byte(h, static_cast<uint8_t>(c));
  return h;
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
  auto h = fnv_byte(fnv_offset, static_cast<uint8_t>(type()));
  switch (type()) {
    case value_type::null:
      break;
    case value_type::int64:
      h = fnv_u64(h, static_cast<uint64_t>(as_int64()));
      break;
    case value_type::float64:
      h = fnv_u64(h, double_bits(as_double()));
      break;
    case value_type::string:
      h = fnv_bytes(h, as_string());
      break;
    case value_type::boolean:
      h = fnv_byte(h, as_bool() ? 1 : 0);
      break;
    case value_type::timestamp:
      h = fnv_u64(h, static_cast<uint64_t>(as_timestamp().millis));
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
  // Feeds each field's hash, in order, through the same FNV-1a + fmix64
  // scheme; the field count goes first so that prefixes differ.
  auto h = fnv_u64(fnv_offset, indexes.size());
  for (auto i : indexes)
    h = fnv_u64(h, r.at(i).hash());
  return mix64(h);
}

} // namespace weir
