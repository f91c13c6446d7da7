#include <atomic>
#include <cstdlib>
#include <cstring>
#include <cerrno>
#include "cluster/library_store.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include <openssl/evp.h>

#include "cluster/error.hpp"

namespace fs = std::filesystem;

namespace weir {

std::string library_id(const std::string& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "sha256-";
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0xf];
  }
  return out;
}

bool is_library_id(const std::string& id) {
  static const std::string prefix = "sha256-";
  if (id.size() != prefix.size() + 64 || id.compare(0, prefix.size(), prefix))
    return false;
  for (size_t i = prefix.size(); i < id.size(); ++i) {
    auto c = id[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  }
  return true;
}

caf::expected<std::string> read_library_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return make_error(cluster_errc::bad_library,
                      "cannot read user library '" + path + "'");
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

caf::error write_library_file(const std::string& path,
                              const std::string& bytes) {
  // Unique per write: uploads of the same library may run at once.
  static std::atomic<uint64_t> writes{0};
  auto tmp = path + ".tmp-" + std::to_string(::getpid()) + "-"
             + std::to_string(++writes);
  {
    std::ofstream out{tmp, std::ios::binary | std::ios::trunc};
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out.flush())
      return make_error(cluster_errc::bad_library,
                        "cannot write user library '" + tmp + "'");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    return make_error(cluster_errc::bad_library, "cannot store user library '"
                                                   + path
                                                   + "': " + ec.message());
  }
  return caf::none;
}

caf::expected<std::string> private_temp_dir(const std::string& prefix) {
  std::error_code ec;
  auto base = fs::temp_directory_path(ec);
  if (ec)
    base = "/tmp";
  auto tmpl = (base / (prefix + "XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr)
    return make_error(cluster_errc::bad_library, "cannot create a directory "
                                                   + tmpl + ": "
                                                   + std::strerror(errno));
  return tmpl;
}

caf::expected<std::shared_ptr<library_store>>
library_store::open(const std::string& dir) {
  std::string where = dir;
  std::error_code ec;
  if (where.empty()) {
    auto tmp = private_temp_dir("weir-blobs-");
    if (!tmp)
      return tmp.error();
    where = std::move(*tmp);
  }
  fs::create_directories(where, ec);
  if (ec)
    return make_error(cluster_errc::bad_library,
                      "blob.storage.directory '" + where
                        + "' cannot be created: " + ec.message());
  return std::shared_ptr<library_store>{new library_store(where)};
}

caf::expected<std::string> library_store::put(const std::string& bytes) {
  auto id = library_id(bytes);
  auto file = dir_ + "/" + id + ".so";
  std::error_code ec;
  if (fs::exists(file, ec))
    return id;
  if (auto err = write_library_file(file, bytes))
    return err;
  return id;
}

caf::expected<std::string> library_store::path(const std::string& id) const {
  if (!is_library_id(id))
    return make_error(cluster_errc::bad_library,
                      "'" + id + "' is not a library id (sha256-<64 hex>)");
  auto file = dir_ + "/" + id + ".so";
  std::error_code ec;
  if (!fs::exists(file, ec))
    return make_error(cluster_errc::bad_library,
                      "no user library " + id + " was uploaded");
  return file;
}

caf::expected<std::string> library_store::get(const std::string& id) const {
  auto file = path(id);
  if (!file)
    return file.error();
  return read_library_file(*file);
}

} // namespace weir
