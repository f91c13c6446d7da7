// Planning two-input operators: which edge feeds which input, the fields
// and keys of each input, and the errors that name what is wrong.

#include <string>

#include <doctest/doctest.h>

#include "operators/harness.hpp"
#include "scheduler/job_graph.hpp"
#include "scheduler/job_loader.hpp"

using namespace weir;
using namespace weir::test;

namespace {

/// people {id, name, ts} and sales {seller, amount, ts}, joined.
std::string join_job(const std::string& join_params,
                     const std::string& second_edge
                     = "input: 1 partitioner: HASH keys: \"seller\"",
                     const std::string& op = "interval_join") {
  return R"(
name: "j"
parallelism: 2
vertices { id: "src" operator: "sequence" params { key: "to" value: "10" } }
vertices {
  id: "people" operator: "compute"
  params { key: "field" value: "value" } params { key: "op" value: "add" }
  params { key: "operand" value: "0" } params { key: "as" value: "id" }
}
vertices {
  id: "sales" operator: "compute"
  params { key: "field" value: "value" } params { key: "op" value: "mul" }
  params { key: "operand" value: "2" } params { key: "as" value: "seller" }
}
vertices { id: "j" operator: ")"
         + op + R"(" )" + join_params + R"( }
vertices { id: "out" operator: "discard" }
edges { from: "src" to: "people" }
edges { from: "src" to: "sales" }
edges { from: "people" to: "j" partitioner: HASH keys: "id" }
edges { from: "sales" to: "j" )"
         + second_edge + R"( }
edges { from: "j" to: "out" }
)";
}

const std::string keys = R"(params { key: "key" value: "id" }
  params { key: "second_key" value: "seller" }
  params { key: "time_field" value: "value" }
  params { key: "second_time_field" value: "value" })";

caf::expected<job_graph> plan_of(const std::string& text) {
  auto spec = parse_job_text(text, {}, "job.pbtxt");
  if (!spec)
    return spec.error();
  return build_job_graph(*spec, builtin_registry());
}

std::string error_of(const std::string& text) {
  auto g = plan_of(text);
  return g ? std::string{} : error_text(g.error());
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("a join takes its first and second input from the edges' input") {
  auto g = plan_of(join_job(keys));
  REQUIRE_MESSAGE(g, error_text(g.error()));
  const auto& j = g->vertices[3];
  REQUIRE(j.id == "j");
  CHECK(j.input_fields == std::vector<std::string>{"value", "id"});
  CHECK(j.second_input_fields == std::vector<std::string>{"value", "seller"});
  CHECK(j.key_indexes == std::vector<size_t>{1});
  CHECK(j.second_key_indexes == std::vector<size_t>{1});
  // A name both inputs have gets "_2" on the second one.
  CHECK(j.output_fields
        == std::vector<std::string>{"value", "id", "value_2", "seller"});
}

TEST_CASE("a join without an edge into its second input is rejected") {
  auto err = error_of(join_job(keys, "partitioner: HASH keys: \"seller\""));
  CHECK_MESSAGE(contains(err, "no edge feeds input 1"), err);
}

TEST_CASE("an edge into a third input is rejected") {
  auto err
    = error_of(join_job(keys, "input: 2 partitioner: HASH keys: \"seller\""));
  CHECK_MESSAGE(contains(err, "input 2 does not exist"), err);
}

TEST_CASE("an edge into input 1 of a one-input operator is rejected") {
  auto text = join_job(keys);
  auto pos = text.find("edges { from: \"j\" to: \"out\" }");
  text.replace(pos, std::string{"edges { from: \"j\" to: \"out\" }"}.size(),
               "edges { from: \"j\" to: \"out\" input: 1 }");
  auto err = error_of(text);
  CHECK_MESSAGE(contains(err, "has one input (0)"), err);
}

TEST_CASE("the second input must be hashed on the second key") {
  auto err = error_of(join_job(keys, "input: 1 partitioner: REBALANCE"));
  CHECK_MESSAGE(contains(err, "is keyed by (seller)"), err);
}

TEST_CASE("a second key the second input lacks is rejected") {
  auto bad = keys;
  bad.replace(bad.find("\"seller\""), 8, "\"buyer\"");
  auto err = error_of(join_job(bad));
  CHECK_MESSAGE(contains(err, "buyer"), err);
}

TEST_CASE("window_join needs a positive size and interval_join ordered "
          "bounds") {
  auto err = error_of(join_job(keys + R"( params { key: "size" value: "0" })",
                               "input: 1 partitioner: HASH keys: \"seller\"",
                               "window_join"));
  CHECK_MESSAGE(contains(err, "'size' must be a positive"), err);
  err = error_of(join_job(keys + R"( params { key: "lower" value: "5" }
    params { key: "upper" value: "1" })"));
  CHECK_MESSAGE(contains(err, "is above 'upper'"), err);
}
