#include "actors/resource_manager.hpp"

#include <map>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/error.hpp"
#include "scheduler/placement.hpp"

namespace weir {

namespace {

/// Upper bound of slots one task manager may offer.
constexpr uint32_t max_slots_per_task_manager = 4096;

struct registered_tm {
  std::string id;
  task_manager_actor handle;
  /// Owner of each slot; an empty job id marks a free slot.
  std::vector<job_id> owners;
};

struct pending_request {
  job_id job;
  uint32_t count = 0;
  caf::typed_response_promise<std::vector<slot_grant>> promise;
};

struct resource_manager_state {
  static inline const char* name = "weir.resource_manager";

  std::vector<registered_tm> tms;
  std::map<uint64_t, pending_request> pending;
  uint64_t next_request = 1;
  /// The job each requester (a job master) asked for; its slots go back
  /// when it goes down.
  std::map<caf::actor_addr, job_id> requesters;

  /// Frees `job`'s slots and withdraws its waiting requests.
  void release(const job_id& job) {
    for (auto& tm : tms)
      for (auto& owner : tm.owners)
        if (owner == job)
          owner = job_id{};
    for (auto i = pending.begin(); i != pending.end();) {
      if (i->second.job == job) {
        i->second.promise.deliver(
          make_error(actors_errc::no_slots, "the slot request of job "
                                              + job.value + " was withdrawn"));
        i = pending.erase(i);
      } else {
        ++i;
      }
    }
    serve_pending();
  }

  std::vector<slot_ref> free_slots() const {
    std::vector<slot_ref> out;
    for (size_t t = 0; t < tms.size(); ++t)
      for (size_t s = 0; s < tms[t].owners.size(); ++s)
        if (tms[t].owners[s].value.empty() && tms[t].handle)
          out.push_back(slot_ref{t, s});
    return out;
  }

  uint32_t total_slots() const {
    uint32_t n = 0;
    for (const auto& tm : tms)
      if (tm.handle)
        n += static_cast<uint32_t>(tm.owners.size());
    return n;
  }

  /// Grants `count` slots to `job` if that many are free.
  std::optional<std::vector<slot_grant>> try_grant(const job_id& job,
                                                   uint32_t count) {
    auto chosen = choose_slots(free_slots(), count);
    if (!chosen)
      return std::nullopt;
    std::vector<slot_grant> out;
    for (const auto& ref : *chosen) {
      auto& tm = tms[ref.task_manager];
      tm.owners[ref.slot] = job;
      out.push_back(slot_grant{tm.id, static_cast<uint32_t>(ref.task_manager),
                               static_cast<uint32_t>(ref.slot), tm.handle});
    }
    return out;
  }

  /// Serves waiting requests in arrival order while slots suffice.
  void serve_pending() {
    for (auto i = pending.begin(); i != pending.end();) {
      auto granted = try_grant(i->second.job, i->second.count);
      if (!granted)
        break;
      i->second.promise.deliver(std::move(*granted));
      i = pending.erase(i);
    }
  }
};

using rm_pointer
  = resource_manager_actor::stateful_pointer<resource_manager_state>;

resource_manager_actor::behavior_type resource_manager_impl(rm_pointer self) {
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (auto i = st.requesters.find(dm.source); i != st.requesters.end()) {
      auto job = i->second;
      st.requesters.erase(i);
      st.release(job);
      return;
    }
    for (auto& tm : st.tms) {
      if (tm.handle && tm.handle.address() == dm.source) {
        tm.handle = nullptr;
        tm.owners.clear();
      }
    }
  });
  return {
    [=](register_atom, std::string id, uint32_t slots,
        task_manager_actor tm) -> caf::result<ok_atom> {
      auto& st = self->state;
      if (slots == 0 || slots > max_slots_per_task_manager)
        return make_error(actors_errc::deployment_failed,
                          "task manager '" + id + "' offers "
                            + std::to_string(slots) + " slots; between 1 and "
                            + std::to_string(max_slots_per_task_manager)
                            + " are allowed");
      for (const auto& other : st.tms)
        if (other.handle && other.id == id)
          return make_error(actors_errc::deployment_failed,
                            "a task manager named '" + id
                              + "' is already registered");
      self->monitor(tm);
      st.tms.push_back(registered_tm{std::move(id), std::move(tm),
                                     std::vector<job_id>(slots)});
      st.serve_pending();
      return ok_atom::value;
    },
    [=](request_atom, job_id job, uint32_t count,
        caf::timespan timeout) -> caf::result<std::vector<slot_grant>> {
      auto& st = self->state;
      if (auto sender = self->current_sender()) {
        auto addr = caf::actor_cast<caf::actor_addr>(sender);
        if (st.requesters.emplace(addr, job).second)
          self->monitor(addr);
      }
      if (st.pending.empty())
        if (auto granted = st.try_grant(job, count))
          return std::move(*granted);
      auto id = st.next_request++;
      auto promise = self->make_response_promise<std::vector<slot_grant>>();
      st.pending.emplace(id, pending_request{std::move(job), count, promise});
      self->delayed_send(self, timeout, timeout_atom::value, id);
      return promise;
    },
    [=](release_atom, const job_id& job) {
      auto& st = self->state;
      for (auto i = st.requesters.begin(); i != st.requesters.end();) {
        if (i->second == job) {
          self->demonitor(i->first);
          i = st.requesters.erase(i);
        } else {
          ++i;
        }
      }
      st.release(job);
    },
    [=](timeout_atom, uint64_t id) {
      auto& st = self->state;
      auto i = st.pending.find(id);
      if (i == st.pending.end())
        return;
      auto free = st.free_slots().size();
      i->second.promise.deliver(
        make_error(actors_errc::no_slots,
                   "could not allocate " + std::to_string(i->second.count)
                     + " slots for job " + i->second.job.value
                     + " before the slot request timeout: the cluster has "
                     + std::to_string(st.total_slots()) + " slots in "
                     + std::to_string(st.tms.size()) + " task managers, "
                     + std::to_string(free)
                     + " free (add task managers or slots, or lower the "
                       "parallelism)"));
      st.pending.erase(i);
    },
    [=](info_atom) {
      auto& st = self->state;
      cluster_info info;
      for (const auto& tm : st.tms)
        if (tm.handle)
          ++info.task_managers;
      info.slots_total = st.total_slots();
      info.slots_free = static_cast<uint32_t>(st.free_slots().size());
      return info;
    },
  };
}

} // namespace

resource_manager_actor spawn_resource_manager(caf::actor_system& sys) {
  return sys.spawn(resource_manager_impl);
}

} // namespace weir
