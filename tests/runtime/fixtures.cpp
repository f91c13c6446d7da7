// Fixtures shared by the runtime tests: fake operators (just enough
// descriptors to build job graphs and plans without the built-in operator
// library) and a helper that plans a job. The test files declare the helpers
// they use.

#include <stdexcept>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "api/job_builder.hpp"
#include "api/registry.hpp"
#include "scheduler/job_graph.hpp"
#include "scheduler/plan.hpp"

namespace weir::test {

namespace {

caf::expected<std::vector<std::string>>
same_fields(const parameters&, const std::vector<std::string>& in) {
  return in;
}

operator_descriptor make_op(std::string name, operator_kind kind,
                            std::vector<param_spec> params,
                            output_fields_fn output_fields,
                            operator_factory factory) {
  operator_descriptor d;
  d.name = std::move(name);
  d.kind = kind;
  d.params = std::move(params);
  d.output_fields = std::move(output_fields);
  d.factory = std::move(factory);
  return d;
}

void add(operator_registry& r, operator_descriptor d) {
  if (auto err = r.add(std::move(d)))
    throw std::logic_error(error_text(err));
}

operator_registry make_registry() {
  using pt = param_type;
  operator_registry r;
  // gen: a source of `columns` ("key,value" by default) that is exhausted
  // at once; the gates never look at what operators do.
  add(r, make_op(
           "gen", operator_kind::source,
           {{"columns", pt::name_list, false, "key,value", "columns"}},
           [](const parameters& ps, const std::vector<std::string>&)
             -> caf::expected<std::vector<std::string>> {
             return split_list(ps.at("columns"));
           },
           [](const operator_context&) {
             return operator_behavior{
               [](poll_t, collector&, size_t) { return poll_result::done(); },
             };
           }));
  // pass: forwards every row.
  add(r, make_op("pass", operator_kind::transform, {}, same_fields,
                 [](const operator_context&) {
                   return operator_behavior{
                     [](const row& x, collector& out) { out.emit(x); },
                   };
                 }));
  // keyed: forwards every row; keyed by `key`, so parallel instances need a
  // HASH input on exactly those fields.
  auto keyed = make_op("keyed", operator_kind::transform,
                       {{"key", pt::field_list, true, "", "key fields"}},
                       same_fields, [](const operator_context&) {
                         return operator_behavior{
                           [](const row& x, collector& out) { out.emit(x); },
                         };
                       });
  keyed.key_param = "key";
  add(r, std::move(keyed));
  // out: a sink that drops everything.
  add(r, make_op("out", operator_kind::sink, {}, same_fields,
                 [](const operator_context&) { return operator_behavior{}; }));
  return r;
}

} // namespace

/// The fake operators: gen (source), pass, keyed (keyed by `key`), out
/// (sink).
const operator_registry& fake_registry() {
  static const operator_registry registry = make_registry();
  return registry;
}

/// Builds and plans `job` with `registry`, which must outlive the plan. A
/// validation error fails the test.
plan plan_of(const job_builder& job, const operator_registry& registry) {
  auto g = build_job_graph(job.build(), registry);
  // Not REQUIRE_MESSAGE: doctest may render its message on success too.
  if (!g)
    FAIL(error_text(g.error()));
  return make_plan(std::move(*g));
}

/// Plans `job` with the fake operators.
plan plan_of(const job_builder& job) {
  return plan_of(job, fake_registry());
}

} // namespace weir::test
