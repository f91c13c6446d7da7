#include "scheduler/job_loader.hpp"

#include "api/text.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

namespace weir {

namespace {

/// 1-based line number of `pos` in `text`.
size_t line_of(const std::string& text, size_t pos) {
  size_t line = 1;
  for (size_t i = 0; i < pos && i < text.size(); ++i)
    if (text[i] == '\n')
      ++line;
  return line;
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
         || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

std::string quoted_list(const std::vector<std::string>& xs) {
  std::string result;
  for (const auto& x : xs) {
    if (!result.empty())
      result += ", ";
    result += '\'';
    result += x;
    result += '\'';
  }
  return result;
}

/// Collects the first error protobuf's text parser reports, with its
/// position made 1-based and prefixed by the origin.
class first_error_collector : public google::protobuf::io::ErrorCollector {
public:
  explicit first_error_collector(const std::string& origin) : origin_(origin) {
    // nop
  }

  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (!text_.empty())
      return;
    text_ = origin_ + ':' + std::to_string(line + 1) + ':'
            + std::to_string(column + 1) + ": " + message;
  }

  const std::string& text() const {
    return text_;
  }

private:
  const std::string& origin_;
  std::string text_;
};

} // namespace

caf::expected<std::string> substitute_placeholders(const std::string& text,
                                                   const job_params& params,
                                                   const std::string& origin) {
  std::string result;
  result.reserve(text.size());
  std::set<std::string> used;
  size_t pos = 0;
  for (;;) {
    auto start = text.find("${", pos);
    if (start == std::string::npos) {
      result.append(text, pos, std::string::npos);
      break;
    }
    result.append(text, pos, start - pos);
    auto at = origin + ':' + std::to_string(line_of(text, start)) + ": ";
    // A placeholder never spans lines: a `}` on a later line belongs to
    // the surrounding text, so the error points at the real culprit.
    auto stop = text.find_first_of("}\n", start + 2);
    if (stop == std::string::npos || text[stop] != '}')
      return make_error(scheduler_errc::parse_error,
                        at + "unterminated placeholder '${' (missing '}')");
    auto body = text.substr(start + 2, stop - start - 2);
    auto sep = body.find(":-");
    auto name = body.substr(0, sep);
    if (name.empty())
      return make_error(scheduler_errc::parse_error,
                        at + "placeholder ${" + body + "} has no name");
    for (auto c : name)
      if (!is_name_char(c))
        return make_error(scheduler_errc::parse_error,
                          at + "placeholder ${" + body + "} has a bad name '"
                            + name
                            + "' (use letters, digits, '_', '-' and '.')");
    used.insert(name);
    if (auto i = params.find(name); i != params.end())
      result += i->second;
    else if (sep != std::string::npos)
      result.append(body, sep + 2, std::string::npos);
    else
      return make_error(scheduler_errc::unfilled_placeholder,
                        at + "placeholder ${" + name
                          + "} has no value; pass --param " + name + "=...");
    pos = stop + 1;
  }
  std::vector<std::string> unused;
  for (const auto& kvp : params)
    if (used.count(kvp.first) == 0)
      unused.push_back(kvp.first);
  if (!unused.empty()) {
    auto msg = unused.size() == 1
                 ? "--param " + quoted_list(unused) + " is not used by "
                 : "--params " + quoted_list(unused) + " are not used by ";
    msg += origin;
    if (used.empty())
      msg += " (it has no placeholders)";
    else
      msg += " (its placeholders: "
             + join(std::vector<std::string>(used.begin(), used.end())) + ")";
    return make_error(scheduler_errc::unused_param, std::move(msg));
  }
  return result;
}

caf::expected<proto::JobSpec> parse_job_text(const std::string& text,
                                             const job_params& params,
                                             const std::string& origin) {
  auto substituted = substitute_placeholders(text, params, origin);
  if (!substituted)
    return std::move(substituted.error());
  first_error_collector errors{origin};
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  proto::JobSpec spec;
  if (!parser.ParseFromString(*substituted, &spec)) {
    auto msg = errors.text();
    if (msg.empty())
      msg = origin + ": not a valid JobSpec";
    return make_error(scheduler_errc::parse_error, std::move(msg));
  }
  return spec;
}

caf::expected<proto::JobSpec> load_job_file(const std::string& path,
                                            const job_params& params) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return make_error(scheduler_errc::parse_error,
                      "cannot read job file '" + path + "': it is a directory");
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return make_error(scheduler_errc::parse_error,
                      "cannot read job file '" + path
                        + "': " + std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad())
    return make_error(scheduler_errc::parse_error,
                      "cannot read job file '" + path
                        + "': " + std::strerror(errno));
  auto spec = parse_job_text(buf.str(), params, path);
  if (spec && !spec->library().empty()) {
    // A library path is relative to the descriptor, as its reader sees it.
    std::filesystem::path lib{spec->library()};
    if (lib.is_relative())
      spec->set_library(
        (std::filesystem::absolute(path, ec).parent_path() / lib).string());
  }
  return spec;
}

} // namespace weir
