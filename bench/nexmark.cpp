// Benchmark: the Nexmark queries of examples/nexmark/ over a fixed number
// of generated events, at parallelism 1 and 2 with exactly-once
// checkpoints every 10 s, each beside a hand-written single-threaded loop
// that generates the same events and computes the same result, and beside
// Flink 1.13's figures published by the Nexmark project.
//
//   weir_bench_nexmark [--events N] [--queries q0,q5] [--parallelism 1,2]
//                      [--repeat R]
//
// Events per second per core = events / (process CPU seconds), the
// generator included, as the Nexmark project reports it (its "cores" is
// the average CPU use). Exits non-zero when a job does not finish or its
// row count differs from the loop's.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <unistd.h>

#include "actors/local_runner.hpp"
#include "api/registry.hpp"
#include "bench/clocks.hpp"
#include "operators/builtins.hpp"
#include "operators/nexmark/generator.hpp"
#include "scheduler/job_loader.hpp"

namespace {

using namespace weir;
using weir::bench::clocks;

struct options {
  int64_t events = 10'000'000;
  std::vector<std::string> queries
    = {"q0", "q1", "q2", "q3", "q4", "q5", "q7", "q8"};
  std::vector<int> parallelism = {1, 2};
  int repeat = 1;
};

/// Flink 1.13, events/s/core, from the Nexmark project's published table.
double flink_figure(const std::string& q) {
  static const std::map<std::string, double> figures
    = {{"q0", 155e3}, {"q1", 158e3}, {"q2", 175e3}, {"q3", 152e3},
       {"q4", 34e3},  {"q5", 22e3},  {"q7", 12e3},  {"q8", 146e3}};
  auto i = figures.find(q);
  return i == figures.end() ? 0 : i->second;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    auto comma = text.find(',', pos);
    if (comma == std::string::npos)
      comma = text.size();
    if (comma > pos)
      out.push_back(text.substr(pos, comma - pos));
    pos = comma + 1;
  }
  return out;
}

std::optional<options> parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "%s needs a value\n", arg.c_str());
      return std::nullopt;
    }
    std::string v = argv[++i];
    if (arg == "--events") {
      o.events = std::strtoll(v.c_str(), nullptr, 10);
      if (o.events < 1) {
        std::fprintf(stderr, "--events must be positive\n");
        return std::nullopt;
      }
    } else if (arg == "--queries") {
      o.queries = split(v);
      for (const auto& q : o.queries)
        if (flink_figure(q) == 0) {
          std::fprintf(stderr, "unknown query %s (q0-q5, q7, q8)\n", q.c_str());
          return std::nullopt;
        }
    } else if (arg == "--parallelism") {
      o.parallelism.clear();
      for (const auto& p : split(v))
        o.parallelism.push_back(std::max(1, std::atoi(p.c_str())));
    } else if (arg == "--repeat") {
      o.repeat = std::max(1, std::atoi(v.c_str()));
    } else {
      std::fprintf(stderr,
                   "usage: %s [--events N] [--queries q0,q1,q2,q3,q4,q5,q7,q8] "
                   "[--parallelism 1,2] [--repeat R]\n",
                   argv[0]);
      return std::nullopt;
    }
  }
  return o;
}

// -- the hand-written loop ----------------------------------------------------

int64_t floor_to(int64_t t, int64_t step) {
  auto q = t / step;
  if (t % step != 0 && t < 0)
    --q;
  return q * step;
}

/// Generates the events as the source does (the same rows) and computes
/// the query; returns the number of result rows.
int64_t baseline(const std::string& q, int64_t events) {
  nexmark::generator gen{nexmark::generator_config{}};
  nexmark::event e;
  int64_t results = 0;
  // q5: window start -> auction -> bids; q7: window start -> max price and
  // the rows holding it.
  std::map<int64_t, std::unordered_map<int64_t, int64_t>> counts;
  std::map<int64_t, std::pair<int64_t, int64_t>> highest;
  double sink = 0;
  // q3: qualifying sellers, and the category-10 auctions' sellers; q4:
  // auction -> (start, expires, category, highest bid); q8: window ->
  // people, window -> sellers.
  std::unordered_map<int64_t, bool> western;
  std::vector<int64_t> sellers;
  struct auction_info {
    int64_t start, expires, category, best;
  };
  std::unordered_map<int64_t, auction_info> auctions;
  std::map<int64_t, std::unordered_map<int64_t, bool>> people_in, sellers_in;
  for (int64_t n = 0; n < events; ++n) {
    gen.generate(static_cast<uint64_t>(n), e);
    auto r = nexmark::to_row(e);
    auto type = r[0].as_int64();
    if (type == 0) {
      auto id = r[2].as_int64();
      const auto& st = r[7].as_string();
      if (q == "q3" && (st == "OR" || st == "ID" || st == "CA"))
        western[id] = true;
      if (q == "q8")
        people_in[floor_to(r[1].as_timestamp().millis, 10000)][id] = true;
      continue;
    }
    if (type == 1) {
      auto seller = r[14].as_int64();
      if (q == "q3" && r[15].as_int64() == 10)
        sellers.push_back(seller);
      if (q == "q4")
        auctions[r[8].as_int64()]
          = {r[1].as_timestamp().millis, r[13].as_timestamp().millis,
             r[15].as_int64(), -1};
      if (q == "q8")
        sellers_in[floor_to(r[1].as_timestamp().millis, 10000)][seller] = true;
      continue;
    }
    auto auction = r[16].as_int64();
    auto price = r[18].as_int64();
    auto ts = r[1].as_timestamp().millis;
    if (q == "q0") {
      row out{r[16], r[17], r[18], r[1]};
      sink += static_cast<double>(out.size());
      ++results;
    } else if (q == "q1") {
      row out{r[16], r[17], value{static_cast<double>(price) * 0.908}, r[1]};
      sink += out[2].as_double();
      ++results;
    } else if (q == "q2") {
      if (auction % 123 == 0)
        ++results;
    } else if (q == "q5") {
      for (auto s = floor_to(ts, 2000); s > ts - 10000; s -= 2000)
        ++counts[s][auction];
    } else if (q == "q4") {
      auto i = auctions.find(auction);
      if (i != auctions.end() && ts >= i->second.start
          && ts <= i->second.expires)
        i->second.best = std::max(i->second.best, price);
    } else if (q == "q7") {
      auto& h = highest[floor_to(ts, 10000)];
      if (price > h.first)
        h = {price, 1};
      else if (price == h.first)
        ++h.second;
    }
  }
  for (const auto& [start, per_auction] : counts) {
    int64_t best = 0;
    int64_t ties = 0;
    for (const auto& [a, c] : per_auction) {
      if (c > best) {
        best = c;
        ties = 1;
      } else if (c == best) {
        ++ties;
      }
    }
    results += ties;
  }
  for (const auto& [start, h] : highest)
    results += h.second;
  for (auto s : sellers)
    if (western.count(s) > 0)
      ++results;
  std::unordered_map<int64_t, std::pair<double, int64_t>> per_category;
  for (const auto& [id, a] : auctions)
    if (a.best >= 0) {
      auto& c = per_category[a.category];
      c.first += static_cast<double>(a.best);
      ++c.second;
    }
  results += static_cast<int64_t>(per_category.size());
  for (const auto& [window, people] : people_in) {
    auto i = sellers_in.find(window);
    if (i == sellers_in.end())
      continue;
    for (const auto& [id, unused] : people)
      if (i->second.count(id) > 0)
        ++results;
  }
  if (sink < 0)
    std::printf("%f\n", sink);
  return results;
}

// -- the job ------------------------------------------------------------------

std::atomic<int64_t> sink_rows{0};

/// Counts what reaches the sink (Nexmark measures with a blackhole sink).
operator_descriptor counting_sink() {
  operator_descriptor d;
  d.name = "bench_sink";
  d.kind = operator_kind::sink;
  d.help = "counts rows";
  d.output_fields = [](const parameters&, const std::vector<std::string>&) {
    return caf::expected<std::vector<std::string>>{std::vector<std::string>{}};
  };
  d.factory = [](const operator_context&) {
    auto n = std::make_shared<int64_t>(0);
    return operator_behavior{
      [n](const row&, collector&) { ++*n; },
      [n](end_of_input_t, collector&) { sink_rows += *n; },
    };
  };
  return d;
}

struct job_run {
  clocks elapsed;
  int64_t rows = 0;
  size_t checkpoints = 0;
};

std::optional<job_run> run_query(const std::string& q, int64_t events,
                                 int parallelism,
                                 std::shared_ptr<const operator_registry> reg,
                                 const std::string& dir) {
  auto spec = load_job_file(std::string{WEIR_SOURCE_DIR} + "/examples/nexmark/"
                              + q + ".pbtxt",
                            {{"events", std::to_string(events)},
                             {"parallelism", std::to_string(parallelism)},
                             {"checkpoint_interval", "10000"},
                             {"checkpoints", dir},
                             {"output", dir + "/unused"}});
  if (!spec) {
    std::fprintf(stderr, "%s: %s\n", q.c_str(),
                 error_text(spec.error()).c_str());
    return std::nullopt;
  }
  for (auto& v : *spec->mutable_vertices())
    if (v.id() == "out") {
      v.set_operator_("bench_sink");
      v.clear_params();
    }
  local_run_options opts;
  opts.threads = static_cast<size_t>(parallelism);
  opts.cluster.slots_per_task_manager = static_cast<uint32_t>(parallelism);
  job_run run;
  opts.on_finished = [&](const job_info& info) {
    for (const auto& c : info.checkpoints)
      if (c.completed)
        ++run.checkpoints;
  };
  sink_rows = 0;
  auto start = clocks::now();
  auto res = run_local_job(*spec, std::move(reg), opts);
  run.elapsed = clocks::now() - start;
  if (!res || res->status != job_status::finished) {
    std::fprintf(stderr, "%s p=%d: %s\n", q.c_str(), parallelism,
                 res ? res->cause.c_str() : error_text(res.error()).c_str());
    return std::nullopt;
  }
  run.rows = sink_rows;
  return run;
}

} // namespace

int main(int argc, char** argv) {
  auto o = parse(argc, argv);
  if (!o)
    return 2;
  auto reg = std::make_shared<operator_registry>();
  if (register_builtin_operators(*reg) || reg->add(counting_sink())) {
    std::fprintf(stderr, "cannot register the operators\n");
    return 1;
  }
  auto dir = std::filesystem::temp_directory_path()
             / ("weir-bench-nexmark-" + std::to_string(::getpid()));
  std::printf("Nexmark, %lld events (event-time rate 10M/s), exactly-once "
              "checkpoints every 10 s\n",
              static_cast<long long>(o->events));
  std::printf("%-4s %-9s %12s %7s %14s %12s %12s %8s %7s\n", "q", "config",
              "events/s", "cores", "events/s/core", "flink 1.13", "ratio",
              "rows", "ckpts");
  int status = 0;
  for (const auto& q : o->queries) {
    double best_base = 0;
    int64_t base_rows = 0;
    for (int i = 0; i < o->repeat; ++i) {
      auto start = clocks::now();
      base_rows = baseline(q, o->events);
      auto t = clocks::now() - start;
      best_base = std::max(best_base, static_cast<double>(o->events) / t.wall);
    }
    std::printf("%-4s %-9s %12.0f %7.2f %14.0f %12.0f %12.2f %8lld %7s\n",
                q.c_str(), "loop", best_base, 1.0, best_base, flink_figure(q),
                best_base / flink_figure(q), static_cast<long long>(base_rows),
                "-");
    for (auto p : o->parallelism) {
      std::optional<job_run> best;
      for (int i = 0; i < o->repeat; ++i) {
        auto run = run_query(q, o->events, p, reg, dir.string());
        std::filesystem::remove_all(dir);
        if (!run) {
          status = 1;
          break;
        }
        if (run->rows != base_rows) {
          std::fprintf(stderr, "%s p=%d: %lld rows, the loop has %lld\n",
                       q.c_str(), p, static_cast<long long>(run->rows),
                       static_cast<long long>(base_rows));
          status = 1;
        }
        if (!best || run->elapsed.wall < best->elapsed.wall)
          best = run;
      }
      if (!best)
        continue;
      auto rate = static_cast<double>(o->events) / best->elapsed.wall;
      auto per_core = static_cast<double>(o->events) / best->elapsed.cpu;
      auto config = "p=" + std::to_string(p);
      std::printf("%-4s %-9s %12.0f %7.2f %14.0f %12.0f %12.2f %8lld %7zu\n",
                  q.c_str(), config.c_str(), rate,
                  best->elapsed.cpu / best->elapsed.wall, per_core,
                  flink_figure(q), per_core / flink_figure(q),
                  static_cast<long long>(best->rows), best->checkpoints);
    }
  }
  return status;
}
