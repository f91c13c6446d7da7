// A program that embeds Weir as a library and runs a job with two
// user-defined operators on the embedded mini cluster:
//
//   lines (file_source) -> words (tokenize) -> initials (user: word -> its
//   first letter) -HASH-> counts (aggregate) -> chart (user: a bar chart,
//   printed at end of input)
//
// Usage: weir_example_custom_operator FILE [PARALLELISM]

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <string>

#include "actors/local_runner.hpp"
#include "api/job_builder.hpp"
#include "api/registry.hpp"
#include "operators/builtins.hpp"

namespace {

/// `initial`: {word} -> {initial}, the first character of the word.
weir::operator_descriptor initial_operator() {
  weir::operator_descriptor d;
  d.name = "initial";
  d.kind = weir::operator_kind::transform;
  d.help = "replaces a string field by its first character";
  d.params = {{"field", weir::param_type::field, true, "", "a string field"}};
  d.output_fields
    = [](const weir::parameters&, const std::vector<std::string>& in) {
        return caf::expected<std::vector<std::string>>{in};
      };
  d.factory = [](const weir::operator_context& ctx) {
    auto index = ctx.input_index(ctx.get_string("field"));
    return weir::operator_behavior{
      [index](const weir::row& r, weir::collector& out) {
        const auto& word = r[index].as_string();
        if (word.empty())
          return;
        auto copy = r;
        copy[index] = word.substr(0, 1);
        out.emit(std::move(copy));
      },
    };
  };
  return d;
}

/// `bar_chart`: a sink that collects {label, count} rows and prints one bar
/// per label when its input ends. State lives in the handlers' closure.
weir::operator_descriptor bar_chart_operator() {
  weir::operator_descriptor d;
  d.name = "bar_chart";
  d.kind = weir::operator_kind::sink;
  d.help = "prints {label, count} rows as a bar chart at end of input";
  d.params = {};
  d.output_fields = [](const weir::parameters&,
                       const std::vector<std::string>&) {
    return caf::expected<std::vector<std::string>>{std::vector<std::string>{}};
  };
  d.factory = [](const weir::operator_context&) {
    auto bars = std::make_shared<std::map<std::string, int64_t>>();
    return weir::operator_behavior{
      [bars](const weir::row& r, weir::collector&) {
        (*bars)[weir::to_string(r[0])] += r[1].as_int64();
      },
      [bars](weir::end_of_input_t, weir::collector&) {
        int64_t top = 1;
        for (auto& kvp : *bars)
          top = std::max(top, kvp.second);
        for (auto& kvp : *bars)
          std::cout << kvp.first << " "
                    << std::string(static_cast<size_t>(kvp.second * 50 / top),
                                   '#')
                    << " " << kvp.second << "\n";
      },
    };
  };
  return d;
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: " << argv[0] << " FILE [PARALLELISM]\n";
    return 2;
  }
  int parallelism = argc > 2 ? std::atoi(argv[2]) : 2;
  auto registry = std::make_shared<weir::operator_registry>();
  if (auto err = weir::register_builtin_operators(*registry))
    return 1;
  registry->add(initial_operator());
  registry->add(bar_chart_operator());
  auto spec
    = weir::job_builder{"initials"}
        .parallelism(parallelism)
        .vertex("lines", "file_source", {{"path", argv[1]}})
        .vertex("words", "tokenize", {{"field", "line"}, {"as", "word"}})
        .vertex("initials", "initial", {{"field", "word"}})
        .vertex("counts", "aggregate", {{"key", "word"}, {"function", "count"}})
        .vertex("chart", "bar_chart", {}, 1)
        .forward("lines", "words")
        .forward("words", "initials")
        .hash("initials", "counts", {"word"})
        .rebalance("counts", "chart")
        .build();
  weir::local_run_options opts;
  opts.cluster.task_managers = 2;
  opts.cluster.slots_per_task_manager = static_cast<uint32_t>(parallelism);
  auto result = weir::run_local_job(spec, registry, opts);
  if (!result) {
    std::cerr << "job rejected: " << weir::error_text(result.error()) << "\n";
    return 2;
  }
  std::cerr << "job " << weir::to_string(result->status);
  if (!result->cause.empty())
    std::cerr << ": " << result->cause;
  std::cerr << "\n";
  return result->status == weir::job_status::finished ? 0 : 1;
}
