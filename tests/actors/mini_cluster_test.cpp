// End-to-end tests: whole jobs on a mini cluster on the deterministic
// scheduler, outputs compared with results computed here independently.

#include <doctest/doctest.h>

#include <cctype>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>

#include "actors/test_cluster.hpp"
#include "api/job_builder.hpp"
#include "support/temp_dir.hpp"

using namespace weir;
using namespace weir::test;

namespace {

/// numbers (unbounded, 2 subtasks) -rebalance-> sink (2): runs until
/// cancelled or failed.
proto::JobSpec endless_job() {
  return job_builder{"endless"}
    .parallelism(2)
    .vertex("numbers", "sequence")
    .vertex("sink", "discard")
    .rebalance("numbers", "sink")
    .build();
}

/// A text of `lines` lines drawn from a small vocabulary with mixed case and
/// punctuation, reproducible from `seed`.
std::string make_text(size_t lines, unsigned seed) {
  static const char* words[]
    = {"Stream", "barrier", "Key",   "group",  "slot", "task", "actor", "CAF",
       "flink",  "Weir",    "state", "window", "x1",   "y2k",  "z"};
  std::mt19937 rng{seed};
  std::ostringstream out;
  for (size_t i = 0; i < lines; ++i) {
    auto n = rng() % 12;
    for (size_t j = 0; j < n; ++j) {
      out << words[rng() % 15];
      out << (rng() % 5 == 0 ? ", " : " ");
    }
    out << "\n";
  }
  return out.str();
}

/// Word counts computed without Weir: split on non-alphanumerics, lower case.
std::map<std::string, int64_t> count_words(const std::string& text) {
  std::map<std::string, int64_t> out;
  std::string word;
  for (char c : text + "\n") {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!word.empty()) {
      ++out[word];
      word.clear();
    }
  }
  return out;
}

proto::JobSpec wordcount_job(const std::string& input,
                             const std::string& output, int parallelism) {
  return job_builder{"wordcount"}
    .parallelism(parallelism)
    .vertex("lines", "file_source", {{"path", input}})
    .vertex("words", "tokenize", {{"field", "line"}, {"as", "word"}})
    .vertex("counts", "aggregate", {{"key", "word"}, {"function", "count"}})
    .vertex("out", "file_sink", {{"path", output}})
    .forward("lines", "words")
    .hash("words", "counts", {"word"})
    .forward("counts", "out")
    .build();
}

/// Parses "word,count" lines; fails the test on a repeated word.
std::map<std::string, int64_t>
parse_counts(const std::vector<std::string>& lines) {
  std::map<std::string, int64_t> out;
  for (const auto& line : lines) {
    auto comma = line.rfind(',');
    REQUIRE(comma != std::string::npos);
    auto word = line.substr(0, comma);
    INFO("word: " << word);
    CHECK(out.count(word) == 0);
    out[word] = std::stoll(line.substr(comma + 1));
  }
  return out;
}

} // namespace

TEST_CASE_FIXTURE(cluster_fixture,
                  "wordcount matches an independent count at parallelism "
                  "1, 2 and 4") {
  temp_dir dir;
  auto text = make_text(3000, 7);
  auto input = dir.write("input.txt", text);
  auto expected = count_words(text);
  start(2, 4);
  for (int p : {1, 2, 4}) {
    CAPTURE(p);
    auto output = dir / ("out-" + std::to_string(p));
    auto res = run_job(wordcount_job(input, output, p));
    REQUIRE(res);
    CHECK_MESSAGE(res->status == job_status::finished, res->cause);
    auto got = parse_counts(read_lines(output));
    CHECK(got == expected);
    // One part file per sink subtask.
    size_t files = 0;
    for (auto& e : std::filesystem::directory_iterator{output}) {
      (void)e;
      ++files;
    }
    CHECK(files == static_cast<size_t>(p));
  }
}

TEST_CASE_FIXTURE(cluster_fixture,
                  "keyed sums over a sequence are exact with rebalance and "
                  "broadcast edges") {
  temp_dir dir;
  start(2, 2);
  // Broadcast feeds every sink subtask a full copy; rebalance spreads rows.
  auto out_b = dir / "broadcast";
  auto out_r = dir / "rebalance";
  auto spec
    = job_builder{"sums"}
        .vertex("numbers", "sequence", {{"from", "1"}, {"to", "5001"}}, 3)
        .vertex("total", "aggregate", {{"key", "value"}, {"function", "count"}},
                2)
        .vertex("copy", "file_sink", {{"path", out_b}}, 2)
        .vertex("spread", "file_sink", {{"path", out_r}}, 2)
        .hash("numbers", "total", {"value"})
        .broadcast("numbers", "copy")
        .rebalance("numbers", "spread")
        .vertex("drop", "discard", {}, 2)
        .forward("total", "drop")
        .build();
  auto res = run_job(spec);
  REQUIRE(res);
  REQUIRE_MESSAGE(res->status == job_status::finished, res->cause);
  auto broadcast = read_lines(out_b);
  auto rebalanced = read_lines(out_r);
  CHECK(broadcast.size() == 2 * 5000);
  REQUIRE(rebalanced.size() == 5000);
  std::map<int64_t, int> seen;
  for (const auto& line : rebalanced)
    ++seen[std::stoll(line)];
  CHECK(seen.size() == 5000);
  CHECK(seen.begin()->first == 1);
  CHECK(seen.rbegin()->first == 5000);
}

TEST_CASE_FIXTURE(cluster_fixture,
                  "an operator that throws fails the job with its message") {
  auto reg = make_test_registry([](operator_registry& r) {
    operator_descriptor d;
    d.name = "explode_at";
    d.kind = operator_kind::transform;
    d.help = "throws when it sees the given value";
    d.params = {{"at", param_type::int64, true, "", "value to throw at"}};
    d.output_fields
      = [](const parameters&, const std::vector<std::string>& in) {
          return caf::expected<std::vector<std::string>>{in};
        };
    d.factory = [](const operator_context& ctx) {
      auto at = ctx.get_int("at");
      return operator_behavior{[at](const row& r, collector& out) {
        if (r[0].as_int64() == at)
          throw std::runtime_error("boom at " + std::to_string(at));
        out.emit(r);
      }};
    };
    REQUIRE(!r.add(std::move(d)));
  });
  start(1, 2, reg);
  auto spec = job_builder{"exploding"}
                .parallelism(2)
                .vertex("numbers", "sequence", {{"to", "100000"}})
                .vertex("bomb", "explode_at", {{"at", "77777"}})
                .vertex("sink", "discard")
                .rebalance("numbers", "bomb")
                .forward("bomb", "sink")
                .build();
  auto id = submit(spec);
  REQUIRE(id);
  auto res = ask<job_result>(cluster.job_manager, wait_atom::value, *id);
  run_until([&] { return res->has_value(); });
  REQUIRE(res->has_value());
  REQUIRE(res->value());
  auto& r = *res->value();
  CHECK(r.status == job_status::failed);
  CHECK(r.cause.find("boom at 77777") != std::string::npos);
  CHECK(r.cause.find("vertex 'bomb'") != std::string::npos);
  auto info = ask<job_info>(cluster.job_manager, info_atom::value, *id);
  sched.run();
  REQUIRE(info->has_value());
  std::vector<job_status> path;
  for (auto& t : info->value()->transitions)
    path.push_back(t.first);
  CHECK(path
        == std::vector<job_status>{job_status::created, job_status::running,
                                   job_status::failing, job_status::failed});
}

TEST_CASE_FIXTURE(cluster_fixture,
                  "an ended job keeps every subtask's final counts, per "
                  "operator") {
  start(1, 4);
  auto spec = job_builder{"counted"}
                .parallelism(2)
                .vertex("numbers", "sequence", {{"to", "1000"}})
                .vertex("small", "filter",
                        {{"field", "value"}, {"op", "<"}, {"value", "500"}})
                .vertex("sink", "discard")
                .rebalance("numbers", "small")
                .forward("small", "sink")
                .build();
  auto res = run_job(spec);
  REQUIRE(res);
  REQUIRE(res->status == job_status::finished);
  auto info = details(res->id);
  REQUIRE(info);
  const auto& ji = *info;
  REQUIRE(ji.final_metrics.size() == ji.subtasks.size());
  uint64_t emitted = 0, filtered_in = 0, kept = 0;
  for (const auto& m : ji.final_metrics) {
    REQUIRE(m.execution < ji.subtasks.size());
    const auto& task = ji.subtasks[m.execution].task;
    REQUIRE(!m.operator_rows_out.empty());
    if (task == "numbers") {
      emitted += m.operator_rows_out[0];
    } else {
      // small -> sink, chained: the filter reads what came in, the sink
      // what the filter kept.
      REQUIRE(m.operator_rows_out.size() == 2);
      filtered_in += m.rows_in;
      kept += m.operator_rows_out[0];
    }
  }
  CHECK(emitted == 1000);
  CHECK(filtered_in == 1000);
  CHECK(kept == 500);
}

TEST_CASE_FIXTURE(cluster_fixture,
                  "cancel moves a running job through CANCELLING to "
                  "CANCELED") {
  start(1, 2);
  auto spec = job_builder{"endless"}
                .parallelism(2)
                .vertex("numbers", "sequence")
                .vertex("sink", "discard")
                .rebalance("numbers", "sink")
                .build();
  auto id = submit(spec);
  REQUIRE(id);
  auto res = ask<job_result>(cluster.job_manager, wait_atom::value, *id);
  // Let the unbounded job make progress, then cancel it.
  sched.run(5000);
  CHECK(!res->has_value());
  caf::anon_send(cluster.job_manager, cancel_atom::value, *id);
  run_until([&] { return res->has_value(); });
  REQUIRE(res->has_value());
  CHECK(res->value()->status == job_status::canceled);
  auto info = ask<job_info>(cluster.job_manager, info_atom::value, *id);
  sched.run();
  std::vector<job_status> path;
  for (auto& t : info->value()->transitions)
    path.push_back(t.first);
  CHECK(path
        == std::vector<job_status>{job_status::created, job_status::running,
                                   job_status::cancelling,
                                   job_status::canceled});
  // The canceled subtasks' counts stay with the job.
  REQUIRE(info->value()->final_metrics.size() == 4);
  for (const auto& m : info->value()->final_metrics)
    if (info->value()->subtasks[m.execution].task == "numbers")
      CHECK(m.rows_out > 0);
  // Every slot went back to the resource manager.
  auto ci = ask<cluster_info>(cluster.resource_manager, info_atom::value);
  sched.run();
  CHECK(ci->value()->slots_free == 2);
}

TEST_CASE_FIXTURE(cluster_fixture,
                  "a job needing more slots than exist fails after the slot "
                  "request timeout") {
  job_manager_config cfg;
  cfg.master.slot_request_timeout = std::chrono::seconds(3);
  start(1, 2, make_test_registry(), cfg);
  auto spec = job_builder{"too-wide"}
                .vertex("numbers", "sequence", {{"to", "10"}}, 3)
                .vertex("sink", "discard", {}, 3)
                .forward("numbers", "sink")
                .build();
  auto id = submit(spec);
  REQUIRE(id);
  auto res = ask<job_result>(cluster.job_manager, wait_atom::value, *id);
  sched.run();
  // Nothing fails before the timeout: the request waits for slots.
  CHECK(!res->has_value());
  sched.advance_time(std::chrono::seconds(2));
  sched.run();
  CHECK(!res->has_value());
  sched.advance_time(std::chrono::seconds(1));
  sched.run();
  REQUIRE(res->has_value());
  CHECK(res->value()->status == job_status::failed);
  auto cause = res->value()->cause;
  CHECK(cause.find("could not allocate 3 slots") != std::string::npos);
  CHECK(cause.find("the cluster has 2 slots") != std::string::npos);
}

TEST_CASE_FIXTURE(cluster_fixture,
                  "the job manager rejects an invalid job naming the fault") {
  start(1, 1);
  auto spec = job_builder{"bad"}
                .vertex("numbers", "sequence", {{"too", "10"}})
                .vertex("sink", "discard")
                .forward("numbers", "sink")
                .build();
  auto id = submit(spec);
  REQUIRE(!id);
  CHECK(error_text(id.error()).find("'too'") != std::string::npos);
}

TEST_CASE_FIXTURE(cluster_fixture,
                  "cancelling a job that waits for slots leaks none") {
  start(1, 1);
  auto endless = job_builder{"endless"}
                   .vertex("numbers", "sequence", {}, 1)
                   .vertex("sink", "discard", {}, 1)
                   .rebalance("numbers", "sink")
                   .build();
  auto a = submit(endless);
  REQUIRE(a);
  sched.run(2000);
  auto b = submit(endless);
  REQUIRE(b);
  auto res_b = ask<job_result>(cluster.job_manager, wait_atom::value, *b);
  sched.run(2000);
  caf::anon_send(cluster.job_manager, cancel_atom::value, *b);
  sched.run(2000);
  caf::anon_send(cluster.job_manager, cancel_atom::value, *a);
  auto res_a = ask<job_result>(cluster.job_manager, wait_atom::value, *a);
  run_until([&] { return res_a->has_value() && res_b->has_value(); });
  REQUIRE(res_b->has_value());
  CHECK(res_b->value()->status == job_status::canceled);
  CHECK(res_a->value()->status == job_status::canceled);
  auto ci = ask<cluster_info>(cluster.resource_manager, info_atom::value);
  sched.run();
  CHECK(ci->value()->slots_free == 1);
  // And the slot is usable by the next job.
  auto small = job_builder{"small"}
                 .vertex("numbers", "sequence", {{"to", "10"}}, 1)
                 .vertex("sink", "discard", {}, 1)
                 .forward("numbers", "sink")
                 .build();
  auto res = run_job(small);
  REQUIRE(res);
  CHECK(res->status == job_status::finished);
}

TEST_CASE_FIXTURE(cluster_fixture,
                  "a subtask canceled behind the job master's back fails "
                  "the job") {
  start(1, 2);
  auto id = submit(endless_job());
  REQUIRE(id);
  auto res = ask<job_result>(cluster.job_manager, wait_atom::value, *id);
  auto tasks = deployed_tasks(*id, 4);
  REQUIRE(tasks.size() == 4);
  caf::anon_send(caf::actor_cast<task_actor>(tasks[3]), cancel_atom::value);
  run_until([&] { return res->has_value(); });
  REQUIRE(res->has_value());
  CHECK(res->value()->status == job_status::failed);
  CHECK(res->value()->cause.find("canceled without a request")
        != std::string::npos);
}

TEST_CASE_FIXTURE(cluster_fixture,
                  "shutting the cluster down stops a running job's actors") {
  start(2, 2);
  auto before = sys.registry().running();
  auto id = submit(endless_job());
  REQUIRE(id);
  sched.run(3000);
  CHECK(sys.registry().running() > before);
  cluster.shutdown();
  sched.run();
  CHECK(sys.registry().running() == 0);
}

TEST_CASE_FIXTURE(cluster_fixture,
                  "the job manager rejects data-plane settings that would "
                  "stall a job") {
  start(1, 1);
  auto spec = job_builder{"small"}
                .vertex("numbers", "sequence", {{"to", "10"}}, 1)
                .vertex("sink", "discard", {}, 1)
                .forward("numbers", "sink")
                .build();
  submit_options opts;
  opts.data_plane.credits = 0;
  auto id = submit(spec, opts);
  REQUIRE(!id);
  CHECK(error_text(id.error()).find("credits must be in [1, 1024]")
        != std::string::npos);
  opts = submit_options{};
  opts.data_plane.batch_rows = 0;
  id = submit(spec, opts);
  REQUIRE(!id);
  CHECK(error_text(id.error()).find("batch rows") != std::string::npos);
}

TEST_CASE_FIXTURE(cluster_fixture,
                  "a killed task fails its job but leaves its task manager "
                  "and its slots alive") {
  start(1, 2);
  auto id = submit(endless_job());
  REQUIRE(id);
  auto res = ask<job_result>(cluster.job_manager, wait_atom::value, *id);
  auto tasks = deployed_tasks(*id, 4);
  REQUIRE(tasks.size() == 4);
  // exit_reason::kill cannot be trapped: a link would pass it on.
  caf::anon_send_exit(tasks[1], caf::exit_reason::kill);
  run_until([&] { return res->has_value(); });
  REQUIRE(res->has_value());
  CHECK(res->value()->status == job_status::failed);
  auto ci = ask<cluster_info>(cluster.resource_manager, info_atom::value);
  sched.run();
  REQUIRE(ci->has_value());
  CHECK(ci->value()->task_managers == 1);
  CHECK(ci->value()->slots_total == 2);
  CHECK(ci->value()->slots_free == 2);
}

TEST_CASE_FIXTURE(cluster_fixture,
                  "a task manager that goes down takes its tasks with it") {
  start(1, 2);
  auto id = submit(endless_job());
  REQUIRE(id);
  auto before = sys.registry().running();
  auto tasks = deployed_tasks(*id, 4);
  REQUIRE(tasks.size() == 4);
  caf::anon_send_exit(cluster.task_managers[0], caf::exit_reason::kill);
  sched.run();
  for (auto& t : tasks) {
    auto* a = caf::actor_cast<caf::abstract_actor*>(t);
    CHECK(a->getf(caf::abstract_actor::is_terminated_flag));
  }
  CHECK(sys.registry().running() < before);
}
