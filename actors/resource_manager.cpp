#include "actors/resource_manager.hpp"

#include <map>
#include <set>

#include <caf/send.hpp>

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
  std::string host;
  int64_t pid = 0;
  int64_t registered_at = 0;
  caf::actor_clock::time_point last_heard;
  /// Resident memory its last heartbeat reported.
  uint64_t memory_rss = 0;
};

int64_t epoch_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

int64_t to_epoch_millis(caf::actor_clock::time_point t,
                        caf::actor_clock::time_point now) {
  return epoch_millis()
         - std::chrono::duration_cast<std::chrono::milliseconds>(now - t)
             .count();
}

struct pending_request {
  job_id job;
  uint32_t count = 0;
  caf::typed_response_promise<std::vector<slot_grant>> promise;
};

struct resource_manager_state {
  static inline const char* name = "weir.resource_manager";

  resource_manager_config cfg;

  std::vector<registered_tm> tms;
  std::map<uint64_t, pending_request> pending;
  uint64_t next_request = 1;
  /// The job each requester (a job master) asked for; its slots go back
  /// when it goes down.
  std::map<caf::actor_addr, std::pair<job_id, job_master_actor>> requesters;

  /// Forgets task manager `t`: its slots vanish, and the masters of the
  /// jobs that held one learn why.
  void drop(size_t t, const std::string& cause) {
    auto& tm = tms[t];
    if (!tm.handle)
      return;
    std::set<job_id> jobs;
    for (const auto& owner : tm.owners)
      if (!owner.value.empty())
        jobs.insert(owner);
    tm.handle = nullptr;
    tm.owners.clear();
    event(false, cause + "; its slots are gone"
                   + (jobs.empty() ? std::string{}
                                   : ", " + std::to_string(jobs.size())
                                       + " job(s) affected"));
    for (const auto& [addr, req] : requesters)
      if (jobs.count(req.first) > 0 && req.second)
        caf::anon_send(req.second, lost_atom::value, tm.id, cause);
  }

  void event(bool ok, const std::string& what) const {
    if (cfg.on_event)
      cfg.on_event(ok, what);
  }

  /// Task managers still registered.
  size_t live_task_managers() const {
    size_t n = 0;
    for (const auto& tm : tms)
      if (tm.handle)
        ++n;
    return n;
  }

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

resource_manager_actor::behavior_type
resource_manager_impl(rm_pointer self, resource_manager_config cfg) {
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (auto i = st.requesters.find(dm.source); i != st.requesters.end()) {
      auto job = i->second.first;
      st.requesters.erase(i);
      st.release(job);
      return;
    }
    for (size_t t = 0; t < st.tms.size(); ++t)
      if (st.tms[t].handle && st.tms[t].handle.address() == dm.source)
        st.drop(t, "task manager " + st.tms[t].id
                     + " exited: " + error_text(dm.reason));
  });
  if (cfg.heartbeat_interval.count() > 0)
    self->send(self, tick_atom::value);
  self->state.cfg = std::move(cfg);
  return {
    [=](register_atom, task_manager_registration& reg) -> caf::result<ok_atom> {
      auto& st = self->state;
      if (reg.version != st.cfg.version) {
        auto err
          = make_error(actors_errc::version_mismatch,
                       "task manager '" + reg.id + "' runs Weir " + reg.version
                         + " but the JobManager runs Weir " + st.cfg.version
                         + "; every node of a cluster must run the "
                           "same version");
        st.event(false, "registration refused: " + error_text(err));
        return err;
      }
      if (reg.slots == 0 || reg.slots > max_slots_per_task_manager)
        return make_error(
          actors_errc::deployment_failed,
          "task manager '" + reg.id + "' offers " + std::to_string(reg.slots)
            + " slots; between 1 and "
            + std::to_string(max_slots_per_task_manager) + " are allowed");
      for (size_t t = 0; t < st.tms.size(); ++t) {
        auto& other = st.tms[t];
        if (!other.handle || other.id != reg.id)
          continue;
        if (other.handle != reg.handle)
          return make_error(actors_errc::deployment_failed,
                            "a task manager named '" + reg.id
                              + "' is already registered");
        // The same task manager registers again (it lost us for a while):
        // its old slots and tasks are gone.
        st.drop(t, "task manager " + reg.id + " registered anew");
      }
      self->monitor(reg.handle);
      registered_tm tm;
      tm.id = std::move(reg.id);
      tm.handle = std::move(reg.handle);
      tm.owners.resize(reg.slots);
      tm.host = std::move(reg.host);
      tm.pid = reg.pid;
      tm.registered_at = epoch_millis();
      tm.last_heard = self->clock().now();
      st.event(true, "task manager " + tm.id + " registered "
                       + std::to_string(tm.owners.size()) + " slots (pid "
                       + std::to_string(tm.pid) + ")");
      st.tms.push_back(std::move(tm));
      st.serve_pending();
      return ok_atom::value;
    },
    [=](heartbeat_atom, const std::string& id, uint64_t rss) {
      auto& st = self->state;
      for (auto& tm : st.tms) {
        if (tm.handle && tm.id == id) {
          tm.last_heard = self->clock().now();
          tm.memory_rss = rss;
          return;
        }
      }
      // A task manager we dropped: tell it, so that it registers anew.
      if (auto h = caf::actor_cast<task_manager_actor>(self->current_sender()))
        self->send(h, lost_atom::value,
                   std::string{"the resource manager dropped task manager "}
                     + id + " after missing its heartbeats");
    },
    [=](tick_atom) {
      auto& st = self->state;
      auto now = self->clock().now();
      for (size_t t = 0; t < st.tms.size(); ++t) {
        auto& tm = st.tms[t];
        if (!tm.handle)
          continue;
        if (now - tm.last_heard > st.cfg.heartbeat_timeout) {
          auto silent = std::chrono::duration_cast<std::chrono::milliseconds>(
            now - tm.last_heard);
          self->demonitor(tm.handle.address());
          st.drop(t, "task manager " + tm.id + " sent no heartbeat for "
                       + std::to_string(silent.count())
                       + " ms (heartbeat.timeout "
                       + std::to_string(
                         std::chrono::duration_cast<std::chrono::milliseconds>(
                           st.cfg.heartbeat_timeout)
                           .count())
                       + " ms)");
          continue;
        }
        self->send(tm.handle, heartbeat_atom::value);
      }
      self->delayed_send(self, st.cfg.heartbeat_interval, tick_atom::value);
    },
    [=](log_atom,
        const std::string& id) -> caf::result<std::vector<std::string>> {
      for (const auto& tm : self->state.tms)
        if (tm.handle && tm.id == id)
          return self->delegate(tm.handle, log_atom::value);
      return make_error(actors_errc::unknown_job,
                        "no task manager '" + id + "' is registered");
    },
    [=](fetch_atom, const std::string& id) -> caf::result<std::string> {
      auto& st = self->state;
      if (!st.cfg.fetch_library)
        return make_error(actors_errc::unknown_job,
                          "this cluster keeps no user libraries");
      auto bytes = st.cfg.fetch_library(id);
      if (!bytes)
        return std::move(bytes.error());
      return std::move(*bytes);
    },
    [=](list_atom) {
      auto& st = self->state;
      std::vector<task_manager_info> out;
      auto now = self->clock().now();
      for (const auto& tm : st.tms) {
        if (!tm.handle)
          continue;
        task_manager_info info;
        info.id = tm.id;
        info.host = tm.host;
        info.pid = tm.pid;
        info.slots_total = static_cast<uint32_t>(tm.owners.size());
        for (const auto& owner : tm.owners)
          if (owner.value.empty())
            ++info.slots_free;
        info.registered_at = tm.registered_at;
        info.last_heartbeat = to_epoch_millis(tm.last_heard, now);
        info.memory_rss = tm.memory_rss;
        for (const auto& owner : tm.owners)
          info.slot_jobs.push_back(owner.value);
        out.push_back(std::move(info));
      }
      return out;
    },
    [=](request_atom, job_id job, uint32_t count,
        caf::timespan timeout) -> caf::result<std::vector<slot_grant>> {
      auto& st = self->state;
      if (auto sender = self->current_sender()) {
        auto addr = caf::actor_cast<caf::actor_addr>(sender);
        auto master = caf::actor_cast<job_master_actor>(sender);
        if (st.requesters.emplace(addr, std::make_pair(job, master)).second)
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
        if (i->second.first == job) {
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
                     + std::to_string(st.live_task_managers())
                     + " task managers, " + std::to_string(free)
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

resource_manager_actor spawn_resource_manager(caf::actor_system& sys,
                                              resource_manager_config cfg) {
  return sys.spawn(resource_manager_impl, std::move(cfg));
}

} // namespace weir
