#pragma once

#include <cstddef>
#include <vector>

#include <caf/expected.hpp>

#include "scheduler/error.hpp"
#include "scheduler/plan.hpp"

namespace weir {

/// A slot offered by a task manager: (task manager index, slot index).
struct slot_ref {
  size_t task_manager = 0;
  size_t slot = 0;

  friend bool operator==(slot_ref a, slot_ref b) {
    return a.task_manager == b.task_manager && a.slot == b.slot;
  }
};

/// Picks `count` slots out of `free_slots`, spreading them over task
/// managers round-robin (the least loaded task manager first, ties by
/// index). An error if fewer than `count` slots are free.
caf::expected<std::vector<slot_ref>>
choose_slots(const std::vector<slot_ref>& free_slots, size_t count);

/// Assigns every execution vertex to a slot with slot sharing: subtask i of
/// every task goes to granted[i], so one slot hosts at most one subtask of
/// each task. `granted` must hold at least p.required_slots() slots.
/// Returns one slot per execution vertex (same order as p.executions).
std::vector<slot_ref> assign_slots(const plan& p,
                                   const std::vector<slot_ref>& granted);

} // namespace weir
