// Protocol tests of the task manager and of supervision through it.

#include <doctest/doctest.h>

#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

#include "actors/test_cluster.hpp"
#include "api/job_builder.hpp"

using namespace weir;
using namespace weir::test;

namespace {

proto::JobSpec endless_job(int parallelism) {
  return job_builder{"endless"}
    .parallelism(parallelism)
    .vertex("numbers", "sequence")
    .vertex("sink", "discard")
    .rebalance("numbers", "sink")
    .build();
}

} // namespace

TEST_CASE_FIXTURE(cluster_fixture,
                  "a deploy request for an unknown execution is refused") {
  start(1, 1);
  std::string bytes;
  endless_job(1).SerializeToString(&bytes);
  deploy_request req;
  req.job = job_id{"j"};
  req.spec = bytes;
  req.execution = 99;
  auto res = ask<task_actor>(cluster.task_managers[0], deploy_atom::value, req);
  sched.run();
  REQUIRE(res->has_value());
  REQUIRE(!res->value());
  CHECK(error_text(res->value().error()).find("execution 99")
        != std::string::npos);
}

TEST_CASE_FIXTURE(cluster_fixture,
                  "a deploy request with a corrupt job descriptor is "
                  "refused") {
  start(1, 1);
  deploy_request req;
  req.job = job_id{"j"};
  req.spec = "\xff\xff\xff not protobuf";
  auto res = ask<task_actor>(cluster.task_managers[0], deploy_atom::value, req);
  sched.run();
  REQUIRE(res->has_value());
  REQUIRE(!res->value());
  CHECK(error_text(res->value().error()).find("does not parse")
        != std::string::npos);
}

TEST_CASE_FIXTURE(cluster_fixture,
                  "a task manager that dies takes its tasks and fails the "
                  "job with a cause naming it") {
  start(2, 1);
  auto id = submit(endless_job(2));
  REQUIRE(id);
  auto res = ask<job_result>(cluster.job_manager, wait_atom::value, *id);
  sched.run(5000);
  REQUIRE(!res->has_value());
  caf::anon_send_exit(cluster.task_managers[1], caf::exit_reason::kill);
  run_until([&] { return res->has_value(); });
  REQUIRE(res->has_value());
  CHECK(res->value()->status == job_status::failed);
  CHECK(res->value()->cause.find("on task manager tm-1 exited unexpectedly")
        != std::string::npos);
  // The dead task manager's slot is gone; the survivor's is free again.
  auto ci = ask<cluster_info>(cluster.resource_manager, info_atom::value);
  sched.run();
  CHECK(ci->value()->slots_total == 1);
  CHECK(ci->value()->slots_free == 1);
}

TEST_CASE_FIXTURE(cluster_fixture, "a killed task actor fails the job") {
  start(1, 2);
  auto id = submit(endless_job(2));
  REQUIRE(id);
  auto res = ask<job_result>(cluster.job_manager, wait_atom::value, *id);
  auto tasks = deployed_tasks(*id, 4);
  REQUIRE(tasks.size() == 4);
  caf::anon_send_exit(tasks[2], caf::exit_reason::kill);
  run_until([&] { return res->has_value(); });
  REQUIRE(res->has_value());
  CHECK(res->value()->status == job_status::failed);
  CHECK(res->value()->cause.find("exited unexpectedly") != std::string::npos);
}
