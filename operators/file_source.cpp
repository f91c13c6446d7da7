#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>

#include "api/codec.hpp"
#include "api/state.hpp"
#include "operators/line_reader.hpp"
#include "operators/parse.hpp"
#include "operators/support.hpp"

namespace weir::builtins {

namespace {

/// Column types from the `types` parameter: all strings when absent.
std::vector<value_type> column_types(const parameters& params, size_t columns) {
  std::vector<value_type> out(columns, value_type::string);
  auto names = split_list(param_or(params, "types"));
  for (size_t i = 0; i < names.size() && i < columns; ++i)
    out[i] = parse_type_name(names[i]).value_or(value_type::string);
  return out;
}

caf::expected<std::vector<std::string>>
file_source_output(const parameters& params, const std::vector<std::string>&) {
  const std::string op = "file_source";
  if (param_or(params, "path").empty())
    return bad_param(op, "parameter 'path' is empty");
  auto format = param_or(params, "format", "lines");
  if (auto err = check_one_of(op, "format", format, {"lines", "csv"}))
    return err;
  auto fields = split_list(param_or(params, "fields"));
  auto types = split_list(param_or(params, "types"));
  if (format == "lines") {
    if (!fields.empty() || !types.empty())
      return bad_param(op, "parameters 'fields' and 'types' apply to "
                           "format csv only; format lines emits one field, "
                           "'line'");
    return std::vector<std::string>{"line"};
  }
  if (fields.empty())
    return bad_param(op, "format csv needs parameter 'fields' naming the "
                         "columns");
  std::set<std::string> seen;
  for (const auto& f : fields)
    if (!seen.insert(f).second)
      return bad_param(op, "parameter 'fields' names column '" + f + "' twice");
  if (!types.empty()) {
    if (types.size() != fields.size())
      return bad_param(op, "parameter 'types' lists "
                             + std::to_string(types.size()) + " types for "
                             + std::to_string(fields.size()) + " fields ("
                             + join(fields) + ")");
    for (size_t i = 0; i < types.size(); ++i)
      if (!parse_type_name(types[i]))
        return bad_param(op,
                         "parameter 'types' gives column '" + fields[i]
                           + "' the unknown type '" + types[i]
                           + "'; expected one of: " + join(type_names(), " "));
  }
  return fields;
}

/// One byte range of the file: the part subtask `subtask` of
/// `parallelism` owns (line_reader), and how far it was read.
struct file_split {
  int subtask = 0;
  int parallelism = 1;
  /// Where to continue, as line_reader::position() and lines_read();
  /// unset when the split was not started.
  std::optional<std::pair<uint64_t, uint64_t>> resume;
  std::unique_ptr<line_reader> reader;
};

/// One file_source subtask: its splits, read one after the other, and the
/// CSV layout. A fresh subtask has the one split its index gives it; a
/// restored one has the splits it restored (after rescaling several or
/// none), so every line is read exactly once at any parallelism.
struct file_source_state {
  explicit file_source_state(const operator_context& ctx)
    : path(ctx.get_string("path")),
      csv(ctx.has("format") && ctx.get_string("format") == "csv"),
      skip_header(ctx.has("skip_header") && ctx.get_bool("skip_header")),
      names(ctx.output_fields), types(column_types(ctx.params, names.size())) {
    if (!ctx.restored)
      splits.push_back(file_split{ctx.subtask, ctx.parallelism, {}, nullptr});
  }

  std::string path;
  std::vector<file_split> splits;
  bool csv;
  bool skip_header;
  std::vector<std::string> names;
  std::vector<value_type> types;
  /// Buffers reused from line to line.
  std::string line;
  std::vector<std::string> cells;

  /// The reader of the first unfinished split, opened; null when every
  /// split is done.
  line_reader* current() {
    if (splits.empty())
      return nullptr;
    auto& s = splits.front();
    if (!s.reader) {
      s.reader = std::make_unique<line_reader>(path, s.subtask, s.parallelism);
      s.reader->open();
      if (s.resume)
        s.reader->resume_at(s.resume->first, s.resume->second);
    }
    return s.reader.get();
  }

  /// Reads the next line of the current split into `line`; moves on to
  /// the next split at the end of one. False when all are done.
  bool next() {
    while (auto* r = current()) {
      if (r->next(line))
        return true;
      splits.erase(splits.begin());
    }
    return false;
  }

  /// The snapshot: operator list "splits" holding [subtask, parallelism,
  /// byte offset of the next line (-1: not started), lines read] per
  /// unfinished split.
  std::string snapshot() const {
    operator_state state;
    auto& xs = state.list("splits");
    for (const auto& s : splits) {
      xs.emplace_back(int64_t{s.subtask});
      xs.emplace_back(int64_t{s.parallelism});
      if (s.reader) {
        xs.emplace_back(static_cast<int64_t>(s.reader->position()));
        xs.emplace_back(static_cast<int64_t>(s.reader->lines_read()));
      } else if (s.resume) {
        xs.emplace_back(static_cast<int64_t>(s.resume->first));
        xs.emplace_back(static_cast<int64_t>(s.resume->second));
      } else {
        xs.emplace_back(int64_t{-1});
        xs.emplace_back(int64_t{0});
      }
    }
    return state.snapshot();
  }

  void restore(const std::string& bytes) {
    operator_state state;
    if (auto err = state.restore(bytes))
      throw std::runtime_error("file_source: corrupt checkpointed splits: "
                               + error_text(err));
    const auto& xs = state.list("splits");
    auto corrupt = [](const std::string& what) {
      return std::runtime_error("file_source: corrupt checkpointed splits: "
                                + what);
    };
    if (xs.size() % 4 != 0)
      throw corrupt(std::to_string(xs.size()) + " values, not quadruples");
    for (const auto& x : xs)
      if (x.type() != value_type::int64)
        throw corrupt("non-integer value");
    for (size_t i = 0; i < xs.size(); i += 4) {
      file_split s;
      auto subtask = xs[i].as_int64();
      auto parallelism = xs[i + 1].as_int64();
      auto offset = xs[i + 2].as_int64();
      auto lines = xs[i + 3].as_int64();
      if (parallelism < 1 || parallelism > INT32_MAX || subtask < 0
          || subtask >= parallelism || offset < -1 || lines < 0)
        throw corrupt("split " + std::to_string(i / 4) + " out of range");
      s.subtask = static_cast<int>(subtask);
      s.parallelism = static_cast<int>(parallelism);
      if (offset >= 0)
        s.resume.emplace(static_cast<uint64_t>(offset),
                         static_cast<uint64_t>(lines));
      splits.push_back(std::move(s));
    }
  }

  [[noreturn]] void fail(const std::string& what) {
    auto* r = splits.empty() ? nullptr : splits.front().reader.get();
    throw std::runtime_error(
      "file_source: " + path + ":"
      + (r != nullptr ? std::to_string(r->line_number()) + ": " : "") + what);
  }

  /// Parses the current line as CSV; false for a blank line (skipped).
  bool parse_csv(row& out) {
    if (line.empty())
      return false;
    auto err = split_csv_record(line, cells);
    if (!err.empty())
      fail(err);
    if (cells.size() != names.size())
      fail("expected " + std::to_string(names.size()) + " columns ("
           + join(names) + "), found " + std::to_string(cells.size()));
    out.clear();
    out.reserve(cells.size());
    for (size_t i = 0; i < cells.size(); ++i) {
      if (types[i] == value_type::string) {
        out.emplace_back(std::move(cells[i]));
        continue;
      }
      if (cells[i].find_first_not_of(" \t") == std::string::npos) {
        // An empty cell of a typed column is a missing value.
        out.emplace_back();
        continue;
      }
      auto v = parse_value(cells[i], types[i]);
      if (!v)
        fail("column " + std::to_string(i + 1) + " ('" + names[i]
             + "'): cannot parse '" + cells[i] + "' as " + to_string(types[i]));
      out.push_back(std::move(*v));
    }
    return true;
  }
};

operator_behavior make_file_source(const operator_context& ctx) {
  auto st = std::make_shared<file_source_state>(ctx);
  return operator_behavior{
    [st](poll_t, collector& out, size_t budget) -> poll_result {
      // The budget bounds lines read, so skipped lines cannot stall a poll.
      for (size_t n = 0; n < budget; ++n) {
        if (!st->next())
          return poll_result::done();
        if (st->skip_header && st->splits.front().reader->line_offset() == 0)
          continue;
        if (!st->csv) {
          out.emit(row{value{st->line}});
          continue;
        }
        row r;
        if (st->parse_csv(r))
          out.emit(std::move(r));
      }
      return poll_result::ready();
    },
    [st](snapshot_t) { return st->snapshot(); },
    [st](restore_t, const std::string& bytes) { st->restore(bytes); },
  };
}

} // namespace

operator_descriptor file_source_descriptor() {
  operator_descriptor d;
  d.name = "file_source";
  d.kind = operator_kind::source;
  d.help = "Reads a text file as lines (field 'line') or as CSV (fields named "
           "by 'fields', typed by 'types'); subtasks split it by byte "
           "ranges.";
  d.params = {
    {"path", param_type::string, true, "", "the file to read"},
    {"format", param_type::string, false, "lines", "lines or csv"},
    {"fields", param_type::name_list, false, "",
     "csv only: the column names (required for csv)"},
    {"types", param_type::string, false, "",
     "csv only: comma list of int64|double|string|bool|timestamp, one per "
     "column (empty cells of typed columns are null); default: all "
     "string"},
    {"skip_header", param_type::boolean, false, "false",
     "skip the file's first line"},
  };
  d.output_fields = file_source_output;
  d.factory = make_file_source;
  return d;
}

} // namespace weir::builtins
