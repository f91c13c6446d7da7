#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "api/value.hpp"

namespace weir {

/// Compact binary encoding of rows: a varint field count, then per field a
/// tag byte (value_type) and a payload: zigzag varint for int64 and
/// timestamp, 8 little-endian bytes for double, varint length plus bytes for
/// string, one byte for bool, nothing for null.
///
/// Used for batches that leave the process and for state files; rows inside
/// one process travel as objects.
void encode_row(const row& r, std::string& out);

/// Appends `x` as a varint (7 bits per byte, least significant first).
void append_varint(std::string& out, uint64_t x);

/// Reads a varint at `pos` of [data, data + size), advancing `pos`. Accepts
/// only minimal encodings of at most 64 bits, so every value has exactly
/// one encoding; false (pos unspecified) on malformed or truncated input.
bool read_varint(const char* data, size_t size, size_t& pos, uint64_t& x);

/// Encodes `rows` back to back after a varint row count.
std::string encode_rows(const std::vector<row>& rows);

/// Decodes one row starting at `pos`, advancing it. Returns nullopt on
/// malformed or truncated input (never reads past `size`).
std::optional<row> decode_row(const char* data, size_t size, size_t& pos);

/// Decodes the output of encode_rows; nullopt on malformed input or
/// trailing bytes.
std::optional<std::vector<row>> decode_rows(const std::string& bytes);

} // namespace weir
