#pragma once

#include <map>
#include <string>

#include <caf/expected.hpp>

#include "scheduler/error.hpp"
#include "weir/proto/job_spec.pb.h"

namespace weir {

/// Values for `${name}` placeholders, from `--param name=value`.
using job_params = std::map<std::string, std::string>;

/// Replaces every `${name}` in `text` by params[name]; `${name:-fallback}`
/// uses the fallback when the parameter is absent. Errors: an unfilled
/// placeholder (naming it and its line), an unterminated `${`, and a
/// parameter in `params` that the text never uses (likely a typo).
caf::expected<std::string> substitute_placeholders(const std::string& text,
                                                   const job_params& params,
                                                   const std::string& origin);

/// Parses protobuf text into a JobSpec after placeholder substitution.
/// `origin` (a file name) prefixes error messages: "job.pbtxt:3:7: ...".
caf::expected<proto::JobSpec> parse_job_text(const std::string& text,
                                             const job_params& params,
                                             const std::string& origin);

/// Reads and parses a .pbtxt file; a missing file is a clear error. A
/// relative `library` path comes back resolved against the file's
/// directory.
caf::expected<proto::JobSpec> load_job_file(const std::string& path,
                                            const job_params& params);

} // namespace weir
