#include <algorithm>
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

/// One file_source subtask: its reader and the CSV layout.
struct file_source_state {
  explicit file_source_state(const operator_context& ctx)
    : reader(ctx.get_string("path"), ctx.subtask, ctx.parallelism),
      csv(ctx.has("format") && ctx.get_string("format") == "csv"),
      skip_header(ctx.has("skip_header") && ctx.get_bool("skip_header")),
      names(ctx.output_fields), types(column_types(ctx.params, names.size())) {
  }

  line_reader reader;
  /// Set by a restore: where to continue once the file is open.
  std::optional<std::pair<uint64_t, uint64_t>> resume;
  bool csv;
  bool skip_header;
  std::vector<std::string> names;
  std::vector<value_type> types;
  /// Buffers reused from line to line.
  std::string line;
  std::vector<std::string> cells;

  [[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error("file_source: " + reader.path() + ":"
                             + std::to_string(reader.line_number()) + ": "
                             + what);
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
      if (!st->reader.is_open()) {
        st->reader.open();
        if (st->resume)
          st->reader.resume_at(st->resume->first, st->resume->second);
      }
      // The budget bounds lines read, so skipped lines cannot stall a poll.
      for (size_t n = 0; n < budget; ++n) {
        if (!st->reader.next(st->line))
          return poll_result::done();
        if (st->skip_header && st->reader.line_offset() == 0)
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
    // The read position as operator state: the list "position" = [byte
    // offset of the next line, lines read so far (for line numbers in
    // error messages)]; empty before the file was opened.
    [st](snapshot_t) {
      operator_state state;
      if (st->reader.is_open())
        state.list("position")
          = {value{static_cast<int64_t>(st->reader.position())},
             value{static_cast<int64_t>(st->reader.lines_read())}};
      else if (st->resume)
        state.list("position")
          = {value{static_cast<int64_t>(st->resume->first)},
             value{static_cast<int64_t>(st->resume->second)}};
      return state.snapshot();
    },
    [st](restore_t, const std::string& bytes) {
      operator_state state;
      if (auto err = state.restore(bytes))
        throw std::runtime_error("file_source: corrupt checkpointed position: "
                                 + error_text(err));
      const auto& pos = state.list("position");
      if (pos.empty())
        return;
      if (pos.size() != 2 || pos[0].type() != value_type::int64
          || pos[1].type() != value_type::int64)
        throw std::runtime_error(
          "file_source: the checkpointed state holds "
          + std::to_string(pos.size() / 2)
          + " read positions for one subtask; a file_source restores only at "
            "the parallelism it was checkpointed with");
      st->resume.emplace(static_cast<uint64_t>(pos[0].as_int64()),
                         static_cast<uint64_t>(pos[1].as_int64()));
    },
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
