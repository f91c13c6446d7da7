#include "api/codec.hpp"

#include <algorithm>
#include <cstring>

namespace weir {

namespace {

// -- encoding -----------------------------------------------------------------

constexpr size_t max_varint_size = 10;

uint64_t zigzag(int64_t x) {
  return (static_cast<uint64_t>(x) << 1) ^ static_cast<uint64_t>(x >> 63);
}

int64_t unzigzag(uint64_t x) {
  return static_cast<int64_t>((x >> 1) ^ (~(x & 1) + 1));
}

// Writes `x` at `p`, returns the position after it.
char* put_varint(char* p, uint64_t x) {
  while (x >= 0x80) {
    *p++ = static_cast<char>((x & 0x7f) | 0x80);
    x >>= 7;
  }
  *p++ = static_cast<char>(x);
  return p;
}

void append_fixed64(std::string& out, uint64_t x) {
  char buf[8];
  for (int i = 0; i < 8; ++i)
    buf[i] = static_cast<char>(x >> (8 * i));
  out.append(buf, sizeof(buf));
}

// An upper bound of the encoded size of `r`, to reserve once per call.
size_t size_bound(const row& r) {
  size_t n = max_varint_size;
  for (auto& x : r) {
    n += 1 + max_varint_size;
    if (x.type() == value_type::string)
      n += x.as_string().size();
  }
  return n;
}

void reserve_more(std::string& out, size_t extra) {
  auto need = out.size() + extra;
  // Grow geometrically: callers append many rows to one buffer.
  if (need > out.capacity())
    out.reserve(std::max(need, 2 * out.capacity()));
}

void encode_fields(const row& r, std::string& out) {
  append_varint(out, r.size());
  for (auto& x : r) {
    out += static_cast<char>(x.type());
    switch (x.type()) {
      case value_type::null:
        break;
      case value_type::int64:
        append_varint(out, zigzag(x.as_int64()));
        break;
      case value_type::float64: {
        uint64_t bits;
        auto d = x.as_double();
        std::memcpy(&bits, &d, sizeof(bits));
        append_fixed64(out, bits);
        break;
      }
      case value_type::string:
        append_varint(out, x.as_string().size());
        out += x.as_string();
        break;
      case value_type::boolean:
        out += static_cast<char>(x.as_bool() ? 1 : 0);
        break;
      case value_type::timestamp:
        append_varint(out, zigzag(x.as_timestamp().millis));
        break;
    }
  }
}

// -- decoding -----------------------------------------------------------------

/// Bounds-checked reader over [data, data + size).
class reader {
public:
  reader(const char* data, size_t size, size_t pos)
    : data_(data), size_(size), pos_(pos) {
  }

  size_t pos() const {
    return pos_;
  }

  size_t remaining() const {
    return size_ - pos_;
  }

  bool byte(uint8_t& x) {
    if (pos_ >= size_)
      return false;
    x = static_cast<uint8_t>(data_[pos_++]);
    return true;
  }

  /// Rejects varints longer than 10 bytes, values above 64 bits and
  /// non-minimal encodings (a trailing zero byte), so that every value has
  /// exactly one encoding.
  bool varint(uint64_t& x) {
    return read_varint(data_, size_, pos_, x);
  }

  bool fixed64(uint64_t& x) {
    if (remaining() < 8)
      return false;
    x = 0;
    for (int i = 0; i < 8; ++i)
      x |= static_cast<uint64_t>(static_cast<uint8_t>(data_[pos_ + i]))
           << (8 * i);
    pos_ += 8;
    return true;
  }

  bool bytes(std::string& x, uint64_t n) {
    if (n > remaining())
      return false;
    x.assign(data_ + pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return true;
  }

private:
  const char* data_;
  size_t size_;
  size_t pos_;
};

bool decode_value(reader& in, value& out) {
  uint8_t tag;
  if (!in.byte(tag))
    return false;
  switch (static_cast<value_type>(tag)) {
    case value_type::null:
      out = value{};
      return true;
    case value_type::int64: {
      uint64_t x;
      if (!in.varint(x))
        return false;
      out = value{unzigzag(x)};
      return true;
    }
    case value_type::float64: {
      uint64_t bits;
      if (!in.fixed64(bits))
        return false;
      double d;
      std::memcpy(&d, &bits, sizeof(d));
      out = value{d};
      return true;
    }
    case value_type::string: {
      uint64_t n;
      std::string s;
      if (!in.varint(n) || !in.bytes(s, n))
        return false;
      out = value{std::move(s)};
      return true;
    }
    case value_type::boolean: {
      uint8_t b;
      if (!in.byte(b) || b > 1)
        return false;
      out = value{b == 1};
      return true;
    }
    case value_type::timestamp: {
      uint64_t x;
      if (!in.varint(x))
        return false;
      out = value{timestamp{unzigzag(x)}};
      return true;
    }
  }
  return false; // unknown tag
}

std::optional<row> decode_fields(reader& in) {
  uint64_t n;
  // Every field takes at least its tag byte: a larger count is corrupt, and
  // checking it first keeps a bad count from reserving gigabytes.
  if (!in.varint(n) || n > in.remaining())
    return std::nullopt;
  row r;
  r.resize(static_cast<size_t>(n));
  for (auto& x : r)
    if (!decode_value(in, x))
      return std::nullopt;
  return r;
}

} // namespace

void encode_row(const row& r, std::string& out) {
  reserve_more(out, size_bound(r));
  encode_fields(r, out);
}

std::string encode_rows(const std::vector<row>& rows) {
  size_t bound = max_varint_size;
  for (auto& r : rows)
    bound += size_bound(r);
  std::string out;
  out.reserve(bound);
  append_varint(out, rows.size());
  for (auto& r : rows)
    encode_fields(r, out);
  return out;
}

std::optional<row> decode_row(const char* data, size_t size, size_t& pos) {
  if (pos > size)
    return std::nullopt;
  reader in{data, size, pos};
  auto r = decode_fields(in);
  // Leave `pos` alone on failure so callers can report where it happened.
  if (r)
    pos = in.pos();
  return r;
}

std::optional<std::vector<row>> decode_rows(const std::string& bytes) {
  reader in{bytes.data(), bytes.size(), 0};
  uint64_t n;
  // Every row takes at least its field count byte.
  if (!in.varint(n) || n > in.remaining())
    return std::nullopt;
  std::vector<row> rows;
  rows.reserve(static_cast<size_t>(n));
  for (uint64_t i = 0; i < n; ++i) {
    auto r = decode_fields(in);
    if (!r)
      return std::nullopt;
    rows.push_back(std::move(*r));
  }
  if (in.remaining() != 0)
    return std::nullopt;
  return rows;
}

void append_varint(std::string& out, uint64_t x) {
  char buf[max_varint_size];
  out.append(buf, put_varint(buf, x));
}

bool read_varint(const char* data, size_t size, size_t& pos, uint64_t& x) {
  x = 0;
  for (size_t i = 0; i < max_varint_size; ++i) {
    if (pos >= size)
      return false;
    auto b = static_cast<uint8_t>(data[pos++]);
    if (i == max_varint_size - 1 && b > 1)
      return false;
    x |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0)
      return b != 0 || i == 0;
  }
  return false;
}

} // namespace weir
