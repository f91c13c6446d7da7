#include "sim/simulation.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduled_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "actors/mini_cluster.hpp"
#include "checkpoint/state_file.hpp"
#include "scheduler/job_graph.hpp"
#include "scheduler/plan.hpp"
#include "weir/proto/checkpoint.pb.h"

namespace weir::sim {

namespace fs = std::filesystem;

namespace {

/// An actor system on CAF's deterministic test coordinator.
struct sim_config : caf::actor_system_config {
  sim_config() {
    set("scheduler.policy", caf::atom("testing"));
    set("logger.verbosity", caf::atom("quiet"));
    register_protocol(*this);
  }
};

/// A reply that an asking actor stores once it arrives.
template <class T>
using reply = std::shared_ptr<std::optional<caf::expected<T>>>;

/// Spawns an actor that sends a request to `dest` and keeps the reply;
/// returns the actor too, so that a run can stop it if no reply comes.
template <class T, class Handle, class... Ts>
std::pair<reply<T>, caf::actor> ask(caf::actor_system& sys, const Handle& dest,
                                    Ts... xs) {
  auto out = std::make_shared<std::optional<caf::expected<T>>>();
  auto asker = sys.spawn([=](caf::event_based_actor* self) {
    self->request(dest, caf::infinite, xs...)
      .then([=](T& x) { *out = std::move(x); },
            [=](caf::error& e) { *out = std::move(e); });
  });
  return {out, asker};
}

/// Uniform in [0, 1), the same on every platform (unlike
/// std::uniform_real_distribution).
double unit(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

uint64_t mix(uint64_t h, uint64_t x) {
  return mix64(h ^ (x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2)));
}

/// Committed lines of the file sink in `dir` (hidden files are not
/// output).
std::map<std::string, int> committed_lines(const fs::path& dir) {
  std::map<std::string, int> out;
  std::error_code ec;
  if (!fs::exists(dir, ec))
    return out;
  for (const auto& e : fs::directory_iterator{dir, ec}) {
    auto name = e.path().filename().string();
    if (!e.is_regular_file() || name.empty() || name[0] == '.')
      continue;
    std::ifstream in{e.path()};
    std::string line;
    while (std::getline(in, line))
      ++out[line];
  }
  return out;
}

size_t hidden_files(const fs::path& dir) {
  size_t n = 0;
  std::error_code ec;
  if (!fs::exists(dir, ec))
    return 0;
  for (const auto& e : fs::directory_iterator{dir, ec})
    if (e.path().filename().string()[0] == '.')
      ++n;
  return n;
}

} // namespace

std::string run_report::describe() const {
  std::ostringstream out;
  out << "seed " << seed << ": job " << to_string(result.status);
  if (!result.cause.empty())
    out << " (" << result.cause << ")";
  out << " after " << steps << " steps, trace hash " << std::hex << trace_hash
      << std::dec << ", " << completed_checkpoints.size()
      << " completed checkpoints, " << exceptions.size() << " failures\n";
  for (const auto& f : faults)
    out << "  fault: " << f << "\n";
  for (const auto& e : exceptions)
    out << "  failure: " << (e.task.empty() ? "" : e.task + ": ") << e.cause
        << "\n";
  for (const auto& v : violations)
    out << "  VIOLATION: " << v << "\n";
  if (!violations.empty())
    out << "  replay with WEIR_SEED=" << seed << "\n";
  return out.str();
}

simulation::simulation(std::shared_ptr<const operator_registry> registry,
                       job_factory make_job, std::string work_dir,
                       simulation_config cfg)
  : registry_(std::move(registry)), make_job_(std::move(make_job)),
    work_dir_(std::move(work_dir)), cfg_(std::move(cfg)) {
}

simulation::~simulation() = default;

const run_report& simulation::reference() {
  if (!reference_)
    reference_ = execute(0, false);
  return *reference_;
}

run_report simulation::run(uint64_t seed) {
  const auto& ref = reference();
  auto r = execute(seed, true);
  if (!ref.ok()) {
    r.violations.push_back("the reference run without faults failed: "
                           + ref.describe());
    return r;
  }
  if (cfg_.exactly_once) {
    if (r.output != ref.output) {
      size_t missing = 0;
      size_t extra = 0;
      for (const auto& [line, n] : ref.output) {
        auto i = r.output.find(line);
        auto got = i == r.output.end() ? 0 : i->second;
        if (got < n)
          missing += static_cast<size_t>(n - got);
      }
      for (const auto& [line, n] : r.output) {
        auto i = ref.output.find(line);
        auto want = i == ref.output.end() ? 0 : i->second;
        if (n > want)
          extra += static_cast<size_t>(n - want);
      }
      r.violations.push_back(
        "committed output differs from the failure-free run: "
        + std::to_string(missing) + " lines missing, " + std::to_string(extra)
        + " lines extra or repeated");
    }
  } else {
    size_t missing = 0;
    for (const auto& kv : ref.output)
      if (r.output.count(kv.first) == 0)
        ++missing;
    if (missing > 0)
      r.violations.push_back("at-least-once: " + std::to_string(missing)
                             + " lines of the failure-free run are missing");
  }
  std::error_code ec;
  if (r.ok())
    fs::remove_all(fs::path{work_dir_} / ("seed-" + std::to_string(seed)), ec);
  return r;
}

std::vector<uint64_t> simulation::seeds(uint64_t first, size_t count) {
  if (const char* env = std::getenv("WEIR_SEED"); env != nullptr && *env) {
    char* end = nullptr;
    auto seed = std::strtoull(env, &end, 10);
    if (end != nullptr && *end == '\0')
      return {seed};
  }
  std::vector<uint64_t> out;
  for (size_t i = 0; i < count; ++i)
    out.push_back(first + i);
  return out;
}

run_report simulation::execute(uint64_t seed, bool faults) {
  run_report r;
  r.seed = seed;
  auto dir = fs::path{work_dir_}
             / (faults ? "seed-" + std::to_string(seed) : "reference");
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  auto spec = make_job_(dir.string());
  // Every completed checkpoint stays, so that each can be checked.
  if (!spec.checkpointing().dir().empty())
    spec.mutable_checkpointing()->set_retained(1000000);
  auto armed = std::make_shared<armed_faults>(seed * 0x2545f4914f6cdd1dULL + 1);
  auto registry = with_fault_points(*registry_, armed);
  auto graph = build_job_graph(spec, *registry);
  if (!graph) {
    r.violations.push_back("the job is invalid: " + error_text(graph.error()));
    return r;
  }
  auto p = make_plan(std::move(*graph));
  auto required = static_cast<uint32_t>(p.required_slots());
  std::string spec_bytes;
  spec.SerializeToString(&spec_bytes);

  sim_config sys_cfg;
  caf::actor_system sys{sys_cfg};
  auto& sched
    = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  std::mt19937_64 rng{seed};
  uint64_t trace = mix(0, seed);
  std::vector<caf::actor> askers;

  mini_cluster_config mc;
  mc.task_managers = cfg_.task_managers;
  mc.slots_per_task_manager = cfg_.slots_per_task_manager;
  mc.job_manager.seed = 42;
  mc.faults = std::make_shared<armed_injector>(armed);
  auto cluster = spawn_mini_cluster(sys, mc, registry);
  std::vector<bool> alive(cluster.task_managers.size(), true);
  /// Virtual times at which replacement task managers join.
  std::vector<caf::actor_clock::time_point> replacements;
  sched.run();

  submit_options options;
  options.data_plane = cfg_.data_plane;
  auto [submitted, submitter] = ask<job_id>(
    sys, cluster.job_manager, submit_atom::value, spec_bytes, options);
  askers.push_back(submitter);
  while (!submitted->has_value() && sched.try_run_once())
    ; // nop
  if (!submitted->has_value() || !submitted->value()) {
    r.violations.push_back("the job was not accepted: "
                           + (submitted->has_value()
                                ? error_text(submitted->value().error())
                                : std::string{"no reply"}));
    cluster.shutdown();
    sched.run();
    return r;
  }
  auto id = *submitted->value();
  auto [result, waiter]
    = ask<job_result>(sys, cluster.job_manager, wait_atom::value, id);
  askers.push_back(waiter);

  uint32_t injected = 0;
  auto inject = [&] {
    if (cfg_.faults.empty())
      return;
    auto kind = cfg_.faults[rng() % cfg_.faults.size()];
    switch (kind) {
      case fault_kind::kill_task: {
        std::vector<caf::scheduled_actor*> tasks;
        for (auto* job : sched.jobs)
          if (auto* a = dynamic_cast<caf::scheduled_actor*>(job);
              a != nullptr && std::string{a->name()} == "weir.task")
            tasks.push_back(a);
        if (tasks.empty())
          return;
        auto* victim = tasks[rng() % tasks.size()];
        armed->log("kill_task: actor " + std::to_string(victim->id())
                   + " at step " + std::to_string(r.steps));
        trace = mix(trace, 0x1000 + victim->id());
        caf::anon_send_exit(caf::actor_cast<caf::actor>(victim),
                            caf::exit_reason::kill);
        break;
      }
      case fault_kind::kill_task_manager: {
        std::vector<size_t> live;
        for (size_t i = 0; i < alive.size(); ++i)
          if (alive[i])
            live.push_back(i);
        // The job may wait for a replacement, but some slots must stay.
        if (live.size() < 2
            || (live.size() - 1) * cfg_.slots_per_task_manager < required)
          return;
        auto i = live[rng() % live.size()];
        alive[i] = false;
        armed->log("kill_task_manager: tm-" + std::to_string(i) + " at step "
                   + std::to_string(r.steps));
        trace = mix(trace, 0x2000 + i);
        caf::anon_send_exit(cluster.task_managers[i], caf::exit_reason::kill);
        if (cfg_.replace_task_manager_after.count() > 0)
          replacements.push_back(sched.clock().now()
                                 + cfg_.replace_task_manager_after);
        break;
      }
      default:
        armed->arm(kind);
        trace = mix(trace, 0x3000 + static_cast<uint64_t>(kind));
        break;
    }
    ++injected;
  };

  bool idle = false;
  while (!result->has_value()) {
    if (r.steps >= cfg_.max_steps)
      break;
    ++r.steps;
    if (faults && injected < cfg_.max_faults && r.steps >= cfg_.first_fault_step
        && unit(rng) < cfg_.fault_rate)
      inject();
    for (auto i = replacements.begin(); i != replacements.end();) {
      if (*i > sched.clock().now()) {
        ++i;
        continue;
      }
      cluster.add_task_manager(sys, cfg_.slots_per_task_manager);
      alive.push_back(true);
      trace = mix(trace, 0x4000 + alive.size());
      i = replacements.erase(i);
    }
    bool fire_timer
      = sched.has_pending_timeout()
        && (sched.jobs.empty() || (faults && unit(rng) < cfg_.timer_rate));
    if (fire_timer) {
      sched.trigger_timeout();
      trace = mix(trace, static_cast<uint64_t>(
                           sched.clock().now().time_since_epoch().count()));
      continue;
    }
    if (sched.jobs.empty()) {
      idle = true;
      break;
    }
    if (faults) {
      auto b = sched.jobs.begin();
      auto pick = b + static_cast<std::ptrdiff_t>(rng() % sched.jobs.size());
      std::rotate(b, pick, pick + 1);
    }
    uint64_t what = 0;
    if (auto* a = dynamic_cast<caf::scheduled_actor*>(sched.jobs.front())) {
      what = a->id();
      if (auto* e = a->mailbox().peek()) {
        const auto& content = e->content();
        what = mix(what, content.type_token());
        if (content.match_element<caf::atom_value>(0))
          what = mix(what,
                     static_cast<uint64_t>(content.get_as<caf::atom_value>(0)));
      }
    }
    trace = mix(trace, what);
    sched.run_once();
  }
  r.trace_hash = trace;
  r.faults = armed->fired();

  if (!result->has_value()) {
    r.violations.push_back(
      idle ? "the cluster went idle before the job ended (a hang)"
           : "the job did not end within " + std::to_string(cfg_.max_steps)
               + " steps");
  } else if (!result->value()) {
    r.violations.push_back("waiting for the job failed: "
                           + error_text(result->value().error()));
  } else {
    r.result = *result->value();
    if (r.result.status != job_status::finished)
      r.violations.push_back(std::string{"the job ended "}
                             + to_string(r.result.status) + ": "
                             + r.result.cause);
    auto [info, asker]
      = ask<job_info>(sys, cluster.job_manager, info_atom::value, id);
    askers.push_back(asker);
    while (!info->has_value() && sched.try_run_once())
      ; // nop
    if (info->has_value() && info->value()) {
      const auto& ji = *info->value();
      r.exceptions = ji.exceptions;
      std::set<uint64_t> ids;
      uint64_t last_completed = 0;
      for (const auto& c : ji.checkpoints) {
        if (!ids.insert(c.id).second)
          r.violations.push_back(
            "checkpoint id " + std::to_string(c.id) + " was used twice ("
            + (c.completed ? "completed" : "failed: " + c.failure) + ")");
        if (!c.completed)
          continue;
        if (c.id <= last_completed)
          r.violations.push_back("checkpoint " + std::to_string(c.id)
                                 + " completed after checkpoint "
                                 + std::to_string(last_completed));
        last_completed = c.id;
        r.completed_checkpoints.push_back(c.id);
      }
    }
  }
  for (auto& a : askers)
    caf::anon_send_exit(a, caf::exit_reason::kill);
  cluster.shutdown();
  sched.run();

  // Every completed checkpoint on disk holds one state per subtask.
  if (!spec.checkpointing().dir().empty()) {
    std::set<std::pair<std::string, int32_t>> subtasks;
    for (const auto& ev : p.executions)
      subtasks.emplace("task" + std::to_string(ev.task), ev.subtask);
    auto job_dir = fs::path{spec.checkpointing().dir()} / id.value;
    std::set<uint64_t> on_disk;
    for (fs::directory_iterator i{job_dir, ec}, end; !ec && i != end;
         i.increment(ec)) {
      auto name = i->path().filename().string();
      auto md_path = i->path() / "_metadata";
      if (name.rfind("chk-", 0) != 0 || !fs::exists(md_path))
        continue;
      auto bytes = read_state_file(md_path.string());
      proto::CheckpointMetadata md;
      if (!bytes || !md.ParseFromString(*bytes)) {
        r.violations.push_back("completed checkpoint " + name
                               + " has unreadable metadata");
        continue;
      }
      on_disk.insert(md.checkpoint_id());
      std::set<std::pair<std::string, int32_t>> have;
      for (const auto& h : md.subtasks())
        if (!have.emplace(h.vertex_or_task_id(), h.subtask()).second)
          r.violations.push_back("completed checkpoint " + name
                                 + " lists subtask " + h.vertex_or_task_id()
                                 + "/" + std::to_string(h.subtask())
                                 + " twice");
      if (have != subtasks)
        r.violations.push_back("completed checkpoint " + name
                               + " holds the state of "
                               + std::to_string(have.size()) + " of the job's "
                               + std::to_string(subtasks.size()) + " subtasks");
    }
    for (auto c : r.completed_checkpoints)
      if (on_disk.count(c) == 0)
        r.violations.push_back("checkpoint " + std::to_string(c)
                               + " completed but its metadata is gone");
  }
  auto out = dir / cfg_.output_dir;
  r.output = committed_lines(out);
  if (r.result.status == job_status::finished && hidden_files(out) > 0)
    r.violations.push_back(std::to_string(hidden_files(out))
                           + " uncommitted sink files were left in "
                           + out.string());
  return r;
}

} // namespace weir::sim
