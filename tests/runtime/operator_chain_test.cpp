#include "runtime/operator_chain.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "api/codec.hpp"
#include "api/error.hpp"
#include "api/job_builder.hpp"
#include "api/state.hpp"
#include "operators/builtins.hpp"
#include "runtime/error.hpp"
#include "scheduler/job_graph.hpp"
#include "scheduler/key_groups.hpp"

using namespace weir;

namespace weir::test {

// Defined in fixtures.cpp.
plan plan_of(const job_builder& job, const operator_registry& registry);

} // namespace weir::test

using namespace weir::test;

namespace {

using rows = std::vector<row>;
using strings = std::vector<std::string>;
using factory_fn = std::function<operator_behavior(const operator_context&)>;
using time_point = std::chrono::steady_clock::time_point;

int64_t n_of(const row& r) {
  return r.at(0).as_int64();
}

row n_row(int64_t n) {
  return row{value{n}};
}

/// Operators whose behaviour each test scripts per vertex id: script_source
/// (emits {n}), script (a transform; `as` renames its one output field) and
/// script_sink. A vertex without a script gets an empty behaviour. Chains
/// built here feed an output gate that sends every row at once; operators
/// and the gate append to one trace, so tests see the order of calls.
class chain_fixture {
public:
  chain_fixture() {
    using pt = param_type;
    add("script_source", operator_kind::source, {},
        [](const parameters&, const strings&) -> caf::expected<strings> {
          return strings{"n"};
        });
    add("script", operator_kind::transform,
        {{"tag", pt::string, false, "", "free text"},
         {"as", pt::name_list, false, "", "renamed output fields"}},
        [](const parameters& ps, const strings& in) -> caf::expected<strings> {
          auto i = ps.find("as");
          if (i == ps.end() || i->second.empty())
            return in;
          return split_list(i->second);
        });
    add("script_sink", operator_kind::sink, {},
        [](const parameters&, const strings& in) -> caf::expected<strings> {
          return in;
        });
    // A source of {key, ts} rows and a transform keyed by `key`, for event
    // time.
    add("script_events", operator_kind::source, {},
        [](const parameters&, const strings&) -> caf::expected<strings> {
          return strings{"key", "ts"};
        });
    add(
      "script_keyed", operator_kind::transform,
      {{"key", pt::field_list, true, "", "key fields"}},
      [](const parameters&, const strings& in) -> caf::expected<strings> {
        return in;
      },
      "key");
  }

  /// gen (1) -rebalance-> a (2) -forward-> b (2) -rebalance-> sink (1):
  /// task 1 is the chain "a -> b".
  static job_builder standard_job() {
    return job_builder{"chain"}
      .max_parallelism(32)
      .vertex("gen", "script_source", {}, 1)
      .vertex("a", "script", {{"tag", "first"}}, 2)
      .vertex("b", "script", {{"as", "m"}}, 2)
      .vertex("sink", "script_sink", {}, 1)
      .rebalance("gen", "a")
      .forward("a", "b")
      .rebalance("b", "sink");
  }

  /// Scripts vertex `id`.
  void script(const std::string& id, factory_fn f) {
    factories_[id] = std::move(f);
  }

  /// Scripts vertex `id` with a fixed behaviour.
  void script(const std::string& id, operator_behavior behavior) {
    factories_[id] = [behavior](const operator_context&) { return behavior; };
  }

  /// Plans `job` with the scripted operators.
  void plan_job(const job_builder& job) {
    p = plan_of(job, registry_);
  }

  /// Plans `spec` with the scripted operators.
  void plan_spec(const proto::JobSpec& spec) {
    auto g = build_job_graph(spec, registry_);
    if (!g)
      FAIL(error_text(g.error()));
    p = make_plan(std::move(*g));
  }

  /// Builds the output gate and the chain of (`task`, `subtask`).
  caf::expected<std::unique_ptr<operator_chain>> start(int task, int subtask) {
    auto exec = p.execution_index(task, subtask);
    batch_limits limits;
    limits.max_rows = 1;
    gate.emplace(
      p, exec, limits,
      [this](size_t, std::vector<row>&& batch) {
        for (auto& r : batch) {
          trace.push_back("out " + to_csv(r));
          out.push_back(std::move(r));
        }
      },
      [this](size_t) { trace.push_back("out end"); });
    std::vector<size_t> ids;
    for (const auto& ch : gate->channels())
      ids.push_back(ch.id);
    for (auto id : ids)
      gate->grant(id, 1000);
    return operator_chain::make(p, exec, *gate, [this] { return clock; });
  }

  /// Like start(), but a failure to build fails the test.
  std::unique_ptr<operator_chain> must_start(int task, int subtask) {
    auto chain = start(task, subtask);
    if (!chain)
      FAIL(error_text(chain.error()));
    return std::move(*chain);
  }

  /// A transform that logs "<id> <n>" and emits what `f` makes of a row.
  operator_behavior mapping(const std::string& id,
                            std::function<rows(const row&)> f) {
    return operator_behavior{
      [this, id, f](const row& r, collector& c) {
        trace.push_back(id + " " + to_csv(r));
        for (auto& x : f(r))
          c.emit(std::move(x));
      },
    };
  }

  plan p;
  std::optional<output_gate> gate;
  strings trace;
  rows out;
  time_point clock{std::chrono::seconds{42}};

private:
  void add(std::string name, operator_kind kind, std::vector<param_spec> ps,
           output_fields_fn fields, std::string key_param = {}) {
    operator_descriptor d;
    d.name = std::move(name);
    d.kind = kind;
    d.key_param = std::move(key_param);
    d.params = std::move(ps);
    d.output_fields = std::move(fields);
    d.factory = [this](const operator_context& ctx) {
      auto i = factories_.find(ctx.vertex);
      return i == factories_.end() ? operator_behavior{} : i->second(ctx);
    };
    if (auto err = registry_.add(std::move(d)))
      FAIL(error_text(err));
  }

  std::map<std::string, factory_fn> factories_;
  operator_registry registry_;
};

/// The built-in operators, registered once.
const operator_registry& builtins() {
  static const operator_registry registry = [] {
    operator_registry r;
    if (auto err = register_builtin_operators(r))
      FAIL(error_text(err));
    return r;
  }();
  return registry;
}

rows sorted(rows xs) {
  std::sort(xs.begin(), xs.end());
  return xs;
}

} // namespace

// -- building -----------------------------------------------------------------

TEST_CASE_FIXTURE(chain_fixture,
                  "the standard job chains a and b into one task") {
  plan_job(standard_job());
  REQUIRE_EQ(p.tasks.size(), 3u);
  CHECK_EQ(p.tasks[1].name, "a -> b");
  CHECK_EQ(p.tasks[1].parallelism, 2);
}

TEST_CASE_FIXTURE(chain_fixture,
                  "a chain gives every operator the context of its vertex") {
  plan_job(standard_job());
  std::vector<operator_context> seen;
  auto record = [&seen](const operator_context& ctx) {
    seen.push_back(ctx);
    return operator_behavior{};
  };
  script("a", record);
  script("b", record);
  auto chain = must_start(1, 1);
  REQUIRE_EQ(seen.size(), 2u);
  CHECK_EQ(seen[0].vertex, "a");
  CHECK_EQ(seen[1].vertex, "b");
  for (const auto& ctx : seen) {
    CHECK_EQ(ctx.subtask, 1);
    CHECK_EQ(ctx.parallelism, 2);
    CHECK_EQ(ctx.max_parallelism, 32);
    CHECK_EQ(ctx.input_fields, strings{"n"});
  }
  CHECK_EQ(seen[0].get_string("tag"), "first");
  CHECK_FALSE(seen[1].has("tag"));
  CHECK_EQ(seen[0].output_fields, strings{"n"});
  CHECK_EQ(seen[1].output_fields, strings{"m"});
  // `now` is the task's clock itself, not a snapshot of it.
  CHECK(seen[0].now() == clock);
  clock += std::chrono::seconds{5};
  CHECK(seen[1].now() == clock);
}

TEST_CASE_FIXTURE(chain_fixture,
                  "operators see their own contexts for their whole life") {
  plan_job(standard_job());
  // Handlers keep a reference to their context, as an operator may.
  auto refer = [this](const operator_context& ctx) {
    const auto* c = &ctx;
    return operator_behavior{
      [this, c](const row& r, collector& o) {
        trace.push_back(c->vertex + " " + std::to_string(c->subtask));
        o.emit(r);
      },
    };
  };
  script("a", refer);
  script("b", refer);
  auto chain = must_start(1, 0);
  chain->on_record(n_row(1));
  CHECK_EQ(trace, strings{"a 0", "b 0", "out 1"});
}

TEST_CASE_FIXTURE(chain_fixture,
                  "a factory that throws gives an error naming the vertex") {
  plan_job(standard_job());
  SUBCASE("a later operator") {
    script("b", [](const operator_context&) -> operator_behavior {
      throw std::runtime_error("cannot open state");
    });
    auto chain = start(1, 1);
    REQUIRE_FALSE(chain);
    auto text = error_text(chain.error());
    CHECK_EQ(text, "vertex 'b' (subtask 2/2) failed to start: cannot open "
                   "state");
    CHECK_EQ(chain.error().code(),
             static_cast<uint8_t>(runtime_errc::operator_failed));
    CHECK_EQ(chain.error().category(), caf::atom("weir_rt"));
  }
  SUBCASE("the head") {
    script("a", [](const operator_context&) -> operator_behavior {
      throw std::invalid_argument("bad tag");
    });
    auto chain = start(1, 0);
    REQUIRE_FALSE(chain);
    CHECK_EQ(error_text(chain.error()),
             "vertex 'a' (subtask 1/2) failed to start: bad tag");
  }
}

TEST_CASE_FIXTURE(chain_fixture,
                  "a factory that throws a non-standard exception gives an "
                  "error naming the vertex") {
  plan_job(standard_job());
  script("b", [](const operator_context&) -> operator_behavior { throw 42; });
  std::optional<caf::expected<std::unique_ptr<operator_chain>>> chain;
  CHECK_NOTHROW(chain.emplace(start(1, 0)));
  REQUIRE(chain.has_value());
  REQUIRE_FALSE(*chain);
  auto text = error_text(chain->error());
  CHECK_NE(text.find("vertex 'b' (subtask 1/2) failed to start"),
           std::string::npos);
  CHECK_EQ(chain->error().code(),
           static_cast<uint8_t>(runtime_errc::operator_failed));
}

TEST_CASE_FIXTURE(chain_fixture,
                  "is_source tells a polling head from a transform head") {
  plan_job(standard_job());
  script("gen",
         operator_behavior{
           [](poll_t, collector&, size_t) { return poll_result::done(); },
         });
  CHECK(must_start(0, 0)->is_source());
  CHECK_FALSE(must_start(1, 0)->is_source());
}

// -- records ------------------------------------------------------------------

TEST_CASE_FIXTURE(chain_fixture,
                  "rows flow from the head through each operator to the gate") {
  plan_job(standard_job());
  script("a",
         mapping("a", [](const row& r) { return rows{n_row(n_of(r) * 10)}; }));
  script("b",
         mapping("b", [](const row& r) { return rows{n_row(n_of(r) + 1)}; }));
  auto chain = must_start(1, 0);
  chain->on_record(n_row(1));
  chain->on_record(n_row(2));
  CHECK_EQ(trace, strings{"a 1", "b 10", "out 11", "a 2", "b 20", "out 21"});
  CHECK_EQ(out, (rows{n_row(11), n_row(21)}));
  CHECK_EQ(chain->rows_in(), 2u);
  CHECK_EQ(gate->rows_out(), 2u);
}

TEST_CASE_FIXTURE(chain_fixture,
                  "an operator may emit several rows or none for one input") {
  plan_job(standard_job());
  script("a", mapping("a", [](const row& r) {
           return rows{r, n_row(n_of(r) + 100)};
         }));
  SUBCASE("the next operator sees each emitted row") {
    script("b", mapping("b", [](const row& r) {
             return n_of(r) % 2 == 0 ? rows{r} : rows{};
           }));
    auto chain = must_start(1, 1);
    for (int64_t n = 1; n <= 3; ++n)
      chain->on_record(n_row(n));
    CHECK_EQ(trace, strings{"a 1", "b 1", "b 101", "a 2", "b 2", "out 2",
                            "b 102", "out 102", "a 3", "b 3", "b 103"});
    CHECK_EQ(out, (rows{n_row(2), n_row(102)}));
    CHECK_EQ(chain->rows_in(), 3u);
    CHECK_EQ(gate->rows_out(), 2u);
  }
  SUBCASE("an operator without a record handler drops rows") {
    auto chain = must_start(1, 1);
    chain->on_record(n_row(1));
    CHECK_EQ(trace, strings{"a 1"});
    CHECK(out.empty());
    CHECK_EQ(chain->rows_in(), 1u);
  }
}

// -- end of input -------------------------------------------------------------

TEST_CASE_FIXTURE(chain_fixture,
                  "end of input reaches the next operator after the rows "
                  "emitted before it") {
  plan_job(standard_job());
  script("a", operator_behavior{
                [this](const row& r, collector& c) {
                  trace.push_back("a " + to_csv(r));
                  c.emit(r);
                },
                [this](end_of_input_t, collector& c) {
                  trace.push_back("a end");
                  c.emit(n_row(100));
                  c.emit(n_row(101));
                },
              });
  script("b", operator_behavior{
                [this](const row& r, collector& c) {
                  trace.push_back("b " + to_csv(r));
                  c.emit(r);
                },
                [this](end_of_input_t, collector& c) {
                  trace.push_back("b end");
                  c.emit(n_row(200));
                },
              });
  auto chain = must_start(1, 0);
  chain->on_record(n_row(1));
  chain->on_end_of_input();
  CHECK_EQ(trace, strings{"a 1", "b 1", "out 1", "a end", "b 100", "out 100",
                          "b 101", "out 101", "b end", "out 200"});
  // End of input does not count as input rows.
  CHECK_EQ(chain->rows_in(), 1u);
  CHECK_EQ(gate->rows_out(), 4u);
}

TEST_CASE_FIXTURE(chain_fixture,
                  "operators without end handlers pass end of input along") {
  plan_job(standard_job());
  script("b", operator_behavior{
                [this](end_of_input_t, collector& c) {
                  trace.push_back("b end");
                  c.emit(n_row(7));
                },
              });
  auto chain = must_start(1, 1);
  chain->on_end_of_input();
  CHECK_EQ(trace, strings{"b end", "out 7"});
}

// -- failures -----------------------------------------------------------------

TEST_CASE_FIXTURE(chain_fixture,
                  "current_vertex names the head before any call") {
  plan_job(standard_job());
  auto chain = must_start(1, 0);
  CHECK_EQ(chain->current_vertex(), "a");
}

TEST_CASE_FIXTURE(chain_fixture,
                  "current_vertex names the operator whose record handler "
                  "threw") {
  plan_job(standard_job());
  auto thrower = [](int64_t bad) {
    return operator_behavior{
      [bad](const row& r, collector& c) {
        if (n_of(r) == bad)
          throw std::runtime_error("bad row");
        c.emit(r);
      },
    };
  };
  SUBCASE("the head") {
    script("a", thrower(1));
    auto chain = must_start(1, 0);
    CHECK_THROWS_WITH_AS(chain->on_record(n_row(1)), "bad row",
                         std::runtime_error);
    CHECK_EQ(chain->current_vertex(), "a");
  }
  SUBCASE("the second operator") {
    script("a", thrower(0));
    script("b", thrower(1));
    auto chain = must_start(1, 0);
    chain->on_record(n_row(2));
    CHECK_EQ(chain->current_vertex(), "a");
    CHECK_THROWS_WITH_AS(chain->on_record(n_row(1)), "bad row",
                         std::runtime_error);
    CHECK_EQ(chain->current_vertex(), "b");
  }
  SUBCASE("the head after the next operator took its row") {
    script("a", operator_behavior{
                  [](const row& r, collector& c) {
                    c.emit(r);
                    throw std::runtime_error("after emit");
                  },
                });
    script("b", mapping("b", [](const row& r) { return rows{r}; }));
    auto chain = must_start(1, 0);
    CHECK_THROWS_WITH_AS(chain->on_record(n_row(1)), "after emit",
                         std::runtime_error);
    CHECK_EQ(trace, strings{"b 1", "out 1"});
    CHECK_EQ(chain->current_vertex(), "a");
  }
}

TEST_CASE_FIXTURE(chain_fixture,
                  "current_vertex names an operator that threw after "
                  "catching a downstream exception") {
  plan_job(standard_job());
  script("a", operator_behavior{
                [](const row& r, collector& c) {
                  try {
                    c.emit(r);
                  } catch (const std::exception&) {
                    // Ignored: a keeps going, then fails on its own.
                  }
                  throw std::runtime_error("a failed");
                },
              });
  script("b",
         operator_behavior{
           [](const row&, collector&) { throw std::runtime_error("b failed"); },
         });
  auto chain = must_start(1, 0);
  CHECK_THROWS_WITH_AS(chain->on_record(n_row(1)), "a failed",
                       std::runtime_error);
  CHECK_EQ(chain->current_vertex(), "a");
}

TEST_CASE_FIXTURE(chain_fixture,
                  "current_vertex names the operator whose end handler "
                  "threw") {
  plan_job(standard_job());
  SUBCASE("the head's end handler") {
    script("a", operator_behavior{
                  [](end_of_input_t, collector&) {
                    throw std::runtime_error("a end");
                  },
                });
    auto chain = must_start(1, 0);
    CHECK_THROWS_WITH_AS(chain->on_end_of_input(), "a end", std::runtime_error);
    CHECK_EQ(chain->current_vertex(), "a");
  }
  SUBCASE("the next operator's end handler") {
    script("b", operator_behavior{
                  [](end_of_input_t, collector&) {
                    throw std::runtime_error("b end");
                  },
                });
    auto chain = must_start(1, 0);
    CHECK_THROWS_WITH_AS(chain->on_end_of_input(), "b end", std::runtime_error);
    CHECK_EQ(chain->current_vertex(), "b");
  }
  SUBCASE("the next operator's record handler, fed by the head's end") {
    script("a", operator_behavior{
                  [](end_of_input_t, collector& c) { c.emit(n_row(1)); },
                });
    script(
      "b",
      operator_behavior{
        [](const row&, collector&) { throw std::runtime_error("b record"); },
        [this](end_of_input_t, collector&) { trace.push_back("b end"); },
      });
    auto chain = must_start(1, 0);
    CHECK_THROWS_WITH_AS(chain->on_end_of_input(), "b record",
                         std::runtime_error);
    CHECK_EQ(chain->current_vertex(), "b");
    // The chain stops at the exception: b's end handler never ran.
    CHECK(trace.empty());
  }
}

// -- sources ------------------------------------------------------------------

TEST_CASE_FIXTURE(chain_fixture,
                  "on_poll passes the budget to the head and its rows down") {
  // gen -> a chain into one task; a rebalances into two sinks.
  plan_job(job_builder{"poll"}
             .vertex("gen", "script_source", {}, 1)
             .vertex("a", "script", {}, 1)
             .vertex("sink", "script_sink", {}, 2)
             .forward("gen", "a")
             .rebalance("a", "sink"));
  REQUIRE_EQ(p.tasks[0].name, "gen -> a");
  auto next = std::make_shared<int64_t>(0);
  auto budgets = std::make_shared<std::vector<size_t>>();
  script("gen", operator_behavior{
                  [next, budgets](poll_t, collector& c, size_t budget) {
                    budgets->push_back(budget);
                    for (size_t i = 0; i < budget && *next < 5; ++i)
                      c.emit(n_row((*next)++));
                    return *next < 5 ? poll_result::ready()
                                     : poll_result::done();
                  },
                });
  script("a",
         mapping("a", [](const row& r) { return rows{n_row(n_of(r) * 2)}; }));
  auto chain = must_start(0, 0);
  REQUIRE(chain->is_source());
  CHECK_EQ(chain->on_poll(2).kind, poll_result::more);
  CHECK_EQ(sorted(out), (rows{n_row(0), n_row(2)}));
  CHECK_EQ(chain->on_poll(2).kind, poll_result::more);
  CHECK_EQ(chain->on_poll(2).kind, poll_result::finished);
  CHECK_EQ(*budgets, (std::vector<size_t>{2, 2, 2}));
  CHECK_EQ(sorted(out),
           (rows{n_row(0), n_row(2), n_row(4), n_row(6), n_row(8)}));
  CHECK_EQ(chain->current_vertex(), "gen");
}

TEST_CASE_FIXTURE(chain_fixture, "on_poll reports the head's wait delay") {
  plan_job(standard_job());
  script("gen", operator_behavior{
                  [](poll_t, collector&, size_t) {
                    return poll_result::wait_for(std::chrono::milliseconds{5});
                  },
                });
  auto chain = must_start(0, 0);
  auto res = chain->on_poll(10);
  CHECK_EQ(res.kind, poll_result::wait);
  CHECK(res.delay == std::chrono::milliseconds{5});
}

TEST_CASE_FIXTURE(chain_fixture,
                  "current_vertex names the operator that threw during a "
                  "poll") {
  plan_job(job_builder{"poll"}
             .vertex("gen", "script_source", {}, 1)
             .vertex("a", "script", {}, 1)
             .vertex("sink", "script_sink", {}, 2)
             .forward("gen", "a")
             .rebalance("a", "sink"));
  script("gen", operator_behavior{
                  [](poll_t, collector& c, size_t) {
                    c.emit(n_row(1));
                    return poll_result::ready();
                  },
                });
  script("a",
         operator_behavior{
           [](const row&, collector&) { throw std::runtime_error("a threw"); },
         });
  auto chain = must_start(0, 0);
  CHECK_THROWS_WITH_AS(chain->on_poll(1), "a threw", std::runtime_error);
  CHECK_EQ(chain->current_vertex(), "a");
}

// -- built-in operators -------------------------------------------------------

TEST_CASE("a chain of built-in sequence and filter delivers the kept rows") {
  auto p
    = plan_of(job_builder{"builtin"}
                .vertex("numbers", "sequence", {{"to", "20"}}, 1)
                .vertex("big", "filter",
                        {{"field", "value"}, {"op", ">="}, {"value", "15"}}, 1)
                .vertex("drop", "discard", {}, 2)
                .forward("numbers", "big")
                .rebalance("big", "drop"),
              builtins());
  REQUIRE_EQ(p.tasks[0].name, "numbers -> big");
  rows got;
  size_t ends = 0;
  batch_limits limits;
  limits.max_rows = 2;
  output_gate gate{p, 0, limits,
                   [&got](size_t, std::vector<row>&& batch) {
                     got.insert(got.end(), batch.begin(), batch.end());
                   },
                   [&ends](size_t) { ++ends; }};
  for (const auto& ch : p.executions[0].output_channels.at(0))
    gate.grant(ch, 100);
  auto chain = operator_chain::make(
    p, 0, gate, [] { return std::chrono::steady_clock::time_point{}; });
  if (!chain)
    FAIL(error_text(chain.error()));
  REQUIRE((*chain)->is_source());
  int polls = 0;
  while ((*chain)->on_poll(7).kind != poll_result::finished)
    REQUIRE_LT(++polls, 100);
  (*chain)->on_end_of_input();
  gate.finish();
  CHECK(gate.drained());
  CHECK_EQ(ends, 2u);
  CHECK_EQ(sorted(got), (rows{row{value{15}}, row{value{16}}, row{value{17}},
                              row{value{18}}, row{value{19}}}));
  CHECK_EQ(gate.rows_out(), 5u);
}

TEST_CASE("a built-in aggregate's end-of-input rows pass down its chain") {
  auto p = plan_of(job_builder{"builtin"}
                     .vertex("numbers", "sequence", {{"to", "20"}}, 1)
                     .vertex("counts", "aggregate",
                             {{"key", "value"}, {"function", "count"}}, 1)
                     .vertex("only", "select", {{"fields", "count"}}, 1)
                     .vertex("drop", "discard", {}, 1)
                     .hash("numbers", "counts", {"value"})
                     .forward("counts", "only")
                     .rebalance("only", "drop"),
                   builtins());
  REQUIRE_EQ(p.tasks.size(), 3u);
  REQUIRE_EQ(p.tasks[1].name, "counts -> only");
  rows got;
  batch_limits limits;
  limits.max_rows = 1;
  auto exec = p.execution_index(1, 0);
  output_gate gate{p, exec, limits,
                   [&got](size_t, std::vector<row>&& batch) {
                     got.insert(got.end(), batch.begin(), batch.end());
                   },
                   [](size_t) {}};
  gate.grant(p.executions[exec].output_channels.at(0).at(0), 100);
  auto chain = operator_chain::make(
    p, exec, gate, [] { return std::chrono::steady_clock::time_point{}; });
  if (!chain)
    FAIL(error_text(chain.error()));
  for (int64_t n : {3, 1, 3, 2, 3})
    (*chain)->on_record(row{value{n}});
  CHECK(got.empty());
  CHECK_EQ((*chain)->rows_in(), 5u);
  (*chain)->on_end_of_input();
  // One {count} per key, in key order: 1, 2, 3.
  CHECK_EQ(got, (rows{row{value{1}}, row{value{1}}, row{value{3}}}));
}

// -- snapshots
// ------------------------------------------------------------------

TEST_CASE_FIXTURE(chain_fixture,
                  "a chain snapshots every operator and restores them in "
                  "order") {
  plan_job(standard_job());
  auto saved = std::make_shared<std::vector<std::string>>();
  auto stateful = [saved](std::string name) {
    auto count = std::make_shared<int64_t>(0);
    return operator_behavior{
      [count](const row& r, collector& c) {
        ++*count;
        c.emit(r);
      },
      [count, name](snapshot_t) { return name + std::to_string(*count); },
      [saved](restore_t, const std::string& bytes) { saved->push_back(bytes); },
    };
  };
  script("a", stateful("a"));
  script("b", stateful("b"));
  auto chain = must_start(1, 0);
  chain->on_record(n_row(1));
  chain->on_record(n_row(2));
  auto blob = chain->snapshot();
  auto other = must_start(1, 0);
  auto from = [](std::string bytes) {
    return std::vector<restore_source>{restore_source{std::move(bytes), 0, 2}};
  };
  REQUIRE(!other->restore(from(blob)));
  CHECK(*saved == std::vector<std::string>{"a2", "b2"});
  // Truncated or foreign blobs are refused before any operator sees them.
  saved->clear();
  for (size_t n = 0; n < blob.size(); ++n)
    CHECK(other->restore(from(blob.substr(0, n))));
  CHECK(other->restore(from(std::string{"\x05"})));
  CHECK(other->restore(from(blob + "x")));
  CHECK(saved->empty());
}

// -- keyed state and rescaling
// --------------------------------------------------

namespace {

/// numbers -HASH(value)-> counts (aggregate, `p` subtasks) -> drop.
plan keyed_count_plan(int p, int max_parallelism = 16) {
  return plan_of(job_builder{"keyed"}
                   .max_parallelism(max_parallelism)
                   .vertex("numbers", "sequence", {{"to", "10"}}, 1)
                   .vertex("counts", "aggregate",
                           {{"key", "value"}, {"function", "count"}}, p)
                   .vertex("drop", "discard", {}, 1)
                   .hash("numbers", "counts", {"value"})
                   .rebalance("counts", "drop"),
                 builtins());
}

/// The chains of every "counts" subtask, restored from `restore` when
/// given; what they emit is collected in `out`.
struct keyed_chains {
  keyed_chains(const plan& plan_, const chain_restore* restore = nullptr)
    : p(plan_) {
    const auto& t = p.tasks[1];
    gates.reserve(static_cast<size_t>(t.parallelism));
    for (int s = 0; s < t.parallelism; ++s) {
      auto exec = p.execution_index(1, s);
      gates.emplace_back(
        p, exec, batch_limits{},
        [this](size_t, std::vector<row>&& batch) {
          out.insert(out.end(), batch.begin(), batch.end());
        },
        [](size_t) {});
      for (auto ch : p.executions[exec].output_channels.at(0))
        gates.back().grant(ch, 1000);
      auto chain = operator_chain::make(
        p, exec, gates.back(), [] { return time_point{}; }, "job", restore);
      if (!chain)
        FAIL(error_text(chain.error()));
      chains.push_back(std::move(*chain));
    }
  }

  /// Feeds `r` to the subtask that owns its key, as the hash exchange does.
  void feed(const row& r) {
    const auto& t = p.tasks[1];
    auto kg = key_group_of(hash_fields(r, {0}), t.max_parallelism);
    auto s = subtask_of_key_group(t.max_parallelism, t.parallelism, kg);
    chains[static_cast<size_t>(s)]->on_record(r);
  }

  chain_restore snapshot() {
    chain_restore r;
    r.vertices = {"counts"};
    for (size_t s = 0; s < chains.size(); ++s)
      r.sources.push_back(restore_source{chains[s]->snapshot(7),
                                         static_cast<int>(s),
                                         static_cast<int>(chains.size())});
    return r;
  }

  /// Ends every subtask's input; returns the {value, count} rows by key.
  std::map<int64_t, int64_t> finish() {
    for (size_t s = 0; s < chains.size(); ++s) {
      chains[s]->on_end_of_input();
      gates[s].finish();
    }
    std::map<int64_t, int64_t> counts;
    for (const auto& r : out)
      CHECK(counts.emplace(r.at(0).as_int64(), r.at(1).as_int64()).second);
    return counts;
  }

  const plan& p;
  std::vector<output_gate> gates;
  std::vector<std::unique_ptr<operator_chain>> chains;
  rows out;
};

} // namespace

TEST_CASE("keyed state restores into any parallelism: each key's count "
          "continues in the subtask that owns its key group") {
  for (int before : {1, 2, 3}) {
    for (int after : {1, 2, 4}) {
      CAPTURE(before);
      CAPTURE(after);
      auto p1 = keyed_count_plan(before);
      keyed_chains first{p1};
      for (int64_t k = 0; k < 40; ++k)
        for (int64_t n = 0; n <= k % 5; ++n)
          first.feed(row{value{k}});
      auto snap = first.snapshot();
      auto p2 = keyed_count_plan(after);
      keyed_chains second{p2, &snap};
      // One more record of every key after the restore.
      for (int64_t k = 0; k < 40; ++k)
        second.feed(row{value{k}});
      auto counts = second.finish();
      REQUIRE(counts.size() == 40);
      for (int64_t k = 0; k < 40; ++k)
        CHECK(counts[k] == k % 5 + 2);
    }
  }
}

TEST_CASE("keyed state does not restore at another max parallelism") {
  auto p1 = keyed_count_plan(2, 16);
  keyed_chains first{p1};
  first.feed(row{value{1}});
  auto snap = first.snapshot();
  auto p2 = keyed_count_plan(2, 32);
  auto exec = p2.execution_index(1, 0);
  output_gate gate{p2, exec, batch_limits{}, [](size_t, std::vector<row>&&) {},
                   [](size_t) {}};
  auto chain = operator_chain::make(
    p2, exec, gate, [] { return time_point{}; }, "job", &snap);
  REQUIRE_FALSE(chain);
  CHECK(error_text(chain.error()).find("max parallelism 16")
        != std::string::npos);
}

TEST_CASE_FIXTURE(chain_fixture,
                  "operator state of old subtask j goes to new subtask j % p, "
                  "and every operator of a restored vertex starts restored") {
  plan_job(standard_job());
  auto restored = std::make_shared<std::map<int, bool>>();
  auto saved = std::make_shared<std::map<int, std::vector<std::string>>>();
  script("a", [restored, saved](const operator_context& ctx) {
    (*restored)[ctx.subtask] = ctx.restored;
    auto subtask = ctx.subtask;
    return operator_behavior{
      [subtask](snapshot_t) { return "from " + std::to_string(subtask); },
      [saved, subtask](restore_t, const std::string& bytes) {
        (*saved)[subtask].push_back(bytes);
      },
    };
  });
  // Blobs said to come from five old subtasks (written by this plan's two
  // subtasks: old subtask j's says "from <j % 2>"), restored at
  // parallelism 2.
  std::vector<restore_source> sources;
  for (int j = 0; j < 5; ++j)
    sources.push_back(restore_source{must_start(1, j % 2)->snapshot(), j, 5});
  restored->clear();
  saved->clear();
  for (int s = 0; s < 2; ++s) {
    auto exec = p.execution_index(1, s);
    output_gate gate{p, exec, batch_limits{}, [](size_t, std::vector<row>&&) {},
                     [](size_t) {}};
    chain_restore r{{"a", "b"}, sources};
    auto chain = operator_chain::make(
      p, exec, gate, [] { return time_point{}; }, "job", &r);
    if (!chain)
      FAIL(error_text(chain.error()));
  }
  CHECK((*restored)[0]);
  CHECK((*restored)[1]);
  // Subtask 0 gets old subtasks 0, 2 and 4; subtask 1 gets 1 and 3 (each
  // blob says which subtask wrote it; its bytes are that subtask's).
  CHECK((*saved)[0] == strings{"from 0", "from 0", "from 0"});
  CHECK((*saved)[1] == strings{"from 1", "from 1"});
}

// -- event time ---------------------------------------------------------------

namespace {

/// A watermark for traces: "min", "max" or the number.
std::string wm_text(int64_t wm) {
  if (wm == min_watermark)
    return "min";
  if (wm == max_watermark)
    return "max";
  return std::to_string(wm);
}

row event(const std::string& key, int64_t ts) {
  return row{value{key}, value{ts}};
}

/// A chain fixture whose task 1 is "k -> b": k is keyed by `key` and
/// registers an event-time timer at each row's `ts`; each firing emits
/// {key, time} and logs "k timer <key> <time> at <watermark>". k and b log
/// their watermarks ("<id> wm <t>") and ends; b forwards rows, logging
/// them. `fired` lists the firings alone.
struct timer_fixture : chain_fixture {
  timer_fixture() {
    plan_job(job_builder{"timers"}
               .max_parallelism(16)
               .vertex("events", "script_events", {}, 1)
               .vertex("k", "script_keyed", {{"key", "key"}}, 1)
               .vertex("b", "script", {}, 1)
               .vertex("sink", "script_sink", {}, 1)
               .hash("events", "k", {"key"})
               .forward("k", "b")
               .rebalance("b", "sink"));
    REQUIRE_EQ(p.tasks[1].name, "k -> b");
    script("k", [this](const operator_context& ctx) {
      auto* timers = ctx.timers;
      auto* keyed = ctx.keyed_state;
      k_timers = timers;
      return operator_behavior{
        [this, timers](const row& r, collector&) {
          trace.push_back("k " + to_csv(r));
          timers->register_event_time_timer(r.at(1).as_int64());
        },
        [this, timers, keyed](timer_fired_t, const fired_timer& t,
                              collector& c) {
          auto key = keyed->current_key().at(0).as_string();
          auto line = key + " " + std::to_string(t.time) + " at "
                      + wm_text(timers->current_watermark());
          fired.push_back(line);
          trace.push_back("k timer " + line);
          c.emit(event(key, t.time));
        },
        [this](watermark_t, int64_t wm, collector&) {
          trace.push_back("k wm " + wm_text(wm));
        },
        [this](end_of_input_t, collector&) { trace.push_back("k end"); },
      };
    });
    script("b",
           operator_behavior{
             [this](const row& r, collector& c) {
               trace.push_back("b " + to_csv(r));
               c.emit(r);
             },
             [this](watermark_t, int64_t wm, collector&) {
               trace.push_back("b wm " + wm_text(wm));
             },
             [this](end_of_input_t, collector&) { trace.push_back("b end"); },
           });
  }

  /// The timer service of the last k built.
  timer_service* k_timers = nullptr;
  strings fired;
};

} // namespace

TEST_CASE_FIXTURE(timer_fixture,
                  "a watermark fires a keyed operator's event-time timers in "
                  "order, then its watermark handler, and the next operator "
                  "sees their rows before the watermark") {
  auto chain = must_start(1, 0);
  CHECK_EQ(chain->watermark(), min_watermark);
  CHECK_EQ(k_timers->current_watermark(), min_watermark);
  for (const auto& r : {event("x", 30), event("y", 10), event("x", 10),
                        event("y", 20), event("x", 30)})
    chain->on_record(r);
  trace.clear();
  chain->on_watermark(20);
  CHECK_EQ(trace, strings{"k timer x 10 at 20", "b x,10", "out x,10",
                          "k timer y 10 at 20", "b y,10", "out y,10",
                          "k timer y 20 at 20", "b y,20", "out y,20", "k wm 20",
                          "b wm 20"});
  CHECK_EQ(chain->watermark(), 20);
  CHECK_EQ(k_timers->current_watermark(), 20);
  // Watermarks that are not later change nothing.
  trace.clear();
  chain->on_watermark(20);
  chain->on_watermark(15);
  CHECK(trace.empty());
  CHECK_EQ(chain->watermark(), 20);
  chain->on_watermark(29);
  CHECK_EQ(trace, strings{"k wm 29", "b wm 29"});
  trace.clear();
  // x's timer at 30 was registered twice: it fires once.
  chain->on_watermark(30);
  CHECK_EQ(trace, strings{"k timer x 30 at 30", "b x,30", "out x,30", "k wm 30",
                          "b wm 30"});
  CHECK_EQ(fired.size(), 4u);
}

TEST_CASE_FIXTURE(timer_fixture,
                  "end of input fires every event-time timer and passes "
                  "max_watermark before each end handler") {
  auto chain = must_start(1, 0);
  chain->on_record(event("a", 100));
  chain->on_record(event("b", 5));
  chain->on_watermark(1);
  trace.clear();
  chain->on_end_of_input();
  CHECK_EQ(trace, strings{"k timer b 5 at max", "b b,5", "out b,5",
                          "k timer a 100 at max", "b a,100", "out a,100",
                          "k wm max", "k end", "b wm max", "b end"});
  CHECK_EQ(chain->watermark(), max_watermark);
}

TEST_CASE_FIXTURE(timer_fixture,
                  "end of input after max_watermark arrived does not pass "
                  "it again") {
  auto chain = must_start(1, 0);
  chain->on_record(event("a", 100));
  chain->on_watermark(max_watermark);
  CHECK_EQ(fired, strings{"a 100 at max"});
  trace.clear();
  chain->on_end_of_input();
  CHECK_EQ(trace, strings{"k end", "b end"});
}

TEST_CASE_FIXTURE(timer_fixture,
                  "a restored chain keeps its watermark and its timers") {
  auto first = must_start(1, 0);
  for (const auto& r :
       {event("x", 10), event("y", 20), event("z", 30), event("y", 40)})
    first->on_record(r);
  first->on_watermark(15);
  REQUIRE_EQ(fired, strings{"x 10 at 15"});
  auto blob = first->snapshot(3);
  auto second = must_start(1, 0);
  REQUIRE(!second->restore({restore_source{blob, 0, 1}}));
  CHECK_EQ(second->watermark(), 15);
  CHECK_EQ(k_timers->current_watermark(), 15);
  fired.clear();
  // Time does not go back; what fired before the snapshot does not again.
  second->on_watermark(12);
  second->on_watermark(15);
  CHECK(fired.empty());
  second->on_watermark(25);
  CHECK_EQ(fired, strings{"y 20 at 25"});
  second->on_end_of_input();
  CHECK_EQ(fired, (strings{"y 20 at 25", "z 30 at max", "y 40 at max"}));
}

TEST_CASE_FIXTURE(timer_fixture,
                  "a chain restored from several blobs starts at their "
                  "lowest watermark") {
  auto a = must_start(1, 0);
  a->on_watermark(70);
  auto b = must_start(1, 0);
  b->on_watermark(40);
  auto blob_a = a->snapshot();
  auto blob_b = b->snapshot();
  auto c = must_start(1, 0);
  REQUIRE(
    !c->restore({restore_source{blob_a, 0, 2}, restore_source{blob_b, 1, 2}}));
  CHECK_EQ(c->watermark(), 40);
  CHECK_EQ(k_timers->current_watermark(), 40);
}

TEST_CASE_FIXTURE(timer_fixture,
                  "a version 2 chain blob without watermarks still restores, "
                  "timers included") {
  // The keyed state of k: one event-time timer at 50 for key "old".
  keyed_state_backend kb{16, 0, 15};
  kb.set_current_key(row{value{"old"}});
  kb.map_state(timer_queue::event_state).put(value{int64_t{50}}, value{});
  auto groups = kb.snapshot_nonempty();
  REQUIRE_EQ(groups.size(), 1u);
  std::string blob;
  auto append_string = [&blob](const std::string& x) {
    append_varint(blob, x.size());
    blob += x;
  };
  append_varint(blob, 2);
  append_varint(blob, 2);
  append_string("k");
  append_string("");
  append_varint(blob, 16);
  append_varint(blob, 1);
  append_varint(blob, static_cast<uint64_t>(groups[0].first));
  append_string(groups[0].second);
  append_string("b");
  append_string("");
  append_varint(blob, 0);
  append_varint(blob, 0);
  auto chain = must_start(1, 0);
  auto err = chain->restore({restore_source{blob, 0, 1}});
  REQUIRE_MESSAGE(!err, error_text(err));
  CHECK_EQ(chain->watermark(), min_watermark);
  chain->on_watermark(49);
  CHECK(fired.empty());
  chain->on_watermark(60);
  CHECK_EQ(fired, strings{"old 50 at 60"});
  // A version this build does not know is refused.
  std::string v4;
  append_varint(v4, 4);
  auto other = must_start(1, 0);
  auto bad = other->restore({restore_source{v4, 0, 1}});
  REQUIRE(bad);
  CHECK_EQ(error_text(bad), "chain state has format version 4, this build "
                            "reads 2 to 3");
}

TEST_CASE_FIXTURE(timer_fixture,
                  "processing-time timers fire when the clock passes them") {
  script("k", [this](const operator_context& ctx) {
    auto* timers = ctx.timers;
    auto* keyed = ctx.keyed_state;
    return operator_behavior{
      [timers](const row& r, collector&) {
        timers->register_processing_time_timer(timers->current_processing_time()
                                               + r.at(1).as_int64());
      },
      [this, keyed](timer_fired_t, const fired_timer& t, collector&) {
        CHECK(t.domain == time_domain::processing_time);
        fired.push_back(keyed->current_key().at(0).as_string() + " "
                        + std::to_string(t.time));
      },
    };
  });
  auto chain = must_start(1, 0);
  auto base = chain->processing_time();
  CHECK_FALSE(chain->next_processing_timer());
  chain->on_record(event("a", 300));
  chain->on_record(event("b", 100));
  CHECK_EQ(chain->next_processing_timer(), std::optional<int64_t>{base + 100});
  // Event time does not fire them.
  chain->on_watermark(max_watermark - 1);
  CHECK(fired.empty());
  chain->on_processing_time(base + 99);
  CHECK(fired.empty());
  clock += std::chrono::milliseconds{150};
  CHECK_EQ(chain->processing_time(), base + 150);
  chain->on_processing_time(chain->processing_time());
  CHECK_EQ(fired, strings{"b " + std::to_string(base + 100)});
  CHECK_EQ(chain->next_processing_timer(), std::optional<int64_t>{base + 300});
  chain->on_processing_time(base + 1000);
  CHECK_EQ(fired.size(), 2u);
  CHECK_FALSE(chain->next_processing_timer());
}

TEST_CASE_FIXTURE(timer_fixture,
                  "an unkeyed operator that registers a timer throws and is "
                  "named") {
  script("k", operator_behavior{
                [](const row& r, collector& c) { c.emit(r); },
              });
  script("b", [](const operator_context& ctx) {
    auto* timers = ctx.timers;
    REQUIRE(timers != nullptr);
    CHECK(ctx.keyed_state == nullptr);
    return operator_behavior{
      [timers](const row&, collector&) {
        timers->register_event_time_timer(1);
      },
    };
  });
  auto chain = must_start(1, 0);
  CHECK_THROWS_AS(chain->on_record(event("a", 1)), std::logic_error);
  CHECK_EQ(chain->current_vertex(), "b");
}

namespace {

/// events (script_events, `strategy`) -> sink: the source chain alone.
/// Each poll emits the next batch of `batches`.
struct source_fixture : chain_fixture {
  void plan_with(const proto::WatermarkStrategy& strategy) {
    auto spec = job_builder{"events"}
                  .vertex("events", "script_events", {}, 1)
                  .vertex("sink", "script_sink", {}, 1)
                  .rebalance("events", "sink")
                  .build();
    *spec.mutable_vertices(0)->mutable_watermarks() = strategy;
    plan_spec(spec);
    auto batches = this->batches;
    script("events", operator_behavior{
                       [batches](poll_t, collector& c, size_t) {
                         if (batches->empty())
                           return poll_result::done();
                         for (auto& r : batches->front())
                           c.emit(r);
                         batches->pop_front();
                         return poll_result::ready();
                       },
                     });
  }

  static proto::WatermarkStrategy bounded(int64_t ms) {
    proto::WatermarkStrategy w;
    w.set_kind(proto::WatermarkStrategy::BOUNDED_OUT_OF_ORDERNESS);
    w.set_timestamp_field("ts");
    w.set_max_out_of_orderness_ms(ms);
    return w;
  }

  /// Polls `chain` once with `rows` as the source's next batch.
  void poll(operator_chain& chain, rows xs) {
    batches->push_back(std::move(xs));
    chain.on_poll(100);
  }

  std::shared_ptr<std::deque<rows>> batches
    = std::make_shared<std::deque<rows>>();
};

} // namespace

TEST_CASE_FIXTURE(source_fixture,
                  "a bounded out-of-orderness source's watermark is its "
                  "largest timestamp minus the bound minus one") {
  auto w = bounded(10);
  w.set_idle_timeout_ms(500);
  plan_with(w);
  auto chain = must_start(0, 0);
  REQUIRE(chain->generates_watermarks());
  const auto& spec = chain->watermark_strategy();
  CHECK_EQ(spec.timestamp_index, 1u);
  CHECK_EQ(spec.max_out_of_orderness_ms, 10);
  CHECK_EQ(spec.idle_timeout_ms, 500);
  CHECK_EQ(spec.interval_ms, 200);
  CHECK_EQ(chain->generated_watermark(), min_watermark);
  poll(*chain, {event("a", 100), event("b", 80)});
  CHECK_EQ(chain->generated_watermark(), 89);
  CHECK_EQ(chain->head_rows_out(), 2u);
  poll(*chain, {event("c", 120)});
  CHECK_EQ(chain->generated_watermark(), 109);
  // A late row does not move it back.
  poll(*chain, {event("d", 50)});
  CHECK_EQ(chain->generated_watermark(), 109);
  // Timestamp values count as their milliseconds.
  poll(*chain, {row{value{"e"}, value{timestamp{200}}}});
  CHECK_EQ(chain->generated_watermark(), 189);
  CHECK_EQ(chain->head_rows_out(), 5u);
  CHECK_EQ(out.size(), 5u);
  // The largest timestamp survives a snapshot.
  auto blob = chain->snapshot();
  auto restored = must_start(0, 0);
  REQUIRE(!restored->restore({restore_source{blob, 0, 1}}));
  CHECK_EQ(restored->generated_watermark(), 189);
  CHECK_EQ(restored->head_rows_out(), 0u);
}

TEST_CASE_FIXTURE(source_fixture,
                  "a monotonous source's watermark trails its largest "
                  "timestamp by one") {
  proto::WatermarkStrategy w;
  w.set_kind(proto::WatermarkStrategy::MONOTONOUS);
  w.set_timestamp_field("ts");
  w.set_interval_ms(50);
  plan_with(w);
  auto chain = must_start(0, 0);
  CHECK_EQ(chain->watermark_strategy().interval_ms, 50);
  poll(*chain, {event("a", 1000)});
  CHECK_EQ(chain->generated_watermark(), 999);
}

TEST_CASE_FIXTURE(source_fixture,
                  "a timestamp near the lowest int64 gives min_watermark, "
                  "not an overflow") {
  plan_with(bounded(10));
  auto chain = must_start(0, 0);
  poll(*chain, {event("a", min_watermark + 3)});
  CHECK_EQ(chain->generated_watermark(), min_watermark);
  poll(*chain, {event("a", min_watermark + 11)});
  CHECK_EQ(chain->generated_watermark(), min_watermark);
  poll(*chain, {event("a", min_watermark + 12)});
  CHECK_EQ(chain->generated_watermark(), min_watermark + 1);
}

TEST_CASE_FIXTURE(source_fixture,
                  "a row whose timestamp field is not a time fails the poll "
                  "naming the field") {
  plan_with(bounded(0));
  auto chain = must_start(0, 0);
  batches->push_back({row{value{"a"}, value{"soon"}}});
  CHECK_THROWS_WITH_AS(chain->on_poll(10),
                       "the watermark strategy's timestamp field 'ts' "
                       "(position 2) holds a string value; event time must "
                       "be a timestamp or an int64 of ms",
                       std::runtime_error);
  CHECK_EQ(chain->current_vertex(), "events");
  batches->clear();
  batches->push_back({row{value{"a"}, value{}}});
  CHECK_THROWS_AS(chain->on_poll(10), std::runtime_error);
}

TEST_CASE_FIXTURE(source_fixture,
                  "a source without a strategy generates no watermark") {
  plan_with(proto::WatermarkStrategy{});
  auto chain = must_start(0, 0);
  CHECK_FALSE(chain->generates_watermarks());
  poll(*chain, {event("a", 100)});
  CHECK_EQ(chain->generated_watermark(), min_watermark);
  CHECK_EQ(chain->head_rows_out(), 1u);
}
