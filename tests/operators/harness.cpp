#include "operators/harness.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <doctest/doctest.h>

#include "api/error.hpp"
#include "api/state.hpp"
#include "operators/builtins.hpp"
#include "scheduler/key_groups.hpp"

namespace weir::test {

const operator_registry& builtin_registry() {
  static const operator_registry registry = [] {
    operator_registry r;
    if (auto err = register_builtin_operators(r))
      FAIL(error_text(err));
    return r;
  }();
  return registry;
}

op_under_test make_op(const std::string& name, const parameters& params,
                      const std::vector<std::string>& input_fields, int subtask,
                      int parallelism, const fake_clock* clock, bool restored) {
  const auto& registry = builtin_registry();
  auto* desc = registry.find(name);
  REQUIRE_MESSAGE(desc != nullptr, "no operator " << name);
  auto resolved = registry.resolve_params(*desc, "v", params, input_fields);
  // Not REQUIRE_MESSAGE: doctest may render its message on success too.
  if (!resolved)
    FAIL(error_text(resolved.error()));
  auto outputs = desc->output_fields(*resolved, input_fields);
  if (!outputs)
    FAIL(error_text(outputs.error()));
  op_under_test op;
  op.ctx.vertex = "v";
  op.ctx.subtask = subtask;
  op.ctx.parallelism = parallelism;
  op.ctx.params = std::move(*resolved);
  op.ctx.input_fields = input_fields;
  op.ctx.output_fields = std::move(*outputs);
  op.ctx.restored = restored;
  if (clock != nullptr)
    op.ctx.now = clock->fn();
  if (desc->key_param.empty()) {
    op.behavior = desc->factory(op.ctx);
    return op;
  }
  // A keyed operator gets keyed state over every key group and, as in a
  // task, each record's key made current before its handler runs.
  auto keyed = std::make_shared<keyed_state_backend>(
    op.ctx.max_parallelism, 0, op.ctx.max_parallelism - 1);
  std::vector<size_t> key_indexes;
  for (const auto& k : split_list(op.ctx.params.at(desc->key_param))) {
    auto pos = std::find(input_fields.begin(), input_fields.end(), k);
    REQUIRE(pos != input_fields.end());
    key_indexes.push_back(static_cast<size_t>(pos - input_fields.begin()));
  }
  op.keyed = keyed;
  op.ctx.keyed_state = keyed.get();
  auto inner = std::make_shared<operator_behavior>(desc->factory(op.ctx));
  op.behavior = operator_behavior{
    [inner, keyed, key_indexes](const row& r, collector& out) {
      row key;
      for (auto i : key_indexes)
        key.push_back(r.at(i));
      keyed->set_current_key(
        std::move(key),
        key_group_of(hash_fields(r, key_indexes), keyed->max_parallelism()));
      inner->on_record(r, out);
    },
    [inner](end_of_input_t, collector& out) { inner->on_end_of_input(out); },
  };
  return op;
}

std::string validation_error(const std::string& name, const parameters& params,
                             const std::vector<std::string>& input_fields) {
  const auto& registry = builtin_registry();
  auto* desc = registry.find(name);
  REQUIRE_MESSAGE(desc != nullptr, "no operator " << name);
  auto resolved = registry.resolve_params(*desc, "v", params, input_fields);
  if (!resolved)
    return error_text(resolved.error());
  auto outputs = desc->output_fields(*resolved, input_fields);
  if (!outputs)
    return error_text(outputs.error());
  return {};
}

std::vector<row> drain(const operator_behavior& source, size_t budget) {
  REQUIRE(source.is_source());
  vector_collector out;
  for (;;) {
    auto before = out.rows.size();
    auto res = source.on_poll(out, budget);
    REQUIRE(out.rows.size() - before <= budget);
    REQUIRE(res.kind != poll_result::wait);
    if (res.kind == poll_result::finished)
      break;
  }
  return std::move(out.rows);
}

std::vector<row> run(const operator_behavior& op,
                     const std::vector<row>& rows) {
  vector_collector out;
  for (const auto& r : rows)
    op.on_record(r, out);
  op.on_end_of_input(out);
  return std::move(out.rows);
}

temp_dir::temp_dir() {
  char pattern[] = "/tmp/weir-ops-test-XXXXXX";
  auto* dir = ::mkdtemp(pattern);
  REQUIRE(dir != nullptr);
  path_ = dir;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string temp_dir::write(const std::string& name,
                            const std::string& content) const {
  auto file = path_ + "/" + name;
  std::ofstream out{file, std::ios::binary | std::ios::trunc};
  out << content;
  REQUIRE(out.good());
  return file;
}

std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> expected_lines(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    auto end = nl == std::string::npos ? text.size() : nl;
    auto line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    out.push_back(line);
    pos = end + 1;
  }
  return out;
}

std::vector<std::string> list_dir(const std::string& path) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator{path})
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

} // namespace weir::test
