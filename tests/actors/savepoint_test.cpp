// Savepoints end to end on the deterministic scheduler: a running job
// stops with a savepoint, and a new job started from it, also at another
// parallelism, produces exactly what is left, so that the two runs
// together equal one failure-free run.

#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <string>

#include "actors/test_cluster.hpp"
#include "api/job_builder.hpp"
#include "checkpoint/checkpoint_store.hpp"
#include "support/temp_dir.hpp"

using namespace weir;
using namespace weir::test;

namespace {

/// numbers 0..n-1 (rate-limited) -HASH-> counts (aggregate: count per
/// value % 10, emitting updates) -> out. Every update line "key,count" is
/// written exactly once, so the lines of all runs together are those of a
/// single run: for every key k, "k,1" .. "k,n/10".
proto::JobSpec counting_job(int64_t n, int parallelism, const std::string& out,
                            const std::string& chk) {
  auto spec
    = job_builder{"counting"}
        .parallelism(parallelism)
        .vertex("numbers", "sequence",
                {{"to", std::to_string(n)}, {"rate", "1000"}})
        .vertex("keys", "select_mod", {})
        .vertex("counts", "aggregate",
                {{"key", "key"}, {"function", "count"}, {"emit", "updates"}})
        .vertex("out", "file_sink", {{"path", out}})
        .forward("numbers", "keys")
        .hash("keys", "counts", {"key"})
        .forward("counts", "out")
        .build();
  auto* cp = spec.mutable_checkpointing();
  cp->set_interval_ms(100);
  cp->set_dir(chk);
  return spec;
}

/// `select_mod`: {value} -> {key = value % 10}.
void add_select_mod(operator_registry& r) {
  operator_descriptor d;
  d.name = "select_mod";
  d.kind = operator_kind::transform;
  d.help = "value -> value % 10";
  d.output_fields = [](const parameters&, const std::vector<std::string>&) {
    return caf::expected<std::vector<std::string>>{
      std::vector<std::string>{"key"}};
  };
  d.factory = [](const operator_context&) {
    return operator_behavior{[](const row& r, collector& out) {
      out.emit(row{value{r[0].as_int64() % 10}});
    }};
  };
  REQUIRE(!r.add(std::move(d)));
}

std::map<std::string, int> lines_of(const std::string& dir) {
  std::map<std::string, int> out;
  if (!std::filesystem::exists(dir))
    return out;
  for (const auto& line : read_lines(dir))
    ++out[line];
  return out;
}

struct savepoint_fixture : cluster_fixture {
  savepoint_fixture() {
    start(1, 4, make_test_registry(add_select_mod));
  }
};

} // namespace

TEST_CASE_FIXTURE(savepoint_fixture,
                  "a job stopped with a savepoint resumes from it at another "
                  "parallelism and the two runs write exactly one run's "
                  "lines") {
  for (int after : {1, 2, 3}) {
    CAPTURE(after);
    temp_dir dir;
    const int64_t n = 2000;
    auto out = dir / "out";
    auto actors_before = sys.registry().running();
    auto id = submit(counting_job(n, 2, out, dir / "chk"));
    REQUIRE(id);
    std::shared_ptr<std::optional<caf::expected<std::string>>> sp;
    auto first = run_stepped(*id, [&](int i) {
      if (i == 90)
        sp = ask<std::string>(cluster.job_manager, savepoint_atom::value, *id,
                              dir / "savepoints", true);
    });
    REQUIRE(sp);
    REQUIRE(sp->has_value());
    REQUIRE_MESSAGE(sp->value(), error_text(sp->value().error()));
    auto path = *sp->value();
    // Stop-with-savepoint ends the job FINISHED, as in Flink, and leaves
    // no actor of it behind.
    CHECK(first.status == job_status::finished);
    sched.run();
    CHECK(sys.registry().running() == actors_before);
    auto loaded = checkpoint_store::load(path);
    REQUIRE_MESSAGE(loaded, error_text(loaded.error()));
    CHECK(loaded->metadata.savepoint());
    auto before = lines_of(out);
    CHECK(before.size() > 0);
    CHECK(before.size() < static_cast<size_t>(n));
    submit_options opts;
    opts.savepoint_path = path;
    auto second_id = submit(counting_job(n, after, out, dir / "chk"), opts);
    REQUIRE_MESSAGE(second_id, error_text(second_id.error()));
    auto second = run_stepped(*second_id);
    REQUIRE_MESSAGE(second.status == job_status::finished, second.cause);
    // Its statistics name the savepoint it started from.
    auto info
      = ask<job_info>(cluster.job_manager, info_atom::value, *second_id);
    sched.run();
    REQUIRE(info->has_value());
    REQUIRE(info->value());
    const auto& restored = info->value()->restores;
    CHECK(restored.count == 1);
    CHECK(restored.savepoint);
    CHECK(restored.id == loaded->metadata.checkpoint_id());
    CHECK(std::filesystem::equivalent(restored.path, path));
    std::map<std::string, int> expected;
    for (int64_t k = 0; k < 10; ++k)
      for (int64_t c = 1; c <= n / 10; ++c)
        ++expected[std::to_string(k) + "," + std::to_string(c)];
    CHECK(lines_of(out) == expected);
  }
}

TEST_CASE_FIXTURE(savepoint_fixture,
                  "a savepoint that does not fit the job is refused at "
                  "submission") {
  temp_dir dir;
  auto id = submit(counting_job(100000, 2, dir / "out", dir / "chk"));
  REQUIRE(id);
  std::shared_ptr<std::optional<caf::expected<std::string>>> sp;
  run_stepped(*id, [&](int i) {
    if (i == 20)
      sp = ask<std::string>(cluster.job_manager, savepoint_atom::value, *id,
                            dir / "savepoints", true);
  });
  REQUIRE(sp->value());
  submit_options opts;
  opts.savepoint_path = *sp->value();
  SUBCASE("a vertex with state was renamed") {
    auto spec = counting_job(10, 2, dir / "out2", dir / "chk");
    spec.mutable_vertices(2)->set_id("tally");
    spec.mutable_edges(1)->set_to("tally");
    spec.mutable_edges(2)->set_from("tally");
    auto refused = submit(spec, opts);
    REQUIRE_FALSE(refused);
    CHECK(error_text(refused.error()).find("vertex 'counts'")
          != std::string::npos);
    opts.allow_non_restored_state = true;
    CHECK(submit(spec, opts));
  }
  SUBCASE("the savepoint is gone") {
    std::filesystem::remove_all(opts.savepoint_path);
    auto refused = submit(counting_job(10, 2, dir / "out2", dir / "chk"), opts);
    REQUIRE_FALSE(refused);
    CHECK(error_text(refused.error()).find("cannot restore from savepoint")
          != std::string::npos);
  }
}

TEST_CASE_FIXTURE(savepoint_fixture,
                  "a job without checkpoint storage refuses savepoints") {
  temp_dir dir;
  auto spec = counting_job(100000, 1, dir / "out", dir / "chk");
  spec.clear_checkpointing();
  auto id = submit(spec);
  REQUIRE(id);
  std::shared_ptr<std::optional<caf::expected<std::string>>> sp;
  for (int i = 0; i < 50; ++i) {
    sched.run();
    sched.advance_time(std::chrono::milliseconds(10));
  }
  sp = ask<std::string>(cluster.job_manager, savepoint_atom::value, *id,
                        dir / "savepoints", false);
  sched.run();
  REQUIRE(sp->has_value());
  REQUIRE_FALSE(sp->value());
  CHECK(error_text(sp->value().error()).find("no checkpoint storage")
        != std::string::npos);
  caf::anon_send(cluster.job_manager, cancel_atom::value, *id);
  sched.run();
}
