#pragma once

#include <cstddef>
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

/// Encodes `rows` back to back after a varint row count.
std::string encode_rows(const std::vector<row>& rows);

/// Decodes one row starting at `pos`, advancing it. Returns nullopt on
/// malformed or truncated input (never reads past `size`).
std::optional<row> decode_row(const char* data, size_t size, size_t& pos);

/// Decodes the output of encode_rows; nullopt on malformed input or
/// trailing bytes.
std::optional<std::vector<row>> decode_rows(const std::string& bytes);

} // namespace weir
