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
