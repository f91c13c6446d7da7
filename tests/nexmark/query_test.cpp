// The Nexmark queries of examples/nexmark/, run as jobs on a mini cluster
// on the deterministic scheduler, against a plain computation over the
// same generated events (tests/operators/nexmark_reference.hpp); then
// under seeded faults, whose committed output must be the same.

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "api/value.hpp"
#include "operators/builtins.hpp"
#include "operators/nexmark/generator.hpp"
#include "operators/nexmark_reference.hpp"
#include "nexmark/csv_lines.hpp"
#include "scheduler/job_loader.hpp"
#include "sim/simulation.hpp"
#include "support/temp_dir.hpp"

using namespace weir;
using weir::test::difference;
using weir::test::lines_of;

namespace {

/// Small enough for the simulation's tiny batches, long enough in event
/// time for several windows of every query: 40 s at 150 events/s.
constexpr uint64_t event_count = 6000;
constexpr int event_rate = 150;

std::vector<nexmark::event> generated_events() {
  nexmark::generator_config cfg;
  cfg.event_time_rate = event_rate;
  nexmark::generator gen{cfg};
  std::vector<nexmark::event> events;
  for (uint64_t n = 0; n < event_count; ++n)
    events.push_back(gen.generate(n));
  return events;
}

std::shared_ptr<const operator_registry> registry() {
  auto r = std::make_shared<operator_registry>();
  REQUIRE(!register_builtin_operators(*r));
  return r;
}

/// The job of examples/nexmark/<query>.pbtxt writing into `dir`.
sim::job_factory job_of(const std::string& query, int parallelism) {
  return [query, parallelism](const std::string& dir) {
    auto spec = load_job_file(std::string{WEIR_SOURCE_DIR}
                                + "/examples/nexmark/" + query + ".pbtxt",
                              {{"events", std::to_string(event_count)},
                               {"event_rate", std::to_string(event_rate)},
                               {"parallelism", std::to_string(parallelism)},
                               {"checkpoint_interval", "100"},
                               {"checkpoints", dir + "/checkpoints"},
                               {"output", dir + "/out"}});
    REQUIRE_MESSAGE(spec, error_text(spec.error()));
    spec->mutable_checkpointing()->set_timeout_ms(2000);
    // Paced, so that checkpoints and faults fall amid the stream: 3 s of
    // virtual time.
    (*spec->mutable_vertices(0)->mutable_params())["rate"] = "2000";
    // More restarts than the simulation injects faults.
    spec->mutable_restart_strategy()->set_attempts(10);
    return *spec;
  };
}

void check_query(
  const std::string& query,
  std::vector<row> (*reference)(const std::vector<nexmark::event>&),
  size_t seeds) {
  auto expected = lines_of(reference(generated_events()));
  REQUIRE(!expected.empty());
  for (int parallelism : {1, 2}) {
    CAPTURE(parallelism);
    test::temp_dir dir;
    sim::simulation_config cfg;
    // Batches big enough that a run stays within the step budget.
    cfg.data_plane = data_plane_config{4, 256, 32 * 1024, 10};
    cfg.first_fault_step = 50;
    cfg.fault_rate = 1.0 / 100;
    sim::simulation s{registry(), job_of(query, parallelism),
                      dir.path().string(), cfg};
    const auto& ref = s.reference();
    REQUIRE_MESSAGE(ref.ok(), ref.describe());
    CHECK(ref.output == expected);
    if (ref.output != expected) {
      auto text = difference(expected, ref.output) + "\n" + ref.describe();
      MESSAGE(text);
    }
    size_t faulty = 0;
    for (auto seed : sim::simulation::seeds(parallelism * 100, seeds)) {
      auto run = s.run(seed);
      CHECK_MESSAGE(run.ok(), run.describe());
      if (!run.faults.empty() && !run.exceptions.empty())
        ++faulty;
    }
    // The faults must have hit: otherwise this proves nothing.
    CHECK(faulty > 0);
  }
}

} // namespace

TEST_CASE("nexmark q0 passes every bid through, also under faults") {
  check_query("q0", nexmark::reference::q0, 2);
}

TEST_CASE("nexmark q1 converts every bid's price, also under faults") {
  check_query("q1", nexmark::reference::q1, 2);
}

TEST_CASE("nexmark q2 selects the bids of every 123rd auction, also under "
          "faults") {
  check_query("q2", nexmark::reference::q2, 2);
}

TEST_CASE("nexmark q5 finds the hottest auctions of each sliding window, "
          "also under faults") {
  check_query("q5", nexmark::reference::q5, 4);
}

TEST_CASE("nexmark q7 finds the highest bids of each tumbling window, also "
          "under faults") {
  check_query("q7", nexmark::reference::q7, 4);
}

TEST_CASE("nexmark q3 joins western sellers with their category-10 auctions, "
          "also under faults") {
  check_query("q3", nexmark::reference::q3, 4);
}

TEST_CASE("nexmark q8 finds the people who sold in the window they joined, "
          "also under faults") {
  check_query("q8", nexmark::reference::q8, 4);
}

TEST_CASE("nexmark q4 averages the closing prices per category, also under "
          "faults") {
  check_query("q4", nexmark::reference::q4, 4);
}
