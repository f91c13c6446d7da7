// Benchmark: a keyed count over a generated sequence, through the runtime
// (sequence -> modulo -> HASH -> aggregate(count) -> sink on a mini cluster)
// and through a hand-written single-threaded loop doing the same work.
//
//   weir_bench_keyed_count [--records N] [--keys K] [--repeat R]
//                          [--threads T] [--credits C] [--batch-rows B]
//
// Prints one table row per configuration; exits non-zero when a job does
// not finish or its counts do not add up to N.

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "actors/local_runner.hpp"
#include "bench/clocks.hpp"
#include "api/job_builder.hpp"
#include "api/registry.hpp"
#include "operators/builtins.hpp"

namespace {

using namespace weir;
using weir::bench::clocks;

// -- options ------------------------------------------------------------------

/// Command-line settings of one benchmark run.
struct options {
  int64_t records = 10'000'000;
  int64_t keys = 1000;
  int repeat = 1;
  /// Scheduler threads of the actor system; 0 keeps CAF's default.
  int threads = 0;
  /// Data-plane settings; 0 keeps the runtime's defaults.
  int credits = 0;
  int batch_rows = 0;
};

void usage(const char* prog) {
  std::fprintf(stderr,
               "usage: %s [--records N] [--keys K] [--repeat R] [--threads T]\n"
               "          [--credits C] [--batch-rows B]\n"
               "  --records N  rows generated (default 10000000)\n"
               "  --keys K     distinct keys, value %% K (default 1000)\n"
               "  --repeat R   runs per configuration, best kept "
               "(default 1)\n"
               "  --threads T  actor system worker threads (default 0: "
               "CAF's default)\n"
               "  --credits C  batches in flight per channel (default 0: "
               "runtime default)\n"
               "  --batch-rows B  rows per batch (default 0: runtime "
               "default)\n",
               prog);
}

/// Parses a decimal integer; nullopt on junk or a value below `min`.
std::optional<int64_t> parse_int(const char* text, int64_t min) {
  char* end = nullptr;
  errno = 0;
  auto x = std::strtoll(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || x < min)
    return std::nullopt;
  return x;
}

std::optional<options> parse_options(int argc, char** argv) {
  options opts;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h" || i + 1 == argc)
      return std::nullopt;
    auto min = arg == "--records" || arg == "--threads" || arg == "--credits"
                   || arg == "--batch-rows"
                 ? 0
                 : 1;
    auto x = parse_int(argv[++i], min);
    if (!x) {
      std::fprintf(stderr, "bad value for %s: %s\n", arg.c_str(), argv[i]);
      return std::nullopt;
    }
    if (arg == "--records")
      opts.records = *x;
    else if (arg == "--keys")
      opts.keys = *x;
    else if (arg == "--repeat")
      opts.repeat = static_cast<int>(std::min<int64_t>(*x, 1000));
    else if (arg == "--threads")
      opts.threads = static_cast<int>(std::min<int64_t>(*x, 256));
    else if (arg == "--credits")
      opts.credits = static_cast<int>(std::min<int64_t>(*x, 1 << 20));
    else if (arg == "--batch-rows")
      opts.batch_rows = static_cast<int>(std::min<int64_t>(*x, 1 << 24));
    else {
      std::fprintf(stderr, "unknown option: %s\n", arg.c_str());
      return std::nullopt;
    }
  }
  return opts;
}

// -- timing -------------------------------------------------------------------

/// One row of the result table: the best of `repeat` runs.
struct measurement {
  std::string config;
  int64_t records = 0;
  /// Cores the configuration may occupy, the denominator of per-core rates.
  int cores = 1;
  clocks best{1e300, 0};

  void keep(clocks c) {
    if (c.wall < best.wall)
      best = c;
  }

  double rate() const {
    return best.wall > 0 ? static_cast<double>(records) / best.wall : 0.0;
  }

  double cpu_utilization() const {
    return best.wall > 0 ? best.cpu / best.wall : 0.0;
  }
};

// -- baseline -----------------------------------------------------------------

/// The same keyed count, by hand: one thread, one hash map. Returns the sum
/// of the final counts, which must equal n.
int64_t baseline_count(int64_t n, int64_t k) {
  std::unordered_map<int64_t, int64_t> counts;
  for (int64_t i = 0; i < n; ++i)
    ++counts[i % k];
  int64_t total = 0;
  for (const auto& kvp : counts)
    total += kvp.second;
  return total;
}

// -- operators of the benchmark job -------------------------------------------

/// The user-defined transform: {value} -> {key = value % modulus}.
operator_descriptor modulo_descriptor() {
  operator_descriptor d;
  d.name = "modulo";
  d.kind = operator_kind::transform;
  d.help = "Maps an int64 field to {key = field % modulus}.";
  d.params = {
    {"modulus", param_type::int64, true, "", "the divisor, above 0"},
    {"field", param_type::field, false, "value", "the int64 input field"},
  };
  d.output_fields
    = [](const parameters& params, const std::vector<std::string>&)
    -> caf::expected<std::vector<std::string>> {
    auto i = params.find("modulus");
    if (i == params.end() || std::strtoll(i->second.c_str(), nullptr, 10) < 1)
      return make_error(api_errc::bad_parameter,
                        "modulo: parameter 'modulus' must be above 0");
    return std::vector<std::string>{"key"};
  };
  d.factory = [](const operator_context& ctx) {
    auto modulus = ctx.get_int("modulus");
    auto index = static_cast<size_t>(ctx.input_index(ctx.get_string("field")));
    return operator_behavior{
      [modulus, index](const row& r, collector& out) {
        out.emit(row{value{r[index].as_int64() % modulus}});
      },
    };
  };
  return d;
}

/// What the checking sink saw, over all its subtasks.
struct sink_totals {
  std::atomic<int64_t> count_sum{0};
  std::atomic<int64_t> rows{0};

  void reset() {
    count_sum = 0;
    rows = 0;
  }
};

/// A sink that adds the `count` field of its rows into `totals`: a discard
/// that lets the benchmark verify the job's result.
operator_descriptor check_sink_descriptor(std::shared_ptr<sink_totals> totals) {
  operator_descriptor d;
  d.name = "check_sink";
  d.kind = operator_kind::sink;
  d.help = "Sums the 'count' field of its rows (benchmark check).";
  d.output_fields = [](const parameters&, const std::vector<std::string>&)
    -> caf::expected<std::vector<std::string>> {
    return std::vector<std::string>{};
  };
  d.factory = [totals](const operator_context& ctx) {
    auto index = static_cast<size_t>(ctx.input_index("count"));
    return operator_behavior{
      [totals, index](const row& r, collector&) {
        totals->count_sum += r.at(index).as_int64();
        ++totals->rows;
      },
    };
  };
  return d;
}

std::shared_ptr<const operator_registry>
make_registry(std::shared_ptr<sink_totals> totals) {
  auto reg = std::make_shared<operator_registry>();
  caf::error err = register_builtin_operators(*reg);
  if (!err)
    err = reg->add(modulo_descriptor());
  if (!err)
    err = reg->add(check_sink_descriptor(std::move(totals)));
  if (err) {
    std::fprintf(stderr, "registry: %s\n", error_text(err).c_str());
    std::exit(2);
  }
  return reg;
}

proto::JobSpec keyed_count_job(int64_t n, int64_t k, int parallelism) {
  return job_builder{"keyed_count"}
    .parallelism(parallelism)
    .vertex("source", "sequence", {{"from", "0"}, {"to", std::to_string(n)}})
    .vertex("modulo", "modulo", {{"modulus", std::to_string(k)}})
    .vertex("count", "aggregate", {{"key", "key"}, {"function", "count"}})
    .vertex("sink", "check_sink")
    .forward("source", "modulo")
    .hash("modulo", "count", {"key"})
    .forward("count", "sink")
    .build();
}

/// Runs the job once; false (after printing why) unless it FINISHED with
/// counts adding up to n over min(n, k) keys.
bool run_job(const proto::JobSpec& spec,
             std::shared_ptr<const operator_registry> reg, sink_totals& totals,
             const options& o, int parallelism, clocks& elapsed,
             std::vector<checkpoint_stats>& checkpoints) {
  auto n = o.records;
  auto k = o.keys;
  local_run_options opts;
  opts.threads = static_cast<size_t>(o.threads);
  if (o.credits > 0)
    opts.submit.data_plane.credits = o.credits;
  if (o.batch_rows > 0)
    opts.submit.data_plane.batch_rows = static_cast<uint32_t>(o.batch_rows);
  // Slot sharing: one slot per parallel subtask of the widest vertex.
  opts.cluster.slots_per_task_manager = static_cast<uint32_t>(parallelism);
  opts.on_finished = [&](const job_info& info) {
    for (const auto& c : info.checkpoints)
      if (c.completed)
        checkpoints.push_back(c);
  };
  totals.reset();
  auto start = clocks::now();
  auto res = run_local_job(spec, std::move(reg), opts);
  elapsed = clocks::now() - start;
  if (!res) {
    std::fprintf(stderr, "p=%d: job rejected: %s\n", parallelism,
                 error_text(res.error()).c_str());
    return false;
  }
  if (res->status != job_status::finished) {
    std::fprintf(stderr, "p=%d: job %s: %s\n", parallelism,
                 to_string(res->status), res->cause.c_str());
    return false;
  }
  auto want_keys = std::min(n, k);
  if (totals.count_sum != n || totals.rows != want_keys) {
    std::fprintf(stderr,
                 "p=%d: wrong result: counts sum to %lld over %lld keys, "
                 "expected %lld over %lld\n",
                 parallelism, static_cast<long long>(totals.count_sum.load()),
                 static_cast<long long>(totals.rows.load()),
                 static_cast<long long>(n), static_cast<long long>(want_keys));
    return false;
  }
  return true;
}

// -- report -------------------------------------------------------------------

/// "median X ms, max Y ms" of nanosecond figures.
std::string median_max(std::vector<int64_t> xs) {
  if (xs.empty())
    return "n/a";
  std::sort(xs.begin(), xs.end());
  char buf[96];
  std::snprintf(buf, sizeof(buf), "median %.2f ms, max %.2f ms",
                static_cast<double>(xs[xs.size() / 2]) / 1e6,
                static_cast<double>(xs.back()) / 1e6);
  return buf;
}

void print_table(const std::vector<measurement>& rows, double baseline_rate) {
  std::printf("%-20s %12s %9s %14s %9s %6s %14s %9s\n", "configuration",
              "records", "seconds", "records/s", "vs base", "cores",
              "records/s/core", "cpu util");
  for (const auto& m : rows) {
    auto ratio = baseline_rate > 0 ? m.rate() / baseline_rate : 0.0;
    std::printf("%-20s %12lld %9.3f %14.0f %8.3fx %6d %14.0f %8.2f\n",
                m.config.c_str(), static_cast<long long>(m.records),
                m.best.wall, m.rate(), ratio, m.cores, m.rate() / m.cores,
                m.cpu_utilization());
  }
}

} // namespace

int main(int argc, char** argv) {
  auto parsed = parse_options(argc, argv);
  if (!parsed) {
    usage(argv[0]);
    return 2;
  }
  const auto& opts = *parsed;
  auto n = opts.records;
  auto k = opts.keys;
  auto hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::printf("keyed count: %lld records, %lld keys, best of %d; %d hardware "
              "threads; scheduler threads: %s\n",
              static_cast<long long>(n), static_cast<long long>(k), opts.repeat,
              hw,
              opts.threads > 0 ? std::to_string(opts.threads).c_str()
                               : "one per hardware thread");

  auto or_default
    = [](int x) { return x > 0 ? std::to_string(x) : std::string{"default"}; };
  std::printf("data plane: credits %s, batch rows %s\n",
              or_default(opts.credits).c_str(),
              or_default(opts.batch_rows).c_str());

  std::vector<measurement> table;

  // The baseline is cheap: repeat it at least 3 times for a stable figure.
  measurement base;
  base.config = "baseline (1 thread)";
  base.records = n;
  base.cores = 1;
  for (int r = 0; r < std::max(opts.repeat, 3); ++r) {
    auto start = clocks::now();
    auto total = baseline_count(n, k);
    base.keep(clocks::now() - start);
    if (total != n) {
      std::fprintf(stderr, "baseline: counts sum to %lld, expected %lld\n",
                   static_cast<long long>(total), static_cast<long long>(n));
      return 1;
    }
  }
  table.push_back(base);

  auto totals = std::make_shared<sink_totals>();
  auto reg = make_registry(totals);
  // Each parallelism runs without checkpoints and with exactly-once
  // checkpoints every second into a fresh directory.
  std::string chk_tmpl = "/tmp/weir-bench-chk-XXXXXX";
  if (mkdtemp(chk_tmpl.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  std::vector<std::pair<std::string, double>> ratios;
  std::vector<std::pair<std::string, std::vector<checkpoint_stats>>> chk_stats;
  for (int p : {1, 2}) {
    double plain_rate = 0;
    for (bool chk : {false, true}) {
      measurement m;
      m.config = "weir p=" + std::to_string(p) + (chk ? " chk 1s" : "");
      m.records = n;
      // Two tasks per subtask index (source+modulo, aggregate+sink), each
      // one actor: parallelism p keeps at most 2p cores busy.
      m.cores = std::min(hw, 2 * p);
      auto spec = keyed_count_job(n, k, p);
      if (chk) {
        auto* cp = spec.mutable_checkpointing();
        cp->set_interval_ms(1000);
        cp->set_dir(chk_tmpl);
        cp->set_mode(proto::EXACTLY_ONCE);
      }
      std::vector<checkpoint_stats> stats;
      for (int r = 0; r < opts.repeat; ++r) {
        clocks elapsed;
        if (!run_job(spec, reg, *totals, opts, p, elapsed, stats))
          return 1;
        m.keep(elapsed);
      }
      if (chk) {
        ratios.emplace_back("p=" + std::to_string(p), m.rate() / plain_rate);
        chk_stats.emplace_back("p=" + std::to_string(p), std::move(stats));
      } else
        plain_rate = m.rate();
      table.push_back(m);
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(chk_tmpl, ec);

  print_table(table, base.rate());
  for (const auto& r : ratios)
    std::printf("throughput with checkpoints every second / without, %s: "
                "%.3f\n",
                r.first.c_str(), r.second);
  for (const auto& [label, stats] : chk_stats) {
    std::vector<int64_t> durations;
    std::vector<int64_t> alignments;
    std::vector<int64_t> snapshots;
    for (const auto& c : stats) {
      durations.push_back(c.duration_nanos);
      alignments.push_back(c.max_alignment_nanos);
      snapshots.push_back(c.max_snapshot_nanos);
    }
    std::printf("checkpoints %s: %zu completed in %d runs; duration %s; "
                "alignment (slowest subtask) %s; synchronous snapshot %s\n",
                label.c_str(), stats.size(), opts.repeat,
                median_max(durations).c_str(), median_max(alignments).c_str(),
                median_max(snapshots).c_str());
  }
  std::printf("cores: hardware threads the configuration may occupy; cpu "
              "util: process CPU seconds / wall seconds.\nweir figures "
              "include starting and stopping the actor system and mini "
              "cluster.\n");
  return 0;
}
