#include "cluster/user_library.hpp"

#include <dlfcn.h>
#include <filesystem>
#include <map>
#include <mutex>

#include "api/library.hpp"
#include "cluster/error.hpp"
#include "cluster/library_store.hpp"

namespace fs = std::filesystem;

namespace weir {

namespace {

using entry_fn = const char* (*)(operator_registry*);

/// Libraries loaded so far, by path, with the registries they gave.
std::mutex loaded_mtx;
std::map<std::pair<std::string, const operator_registry*>,
         std::shared_ptr<const operator_registry>>
  loaded;

} // namespace

caf::expected<std::shared_ptr<const operator_registry>>
load_operator_library(const std::string& path,
                      const std::shared_ptr<const operator_registry>& base) {
  std::lock_guard<std::mutex> guard{loaded_mtx};
  auto key = std::make_pair(path, base.get());
  if (auto i = loaded.find(key); i != loaded.end())
    return i->second;
  auto* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    return make_error(cluster_errc::bad_library,
                      "cannot load user library '" + path
                        + "': " + (why ? why : "unknown error"));
  }
  auto entry
    = reinterpret_cast<entry_fn>(::dlsym(handle, WEIR_OPERATOR_LIBRARY_ENTRY));
  if (entry == nullptr)
    return make_error(cluster_errc::bad_library,
                      "user library '" + path
                        + "' has no entry point " WEIR_OPERATOR_LIBRARY_ENTRY
                          " (define it with WEIR_OPERATOR_LIBRARY)");
  auto reg = std::make_shared<operator_registry>(*base);
  if (const char* err = entry(reg.get()))
    return make_error(cluster_errc::bad_library, "user library '" + path
                                                   + "' failed to register its "
                                                     "operators: "
                                                   + err);
  loaded.emplace(key, reg);
  return std::shared_ptr<const operator_registry>{reg};
}

caf::expected<std::shared_ptr<const operator_registry>>
registry_for(const proto::JobSpec& spec,
             const std::shared_ptr<const operator_registry>& base,
             const library_resolver& resolve) {
  if (!spec.library_id().empty()) {
    auto file = resolve(spec.library_id());
    if (!file)
      return file.error();
    return load_operator_library(*file, base);
  }
  if (!spec.library().empty())
    return load_operator_library(spec.library(), base);
  return base;
}

bool cached_library(const std::string& cache, const std::string& id) {
  if (!is_library_id(id))
    return false;
  auto bytes = read_library_file(cache + "/" + id + ".so");
  return bytes && library_id(*bytes) == id;
}

caf::error store_fetched_library(const std::string& cache,
                                 const std::string& id,
                                 const std::string& bytes) {
  if (!is_library_id(id) || library_id(bytes) != id)
    return make_error(cluster_errc::bad_library,
                      "user library " + id + " arrived corrupted");
  std::error_code ec;
  fs::create_directories(cache, ec);
  return write_library_file(cache + "/" + id + ".so", bytes);
}

caf::expected<std::string> cached_library_path(const std::string& cache,
                                               const std::string& id) {
  if (!is_library_id(id))
    return make_error(cluster_errc::bad_library,
                      "'" + id + "' is not a library id");
  if (!cached_library(cache, id))
    return make_error(cluster_errc::bad_library,
                      "user library " + id + " is not in " + cache
                        + " (it is fetched from the JobManager before a "
                          "task of the job deploys)");
  return cache + "/" + id + ".so";
}

} // namespace weir
