#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "api/job_builder.hpp"
#include "checkpoint/restore_assignment.hpp"
#include "operators/builtins.hpp"
#include "scheduler/job_graph.hpp"

using namespace weir;

namespace {

const operator_registry& builtins() {
  static const operator_registry registry = [] {
    operator_registry r;
    REQUIRE(!register_builtin_operators(r));
    return r;
  }();
  return registry;
}

/// numbers (p) -HASH-> counts (p, max parallelism `m`) -> out (p).
plan make_job(int p, int m = 16, const std::string& counts = "counts") {
  auto spec
    = job_builder{"j"}
        .parallelism(p)
        .max_parallelism(m)
        .vertex("numbers", "sequence", {{"to", "100"}})
        .vertex(counts, "aggregate", {{"key", "value"}, {"function", "count"}})
        .vertex("out", "discard", {})
        .hash("numbers", counts, {"value"})
        .forward(counts, "out")
        .build();
  auto graph = build_job_graph(spec, builtins());
  REQUIRE_MESSAGE(graph, error_text(graph.error()));
  return make_plan(std::move(*graph));
}

/// A checkpoint of `p` as its coordinator records it (no files needed).
completed_checkpoint checkpoint_of(const plan& p) {
  completed_checkpoint cp;
  cp.dir = "/nowhere/chk-9";
  cp.metadata.set_checkpoint_id(9);
  for (auto& v : vertex_infos(p))
    *cp.metadata.add_vertices() = std::move(v);
  for (const auto& ev : p.executions) {
    const auto& t = p.tasks[ev.task];
    auto* h = cp.metadata.add_subtasks();
    h->set_vertex_or_task_id("task" + std::to_string(ev.task));
    h->set_subtask(ev.subtask);
    h->set_parallelism(t.parallelism);
    h->set_max_parallelism(t.max_parallelism);
    h->set_key_group_first(static_cast<uint32_t>(ev.key_groups.first));
    h->set_key_group_last(static_cast<uint32_t>(ev.key_groups.last));
    for (auto vi : t.chain) {
      h->add_vertices(p.graph.vertices[vi].id);
      h->add_stateful_vertices(p.graph.vertices[vi].id);
    }
  }
  return cp;
}

/// (task id, old subtask) of every handle assigned to execution `e`.
std::set<std::pair<std::string, int>> assigned(const restore_assignment& a,
                                               size_t e) {
  std::set<std::pair<std::string, int>> out;
  for (const auto& bytes : a.handles.at(e)) {
    proto::SubtaskStateHandle h;
    REQUIRE(h.ParseFromString(bytes));
    out.emplace(h.vertex_or_task_id(), h.subtask());
  }
  return out;
}

} // namespace

TEST_CASE("at the same parallelism each subtask restores its own state") {
  auto p = make_job(2);
  auto a = assign_restore(checkpoint_of(p), p, false);
  REQUIRE_MESSAGE(a, error_text(a.error()));
  CHECK(a->checkpoint_id == 9);
  CHECK(a->vertices == std::vector<std::string>{"counts", "numbers", "out"});
  for (size_t e = 0; e < p.executions.size(); ++e) {
    const auto& ev = p.executions[e];
    CHECK(assigned(*a, e)
          == std::set<std::pair<std::string, int>>{
            {"task" + std::to_string(ev.task), ev.subtask}});
  }
}

TEST_CASE("rescaling assigns operator state by j % p and keyed state by "
          "overlapping key groups") {
  auto old = make_job(3);
  auto now = make_job(2);
  auto a = assign_restore(checkpoint_of(old), now, false);
  REQUIRE_MESSAGE(a, error_text(a.error()));
  // Sources: old subtasks 0 and 2 to new subtask 0, 1 to new subtask 1.
  CHECK(assigned(*a, now.execution_index(0, 0))
        == std::set<std::pair<std::string, int>>{{"task0", 0}, {"task0", 2}});
  CHECK(assigned(*a, now.execution_index(0, 1))
        == std::set<std::pair<std::string, int>>{{"task0", 1}});
  // Keyed: 16 key groups, old ranges [0,5] [6,10] [11,15], new [0,7]
  // [8,15]: new subtask 0 overlaps old 0 and 1 (and takes old 2's
  // operator state), new subtask 1 overlaps old 1 and 2.
  CHECK(assigned(*a, now.execution_index(1, 0))
        == std::set<std::pair<std::string, int>>{
          {"task1", 0}, {"task1", 1}, {"task1", 2}});
  CHECK(assigned(*a, now.execution_index(1, 1))
        == std::set<std::pair<std::string, int>>{{"task1", 1}, {"task1", 2}});
}

TEST_CASE("a checkpoint that does not fit the job is refused, naming the "
          "vertex") {
  auto cp = checkpoint_of(make_job(2));
  SUBCASE("a vertex with state is missing") {
    auto a = assign_restore(cp, make_job(2, 16, "tally"), false);
    REQUIRE_FALSE(a);
    CHECK(error_text(a.error()).find("vertex 'counts'") != std::string::npos);
    CHECK(error_text(a.error()).find("allow non-restored state")
          != std::string::npos);
    auto allowed = assign_restore(cp, make_job(2, 16, "tally"), true);
    REQUIRE(allowed);
    CHECK(allowed->vertices == std::vector<std::string>{"numbers", "out"});
  }
  SUBCASE("a keyed vertex changed its max parallelism") {
    auto a = assign_restore(cp, make_job(2, 32), false);
    REQUIRE_FALSE(a);
    CHECK(error_text(a.error()).find("vertex 'counts' keeps keyed state in 16")
          != std::string::npos);
  }
  SUBCASE("a vertex changed its operator") {
    cp.metadata.mutable_vertices(1)->set_operator_("filter");
    auto a = assign_restore(cp, make_job(2), false);
    REQUIRE_FALSE(a);
    CHECK(error_text(a.error()).find("was a 'filter' operator")
          != std::string::npos);
  }
}
