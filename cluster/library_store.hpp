#pragma once

#include <memory>
#include <string>

#include <caf/expected.hpp>

namespace weir {

/// The JobManager's store of uploaded user libraries (Flink's blob
/// server): each is kept once, as `<dir>/<id>.so`, under its content id
/// "sha256-<64 hex digits>". Uploads of the same bytes get the same id.
/// Ids are checked to have exactly that form before they touch the
/// filesystem, so no request can name another path. Thread-safe.
class library_store {
public:
  /// Opens (creating) the store in `dir`; an empty `dir` means a fresh
  /// directory under the system's temporary directory.
  static caf::expected<std::shared_ptr<library_store>>
  open(const std::string& dir);

  /// Stores `bytes` and returns their id.
  caf::expected<std::string> put(const std::string& bytes);

  /// The file of library `id`, or an error if it is unknown or malformed.
  caf::expected<std::string> path(const std::string& id) const;

  /// The bytes of library `id`.
  caf::expected<std::string> get(const std::string& id) const;

  const std::string& dir() const {
    return dir_;
  }

private:
  explicit library_store(std::string dir) : dir_(std::move(dir)) {
  }

  std::string dir_;
};

/// The content id of `bytes`: "sha256-" and the SHA-256 digest in hex.
std::string library_id(const std::string& bytes);

/// Whether `id` has the form library_id() returns.
bool is_library_id(const std::string& id);

/// A fresh directory `<tmp>/<prefix>XXXXXX` only this user can enter
/// (mkdtemp, mode 0700): the default blob directory, so that no other local
/// user can slip a library into it.
caf::expected<std::string> private_temp_dir(const std::string& prefix);

/// Reads a whole file; an error names the path.
caf::expected<std::string> read_library_file(const std::string& path);

/// Writes `bytes` to `path` atomically (temporary file, rename).
caf::error write_library_file(const std::string& path,
                              const std::string& bytes);

} // namespace weir
