// Protocol tests of one task: a real source task wired to a scripted
// consumer, on the deterministic scheduler.

#include <doctest/doctest.h>

#include <caf/event_based_actor.hpp>

#include "actors/task.hpp"
#include "actors/test_cluster.hpp"
#include "api/job_builder.hpp"
#include "scheduler/job_graph.hpp"
#include "scheduler/plan.hpp"

using namespace weir;
using namespace weir::test;

namespace {

/// What the scripted consumer and master saw.
struct observed {
  std::vector<size_t> batch_sizes;
  size_t ends = 0;
  std::vector<execution_state> states;
  std::string cause;
};

struct task_fixture : deterministic_fixture {
  std::shared_ptr<operator_registry> registry = make_test_registry();
  std::shared_ptr<observed> seen = std::make_shared<observed>();
  caf::actor consumer;
  caf::actor master;

  std::shared_ptr<const plan> make(int64_t rows) {
    auto spec = job_builder{"t"}
                  .vertex("numbers", "sequence",
                          {{"from", "0"}, {"to", std::to_string(rows)}}, 1)
                  .vertex("sink", "discard", {}, 1)
                  .rebalance("numbers", "sink")
                  .build();
    auto graph = build_job_graph(spec, *registry);
    REQUIRE(graph);
    return std::make_shared<const plan>(make_plan(std::move(*graph)));
  }

  task_fixture() {
    auto s = seen;
    consumer = sys.spawn([s](caf::event_based_actor*) -> caf::behavior {
      return {
        [s](data_atom, uint64_t, const batch& b) {
          s->batch_sizes.push_back(b.rows.size());
        },
        [s](end_atom, uint64_t) { ++s->ends; },
      };
    });
    master = sys.spawn([s](caf::event_based_actor*) -> caf::behavior {
      return {
        [s](task_state_atom, uint32_t, execution_state st,
            const std::string& cause) {
          s->states.push_back(st);
          if (!cause.empty())
            s->cause = cause;
        },
      };
    });
  }

  /// Spawns the source task (execution 0), connected to the consumer.
  task_actor spawn_source(std::shared_ptr<const plan> p,
                          data_plane_config cfg) {
    auto t
      = spawn_task(sys, p, 0, cfg, caf::actor_cast<job_master_actor>(master));
    std::vector<caf::strong_actor_ptr> peers{
      caf::actor_cast<caf::strong_actor_ptr>(t),
      caf::actor_cast<caf::strong_actor_ptr>(consumer)};
    auto ok = ask<ok_atom>(t, connect_atom::value, peers);
    sched.run();
    REQUIRE(ok->has_value());
    caf::anon_send(t, start_atom::value);
    sched.run();
    return t;
  }

  ~task_fixture() {
    caf::anon_send_exit(consumer, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(master, caf::exit_reason::user_shutdown);
    sched.run();
  }
};

} // namespace

TEST_CASE_FIXTURE(task_fixture,
                  "a source sends nothing without credit and exactly what "
                  "each grant allows") {
  data_plane_config cfg;
  cfg.batch_rows = 10;
  auto p = make(1000);
  auto t = spawn_source(p, cfg);
  CHECK(seen->batch_sizes.empty());
  CHECK(seen->states
        == std::vector<execution_state>{execution_state::initializing,
                                        execution_state::running});
  auto channel = static_cast<uint64_t>(p->channels[0].id);
  caf::anon_send(t, credit_atom::value, channel, int32_t{2});
  sched.run();
  CHECK(seen->batch_sizes == std::vector<size_t>{10, 10});
  caf::anon_send(t, credit_atom::value, channel, int32_t{3});
  sched.run();
  CHECK(seen->batch_sizes.size() == 5);
  CHECK(seen->ends == 0);
  caf::anon_send(t, cancel_atom::value);
  sched.run();
  CHECK(seen->states.back() == execution_state::canceled);
}

TEST_CASE_FIXTURE(task_fixture,
                  "a finished source ends its channel after its last batch "
                  "and reports FINISHED") {
  data_plane_config cfg;
  cfg.batch_rows = 10;
  auto p = make(25);
  auto t = spawn_source(p, cfg);
  auto channel = static_cast<uint64_t>(p->channels[0].id);
  caf::anon_send(t, credit_atom::value, channel, int32_t{1});
  sched.run();
  // The end marker waits behind the batches still lacking credit.
  CHECK(seen->batch_sizes == std::vector<size_t>{10});
  CHECK(seen->ends == 0);
  caf::anon_send(t, credit_atom::value, channel, int32_t{5});
  sched.run();
  CHECK(seen->batch_sizes == std::vector<size_t>{10, 10, 5});
  CHECK(seen->ends == 1);
  CHECK(seen->states.back() == execution_state::finished);
}

TEST_CASE_FIXTURE(task_fixture,
                  "a partial batch goes out when the flush timer fires") {
  data_plane_config cfg;
  cfg.batch_rows = 10;
  cfg.flush_interval_ms = 10;
  auto spec = job_builder{"slow"}
                .vertex("numbers", "sequence", {{"rate", "3"}}, 1)
                .vertex("sink", "discard", {}, 1)
                .rebalance("numbers", "sink")
                .build();
  auto graph = build_job_graph(spec, *registry);
  REQUIRE(graph);
  auto p = std::make_shared<const plan>(make_plan(std::move(*graph)));
  auto t = spawn_source(p, cfg);
  auto channel = static_cast<uint64_t>(p->channels[0].id);
  caf::anon_send(t, credit_atom::value, channel, int32_t{4});
  sched.run();
  // One row is due at once (rate 3/s), far from filling a batch.
  CHECK(seen->batch_sizes.empty());
  sched.advance_time(std::chrono::milliseconds(10));
  sched.run();
  REQUIRE(seen->batch_sizes.size() == 1);
  CHECK(seen->batch_sizes[0] >= 1);
  caf::anon_send(t, cancel_atom::value);
  sched.run();
}

TEST_CASE_FIXTURE(task_fixture,
                  "a batch beyond the granted credit is a protocol "
                  "violation that fails the task") {
  data_plane_config cfg;
  cfg.credits = 1;
  auto p = make(10);
  // Deploy the sink task (execution 1) and feed it more than it granted.
  auto sink
    = spawn_task(sys, p, 1, cfg, caf::actor_cast<job_master_actor>(master));
  std::vector<caf::strong_actor_ptr> peers{
    caf::actor_cast<caf::strong_actor_ptr>(consumer),
    caf::actor_cast<caf::strong_actor_ptr>(sink)};
  auto ok = ask<ok_atom>(sink, connect_atom::value, peers);
  sched.run();
  auto channel = static_cast<uint64_t>(p->channels[0].id);
  // Not started: nothing is processed, so the second batch exceeds credit.
  caf::anon_send(sink, data_atom::value, channel, batch{{row{1}}});
  caf::anon_send(sink, data_atom::value, channel, batch{{row{2}}});
  sched.run();
  CHECK(seen->states.back() == execution_state::failed);
  CHECK(seen->cause.find("protocol violation") != std::string::npos);
}
