#include "scheduler/plan.hpp"

#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "scheduler/fixtures.hpp"

using namespace weir;
using namespace weir::test;

namespace {

using strings = std::vector<std::string>;
using indexes = std::vector<size_t>;

plan plan_of(const std::string& text) {
  auto g = graph_of(text);
  REQUIRE_MESSAGE(g, error_text(g.error()));
  return make_plan(std::move(*g));
}

strings task_names(const plan& p) {
  strings result;
  for (const auto& t : p.tasks)
    result.push_back(t.name);
  return result;
}

} // namespace

// -- chaining
// ------------------------------------------------------------------

TEST_CASE("forward edges between equal parallelism chain into one task") {
  auto p = plan_of(source("s") + filter("a") + filter("b") + sink("out")
                   + edge("s", "a") + edge("a", "b") + edge("b", "out"));
  REQUIRE_EQ(p.tasks.size(), 1u);
  CHECK_EQ(p.tasks[0].name, "s -> a -> b -> out");
  CHECK_EQ(p.tasks[0].chain, indexes{0, 1, 2, 3});
  CHECK(p.edges.empty());
  CHECK(p.channels.empty());
  CHECK_EQ(p.executions.size(), 1u);
}

TEST_CASE("the wordcount job chains its source and splitter only") {
  auto p = plan_of(wordcount());
  CHECK_EQ(task_names(p), strings{"lines -> words", "counts", "out"});
  CHECK_EQ(p.tasks[0].parallelism, 2);
  CHECK_EQ(p.tasks[1].parallelism, 4);
  CHECK_EQ(p.tasks[2].parallelism, 1);
  REQUIRE_EQ(p.edges.size(), 2u);
  CHECK_EQ(p.edges[0].from, 0);
  CHECK_EQ(p.edges[0].to, 1);
  CHECK_EQ(p.edges[0].job_edge, 1u);
  CHECK_EQ(p.edges[0].part, partitioner::hash);
  CHECK_EQ(p.edges[0].key_indexes, indexes{0});
  CHECK_EQ(p.edges[1].part, partitioner::rebalance);
  CHECK_EQ(p.tasks[0].outputs, indexes{0});
  CHECK_EQ(p.tasks[1].inputs, indexes{0});
  CHECK_EQ(p.tasks[1].outputs, indexes{1});
  CHECK_EQ(p.tasks[2].inputs, indexes{1});
}

TEST_CASE("vertices of unequal parallelism are not chained") {
  auto p = plan_of(source("s", "parallelism: 2") + sink("out", "parallelism: 3")
                   + edge("s", "out"));
  CHECK_EQ(task_names(p), strings{"s", "out"});
  CHECK_EQ(p.edges[0].part, partitioner::rebalance);
}

TEST_CASE("vertices of unequal max parallelism are not chained") {
  auto p = plan_of(source("s") + sink("out", "max_parallelism: 64")
                   + edge("s", "out"));
  CHECK_EQ(task_names(p), strings{"s", "out"});
  CHECK_EQ(p.tasks[1].max_parallelism, 64);
  CHECK_EQ(p.executions[1].key_groups, key_group_range{0, 63});
}

TEST_CASE("hash and rebalance edges are not chained even at equal "
          "parallelism") {
  auto p
    = plan_of(source("s", param("columns", "k") + "parallelism: 2")
              + filter("f", "parallelism: 2") + sink("out", "parallelism: 2")
              + edge("s", "f", "partitioner: HASH keys: \"k\"")
              + edge("f", "out", "partitioner: REBALANCE"));
  CHECK_EQ(task_names(p), strings{"s", "f", "out"});
}

TEST_CASE("a vertex with two inputs is not chained to either") {
  auto p = plan_of(source("s1") + source("s2") + filter("u") + sink("out")
                   + edge("s1", "u") + edge("s2", "u") + edge("u", "out"));
  CHECK_EQ(task_names(p), strings{"s1", "s2", "u -> out"});
  CHECK_EQ(p.tasks[2].inputs, indexes{0, 1});
  CHECK_EQ(p.edges[0].part, partitioner::forward);
}

TEST_CASE("a vertex with two outputs is not chained to either") {
  auto p = plan_of(source("s") + filter("a") + filter("b") + sink("o1")
                   + sink("o2") + edge("s", "a") + edge("s", "b")
                   + edge("a", "o1") + edge("b", "o2"));
  CHECK_EQ(task_names(p), strings{"s", "a -> o1", "b -> o2"});
  CHECK_EQ(p.tasks[0].outputs, indexes{0, 1});
}

TEST_CASE("a chain is numbered by its head's topological position") {
  // s1 -> m is chained, so the task of s2 comes between its members.
  auto p = plan_of(source("s1") + source("s2") + filter("m") + sink("o1")
                   + sink("o2", "parallelism: 2") + edge("s1", "m")
                   + edge("m", "o1") + edge("s2", "o2"));
  CHECK_EQ(task_names(p), strings{"s1 -> m -> o1", "s2", "o2"});
  for (size_t i = 0; i < p.tasks.size(); ++i)
    CHECK_EQ(p.tasks[i].id, static_cast<int>(i));
}

// -- execution vertices and channels
// --------------------------------------------

TEST_CASE("every subtask becomes an execution vertex with its key groups") {
  auto p = plan_of(wordcount());
  REQUIRE_EQ(p.executions.size(), 7u);
  CHECK_EQ(p.required_slots(), 4);
  for (int t = 0; t < 3; ++t)
    for (int s = 0; s < p.tasks[static_cast<size_t>(t)].parallelism; ++s) {
      const auto& x = p.executions[p.execution_index(t, s)];
      CHECK_EQ(x.task, t);
      CHECK_EQ(x.subtask, s);
    }
  CHECK_EQ(p.execution_index(1, 2), 4u);
  CHECK_EQ(p.execution_index(2, 0), 6u);
  CHECK_EQ(p.executions[0].key_groups, key_group_range{0, 63});
  CHECK_EQ(p.executions[1].key_groups, key_group_range{64, 127});
  CHECK_EQ(p.executions[2].key_groups, key_group_range{0, 31});
  CHECK_EQ(p.executions[5].key_groups, key_group_range{96, 127});
  CHECK_EQ(p.executions[6].key_groups, key_group_range{0, 127});
}

TEST_CASE("non-forward exchanges connect every producer to every consumer") {
  auto p = plan_of(wordcount());
  // 2 x 4 for the hash exchange, 4 x 1 for the rebalance into the sink.
  REQUIRE_EQ(p.channels.size(), 12u);
  for (size_t i = 0; i < p.channels.size(); ++i)
    CHECK_EQ(p.channels[i].id, i);
  // Producer lists are in consumer order, consumer lists in producer order.
  const auto& lines1 = p.executions[p.execution_index(0, 1)];
  REQUIRE_EQ(lines1.output_channels.size(), 1u);
  REQUIRE_EQ(lines1.output_channels[0].size(), 4u);
  for (size_t j = 0; j < 4; ++j) {
    const auto& c = p.channels[lines1.output_channels[0][j]];
    CHECK_EQ(c.edge, 0u);
    CHECK_EQ(c.producer, 1u);
    CHECK_EQ(c.consumer, p.execution_index(1, static_cast<int>(j)));
  }
  const auto& counts3 = p.executions[p.execution_index(1, 3)];
  REQUIRE_EQ(counts3.input_channels.size(), 1u);
  REQUIRE_EQ(counts3.input_channels[0].size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const auto& c = p.channels[counts3.input_channels[0][i]];
    CHECK_EQ(c.producer, i);
    CHECK_EQ(c.consumer, 5u);
  }
  const auto& out = p.executions[p.execution_index(2, 0)];
  CHECK(out.output_channels.empty());
  REQUIRE_EQ(out.input_channels[0].size(), 4u);
  for (auto id : out.input_channels[0])
    CHECK_EQ(p.channels[id].edge, 1u);
}

TEST_CASE("forward exchanges connect subtask i to subtask i") {
  // s has two outputs, so both forward edges stay exchanges.
  auto p
    = plan_of(source("s", "parallelism: 3") + sink("a", "parallelism: 3")
              + sink("b", "parallelism: 3") + edge("s", "a") + edge("s", "b"));
  CHECK_EQ(task_names(p), strings{"s", "a", "b"});
  REQUIRE_EQ(p.channels.size(), 6u);
  for (const auto& c : p.channels) {
    const auto& from = p.executions[c.producer];
    const auto& to = p.executions[c.consumer];
    CHECK_EQ(from.task, 0);
    CHECK_EQ(to.task, p.edges[c.edge].to);
    CHECK_EQ(from.subtask, to.subtask);
  }
  const auto& s2 = p.executions[p.execution_index(0, 2)];
  REQUIRE_EQ(s2.output_channels.size(), 2u);
  CHECK_EQ(p.channels[s2.output_channels[0][0]].consumer,
           p.execution_index(1, 2));
  CHECK_EQ(p.channels[s2.output_channels[1][0]].consumer,
           p.execution_index(2, 2));
}

TEST_CASE("a broadcast exchange connects every producer to every consumer") {
  auto p = plan_of(source("s", "parallelism: 2") + sink("out", "parallelism: 3")
                   + edge("s", "out", "partitioner: BROADCAST"));
  CHECK_EQ(p.channels.size(), 6u);
  CHECK_EQ(p.required_slots(), 3);
}

// -- describe
// ------------------------------------------------------------------

TEST_CASE("describe renders tasks, operators and exchanges") {
  CHECK_EQ(describe(plan_of(wordcount())),
           "Job wordcount: 3 tasks, 7 subtasks, needs 4 slots\n"
           "task 0 \"lines -> words\" parallelism 2 (read -> split)\n"
           "  -> task 1 \"counts\" by HASH(word)\n"
           "task 1 \"counts\" parallelism 4 (count)\n"
           "  -> task 2 \"out\" by REBALANCE\n"
           "task 2 \"out\" parallelism 1 (write)\n");
}

TEST_CASE("describe lists every exchange of a task and all hash keys") {
  auto p = plan_of("name: \"fan\"\n"
                   + source("s", param("columns", "a, b") + "parallelism: 2")
                   + sink("x", "parallelism: 2") + sink("y")
                   + edge("s", "x", "partitioner: HASH keys: [\"b\", \"a\"]")
                   + edge("s", "y", "partitioner: BROADCAST"));
  CHECK_EQ(describe(p), "Job fan: 3 tasks, 5 subtasks, needs 2 slots\n"
                        "task 0 \"s\" parallelism 2 (read)\n"
                        "  -> task 1 \"x\" by HASH(b, a)\n"
                        "  -> task 2 \"y\" by BROADCAST\n"
                        "task 1 \"x\" parallelism 2 (write)\n"
                        "task 2 \"y\" parallelism 1 (write)\n");
}

TEST_CASE("describe counts in the singular for a single task") {
  CHECK_EQ(describe(plan_of(source("s") + sink("out") + edge("s", "out"))),
           "Job (unnamed): 1 task, 1 subtask, needs 1 slot\n"
           "task 0 \"s -> out\" parallelism 1 (read -> write)\n");
}
