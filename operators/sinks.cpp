#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "operators/support.hpp"

namespace weir::builtins {

namespace {

// -- print --------------------------------------------------------------------

/// Serializes writes to std::cout of all print subtasks in the process, so
/// that lines never interleave.
std::mutex& stdout_mutex() {
  static std::mutex m;
  return m;
}

/// Flink's style: "3> row" with parallelism above 1, "row" otherwise; a
/// prefix becomes "prefix:3> row" or "prefix> row".
std::string print_line_prefix(const operator_context& ctx) {
  auto prefix = ctx.has("prefix") ? ctx.get_string("prefix") : std::string{};
  if (ctx.parallelism > 1) {
    if (!prefix.empty())
      prefix += ':';
    return prefix + std::to_string(ctx.subtask + 1) + "> ";
  }
  return prefix.empty() ? prefix : prefix + "> ";
}

operator_behavior make_print(const operator_context& ctx) {
  auto prefix = print_line_prefix(ctx);
  return operator_behavior{
    [prefix](const row& r, collector&) {
      auto line = prefix + to_csv(r) + '\n';
      std::lock_guard<std::mutex> guard{stdout_mutex()};
      std::cout.write(line.data(), static_cast<std::streamsize>(line.size()));
    },
    [](end_of_input_t, collector&) {
      std::lock_guard<std::mutex> guard{stdout_mutex()};
      std::cout.flush();
    },
  };
}

// -- file_sink ----------------------------------------------------------------

/// One file_sink subtask's output file. An error while opening is kept and
/// thrown by the first handler, because factories must not throw.
struct file_sink_state {
  std::string file;
  std::ofstream out;
  std::string error;

  void check() {
    if (!error.empty())
      throw std::runtime_error(error);
    if (!out)
      throw std::runtime_error("file_sink: cannot write '" + file
                               + "': " + std::strerror(errno));
  }
};

operator_behavior make_file_sink(const operator_context& ctx) {
  namespace fs = std::filesystem;
  auto st = std::make_shared<file_sink_state>();
  fs::path dir = ctx.get_string("path");
  st->file = (dir / ("part-" + std::to_string(ctx.subtask) + ".csv")).string();
  std::error_code ec;
  fs::create_directories(dir, ec);
  // Another subtask may have created it concurrently: only a missing
  // directory is an error.
  if (!fs::is_directory(dir)) {
    st->error = "file_sink: cannot create directory '" + dir.string()
                + "': " + (ec ? ec.message() : "not a directory");
    return operator_behavior{
      [st](const row&, collector&) { st->check(); },
      [st](end_of_input_t, collector&) { st->check(); },
    };
  }
  st->out.open(st->file, std::ios::out | std::ios::trunc | std::ios::binary);
  if (!st->out) {
    st->error
      = "file_sink: cannot open '" + st->file + "': " + std::strerror(errno);
  } else if (ctx.has("header") && ctx.get_bool("header")) {
    row names;
    for (const auto& f : ctx.input_fields)
      names.emplace_back(f);
    st->out << to_csv(names) << '\n';
  }
  return operator_behavior{
    [st](const row& r, collector&) {
      st->check();
      st->out << to_csv(r) << '\n';
    },
    [st](end_of_input_t, collector&) {
      st->check();
      st->out.flush();
      st->check();
      st->out.close();
      if (st->out.fail())
        throw std::runtime_error("file_sink: cannot close '" + st->file + "'");
    },
  };
}

// -- discard ------------------------------------------------------------------

operator_behavior make_discard(const operator_context&) {
  auto count = std::make_shared<uint64_t>(0);
  return operator_behavior{
    [count](const row&, collector&) { ++*count; },
  };
}

caf::expected<std::vector<std::string>>
no_output(const parameters&, const std::vector<std::string>&) {
  return std::vector<std::string>{};
}

} // namespace

operator_descriptor print_descriptor() {
  operator_descriptor d;
  d.name = "print";
  d.kind = operator_kind::sink;
  d.help = "Writes rows to stdout as CSV, prefixed with 'subtask>' when "
           "parallel (Flink's style).";
  d.params = {
    {"prefix", param_type::string, false, "", "label written before each line"},
  };
  d.output_fields = no_output;
  d.factory = make_print;
  return d;
}

operator_descriptor file_sink_descriptor() {
  operator_descriptor d;
  d.name = "file_sink";
  d.kind = operator_kind::sink;
  d.help = "Writes rows as CSV to <path>/part-<subtask>.csv.";
  d.params = {
    {"path", param_type::string, true, "",
     "output directory, created if missing"},
    {"header", param_type::boolean, false, "false",
     "write the field names as the first line"},
  };
  d.output_fields
    = [](const parameters& params, const std::vector<std::string>&)
    -> caf::expected<std::vector<std::string>> {
    if (param_or(params, "path").empty())
      return bad_param("file_sink", "parameter 'path' is empty");
    return std::vector<std::string>{};
  };
  d.factory = make_file_sink;
  return d;
}

operator_descriptor discard_descriptor() {
  operator_descriptor d;
  d.name = "discard";
  d.kind = operator_kind::sink;
  d.help = "Drops every row (benchmarks).";
  d.output_fields = no_output;
  d.factory = make_discard;
  return d;
}

} // namespace weir::builtins
