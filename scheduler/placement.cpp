#include "scheduler/placement.hpp"

#include <cassert>
#include <map>
#include <set>
#include <string>

namespace weir {

caf::expected<std::vector<slot_ref>>
choose_slots(const std::vector<slot_ref>& free_slots, size_t count) {
  std::map<size_t, std::set<size_t>> by_task_manager;
  size_t available = 0;
  for (const auto& s : free_slots)
    if (by_task_manager[s.task_manager].insert(s.slot).second)
      ++available;
  if (available < count)
    return make_error(
      scheduler_errc::not_enough_slots,
      "not enough free slots: the job needs " + std::to_string(count)
        + " but only " + std::to_string(available) + " are free on "
        + std::to_string(by_task_manager.size()) + " task manager(s)");
  // Round r takes the r-th free slot of every task manager that has one,
  // in index order: at each pick, the task manager holding the fewest
  // slots of this request (the least loaded) goes first.
  std::vector<std::set<size_t>::const_iterator> next;
  for (const auto& kvp : by_task_manager)
    next.push_back(kvp.second.begin());
  std::vector<slot_ref> result;
  result.reserve(count);
  while (result.size() < count) {
    size_t k = 0;
    for (const auto& kvp : by_task_manager) {
      if (result.size() < count && next[k] != kvp.second.end())
        result.push_back(slot_ref{kvp.first, *next[k]++});
      ++k;
    }
  }
  return result;
}

std::vector<slot_ref> assign_slots(const plan& p,
                                   const std::vector<slot_ref>& granted) {
  assert(granted.size() >= static_cast<size_t>(p.required_slots()));
  std::vector<slot_ref> result;
  result.reserve(p.executions.size());
  for (const auto& x : p.executions)
    result.push_back(granted[static_cast<size_t>(x.subtask)]);
  return result;
}

} // namespace weir
