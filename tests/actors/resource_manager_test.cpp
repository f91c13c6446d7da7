// Protocol tests of the resource manager on the deterministic scheduler.

#include <doctest/doctest.h>

#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

#include "actors/resource_manager.hpp"
#include "actors/task_manager.hpp"
#include "actors/test_cluster.hpp"

using namespace weir;
using namespace weir::test;

namespace {

struct rm_fixture : deterministic_fixture {
  resource_manager_actor rm = spawn_resource_manager(sys);
  std::vector<task_manager_actor> tms;
  std::vector<caf::actor> requesters;

  void add_task_manager(uint32_t slots) {
    tms.push_back(spawn_task_manager(sys, "tm-" + std::to_string(tms.size()),
                                     slots, make_test_registry(), rm));
    sched.run();
  }

  std::shared_ptr<std::optional<caf::expected<std::vector<slot_grant>>>>
  request(const std::string& job, uint32_t n,
          caf::timespan timeout = std::chrono::seconds(5)) {
    // The requester stays alive (like a job master holding its slots):
    // the resource manager frees a requester's slots when it goes down.
    auto res = std::make_shared<
      std::optional<caf::expected<std::vector<slot_grant>>>>();
    auto rm_handle = rm;
    requesters.push_back(
      sys.spawn([=](caf::event_based_actor* self) -> caf::behavior {
        self
          ->request(rm_handle, caf::infinite, request_atom::value, job_id{job},
                    n, timeout)
          .then([=](std::vector<slot_grant>& g) { *res = std::move(g); },
                [=](caf::error& e) { *res = std::move(e); });
        return {[](ok_atom) {}};
      }));
    sched.run();
    return res;
  }

  static task_manager_registration
  registration(const std::string& id, uint32_t slots, task_manager_actor h,
               std::string version = weir_version) {
    task_manager_registration reg;
    reg.id = id;
    reg.slots = slots;
    reg.version = std::move(version);
    reg.handle = std::move(h);
    return reg;
  }

  cluster_info info() {
    auto res = ask<cluster_info>(rm, info_atom::value);
    sched.run();
    return *res->value();
  }

  ~rm_fixture() {
    for (auto& r : requesters)
      caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
    for (auto& tm : tms)
      caf::anon_send_exit(tm, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(rm, caf::exit_reason::user_shutdown);
    sched.run();
  }
};

} // namespace

TEST_CASE_FIXTURE(rm_fixture, "registered task managers offer their slots") {
  add_task_manager(2);
  add_task_manager(3);
  auto ci = info();
  CHECK(ci.task_managers == 2);
  CHECK(ci.slots_total == 5);
  CHECK(ci.slots_free == 5);
}

TEST_CASE_FIXTURE(rm_fixture, "granted slots are spread over task managers") {
  add_task_manager(2);
  add_task_manager(2);
  auto res = request("a", 2);
  REQUIRE(res->has_value());
  REQUIRE(res->value());
  auto& grants = *res->value();
  REQUIRE(grants.size() == 2);
  CHECK(grants[0].task_manager_id != grants[1].task_manager_id);
  CHECK(info().slots_free == 2);
}

TEST_CASE_FIXTURE(rm_fixture,
                  "a request waits for released slots, in arrival order") {
  add_task_manager(2);
  auto first = request("a", 2);
  REQUIRE(first->has_value());
  auto second = request("b", 1);
  auto third = request("c", 1);
  CHECK(!second->has_value());
  CHECK(!third->has_value());
  caf::anon_send(rm, release_atom::value, job_id{"a"});
  sched.run();
  REQUIRE(second->has_value());
  REQUIRE(third->has_value());
  CHECK(second->value()->size() == 1);
  CHECK(third->value()->size() == 1);
  CHECK(info().slots_free == 0);
}

TEST_CASE_FIXTURE(rm_fixture,
                  "a request waits for a task manager that registers later") {
  auto res = request("a", 2);
  CHECK(!res->has_value());
  add_task_manager(2);
  REQUIRE(res->has_value());
  CHECK(res->value()->size() == 2);
}

TEST_CASE_FIXTURE(rm_fixture,
                  "an unmet request fails at its timeout naming the "
                  "cluster's slots") {
  add_task_manager(1);
  auto res = request("a", 3, std::chrono::seconds(2));
  CHECK(!res->has_value());
  sched.advance_time(std::chrono::seconds(2));
  sched.run();
  REQUIRE(res->has_value());
  REQUIRE(!res->value());
  auto text = error_text(res->value().error());
  CHECK(text.find("could not allocate 3 slots for job a") != std::string::npos);
  CHECK(text.find("1 slots in 1 task managers, 1 free") != std::string::npos);
  // The timed-out request holds nothing.
  CHECK(info().slots_free == 1);
}

TEST_CASE_FIXTURE(rm_fixture, "a task manager that dies takes its slots") {
  add_task_manager(2);
  add_task_manager(2);
  CHECK(info().slots_total == 4);
  caf::anon_send_exit(tms[0], caf::exit_reason::kill);
  sched.run();
  auto ci = info();
  CHECK(ci.task_managers == 1);
  CHECK(ci.slots_total == 2);
  CHECK(ci.slots_free == 2);
}

TEST_CASE_FIXTURE(rm_fixture, "a duplicate task manager name is refused") {
  add_task_manager(1);
  add_task_manager(1);
  auto res
    = ask<ok_atom>(rm, register_atom::value, registration("tm-0", 1, tms[1]));
  sched.run();
  REQUIRE(res->has_value());
  REQUIRE(!res->value());
  CHECK(error_text(res->value().error()).find("already registered")
        != std::string::npos);
}

TEST_CASE_FIXTURE(rm_fixture,
                  "a requester that goes down gives its slots back and "
                  "withdraws its waiting request") {
  add_task_manager(1);
  auto first = request("a", 1);
  REQUIRE(first->has_value());
  auto second = request("b", 1);
  CHECK(!second->has_value());
  // Job b's master dies while waiting, then job a's master dies holding.
  caf::anon_send_exit(requesters[1], caf::exit_reason::kill);
  sched.run();
  caf::anon_send_exit(requesters[0], caf::exit_reason::kill);
  sched.run();
  CHECK(!second->has_value());
  CHECK(info().slots_free == 1);
}

TEST_CASE_FIXTURE(rm_fixture,
                  "a task manager offering no or absurdly many slots is "
                  "refused") {
  add_task_manager(1);
  for (uint32_t n : {0u, 100000u}) {
    auto res
      = ask<ok_atom>(rm, register_atom::value, registration("odd", n, tms[0]));
    sched.run();
    REQUIRE(res->has_value());
    REQUIRE(!res->value());
    CHECK(error_text(res->value().error()).find("slots; between 1 and")
          != std::string::npos);
  }
}

TEST_CASE_FIXTURE(rm_fixture,
                  "a task manager of another version is refused, naming both "
                  "versions") {
  add_task_manager(1);
  auto res = ask<ok_atom>(rm, register_atom::value,
                          registration("tm-x", 1, tms[0], "0.0.1"));
  sched.run();
  REQUIRE(res->has_value());
  REQUIRE(!res->value());
  auto text = error_text(res->value().error());
  CHECK(text.find("runs Weir 0.0.1") != std::string::npos);
  CHECK(text.find(std::string{"the JobManager runs Weir "} + weir_version)
        != std::string::npos);
  CHECK(info().task_managers == 1);
}

namespace {

/// A task manager that registers and then never answers a heartbeat (a
/// process stopped with SIGSTOP), or answers them all.
struct heartbeat_fixture : deterministic_fixture {
  resource_manager_actor rm;
  caf::actor fake_tm;
  caf::actor master;
  std::shared_ptr<std::vector<std::string>> lost
    = std::make_shared<std::vector<std::string>>();
  std::shared_ptr<size_t> heartbeats = std::make_shared<size_t>(0);
  std::shared_ptr<bool> answer = std::make_shared<bool>(true);
  std::shared_ptr<std::optional<caf::expected<std::vector<slot_grant>>>> grant
    = std::make_shared<std::optional<caf::expected<std::vector<slot_grant>>>>();

  heartbeat_fixture() {
    resource_manager_config cfg;
    cfg.heartbeat_interval = std::chrono::seconds(1);
    cfg.heartbeat_timeout = std::chrono::seconds(5);
    rm = spawn_resource_manager(sys, cfg);
    auto rm_handle = rm;
    auto beats = heartbeats;
    auto on = answer;
    fake_tm = sys.spawn([=](caf::event_based_actor* self) -> caf::behavior {
      task_manager_registration reg;
      reg.id = "tm-hung";
      reg.slots = 1;
      reg.version = weir_version;
      reg.handle = caf::actor_cast<task_manager_actor>(self);
      self->request(rm_handle, caf::infinite, register_atom::value, reg)
        .then([](ok_atom) {});
      return {
        [=](heartbeat_atom) {
          ++*beats;
          if (*on)
            self->send(rm_handle, heartbeat_atom::value, std::string{"tm-hung"},
                       uint64_t{0});
        },
        [](lost_atom, const std::string&) {},
      };
    });
    auto out = lost;
    auto g = grant;
    master = sys.spawn([=](caf::event_based_actor* self) -> caf::behavior {
      self
        ->request(rm_handle, caf::infinite, request_atom::value, job_id{"j"},
                  uint32_t{1}, caf::timespan{std::chrono::seconds(60)})
        .then([=](std::vector<slot_grant>& x) { *g = std::move(x); });
      return {
        [=](lost_atom, const std::string& tm, const std::string& cause) {
          out->push_back(tm + ": " + cause);
        },
      };
    });
    sched.run();
  }

  /// Advances the clock by `n` seconds, one heartbeat interval at a time.
  void seconds(int n) {
    for (int i = 0; i < n; ++i) {
      sched.advance_time(std::chrono::seconds(1));
      sched.run();
    }
  }

  ~heartbeat_fixture() {
    for (auto& a : {fake_tm, master})
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(rm, caf::exit_reason::user_shutdown);
    sched.run();
  }
};

} // namespace

TEST_CASE_FIXTURE(heartbeat_fixture,
                  "a task manager that answers heartbeats keeps its slots") {
  REQUIRE(grant->has_value());
  seconds(30);
  CHECK(*heartbeats >= 29);
  CHECK(lost->empty());
}

TEST_CASE_FIXTURE(heartbeat_fixture,
                  "a silent task manager is dropped after heartbeat.timeout "
                  "and the jobs holding its slots are told") {
  REQUIRE(grant->has_value());
  seconds(3);
  *answer = false;
  seconds(5);
  CHECK(lost->empty());
  seconds(1);
  REQUIRE(lost->size() == 1);
  CHECK(lost->front().find("tm-hung: task manager tm-hung sent no heartbeat")
        == 0);
  auto res = ask<cluster_info>(rm, info_atom::value);
  sched.run();
  CHECK(res->value()->task_managers == 0);
  CHECK(res->value()->slots_total == 0);
}
