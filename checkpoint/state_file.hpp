#pragma once

#include <string>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "checkpoint/error.hpp"

namespace weir {

/// The on-disk form of a piece of state (a serialized protobuf message):
///
///   "WEIRSTAT"  8 bytes of magic
///   version     4 bytes, little endian (currently 1)
///   frame       an LZ4 frame holding the payload, with its content size
///               and a content checksum (xxHash32)
///
/// A truncated, corrupted or foreign file is detected when it is decoded
/// and reported as an error naming the file; it is never half-read.
/// Checkpoints (checkpoint/) store every subtask's state this way.

/// Builds the file image of `payload`.
std::string encode_state_file(const std::string& payload);

/// Extracts and verifies the payload of a file image; `origin` (a path)
/// prefixes error messages.
caf::expected<std::string> decode_state_file(const std::string& image,
                                             const std::string& origin);

/// Writes `payload` to `path` atomically: a temporary file in the same
/// directory, fsync, rename, fsync of the directory. On error (disk full,
/// permissions) nothing is left behind and the error names the path.
caf::error write_state_file(const std::string& path,
                            const std::string& payload);

/// Reads and verifies the state file at `path`.
caf::expected<std::string> read_state_file(const std::string& path);

} // namespace weir
