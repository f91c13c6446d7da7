#include "scheduler/placement.hpp"

#include <set>
#include <string>
#include <utility>
#include <vector>

#include <doctest/doctest.h>

#include "scheduler/fixtures.hpp"

using namespace weir;
using namespace weir::test;

namespace {

using slots = std::vector<slot_ref>;

/// `per_manager[i]` free slots on task manager i, numbered from 0.
slots free_slots(const std::vector<size_t>& per_manager) {
  slots result;
  for (size_t tm = 0; tm < per_manager.size(); ++tm)
    for (size_t s = 0; s < per_manager[tm]; ++s)
      result.push_back({tm, s});
  return result;
}

std::string render(const slots& xs) {
  std::string result;
  for (const auto& x : xs) {
    if (!result.empty())
      result += " ";
    result += std::to_string(x.task_manager) + "/" + std::to_string(x.slot);
  }
  return result;
}

} // namespace

TEST_CASE("slots are spread round-robin over task managers") {
  auto chosen = choose_slots(free_slots({3, 3, 3}), 5);
  REQUIRE(chosen);
  CHECK_EQ(render(*chosen), "0/0 1/0 2/0 0/1 1/1");
}

TEST_CASE("a task manager with fewer free slots drops out of later rounds") {
  auto chosen = choose_slots(free_slots({1, 3, 2}), 5);
  REQUIRE(chosen);
  CHECK_EQ(render(*chosen), "0/0 1/0 2/0 1/1 2/1");
}

TEST_CASE("slots are chosen regardless of the order they are offered in") {
  slots offered{{2, 7}, {0, 4}, {2, 1}, {1, 0}, {0, 2}};
  auto chosen = choose_slots(offered, 4);
  REQUIRE(chosen);
  CHECK_EQ(render(*chosen), "0/2 1/0 2/1 0/4");
}

TEST_CASE("choosing every free slot takes each exactly once") {
  auto offered = free_slots({2, 4, 1});
  auto chosen = choose_slots(offered, offered.size());
  REQUIRE(chosen);
  std::set<std::pair<size_t, size_t>> seen;
  for (const auto& s : *chosen)
    seen.emplace(s.task_manager, s.slot);
  CHECK_EQ(seen.size(), offered.size());
}

TEST_CASE("choosing no slots always succeeds") {
  auto chosen = choose_slots({}, 0);
  REQUIRE(chosen);
  CHECK(chosen->empty());
}

TEST_CASE("too few free slots is an error saying how many are missing") {
  auto chosen = choose_slots(free_slots({1, 2}), 4);
  REQUIRE_FALSE(chosen);
  CHECK_EQ(chosen.error().code(),
           static_cast<uint8_t>(scheduler_errc::not_enough_slots));
  CHECK_EQ(error_text(chosen.error()),
           "not enough free slots: the job needs 4 but only 3 are free on 2 "
           "task manager(s)");
}

TEST_CASE("a slot offered twice counts once") {
  auto chosen = choose_slots({{0, 0}, {0, 0}}, 2);
  CHECK_FALSE(chosen);
}

TEST_CASE("slot sharing puts subtask i of every task into slot i") {
  auto g = weir::test::graph_of(weir::test::wordcount());
  REQUIRE_MESSAGE(g, error_text(g.error()));
  auto p = make_plan(std::move(*g));
  auto granted = choose_slots(free_slots({2, 2}), p.required_slots());
  REQUIRE(granted);
  CHECK_EQ(render(*granted), "0/0 1/0 0/1 1/1");
  auto assigned = assign_slots(p, *granted);
  REQUIRE_EQ(assigned.size(), p.executions.size());
  // Tasks: lines -> words (2), counts (4), out (1).
  CHECK_EQ(render(assigned), "0/0 1/0 0/0 1/0 0/1 1/1 0/0");
  // No slot hosts two subtasks of one task.
  for (const auto& t : p.tasks) {
    std::set<std::pair<size_t, size_t>> used;
    for (int s = 0; s < t.parallelism; ++s) {
      const auto& x = assigned[p.execution_index(t.id, s)];
      CHECK(used.emplace(x.task_manager, x.slot).second);
    }
  }
}
