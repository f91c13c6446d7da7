// Testing an operator of your own under failures, deterministically: a
// doctest program that runs a job with a user-defined keyed operator on a
// whole simulated mini cluster (sim/simulation.hpp), under seeded
// schedules that kill tasks and task managers, fail and corrupt state
// writes and lose acknowledgements, and checks that the committed output
// always equals a failure-free run's.
//
//   running_total: {bucket, value} -> {bucket, total}, the running sum per
//   bucket, kept in keyed state so that checkpoints carry it.
//
// Run: build/examples/weir_example_simulation_test
// A failing seed is printed with its faults; WEIR_SEED=<seed> replays it.

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "api/job_builder.hpp"
#include "api/state.hpp"
#include "operators/builtins.hpp"
#include "sim/simulation.hpp"

namespace {

/// `bucket`: {value} -> {bucket = value % 10, value}.
weir::operator_descriptor bucket_operator() {
  weir::operator_descriptor d;
  d.name = "bucket";
  d.kind = weir::operator_kind::transform;
  d.help = "value -> {value % 10, value}";
  d.output_fields
    = [](const weir::parameters&, const std::vector<std::string>&) {
        return caf::expected<std::vector<std::string>>{
          std::vector<std::string>{"bucket", "value"}};
      };
  d.factory = [](const weir::operator_context&) {
    return weir::operator_behavior{
      [](const weir::row& r, weir::collector& out) {
        auto v = r[0].as_int64();
        out.emit({weir::value{v % 10}, weir::value{v}});
      },
    };
  };
  return d;
}

/// `running_total`: a keyed operator. The task makes each record's key
/// current; the operator only reads and writes its value state.
weir::operator_descriptor running_total_operator() {
  weir::operator_descriptor d;
  d.name = "running_total";
  d.kind = weir::operator_kind::transform;
  d.help = "{key, value} -> {key, running sum of value per key}";
  d.key_param = "key";
  d.params = {{"key", weir::param_type::field_list, true, "", "the key"}};
  d.output_fields
    = [](const weir::parameters&, const std::vector<std::string>&) {
        return caf::expected<std::vector<std::string>>{
          std::vector<std::string>{"key", "total"}};
      };
  d.factory = [](const weir::operator_context& ctx) {
    auto total = ctx.keyed_state->value_state("total");
    return weir::operator_behavior{
      [total](const weir::row& r, weir::collector& out) mutable {
        auto sum
          = total.get_or(weir::value{int64_t{0}}).as_int64() + r[1].as_int64();
        total.update(weir::value{sum});
        out.emit({r[0], weir::value{sum}});
      },
    };
  };
  return d;
}

} // namespace

TEST_CASE("running_total is exactly-once under seeded failures") {
  auto registry = std::make_shared<weir::operator_registry>();
  REQUIRE(!weir::register_builtin_operators(*registry));
  REQUIRE(!registry->add(bucket_operator()));
  REQUIRE(!registry->add(running_total_operator()));
  auto job = [](const std::string& dir) {
    auto spec = weir::job_builder{"totals"}
                  .parallelism(2)
                  // One source subtask: each bucket sees its values in one
                  // order, so the running totals a failure-free run writes
                  // do not depend on the schedule.
                  .vertex("numbers", "sequence", {{"to", "4000"}}, 1)
                  .vertex("buckets", "bucket", {}, 1)
                  .vertex("totals", "running_total", {{"key", "bucket"}})
                  .vertex("out", "file_sink", {{"path", dir + "/out"}})
                  .forward("numbers", "buckets")
                  .hash("buckets", "totals", {"bucket"})
                  .forward("totals", "out")
                  .build();
    auto* cp = spec.mutable_checkpointing();
    cp->set_interval_ms(50);
    cp->set_timeout_ms(1000);
    cp->set_tolerable_failures(100);
    cp->set_dir(dir + "/chk");
    auto* rs = spec.mutable_restart_strategy();
    rs->set_type("fixed-delay");
    rs->set_attempts(100);
    rs->set_delay_ms(10);
    return spec;
  };
  auto work = std::filesystem::temp_directory_path() / "weir-example-sim";
  weir::sim::simulation sim{registry, job, work.string()};
  REQUIRE_MESSAGE(sim.reference().ok(), sim.reference().describe());
  // 4000 numbers: one running-total line each.
  CHECK(sim.reference().output.size() == 4000);
  for (auto seed : weir::sim::simulation::seeds(1, 20)) {
    auto report = sim.run(seed);
    CHECK_MESSAGE(report.ok(), report.describe());
  }
  std::error_code ec;
  std::filesystem::remove_all(work, ec);
}
