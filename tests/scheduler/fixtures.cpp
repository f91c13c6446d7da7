// Fixtures shared by the scheduler tests: fake operators (just enough
// descriptors -- kinds, parameters, output fields -- to build job graphs
// without the built-in operator library) and small job text builders,
// declared in fixtures.hpp.

#include "scheduler/fixtures.hpp"

#include <stdexcept>
#include <string>
#include <vector>

#include "api/registry.hpp"
#include "scheduler/job_graph.hpp"
#include "scheduler/job_loader.hpp"

namespace weir::test {

namespace {

operator_descriptor make_op(std::string name, operator_kind kind,
                            std::vector<param_spec> params,
                            output_fields_fn output_fields) {
  operator_descriptor d;
  d.name = std::move(name);
  d.kind = kind;
  d.params = std::move(params);
  d.output_fields = std::move(output_fields);
  d.factory = [](const operator_context&) { return operator_behavior{}; };
  return d;
}

void add(operator_registry& r, operator_descriptor d) {
  if (auto err = r.add(std::move(d)))
    throw std::logic_error(error_text(err));
}

caf::expected<std::vector<std::string>>
same_fields(const parameters&, const std::vector<std::string>& in) {
  return in;
}

operator_registry make_registry() {
  using pt = param_type;
  operator_registry r;
  // read: a source emitting `columns` (one "line" column by default).
  add(r, make_op("read", operator_kind::source,
                 {{"path", pt::string, true, "", "file to read"},
                  {"columns", pt::name_list, false, "line", "column names"}},
                 [](const parameters& ps, const std::vector<std::string>&)
                   -> caf::expected<std::vector<std::string>> {
                   return split_list(ps.at("columns"));
                 }));
  // split: one output column, `as`, holding pieces of input `field`.
  add(r, make_op("split", operator_kind::transform,
                 {{"field", pt::field, true, "", "field to split"},
                  {"as", pt::string, false, "word", "output field"}},
                 [](const parameters& ps, const std::vector<std::string>&)
                   -> caf::expected<std::vector<std::string>> {
                   return std::vector<std::string>{ps.at("as")};
                 }));
  // filter: passes rows through unchanged.
  add(r, make_op("filter", operator_kind::transform,
                 {{"where", pt::string, false, "", "condition"},
                  {"limit", pt::int64, false, "", "rows to pass at most"}},
                 same_fields));
  // count: keyed by `key`; emits the key fields and a count.
  auto count = make_op("count", operator_kind::transform,
                       {{"key", pt::field_list, true, "", "key fields"}},
                       [](const parameters& ps, const std::vector<std::string>&)
                         -> caf::expected<std::vector<std::string>> {
                         auto out = split_list(ps.at("key"));
                         out.push_back("count");
                         return out;
                       });
  count.key_param = "key";
  add(r, std::move(count));
  // rename: renames every input field; the counts must match.
  add(r, make_op("rename", operator_kind::transform,
                 {{"to", pt::name_list, true, "", "new names"}},
                 [](const parameters& ps, const std::vector<std::string>& in)
                   -> caf::expected<std::vector<std::string>> {
                   auto out = split_list(ps.at("to"));
                   if (out.size() != in.size())
                     return make_error(api_errc::bad_parameter,
                                       "parameter 'to' names "
                                         + std::to_string(out.size())
                                         + " fields but the input has "
                                         + std::to_string(in.size()));
                   return out;
                 }));
  // write: a sink.
  add(r,
      make_op("write", operator_kind::sink,
              {{"path", pt::string, true, "", "file to write"}}, same_fields));
  return r;
}

} // namespace

/// The fake operators: read, split, filter, count (keyed), rename, write.
const operator_registry& fake_registry() {
  static const operator_registry registry = make_registry();
  return registry;
}

/// Parses `text` as a JobSpec and builds its graph with the fake operators.
caf::expected<job_graph> graph_of(const std::string& text,
                                  const graph_options& opts) {
  auto spec = parse_job_text(text, {}, "job.pbtxt");
  if (!spec)
    return std::move(spec.error());
  return build_job_graph(*spec, fake_registry(), opts);
}

/// The text of the error building `text` fails with, or "<no error>".
std::string graph_error(const std::string& text, const graph_options& opts) {
  auto graph = graph_of(text, opts);
  return graph ? std::string{"<no error>"} : error_text(graph.error());
}

// -- job text in small pieces -------------------------------------------------

std::string param(const std::string& key, const std::string& value) {
  return "params { key: \"" + key + "\" value: \"" + value + "\" } ";
}

std::string vertex(const std::string& id, const std::string& op,
                   const std::string& extra) {
  return "vertices { id: \"" + id + "\" operator: \"" + op + "\" " + extra
         + "}\n";
}

std::string edge(const std::string& from, const std::string& to,
                 const std::string& extra) {
  return "edges { from: \"" + from + "\" to: \"" + to + "\" " + extra + "}\n";
}

std::string source(const std::string& id, const std::string& extra) {
  return vertex(id, "read", param("path", "in.txt") + extra);
}

std::string sink(const std::string& id, const std::string& extra) {
  return vertex(id, "write", param("path", "out.csv") + extra);
}

std::string filter(const std::string& id, const std::string& extra) {
  return vertex(id, "filter", extra);
}

std::string wordcount(const std::string& counts_extra,
                      const std::string& into_counts) {
  return "name: \"wordcount\"\nparallelism: 2\n" + source("lines", "")
         + vertex("words", "split", param("field", "line"))
         + vertex("counts", "count", param("key", "word") + counts_extra)
         + sink("out", "parallelism: 1") + edge("lines", "words", "")
         + edge("words", "counts", into_counts) + edge("counts", "out", "");
}

} // namespace weir::test
