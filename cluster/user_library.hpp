#pragma once

#include <functional>
#include <memory>
#include <string>

#include <caf/expected.hpp>

#include "api/registry.hpp"

namespace weir {

/// Loads the shared library at `path` (dlopen; loaded once per process
/// and never unloaded, since operators built from it may live anywhere)
/// and returns `base` plus its operators. Errors name the library: it does
/// not load (dlerror's words), lacks the WEIR_OPERATOR_LIBRARY entry point,
/// or its entry point fails (a name clash with a built-in, say).
caf::expected<std::shared_ptr<const operator_registry>>
load_operator_library(const std::string& path,
                      const std::shared_ptr<const operator_registry>& base);

/// Maps a library id (JobSpec.library_id) to a local file.
using library_resolver
  = std::function<caf::expected<std::string>(const std::string& id)>;

/// The registry to plan `spec` with: `base` when it names no library;
/// with the operators of the library it names otherwise, by id (resolved
/// with `resolve`) or by path (JobSpec.library, read where it runs).
caf::expected<std::shared_ptr<const operator_registry>>
registry_for(const proto::JobSpec& spec,
             const std::shared_ptr<const operator_registry>& base,
             const library_resolver& resolve);

/// Whether `<cache>/<id>.so` holds the library with that id.
bool cached_library(const std::string& cache, const std::string& id);

/// Keeps the fetched `bytes` of library `id` as `<cache>/<id>.so`; an error
/// when they do not hash to `id`.
caf::error store_fetched_library(const std::string& cache,
                                 const std::string& id,
                                 const std::string& bytes);

/// A TaskManager's resolver: the file `<cache>/<id>.so`, which its task
/// manager fetched (store_fetched_library) before deploying; an error when
/// it is not there or does not hash to `id`.
caf::expected<std::string> cached_library_path(const std::string& cache,
                                               const std::string& id);

} // namespace weir
