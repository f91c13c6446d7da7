// The window operator (operators/window.hpp) in whole jobs on a mini
// cluster on the deterministic scheduler, since its timers and watermarks
// come from the runtime: a small source emits fixed rows {key, ts, v} out
// of order, split across subtasks, and the committed output of the file
// sinks is compared line by line with results computed here by a plain
// loop or by hand; then the same jobs run under seeded faults, whose
// committed output must be the same (sim/simulation.hpp).

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "api/job_builder.hpp"
#include "api/state.hpp"
#include "api/value.hpp"
#include "operators/builtins.hpp"
#include "operators/window.hpp"
#include "scheduler/job_graph.hpp"
#include "sim/simulation.hpp"
#include "support/temp_dir.hpp"
#include "nexmark/csv_lines.hpp"

using namespace weir;
using weir::test::difference;
using weir::test::lines_of;

namespace {

using lines = test::csv_lines;

int64_t floor_to(int64_t t, int64_t step) {
  auto q = t / step;
  if (t % step != 0 && t < 0)
    --q;
  return q * step;
}

// -- the source ---------------------------------------------------------------

const std::vector<std::string> row_fields = {"key", "ts", "v"};

/// The source "rows": row i of `rows` comes from subtask i % parallelism,
/// one row per millisecond of virtual time, so that the source emits a
/// watermark after every row (interval_ms 1) and which rows are behind a
/// watermark depends on the order of `rows` alone. Checkpoints hold the
/// index of the subtask's next row. With `stamp`, each row gets a field
/// "emitted": the virtual time in ms at which it went out.
operator_descriptor rows_source(std::vector<row> rows, bool stamp = false) {
  auto all = std::make_shared<const std::vector<row>>(std::move(rows));
  operator_descriptor d;
  d.name = "rows";
  d.kind = operator_kind::source;
  d.help = "the test's rows";
  d.output_fields
    = [stamp](const parameters&, const std::vector<std::string>&) {
        auto fields = row_fields;
        if (stamp)
          fields.emplace_back("emitted");
        return caf::expected<std::vector<std::string>>{fields};
      };
  d.factory = [all, stamp](const operator_context& ctx) {
    auto step = static_cast<size_t>(std::max(ctx.parallelism, 1));
    // A restored subtask goes on from where its checkpoint was.
    auto next = std::make_shared<size_t>(
      ctx.restored ? all->size() : static_cast<size_t>(ctx.subtask));
    auto now = ctx.now;
    return operator_behavior{
      [=](poll_t, collector& out, size_t) -> poll_result {
        if (*next >= all->size())
          return poll_result::done();
        auto r = (*all)[*next];
        if (stamp)
          r.emplace_back(std::chrono::duration_cast<std::chrono::milliseconds>(
                           now().time_since_epoch())
                           .count());
        out.emit(std::move(r));
        *next += step;
        if (*next >= all->size())
          return poll_result::done();
        return poll_result::wait_for(std::chrono::milliseconds(1));
      },
      [=](snapshot_t) {
        operator_state st;
        st.list("next").emplace_back(static_cast<int64_t>(*next));
        return st.snapshot();
      },
      [=](restore_t, const std::string& bytes) {
        operator_state st;
        if (auto err = st.restore(bytes))
          throw std::runtime_error("rows: corrupt state: " + error_text(err));
        *next = static_cast<size_t>(st.list("next").at(0).as_int64());
      },
    };
  };
  return d;
}

/// A median of field v as a user aggregate: the accumulator holds every
/// value; an even count gives the mean of the middle two.
class median_aggregate : public aggregate_function {
public:
  explicit median_aggregate(size_t field) : field_(field) {
  }

  std::vector<std::string> result_fields() const override {
    return {"median"};
  }

  std::vector<value> create() const override {
    return {};
  }

  void add(std::vector<value>& acc, const row& input) const override {
    acc.push_back(input[field_]);
  }

  void merge(std::vector<value>& acc,
             const std::vector<value>& other) const override {
    acc.insert(acc.end(), other.begin(), other.end());
  }

  std::vector<value> result(const std::vector<value>& acc) const override {
    std::vector<int64_t> xs;
    for (const auto& x : acc)
      xs.push_back(x.as_int64());
    return {median_of(xs)};
  }

  static value median_of(std::vector<int64_t> xs) {
    if (xs.empty())
      return value{};
    std::sort(xs.begin(), xs.end());
    auto n = xs.size();
    if (n % 2 == 1)
      return value{static_cast<double>(xs[n / 2])};
    return value{static_cast<double>(xs[n / 2 - 1] + xs[n / 2]) / 2.0};
  }

private:
  size_t field_;
};

operator_descriptor median_window() {
  return window_descriptor(
    "window_median", "median", [](const std::vector<std::string>& input) {
      auto i = std::find(input.begin(), input.end(), "v");
      if (i == input.end())
        throw std::invalid_argument("needs a field 'v' to take the median of");
      return std::make_shared<median_aggregate>(
        static_cast<size_t>(i - input.begin()));
    });
}

std::shared_ptr<const operator_registry> registry_of(std::vector<row> rows,
                                                     bool stamp = false) {
  auto r = std::make_shared<operator_registry>();
  REQUIRE(!register_builtin_operators(*r));
  REQUIRE(!r->add(rows_source(std::move(rows), stamp)));
  REQUIRE(!r->add(median_window()));
  return r;
}

// -- rows -------------------------------------------------------------------

int64_t key_of(const row& r) {
  return r[0].as_int64();
}

int64_t time_of(const row& r) {
  return r[1].type() == value_type::timestamp ? r[1].as_timestamp().millis
                                              : r[1].as_int64();
}

int64_t v_of(const row& r) {
  return r[2].as_int64();
}

/// Rows for `keys` at each of `times` (skipping a key where `(t + key) % 4`
/// is 0, so that keys do not share every window), with values that go up
/// and down; ts as timestamps or as int64 milliseconds.
std::vector<row> rows_at(const std::vector<int64_t>& times, int keys,
                         bool timestamps) {
  std::vector<row> rows;
  int64_t n = 0;
  for (auto t : times)
    for (int64_t key = 1; key <= keys; ++key) {
      if ((t + key) % 4 == 0)
        continue;
      rows.push_back({value{key}, timestamps ? value{timestamp{t}} : value{t},
                      value{(n * 37) % 101 - 50}});
      ++n;
    }
  return rows;
}

/// `rows` in time order, then every run of `block` rows reversed: out of
/// order, but by a bounded amount.
std::vector<row> shuffled(std::vector<row> rows, size_t block) {
  std::stable_sort(rows.begin(), rows.end(), [](const row& a, const row& b) {
    return time_of(a) < time_of(b);
  });
  for (size_t i = 0; i < rows.size(); i += block)
    std::reverse(rows.begin() + static_cast<ptrdiff_t>(i),
                 rows.begin()
                   + static_cast<ptrdiff_t>(std::min(i + block, rows.size())));
  return rows;
}

/// How far the time of a row lags behind the largest time before it from
/// the same source subtask (of `parallelism`), at most: a
/// max_out_of_orderness_ms at which no row is late, however the subtasks'
/// rows interleave.
int64_t disorder_of(const std::vector<row>& rows, size_t parallelism = 2) {
  int64_t most = 0;
  for (size_t s = 0; s < parallelism; ++s) {
    int64_t highest = min_watermark;
    for (size_t i = s; i < rows.size(); i += parallelism) {
      if (highest != min_watermark)
        most = std::max(most, highest - time_of(rows[i]));
      highest = std::max(highest, time_of(rows[i]));
    }
  }
  return most;
}

/// The window columns of [start, end).
void add_window(row& r, int64_t start, int64_t end) {
  r.emplace_back(timestamp{start});
  r.emplace_back(timestamp{end});
  r.emplace_back(timestamp{end - 1});
}

/// "count, sum(v), min(v), max(v), avg(v)" over `rows`.
void add_aggregates(row& r, const std::vector<row>& rows) {
  int64_t sum = 0;
  auto lo = v_of(rows.front());
  auto hi = lo;
  for (const auto& x : rows) {
    sum += v_of(x);
    lo = std::min(lo, v_of(x));
    hi = std::max(hi, v_of(x));
  }
  auto n = static_cast<int64_t>(rows.size());
  r.emplace_back(n);
  r.emplace_back(sum);
  r.emplace_back(lo);
  r.emplace_back(hi);
  r.emplace_back(static_cast<double>(sum) / static_cast<double>(n));
}

/// (key, window start) -> the rows in [start, start + size), for windows
/// starting at multiples of `slide`, by trying every start that could hold
/// a row.
std::map<std::pair<int64_t, int64_t>, std::vector<row>>
windows_of(const std::vector<row>& rows, int64_t size, int64_t slide) {
  std::map<std::pair<int64_t, int64_t>, std::vector<row>> out;
  int64_t lo = time_of(rows.front());
  int64_t hi = lo;
  for (const auto& r : rows) {
    lo = std::min(lo, time_of(r));
    hi = std::max(hi, time_of(r));
  }
  for (auto start = floor_to(lo - size, slide); start <= hi; start += slide)
    for (const auto& r : rows)
      if (start <= time_of(r) && time_of(r) < start + size)
        out[{key_of(r), start}].push_back(r);
  return out;
}

/// Session windows with gap `gap` per key: [first, last + gap) of each run
/// of rows in which the next row comes less than `gap` after the last.
std::map<std::pair<int64_t, int64_t>, std::pair<int64_t, std::vector<row>>>
sessions_of(std::vector<row> rows, int64_t gap) {
  std::stable_sort(rows.begin(), rows.end(), [](const row& a, const row& b) {
    return std::make_pair(key_of(a), time_of(a))
           < std::make_pair(key_of(b), time_of(b));
  });
  // (key, start) -> (end, rows)
  std::map<std::pair<int64_t, int64_t>, std::pair<int64_t, std::vector<row>>>
    out;
  std::pair<int64_t, int64_t> current;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& r = rows[i];
    if (i == 0 || key_of(r) != current.first
        || time_of(r) >= out[current].first)
      current = {key_of(r), time_of(r)};
    auto& s = out[current];
    s.first = time_of(r) + gap;
    s.second.push_back(r);
  }
  return out;
}

// -- running jobs -------------------------------------------------------------

/// A job: rows -HASH(key)-> window -> file sink "out", and with `late` the
/// window's side output "late" -> file sink "late".
struct window_job {
  std::string op = "window";
  parameters params;
  int sources = 2;
  /// Watermarks: BOUNDED_OUT_OF_ORDERNESS on ts with this bound; negative
  /// for none.
  int64_t out_of_orderness = 0;
  bool late = false;
};

proto::JobSpec spec_of(const window_job& j, const std::string& dir) {
  auto b = job_builder{"windows"}
             .parallelism(2)
             .vertex("rows", "rows", {}, j.sources)
             .vertex("window", j.op, j.params)
             .vertex("out", "file_sink", {{"path", dir + "/out"}})
             .hash("rows", "window", {"key"})
             .forward("window", "out");
  if (j.late)
    b.vertex("late", "file_sink", {{"path", dir + "/late"}})
      .forward("window", "late");
  auto spec = b.build();
  if (j.late)
    spec.mutable_edges(spec.edges_size() - 1)->set_output("late");
  if (j.out_of_orderness >= 0) {
    auto* w = spec.mutable_vertices(0)->mutable_watermarks();
    w->set_kind(proto::WatermarkStrategy::BOUNDED_OUT_OF_ORDERNESS);
    w->set_timestamp_field("ts");
    w->set_max_out_of_orderness_ms(j.out_of_orderness);
    w->set_interval_ms(1);
  }
  auto* cp = spec.mutable_checkpointing();
  cp->set_interval_ms(5);
  cp->set_timeout_ms(2000);
  cp->set_tolerable_failures(100);
  cp->set_dir(dir + "/checkpoints");
  auto* rs = spec.mutable_restart_strategy();
  rs->set_type("fixed-delay");
  rs->set_attempts(100);
  rs->set_delay_ms(10);
  return spec;
}

sim::simulation_config sim_config(const std::string& output_dir) {
  sim::simulation_config cfg;
  // One row per batch: a watermark never overtakes a row emitted before
  // it nor waits for one emitted after it, so lateness is deterministic.
  cfg.data_plane = data_plane_config{2, 1, 32 * 1024, 10};
  // The jobs are short: a few hundred steps.
  cfg.first_fault_step = 20;
  cfg.fault_rate = 1.0 / 20;
  cfg.output_dir = output_dir;
  return cfg;
}

/// Runs `j` without faults and compares the committed lines of sink "out"
/// (and with j.late of sink "late") with the expected ones, then under
/// `seeds` seeded fault schedules, each of which must commit the same.
void check_job(std::shared_ptr<const operator_registry> registry,
               const window_job& j, const lines& expected,
               const lines& expected_late = {}, size_t seeds = 5) {
  REQUIRE(!expected.empty());
  std::vector<std::pair<std::string, const lines*>> sinks{{"out", &expected}};
  if (j.late)
    sinks.emplace_back("late", &expected_late);
  uint64_t first = 1;
  for (const auto& entry : sinks) {
    const auto& sink = entry.first;
    const auto* want = entry.second;
    CAPTURE(sink);
    test::temp_dir dir;
    sim::simulation s{registry,
                      [j](const std::string& d) { return spec_of(j, d); },
                      dir.path().string(), sim_config(sink)};
    const auto& ref = s.reference();
    REQUIRE_MESSAGE(ref.ok(), ref.describe());
    CHECK_MESSAGE(ref.output == *want, difference(*want, ref.output));
    size_t faulty = 0;
    for (auto seed : sim::simulation::seeds(first, seeds)) {
      auto run = s.run(seed);
      CHECK_MESSAGE(run.ok(), run.describe());
      if (!run.faults.empty() && !run.exceptions.empty())
        ++faulty;
    }
    // The faults must have hit: otherwise this proves nothing.
    CHECK(faulty > 0);
    first += 100;
  }
}

/// The error that planning a job with window parameters `params` (and,
/// with `late_from`, an edge taking side output `late_output` of vertex
/// `late_from`) gives; empty if it plans.
std::string planning_error(const std::string& op, const parameters& params,
                           const std::string& late_from = {},
                           const std::string& late_output = "late") {
  auto registry = registry_of({});
  auto b = job_builder{"windows"}
             .vertex("rows", "rows")
             .vertex("window", op, params)
             .vertex("out", "file_sink", {{"path", "/tmp/unused"}})
             .hash("rows", "window", {"key"})
             .forward("window", "out");
  if (!late_from.empty())
    b.vertex("late", "file_sink", {{"path", "/tmp/unused-late"}})
      .forward(late_from, "late");
  auto spec = b.build();
  if (!late_from.empty())
    spec.mutable_edges(spec.edges_size() - 1)->set_output(late_output);
  auto graph = build_job_graph(spec, *registry);
  return graph ? std::string{} : error_text(graph.error());
}

parameters tumbling(int64_t size, std::string aggregates) {
  return {{"key", "key"},
          {"type", "tumbling"},
          {"size", std::to_string(size)},
          {"time_field", "ts"},
          {"aggregates", std::move(aggregates)}};
}

parameters sliding(int64_t size, int64_t slide, std::string aggregates) {
  auto p = tumbling(size, std::move(aggregates));
  p["type"] = "sliding";
  p["slide"] = std::to_string(slide);
  return p;
}

parameters session(int64_t gap, std::string aggregates) {
  return {{"key", "key"},
          {"type", "session"},
          {"gap", std::to_string(gap)},
          {"time_field", "ts"},
          {"aggregates", std::move(aggregates)}};
}

// -- late rows: a plain model of Flink's event-time windows -------------------

/// What an event-time tumbling or sliding window with allowed lateness
/// emits for `rows` from one source subtask whose watermark after each
/// row is the largest time so far - `bound` - 1, as Flink defines it: a
/// window fires when the watermark reaches its last millisecond, again for
/// each row that comes within the lateness after that, with all its rows
/// so far; a row whose windows are all past their lateness goes to
/// "late". Aggregates: count, sum(v).
std::pair<std::vector<row>, std::vector<row>>
late_model(const std::vector<row>& rows, int64_t size, int64_t slide,
           int64_t lateness, int64_t bound) {
  std::vector<row> out;
  std::vector<row> late;
  std::vector<row> accepted;
  // (fire time, key, start) of windows that wait for the watermark.
  std::set<std::tuple<int64_t, int64_t, int64_t>> pending;
  auto fire = [&](int64_t key, int64_t start) {
    row r{value{key}};
    add_window(r, start, start + size);
    int64_t n = 0;
    int64_t sum = 0;
    for (const auto& x : accepted)
      if (key_of(x) == key && start <= time_of(x)
          && time_of(x) < start + size) {
        ++n;
        sum += v_of(x);
      }
    r.emplace_back(n);
    r.emplace_back(sum);
    out.push_back(std::move(r));
  };
  auto advance = [&](int64_t wm) {
    while (!pending.empty() && std::get<0>(*pending.begin()) <= wm) {
      auto [t, key, start] = *pending.begin();
      pending.erase(pending.begin());
      fire(key, start);
    }
  };
  int64_t wm = min_watermark;
  int64_t highest = min_watermark;
  for (const auto& r : rows) {
    if (highest != min_watermark) {
      wm = std::max(wm, highest - bound - 1);
      advance(wm);
    }
    auto ts = time_of(r);
    highest = std::max(highest, ts);
    std::vector<int64_t> open;
    for (auto start = floor_to(ts, slide); start + size > ts; start -= slide)
      if (start + size - 1 + lateness > wm)
        open.push_back(start);
    if (open.empty()) {
      late.push_back(r);
      continue;
    }
    accepted.push_back(r);
    for (auto start : open) {
      if (start + size - 1 <= wm)
        fire(key_of(r), start);
      else
        pending.emplace(start + size - 1, key_of(r), start);
    }
  }
  advance(max_watermark);
  return {out, late};
}

row kv(int64_t key, int64_t ts, int64_t v) {
  return {value{key}, value{ts}, value{v}};
}

row window_line(int64_t key, int64_t start, int64_t end, int64_t n,
                int64_t sum) {
  row r{value{key}};
  add_window(r, start, end);
  r.emplace_back(n);
  r.emplace_back(sum);
  return r;
}

} // namespace

// -- tumbling -----------------------------------------------------------------

TEST_CASE("tumbling windows aggregate each key's rows of each window, also "
          "before time zero and at window boundaries") {
  // Boundaries: a row at -20, -10, 0, 10, 20, 30 opens its window, one at
  // -11, -1, 9, 19, 29, 39 is the last of its window.
  auto rows = shuffled(rows_at({-25, -21, -20, -11, -10, -9, -1, 0,  1,  5,
                                9,   10,  11,  19,  20,  21, 29, 30, 38, 39},
                               3, true),
                       5);
  std::vector<row> expected;
  for (const auto& [w, members] : windows_of(rows, 10, 10)) {
    row r{value{w.first}};
    add_window(r, w.second, w.second + 10);
    add_aggregates(r, members);
    expected.push_back(std::move(r));
  }
  // Windows from [-30, -20) to [30, 40), for nearly every key.
  CHECK(expected.size() > 18);
  window_job j;
  j.params = tumbling(10, "count, sum(v), min(v), max(v) as highest, avg(v)");
  j.out_of_orderness = disorder_of(rows);
  CHECK(j.out_of_orderness > 0);
  check_job(registry_of(rows), j, lines_of(expected));
}

TEST_CASE("a window names its output after the key, the window and the "
          "aggregates") {
  auto registry = registry_of({});
  auto spec = job_builder{"windows"}
                .vertex("rows", "rows")
                .vertex("window", "window",
                        tumbling(10, "count, sum(v), min(v) as lowest, "
                                     "avg(v)"))
                .vertex("top", "window", tumbling(10, "top(v)"))
                .vertex("out", "file_sink", {{"path", "/tmp/unused"}})
                .vertex("out2", "file_sink", {{"path", "/tmp/unused"}})
                .hash("rows", "window", {"key"})
                .hash("rows", "top", {"key"})
                .forward("window", "out")
                .forward("top", "out2")
                .build();
  auto graph = build_job_graph(spec, *registry);
  REQUIRE_MESSAGE(graph, error_text(graph.error()));
  std::map<std::string, std::vector<std::string>> fields;
  for (const auto& v : graph->vertices)
    fields[v.id] = v.output_fields;
  CHECK(fields["window"]
        == std::vector<std::string>{"key", "window_start", "window_end",
                                    "window_time", "count", "sum_v", "lowest",
                                    "avg_v"});
  CHECK(fields["top"]
        == std::vector<std::string>{"key", "ts", "v", "window_start",
                                    "window_end", "window_time"});
}

// -- sliding ------------------------------------------------------------------

TEST_CASE("sliding windows equal a recomputation over the rows of each "
          "window, also when the size is not a multiple of the slide") {
  auto rows
    = shuffled(rows_at({-17, -13, -12, -10, -8, -5, -4, -1, 0,  2,  3,  4, 7,
                        8,   9,   10,  12,  15, 16, 19, 20, 23, 24, 27, 31},
                       2, false),
               4);
  // size 10, slide 4: panes of 2; size 7, slide 3: panes of 1; size 12,
  // slide 4: a multiple.
  for (auto shape :
       std::vector<std::pair<int64_t, int64_t>>{{10, 4}, {7, 3}, {12, 4}}) {
    auto size = shape.first;
    auto slide = shape.second;
    CAPTURE(size);
    CAPTURE(slide);
    std::vector<row> expected;
    for (const auto& [w, members] : windows_of(rows, size, slide)) {
      row r{value{w.first}};
      add_window(r, w.second, w.second + size);
      add_aggregates(r, members);
      expected.push_back(std::move(r));
    }
    window_job j;
    j.params = sliding(size, slide, "count, sum(v), min(v), max(v), avg(v)");
    j.out_of_orderness = disorder_of(rows);
    check_job(registry_of(rows), j, lines_of(expected), {}, 4);
  }
}

// -- sessions -----------------------------------------------------------------

TEST_CASE("session windows merge when a row bridges two sessions of its "
          "key") {
  // Gap 10. Each subtask's rows (a, b) in the order it emits them: the
  // rows that bridge sessions come after the sessions they bridge.
  std::vector<row> a{
    kv(3, -20, 11), kv(1, 0, 1),   kv(3, 2, 12),  kv(1, 30, 2),
    kv(1, 45, 3),   kv(1, 38, 4),  kv(1, 70, 9),  kv(1, 80, 10),
    kv(2, 100, 5),  kv(2, 130, 6), kv(2, 120, 7), kv(2, 112, 8),
  };
  std::vector<row> b{
    kv(3, -15, 23), kv(3, -28, 24), kv(1, 5, 21),   kv(4, 60, 25),
    kv(4, 75, 26),  kv(4, 65, 27),  kv(4, 69, 28),  kv(4, 84, 31),
    kv(4, 92, 32),  kv(2, 104, 22), kv(2, 148, 29), kv(2, 139, 30),
  };
  std::vector<row> rows;
  for (size_t i = 0; i < a.size(); ++i) {
    rows.push_back(a[i]);
    rows.push_back(b[i]);
  }
  // By hand, half-open: rows exactly `gap` apart (70 and 80, 120 and 130)
  // do not touch.
  std::vector<std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t>> hand{
    // key, start, end, count, sum(v)
    {1, 0, 15, 2, 22},   {1, 30, 55, 3, 9},    {1, 70, 80, 1, 9},
    {1, 80, 90, 1, 10},  {2, 100, 130, 4, 42}, {2, 130, 158, 3, 65},
    {3, -28, -5, 3, 58}, {3, 2, 12, 1, 12},    {4, 60, 102, 6, 169},
  };
  auto sessions = sessions_of(rows, 10);
  REQUIRE(sessions.size() == hand.size());
  std::vector<row> expected;
  for (const auto& [w, s] : sessions) {
    const auto& [end, members] = s;
    row r{value{w.first}};
    add_window(r, w.second, end);
    add_aggregates(r, members);
    expected.push_back(std::move(r));
  }
  std::vector<row> by_hand;
  for (const auto& [key, start, end, n, sum] : hand)
    by_hand.push_back(window_line(key, start, end, n, sum));
  std::vector<row> computed;
  for (const auto& r : expected)
    computed.push_back(row(r.begin(), r.begin() + 6));
  CHECK(lines_of(computed) == lines_of(by_hand));
  window_job j;
  j.params = session(10, "count, sum(v), min(v), max(v), avg(v)");
  j.out_of_orderness = disorder_of(rows);
  check_job(registry_of(rows), j, lines_of(expected));
}

// -- late rows ----------------------------------------------------------------

TEST_CASE("rows behind the watermark go to side output late") {
  // One source subtask (with two, which rows are late would depend on how
  // their rows and watermarks interleave), bound 2: the watermark after
  // each row is the largest time so far - 3.
  std::vector<row> rows{
    kv(1, 1, 10),  kv(1, 5, 11),  kv(1, 12, 12), // wm 9: [0, 10) fires
    kv(1, 9, 13),                                // late: [0, 10) fired
    kv(2, 8, 20),                                // late, another key
    kv(1, 10, 14),                               // on time: [10, 20)
    kv(2, 11, 21), kv(1, 25, 15),                // wm 22: [10, 20) fires
    kv(1, 19, 16),                               // late
    kv(1, 20, 17), kv(2, 21, 22),                // on time: [20, 30)
  };
  std::vector<row> main{
    window_line(1, 0, 10, 2, 21),  window_line(1, 10, 20, 2, 26),
    window_line(2, 10, 20, 1, 21), window_line(1, 20, 30, 2, 32),
    window_line(2, 20, 30, 1, 22),
  };
  std::vector<row> late{kv(1, 9, 13), kv(2, 8, 20), kv(1, 19, 16)};
  auto model = late_model(rows, 10, 10, 0, 2);
  REQUIRE(lines_of(model.first) == lines_of(main));
  REQUIRE(lines_of(model.second) == lines_of(late));
  window_job j;
  j.params = tumbling(10, "count, sum(v)");
  j.sources = 1;
  j.out_of_orderness = 2;
  j.late = true;
  check_job(registry_of(rows), j, lines_of(main), lines_of(late));
}

TEST_CASE("a row within the allowed lateness fires its window again, a row "
          "beyond it goes to side output late") {
  // One source subtask, bound 0: the watermark is the largest time - 1.
  // Lateness 5: [0, 10) takes rows until the watermark reaches 14.
  std::vector<row> rows{
    kv(1, 2, 1),   kv(1, 7, 2),   kv(1, 11, 3), // wm 10: [0, 10) fires
    kv(1, 4, 4),                                // fires it again
    kv(1, 13, 5),  kv(1, 6, 6),                 // and again
    kv(1, 16, 7),                               // wm 15: [0, 10) is gone
    kv(1, 8, 8),   kv(2, 3, 9),                 // late
    kv(2, 12, 10), kv(1, 22, 11),               // wm 21: [10, 20) fires
    kv(2, 18, 12),                              // fires it again for key 2
    kv(1, 30, 13),                              // wm 29: [20, 30) fires
    kv(2, 19, 14),                              // late
    kv(1, 27, 15),                              // fires [20, 30) again
  };
  std::vector<row> main{
    window_line(1, 0, 10, 2, 3),   window_line(1, 0, 10, 3, 7),
    window_line(1, 0, 10, 4, 13),  window_line(1, 10, 20, 3, 15),
    window_line(2, 10, 20, 1, 10), window_line(2, 10, 20, 2, 22),
    window_line(1, 20, 30, 1, 11), window_line(1, 20, 30, 2, 26),
    window_line(1, 30, 40, 1, 13),
  };
  std::vector<row> late{kv(1, 8, 8), kv(2, 3, 9), kv(2, 19, 14)};
  auto model = late_model(rows, 10, 10, 5, 0);
  REQUIRE(lines_of(model.first) == lines_of(main));
  REQUIRE(lines_of(model.second) == lines_of(late));
  window_job j;
  j.params = tumbling(10, "count, sum(v)");
  j.params["allowed_lateness"] = "5";
  j.sources = 1;
  j.out_of_orderness = 0;
  j.late = true;
  check_job(registry_of(rows), j, lines_of(main), lines_of(late));
}

TEST_CASE("sliding windows fire again for rows within the allowed lateness "
          "and send the rows beyond it to side output late") {
  // In time order, but every fifth row held back by 9 to 16 positions.
  std::vector<row> sorted;
  for (int64_t i = 0; i < 48; ++i)
    sorted.push_back(kv(1 + i % 3, i * 2 - 20, i + 1));
  std::vector<row> rows;
  std::vector<std::pair<size_t, row>> held;
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (i % 5 == 2)
      held.emplace_back(i + 9 + (i % 8), sorted[i]);
    else
      rows.push_back(sorted[i]);
    for (auto h = held.begin(); h != held.end();)
      if (h->first == i) {
        rows.push_back(h->second);
        h = held.erase(h);
      } else {
        ++h;
      }
  }
  for (auto& h : held)
    rows.push_back(h.second);
  REQUIRE(rows.size() == sorted.size());
  for (auto shape : std::vector<std::tuple<int64_t, int64_t, int64_t>>{
         {10, 4, 6}, {12, 6, 6}}) {
    auto size = std::get<0>(shape);
    auto slide = std::get<1>(shape);
    auto lateness = std::get<2>(shape);
    CAPTURE(size);
    CAPTURE(slide);
    auto [main, late] = late_model(rows, size, slide, lateness, 1);
    // The data must exercise both: some windows fire more than once, and
    // some rows are late.
    std::map<std::pair<std::string, std::string>, int> fired;
    for (const auto& r : main)
      ++fired[{to_string(r[0]), to_string(r[1])}];
    CHECK(std::any_of(fired.begin(), fired.end(),
                      [](const auto& x) { return x.second > 1; }));
    CHECK(!late.empty());
    window_job j;
    j.params = sliding(size, slide, "count, sum(v)");
    j.params["allowed_lateness"] = std::to_string(lateness);
    j.sources = 1;
    j.out_of_orderness = 1;
    j.late = true;
    check_job(registry_of(rows), j, lines_of(main), lines_of(late), 4);
  }
}

TEST_CASE("a late row merges sessions that already fired, within the "
          "allowed lateness") {
  // Gap 10, lateness 5, one source subtask, bound 0.
  std::vector<row> rows{
    kv(1, 0, 1),  kv(1, 5, 2), // [0, 15)
    kv(1, 30, 3),              // wm 29: [0, 15) fires, goes
    kv(1, 12, 4),              // late: [12, 22) is past 26
    kv(1, 20, 5),              // [20, 30) fires at once
    kv(1, 25, 6),              // bridges to [20, 40)
    kv(2, 31, 7),              // [31, 41)
    kv(1, 45, 8),              // wm 44: [20, 40), [31, 41)
    kv(2, 36, 9),              // [31, 41) fired: [31, 46)
  };
  std::vector<row> main{
    window_line(1, 0, 15, 2, 3),   window_line(1, 20, 30, 1, 5),
    window_line(1, 20, 40, 3, 14), window_line(2, 31, 41, 1, 7),
    window_line(2, 31, 46, 2, 16), window_line(1, 45, 55, 1, 8),
  };
  std::vector<row> late{kv(1, 12, 4)};
  window_job j;
  j.params = session(10, "count, sum(v)");
  j.params["allowed_lateness"] = "5";
  j.sources = 1;
  j.out_of_orderness = 0;
  j.late = true;
  check_job(registry_of(rows), j, lines_of(main), lines_of(late));
}

// -- top ----------------------------------------------------------------------

TEST_CASE("top emits every row that holds the largest value of its "
          "window") {
  std::vector<row> rows;
  for (int64_t i = 0; i < 40; ++i)
    rows.push_back(kv(1 + i % 2, (i * 7) % 40 - 10, (i * 13) % 7 % 4));
  rows = shuffled(std::move(rows), 3);
  for (auto shape :
       std::vector<std::pair<int64_t, int64_t>>{{10, 10}, {10, 5}}) {
    auto size = shape.first;
    auto slide = shape.second;
    CAPTURE(size);
    CAPTURE(slide);
    std::vector<row> expected;
    size_t ties = 0;
    for (const auto& [w, members] : windows_of(rows, size, slide)) {
      int64_t best = v_of(members.front());
      for (const auto& r : members)
        best = std::max(best, v_of(r));
      size_t n = 0;
      for (const auto& r : members)
        if (v_of(r) == best) {
          auto x = r;
          add_window(x, w.second, w.second + size);
          expected.push_back(std::move(x));
          ++n;
        }
      ties += n > 1 ? 1 : 0;
    }
    // Ties there must be, or this proves little.
    CHECK(ties > 2);
    window_job j;
    j.params = size == slide ? tumbling(size, "top(v)")
                             : sliding(size, slide, "top(v)");
    j.out_of_orderness = disorder_of(rows);
    check_job(registry_of(rows), j, lines_of(expected), {}, 4);
  }
}

// -- user aggregates ----------------------------------------------------------

TEST_CASE("a user aggregate computes its result over the panes of sliding "
          "windows and merged sessions") {
  auto rows = shuffled(
    rows_at({-9, -7, -6, -3, 0, 1, 2, 4, 5, 8, 11, 12, 14, 20, 21, 23, 30}, 2,
            false),
    4);
  auto median_of = [](const std::vector<row>& members) {
    std::vector<int64_t> xs;
    for (const auto& r : members)
      xs.push_back(v_of(r));
    return median_aggregate::median_of(xs);
  };
  SUBCASE("sliding") {
    std::vector<row> expected;
    for (const auto& [w, members] : windows_of(rows, 10, 5)) {
      row r{value{w.first}};
      add_window(r, w.second, w.second + 10);
      r.emplace_back(static_cast<int64_t>(members.size()));
      r.push_back(median_of(members));
      expected.push_back(std::move(r));
    }
    window_job j;
    j.op = "window_median";
    j.params = sliding(10, 5, "count, median");
    j.out_of_orderness = disorder_of(rows);
    check_job(registry_of(rows), j, lines_of(expected), {}, 4);
  }
  SUBCASE("session") {
    std::vector<row> expected;
    size_t merged = 0;
    for (const auto& [w, s] : sessions_of(rows, 3)) {
      row r{value{w.first}};
      add_window(r, w.second, s.first);
      r.emplace_back(static_cast<int64_t>(s.second.size()));
      r.push_back(median_of(s.second));
      expected.push_back(std::move(r));
      merged += s.second.size() > 2 ? 1 : 0;
    }
    CHECK(merged > 1);
    window_job j;
    j.op = "window_median";
    j.params = session(3, "median, count");
    j.out_of_orderness = disorder_of(rows);
    // The user aggregate's fields come where it is listed.
    for (auto& r : expected)
      std::swap(r[4], r[5]);
    check_job(registry_of(rows), j, lines_of(expected), {}, 4);
  }
}

// -- processing time ----------------------------------------------------------

namespace {

/// One result line of the processing-time job.
struct proc_window {
  int64_t key = 0;
  int64_t start = 0;
  int64_t end = 0;
  int64_t time = 0;
  int64_t count = 0;
  int64_t sum = 0;
  int64_t first_emitted = 0;
  int64_t last_emitted = 0;
};

std::vector<proc_window> parse_windows(const lines& output) {
  std::vector<proc_window> out;
  for (const auto& [line, n] : output) {
    std::vector<int64_t> xs;
    size_t pos = 0;
    while (pos <= line.size()) {
      auto comma = line.find(',', pos);
      if (comma == std::string::npos)
        comma = line.size();
      xs.push_back(
        std::strtoll(line.substr(pos, comma - pos).c_str(), nullptr, 10));
      pos = comma + 1;
    }
    REQUIRE_MESSAGE(xs.size() == 8, line);
    for (int i = 0; i < n; ++i)
      out.push_back(
        proc_window{xs[0], xs[1], xs[2], xs[3], xs[4], xs[5], xs[6], xs[7]});
  }
  return out;
}

/// A processing-time window job's shape.
struct proc_shape {
  std::string type;
  int64_t size = 0;
  int64_t slide = 0;
  int64_t gap = 0;
};

/// What holds for any run: every row counted exactly once (in each of
/// size / slide sliding windows), each window once per key; tumbling and
/// sliding windows aligned and of the size, sessions apart and at least
/// the gap long.
void check_processing_windows(const lines& output, const std::vector<row>& rows,
                              const proc_shape& shape) {
  auto windows = parse_windows(output);
  auto copies = shape.type == "sliding" ? shape.size / shape.slide : 1;
  std::map<int64_t, std::pair<int64_t, int64_t>> want;
  for (const auto& r : rows) {
    want[key_of(r)].first += copies;
    want[key_of(r)].second += copies * v_of(r);
  }
  std::map<int64_t, std::pair<int64_t, int64_t>> got;
  std::map<std::pair<int64_t, int64_t>, int> seen;
  std::map<int64_t, std::map<int64_t, int64_t>> sessions;
  for (const auto& w : windows) {
    CAPTURE(w.key);
    CAPTURE(w.start);
    CAPTURE(w.end);
    if (shape.type == "session") {
      CHECK(w.end - w.start >= shape.gap);
      sessions[w.key][w.start] = w.end;
    } else {
      CHECK(w.end - w.start == shape.size);
      CHECK(floor_to(w.start, shape.slide) == w.start);
    }
    CHECK(w.time == w.end - 1);
    CHECK(w.count > 0);
    got[w.key].first += w.count;
    got[w.key].second += w.sum;
    auto times = ++seen[std::make_pair(w.key, w.start)];
    CHECK_MESSAGE(times == 1, "window " << w.start << " of key " << w.key
                                        << " was emitted twice");
  }
  CHECK(got == want);
  for (const auto& [key, of_key] : sessions) {
    int64_t last_end = min_watermark;
    for (const auto& [start, end] : of_key) {
      CHECK_MESSAGE(start >= last_end,
                    "sessions of key " << key << " overlap at " << start);
      last_end = end;
    }
  }
}

} // namespace

TEST_CASE("processing-time windows group rows by the time they arrive and "
          "count each row once") {
  std::vector<row> rows;
  for (int64_t i = 0; i < 90; ++i)
    rows.push_back(kv(1 + i % 3, 0, i + 1));
  for (const auto& shape : std::vector<proc_shape>{{"tumbling", 10, 10, 0},
                                                   {"sliding", 12, 4, 0},
                                                   {"session", 0, 0, 2}}) {
    CAPTURE(shape.type);
    window_job j;
    j.params = {{"key", "key"},
                {"type", shape.type},
                {"time", "processing"},
                {"aggregates", "count, sum(v), min(emitted), max(emitted)"}};
    if (shape.type == "session") {
      j.params["gap"] = std::to_string(shape.gap);
    } else {
      j.params["size"] = std::to_string(shape.size);
      if (shape.type == "sliding")
        j.params["slide"] = std::to_string(shape.slide);
    }
    j.out_of_orderness = -1;
    auto registry = registry_of(rows, true);
    test::temp_dir dir;
    sim::simulation s{registry,
                      [j](const std::string& d) { return spec_of(j, d); },
                      dir.path().string(), sim_config("out")};
    const auto& ref = s.reference();
    REQUIRE_MESSAGE(ref.ok(), ref.describe());
    check_processing_windows(ref.output, rows, shape);
    // Without faults each row reaches the window at the virtual time it
    // was emitted, so one offset between the source's clock and processing
    // time puts every row's emission time into its window (and a session
    // starts at its first row and lasts the gap after its last).
    auto windows = parse_windows(ref.output);
    CHECK(windows.size() > (shape.type == "session" ? 2 : 9));
    int64_t lo = min_watermark;
    int64_t hi = max_watermark;
    for (const auto& w : windows) {
      lo = std::max(lo, w.start - w.first_emitted);
      hi = std::min(hi, w.end - (shape.type == "session" ? shape.gap : 1)
                          - w.last_emitted);
    }
    CHECK_MESSAGE(lo <= hi, "no offset puts every row into its window");
    // Under faults, rows replayed after a restore arrive at other times and
    // fall into other windows: the output differs, yet each row still
    // counts once.
    size_t faulty = 0;
    for (auto seed : sim::simulation::seeds(1, 5)) {
      auto run = s.run(seed);
      auto text = run.describe();
      CAPTURE(text);
      for (const auto& v : run.violations)
        if (v.rfind("committed output differs", 0) != 0)
          FAIL_CHECK(v);
      check_processing_windows(run.output, rows, shape);
      if (!run.faults.empty() && !run.exceptions.empty())
        ++faulty;
    }
    CHECK(faulty > 0);
  }
}

// -- bad parameters -----------------------------------------------------------

TEST_CASE("bad window parameters are clear errors when the job is "
          "planned") {
  auto has = [](const std::string& error, const std::string& text) {
    CAPTURE(error);
    CHECK_MESSAGE(error.find(text) != std::string::npos,
                  "expected an error mentioning: " << text);
  };
  CHECK(planning_error("window", tumbling(10, "count")).empty());
  auto p = tumbling(10, "count");
  p.erase("type");
  has(planning_error("window", p), "type");
  p["type"] = "hopping";
  has(planning_error("window", p), "'hopping'; expected one of: tumbling "
                                   "sliding session");
  p = tumbling(10, "count");
  p["type"] = "sliding";
  has(planning_error("window", p), "parameter 'slide' is required");
  has(planning_error("window", sliding(10, 11, "count")),
      "parameter 'slide' (11) is larger than 'size' (10)");
  has(planning_error("window", tumbling(0, "count")),
      "parameter 'size' must be a positive number");
  p = session(10, "count");
  p.erase("gap");
  has(planning_error("window", p), "parameter 'gap' is required");
  p = tumbling(10, "count");
  p.erase("time_field");
  has(planning_error("window", p), "event-time windows need 'time_field'");
  p["time_field"] = "when";
  has(planning_error("window", p), "'when'");
  has(planning_error("window", tumbling(10, "median")),
      "aggregate 'median' is not one of count, sum(f), min(f), max(f), "
      "avg(f), top(f)");
  has(planning_error("window", tumbling(10, "p99(v)")), "'p99(v)'");
  has(planning_error("window", tumbling(10, "count(v)")), "'count(v)'");
  has(planning_error("window", tumbling(10, "sum")), "'sum'");
  has(planning_error("window", tumbling(10, "sum(w)")),
      "aggregate 'sum(w)' names field 'w'");
  has(planning_error("window", tumbling(10, "")), "lists nothing");
  has(planning_error("window", tumbling(10, "top(v), count")),
      "cannot be combined with other aggregates");
  has(planning_error("window", tumbling(10, "count, top(v)")),
      "cannot be combined with other aggregates");
  has(planning_error("window", tumbling(10, "sum(v), sum(v)")), "sum_v");
  has(planning_error("window", tumbling(10, "count as key")), "'key'");
  has(planning_error("window", tumbling(10, "sum(v) as window_end")),
      "'window_end'");
  p = tumbling(10, "count");
  p["allowed_lateness"] = "-1";
  has(planning_error("window", p), "'allowed_lateness' must not be negative");
  p = tumbling(10, "count");
  p.erase("time_field");
  p["time"] = "processing";
  CHECK(planning_error("window", p).empty());
  p["allowed_lateness"] = "5";
  has(planning_error("window", p),
      "allowed lateness applies to event-time windows only");
  p["time"] = "ingestion";
  has(planning_error("window", p), "'ingestion'");
  // The user aggregate is known only to the operator registered with it,
  // and its factory's complaint is the error.
  CHECK(planning_error("window_median", tumbling(10, "count, median")).empty());
  has(planning_error("window_median", tumbling(10, "median, median")),
      "listed twice");
  auto registry = registry_of({});
  auto spec = job_builder{"windows"}
                .vertex("rows", "rows")
                .vertex("drop_v", "select", {{"fields", "key, ts"}})
                .vertex("window", "window_median", tumbling(10, "median"))
                .vertex("out", "file_sink", {{"path", "/tmp/unused"}})
                .forward("rows", "drop_v")
                .hash("drop_v", "window", {"key"})
                .forward("window", "out")
                .build();
  auto graph = build_job_graph(spec, *registry);
  REQUIRE(!graph);
  has(error_text(graph.error()),
      "aggregate 'median': needs a field 'v' to take the median of");
  // Side outputs: only those the operator declares.
  CHECK(planning_error("window", tumbling(10, "count"), "window").empty());
  has(planning_error("window", tumbling(10, "count"), "window", "lat"),
      "has no side output 'lat' (it has: late)");
  has(planning_error("window", tumbling(10, "count"), "rows"),
      "has no side output 'late' (it has: none)");
}
