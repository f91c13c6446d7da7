#include "cli/commands.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include <unistd.h>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "actors/local_runner.hpp"
#include "cli/cluster_commands.hpp"
#include "cli/progress.hpp"
#include "cli/signals.hpp"
#include "cluster/rest_api.hpp"
#include "cluster/user_library.hpp"
#include "operators/builtins.hpp"
#include "scheduler/job_graph.hpp"
#include "checkpoint/checkpoint_tracker.hpp"
#include "scheduler/job_loader.hpp"
#include "scheduler/job_settings.hpp"
#include "scheduler/restart_strategy.hpp"
#include "scheduler/plan.hpp"

namespace po = boost::program_options;

namespace weir::cli {

namespace {

const char* usage_text
  = "usage: weir <command> [options]\n"
    "\n"
    "commands:\n"
    "  run          run a job: on an embedded mini cluster (the default), or\n"
    "               on a cluster with -m HOST:PORT (its REST API)\n"
    "  validate     check a job descriptor and report the first fault\n"
    "  plan         print the chained execution plan of a job\n"
    "  operators    list the built-in operators and their parameters\n"
    "\n"
    "cluster:\n"
    "  jobmanager   run a JobManager (--config FILE)\n"
    "  taskmanager  run a TaskManager (--config FILE)\n"
    "  list         list the jobs of a cluster (-m HOST:PORT)\n"
    "  info         show a job\n"
    "  cancel       cancel a job\n"
    "  savepoint    trigger a savepoint of a job\n"
    "  stop         stop a job with a savepoint\n"
    "\n"
    "`weir <command> --help` describes a command's options.\n";

std::shared_ptr<const operator_registry> make_registry(std::ostream& err) {
  auto reg = std::make_shared<operator_registry>();
  if (auto e = register_builtin_operators(*reg)) {
    err << "weir: error: " << error_text(e) << "\n";
    return nullptr;
  }
  return reg;
}

/// Options shared by commands that read a job descriptor.
struct job_args {
  std::string file;
  std::vector<std::string> params;
  std::vector<std::string> settings;
  int parallelism = 0;
};

void add_job_options(po::options_description& desc, job_args& args) {
  desc.add_options()(
    "param", po::value(&args.params)->composing(),
    "fill placeholder ${name} with value (name=value; repeatable)")(
    "parallelism,p", po::value(&args.parallelism),
    "default parallelism of vertices that set none")(
    "set,D", po::value(&args.settings)->composing(),
    "override a setting of the descriptor with Flink's key "
    "(key=value; repeatable), e.g. -D execution.checkpointing.interval=1s, "
    "state.checkpoints.dir, execution.checkpointing.mode, "
    "restart-strategy.type; `weir run --help` lists all");
}

/// Parses a command's options; returns -1 to continue, or an exit code.
int parse(const std::vector<std::string>& args, const std::string& command,
          const std::string& synopsis, po::options_description& desc,
          job_args* job, std::ostream& out, std::ostream& err,
          const std::string& epilog = {}) {
  desc.add_options()("help,h", "show this help");
  po::positional_options_description pos;
  if (job != nullptr) {
    desc.add_options()("job", po::value(&job->file), "job descriptor");
    pos.add("job", 1);
  }
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).positional(pos).run(),
              vm);
    po::notify(vm);
  } catch (const po::error& e) {
    err << "weir " << command << ": error: " << e.what() << "\n"
        << "usage: weir " << command << " " << synopsis << "\n"
        << "try `weir " << command << " --help`\n";
    return exit_usage;
  }
  if (vm.count("help") > 0) {
    out << "usage: weir " << command << " " << synopsis << "\n\n"
        << desc << epilog;
    return exit_ok;
  }
  if (job != nullptr && job->file.empty()) {
    err << "weir " << command << ": error: no job descriptor given\n"
        << "usage: weir " << command << " " << synopsis << "\n";
    return exit_usage;
  }
  if (job != nullptr && vm.count("parallelism") > 0 && job->parallelism <= 0) {
    err << "weir " << command << ": error: --parallelism must be positive\n";
    return exit_usage;
  }
  return -1;
}

/// Loads and validates a job; prints the error and returns nullopt on
/// failure.
std::optional<std::pair<proto::JobSpec, job_graph>>
load(const job_args& args, std::shared_ptr<const operator_registry>& reg,
     std::ostream& err) {
  job_params params;
  if (!parse_params(args.params, params, err))
    return std::nullopt;
  auto spec = load_job_file(args.file, params);
  if (!spec) {
    err << "weir: error: " << error_text(spec.error()) << "\n";
    return std::nullopt;
  }
  if (auto e = apply_job_settings(*spec, args.settings)) {
    err << "weir: error: -D: " << error_text(e) << "\n";
    return std::nullopt;
  }
  if (!spec->library().empty()) {
    auto with_lib = registry_for(*spec, reg, nullptr);
    if (!with_lib) {
      err << "weir: error: " << args.file << ": "
          << error_text(with_lib.error()) << "\n";
      return std::nullopt;
    }
    reg = std::move(*with_lib);
  }
  auto cp = resolve_checkpoint_settings(spec->checkpointing());
  if (!cp) {
    err << "weir: error: " << args.file << ": " << error_text(cp.error())
        << "\n";
    return std::nullopt;
  }
  if (auto rs
      = resolve_restart_settings(spec->restart_strategy(), cp->enabled());
      !rs) {
    err << "weir: error: " << args.file << ": " << error_text(rs.error())
        << "\n";
    return std::nullopt;
  }
  graph_options opts;
  opts.default_parallelism = args.parallelism;
  auto graph = build_job_graph(*spec, *reg, opts);
  if (!graph) {
    err << "weir: error: " << args.file << ": " << error_text(graph.error())
        << "\n";
    return std::nullopt;
  }
  return std::make_pair(std::move(*spec), std::move(*graph));
}

int cmd_validate(const std::vector<std::string>& args, std::ostream& out,
                 std::ostream& err) {
  job_args job;
  po::options_description desc{"options"};
  add_job_options(desc, job);
  if (auto rc = parse(args, "validate", "JOB.pbtxt [--param k=v]... [-p N]",
                      desc, &job, out, err);
      rc >= 0)
    return rc;
  auto reg = make_registry(err);
  if (!reg)
    return exit_usage;
  auto loaded = load(job, reg, err);
  if (!loaded)
    return exit_usage;
  const auto& g = loaded->second;
  out << job.file << ": job '" << g.name << "' is valid: " << g.vertices.size()
      << " vertices, " << g.edges.size() << " edges\n";
  return exit_ok;
}

int cmd_plan(const std::vector<std::string>& args, std::ostream& out,
             std::ostream& err) {
  job_args job;
  po::options_description desc{"options"};
  add_job_options(desc, job);
  if (auto rc = parse(args, "plan", "JOB.pbtxt [--param k=v]... [-p N]", desc,
                      &job, out, err);
      rc >= 0)
    return rc;
  auto reg = make_registry(err);
  if (!reg)
    return exit_usage;
  auto loaded = load(job, reg, err);
  if (!loaded)
    return exit_usage;
  out << describe(make_plan(std::move(loaded->second)));
  return exit_ok;
}

int cmd_operators(const std::vector<std::string>& args, std::ostream& out,
                  std::ostream& err) {
  po::options_description desc{"options"};
  if (auto rc = parse(args, "operators", "", desc, nullptr, out, err); rc >= 0)
    return rc;
  auto reg = make_registry(err);
  if (!reg)
    return exit_usage;
  for (const auto& name : reg->names()) {
    const auto* op = reg->find(name);
    out << name << " (" << to_string(op->kind) << ")";
    if (!op->key_param.empty())
      out << ", keyed by '" << op->key_param << "'";
    out << "\n    " << op->help << "\n";
    for (const auto& p : op->params) {
      out << "    " << p.name << ": " << to_string(p.type);
      if (p.required)
        out << ", required";
      else if (!p.default_value.empty())
        out << ", default " << p.default_value;
      out << " -- " << p.help << "\n";
    }
  }
  return exit_ok;
}

std::string settings_epilog() {
  std::string text = "\nsettings for -D (durations: 500ms, 10s, 2min, 1h; a "
                     "bare number is ms):\n";
  for (const auto& k : job_setting_keys())
    text += "  " + k + "\n";
  return text;
}

/// Epoch millis as UTC, ISO 8601 with milliseconds.
std::string utc_time(int64_t millis) {
  auto secs = static_cast<time_t>(millis / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  char ms[8];
  std::snprintf(ms, sizeof(ms), ".%03dZ", static_cast<int>(millis % 1000));
  return std::string{buf} + ms;
}

/// The median and maximum of `xs` in milliseconds, "median X ms, max Y ms".
std::string median_max_ms(std::vector<int64_t> xs) {
  if (xs.empty())
    return "n/a";
  std::sort(xs.begin(), xs.end());
  auto fmt = [](int64_t nanos) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.1f", static_cast<double>(nanos) / 1e6);
    return std::string{buf};
  };
  return "median " + fmt(xs[xs.size() / 2]) + " ms, max " + fmt(xs.back())
         + " ms";
}

/// The exception history and checkpoint statistics of a finished run.
void print_summary(const job_info& info, std::ostream& err) {
  if (!info.exceptions.empty()) {
    err << "weir: " << info.exceptions.size()
        << (info.exceptions.size() == 1 ? " failure" : " failures")
        << " during the run (exception history):\n";
    for (const auto& f : info.exceptions) {
      err << "weir:   " << utc_time(f.at);
      if (!f.task.empty())
        err << " " << f.task;
      err << ": " << f.cause << "\n";
    }
  }
  if (info.checkpoints_completed + info.checkpoints_failed == 0)
    return;
  std::vector<int64_t> durations;
  std::vector<int64_t> alignments;
  for (const auto& c : info.checkpoints)
    if (c.completed) {
      durations.push_back(c.duration_nanos);
      alignments.push_back(c.max_alignment_nanos);
    }
  err << "weir: checkpoints: " << info.checkpoints_completed << " completed, "
      << info.checkpoints_failed << " failed";
  if (!durations.empty())
    err << "; duration " << median_max_ms(durations) << "; alignment "
        << median_max_ms(alignments) << " (latest " << durations.size() << ")";
  err << "\n";
  for (auto i = info.checkpoints.rbegin(); i != info.checkpoints.rend(); ++i)
    if (!i->completed) {
      err << "weir:   latest failed checkpoint " << i->id << ": " << i->failure
          << "\n";
      break;
    }
}

/// Shows the progress of a job on the embedded mini cluster: a thread that
/// reads the job's details through the REST API's handlers, in process,
/// and feeds a progress_reporter. Output goes through `mtx`, which the
/// signal handler's messages share.
class local_monitor {
public:
  local_monitor(std::ostream& err, std::mutex& mtx, progress_style style,
                int width)
    : mtx_(mtx), reporter_(err, style, width, STDERR_FILENO),
      // The log prints a status line every 10 s: one reading a second
      // catches every transition and checkpoint soon enough.
      interval_(style == progress_style::live ? 200 : 1000) {
  }

  ~local_monitor() {
    stop();
  }

  /// Starts polling job `id` of the cluster `control` reaches.
  void start(const job_id& id, const local_job_control& control,
             std::shared_ptr<const operator_registry> reg) {
    rest_api_context ctx;
    ctx.sys = control.system;
    ctx.job_manager = control.job_manager;
    ctx.resource_manager = control.resource_manager;
    ctx.registry = std::move(reg);
    thread_ = std::thread{[this, id, ctx] { run(id, ctx); }};
  }

  /// Stops polling (before the cluster goes away) and clears the live
  /// line.
  void stop() {
    {
      std::lock_guard<std::mutex> guard{stop_mtx_};
      stopping_ = true;
    }
    stopped_.notify_all();
    if (thread_.joinable())
      thread_.join();
    std::lock_guard<std::mutex> guard{mtx_};
    reporter_.clear();
  }

  /// Clears the live line before a message; call with `mtx` held.
  void clear() {
    reporter_.clear();
  }

private:
  void run(const job_id& id, rest_api_context ctx) {
    rest_api api{std::move(ctx)};
    checkpoint_reader checkpoints{"/jobs/" + id.value};
    auto read = [&api](const std::string& path) { return get(api, path); };
    for (bool last = false; !last;) {
      {
        // One more reading after the stop request: the terminal state and
        // the last checkpoints.
        std::lock_guard<std::mutex> guard{stop_mtx_};
        last = stopping_;
      }
      auto job = get(api, "/jobs/" + id.value);
      if (job.is_object()) {
        const auto& stats = checkpoints.update(job, read);
        auto clock = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                       .count();
        std::lock_guard<std::mutex> guard{mtx_};
        reporter_.update(job, stats, clock);
      }
      std::unique_lock<std::mutex> guard{stop_mtx_};
      stopped_.wait_for(guard, interval_, [this] { return stopping_; });
    }
  }

  static nlohmann::json get(rest_api& api, const std::string& path) {
    auto r = api.handle(http_request{"GET", path, {}, {}});
    if (r.status != 200)
      return nullptr;
    return nlohmann::json::parse(r.body, nullptr, false);
  }

  std::mutex& mtx_;
  progress_reporter reporter_;
  std::chrono::milliseconds interval_;
  std::thread thread_;
  std::mutex stop_mtx_;
  std::condition_variable stopped_;
  bool stopping_ = false;
};

int cmd_run(const std::vector<std::string>& args, std::ostream& out,
            std::ostream& err) {
  // State the signal callback shares; declared before the watcher so that
  // the watcher stops before it goes away.
  std::mutex mtx;
  std::optional<local_job_control> control;
  std::string savepoint_dir;
  int signals_seen = 0;
  std::optional<local_monitor> monitor;
  // What a signal does once the job runs: cancel it, or stop it with a
  // savepoint when --savepoint-dir is set (falling back to cancel when the
  // savepoint fails). Called with `mtx` held.
  auto act_on_signal = [&] {
    if (!control)
      return;
    if (monitor)
      monitor->clear();
    if (savepoint_dir.empty()) {
      err << "weir: cancelling job (CANCELLING)..." << std::endl;
      control->cancel();
      return;
    }
    err << "weir: stopping job with a savepoint into " << savepoint_dir << "..."
        << std::endl;
    control->stop_with_savepoint(savepoint_dir);
  };
  // Signals must be blocked before any thread starts.
  signal_watcher signals;
  signals.on_signal([&](int) {
    std::lock_guard<std::mutex> guard{mtx};
    if (++signals_seen > 1) {
      if (monitor)
        monitor->clear();
      err << "weir: second interrupt, exiting without waiting" << std::endl;
      std::_Exit(exit_canceled);
    }
    act_on_signal();
  });
  job_args job;
  bool local = false;
  bool allow_non_restored = false;
  std::string from_savepoint;
  int64_t task_managers = 1;
  int64_t slots = 0;
  double slot_timeout = 10.0;
  int64_t credits = 4;
  std::string progress;
  po::options_description desc{"options"};
  add_job_options(desc, job);
  desc.add_options()(
    "local", po::bool_switch(&local),
    "run on an embedded mini cluster in this process (the default)")(
    "taskmanagers", po::value(&task_managers),
    "task managers of the mini cluster (default 1)")(
    "slots", po::value(&slots),
    "slots per task manager (default: enough for the job)")(
    "slot-timeout", po::value(&slot_timeout),
    "seconds to wait for slots before the job fails (default 10)")(
    "credits", po::value(&credits),
    "batches in flight per channel (flow-control credits, default 4)")(
    "from-savepoint,s", po::value(&from_savepoint),
    "start from this savepoint or retained checkpoint (its directory or "
    "_metadata file), also at another parallelism")(
    "allow-non-restored-state,n", po::bool_switch(&allow_non_restored),
    "with --from-savepoint: drop state of vertices the job no longer has "
    "instead of refusing the savepoint")(
    "savepoint-dir", po::value(&savepoint_dir),
    "on SIGTERM or Ctrl-C, stop the job with a savepoint into this "
    "directory (exit 0, FINISHED) instead of cancelling it; checkpoints "
    "go there too when the job sets no checkpoint directory")(
    "progress", po::value(&progress)->default_value("auto"),
    progress_option_help);
  if (auto rc = parse(args, "run",
                      "[--local] JOB.pbtxt [--param k=v]... [-p N]\n"
                      "         [--taskmanagers N] [--slots M] "
                      "[--slot-timeout S] [--credits C] [-D key=value]...\n"
                      "         [--from-savepoint PATH "
                      "[--allow-non-restored-state]] [--savepoint-dir DIR]\n"
                      "         [--progress auto|live|log|none]",
                      desc, &job, out, err, settings_epilog());
      rc >= 0)
    return rc;
  if (allow_non_restored && from_savepoint.empty()) {
    err << "weir run: error: --allow-non-restored-state needs "
           "--from-savepoint\n";
    return exit_usage;
  }
  progress_style style;
  int width = 0;
  if (!parse_progress_style(progress, STDERR_FILENO, style, width)) {
    err << "weir run: error: --progress must be auto, live, log or none\n";
    return exit_usage;
  }
  (void)local; // Cluster mode arrives with the cluster processes.
  if (task_managers < 1 || task_managers > 1024) {
    err << "weir run: error: --taskmanagers must be in [1, 1024]\n";
    return exit_usage;
  }
  if (slots < 0 || slots > 4096) {
    err << "weir run: error: --slots must be in [0, 4096] (0: enough for "
           "the job)\n";
    return exit_usage;
  }
  if (credits < 1 || credits > 1024) {
    err << "weir run: error: --credits must be in [1, 1024]\n";
    return exit_usage;
  }
  if (!std::isfinite(slot_timeout) || slot_timeout <= 0
      || slot_timeout > 86400) {
    err << "weir run: error: --slot-timeout must be a number of seconds in "
           "(0, 86400]\n";
    return exit_usage;
  }
  auto reg = make_registry(err);
  if (!reg)
    return exit_usage;
  auto loaded = load(job, reg, err);
  if (!loaded)
    return exit_usage;
  if (!savepoint_dir.empty() && loaded->first.checkpointing().dir().empty())
    loaded->first.mutable_checkpointing()->set_dir(savepoint_dir);
  auto p = make_plan(std::move(loaded->second));
  local_run_options opts;
  opts.submit.savepoint_path = from_savepoint;
  opts.submit.allow_non_restored_state = allow_non_restored;
  opts.cluster.task_managers = static_cast<uint32_t>(task_managers);
  if (slots == 0) {
    // Enough slots for the job, spread over the task managers.
    auto needed = static_cast<int64_t>(p.required_slots());
    slots = (needed + task_managers - 1) / task_managers;
  }
  opts.cluster.slots_per_task_manager = static_cast<uint32_t>(slots);
  opts.cluster.job_manager.master.slot_request_timeout
    = std::chrono::duration_cast<caf::timespan>(
      std::chrono::duration<double>(slot_timeout));
  opts.submit.default_parallelism = job.parallelism;
  opts.submit.data_plane.credits = static_cast<int32_t>(credits);
  auto name = p.graph.name;
  auto started = std::chrono::steady_clock::now();
  opts.on_submitted = [&](const job_id& id, local_job_control c) {
    std::lock_guard<std::mutex> guard{mtx};
    err << "weir: job '" << name << "' (" << id.value
        << ") submitted: " << p.tasks.size() << " tasks, "
        << p.executions.size() << " subtasks on " << task_managers
        << " task manager(s) x " << slots << " slots";
    if (!from_savepoint.empty())
      err << ", restoring from " << from_savepoint;
    err << std::endl;
    control = std::move(c);
    if (style != progress_style::none) {
      monitor.emplace(err, mtx, style, width);
      monitor->start(id, *control, reg);
    }
    if (signals_seen > 0)
      act_on_signal();
  };
  opts.on_stopping = [&] {
    if (monitor)
      monitor->stop();
  };
  opts.on_savepoint = [&](caf::expected<std::string> path) {
    std::lock_guard<std::mutex> guard{mtx};
    if (path) {
      if (monitor)
        monitor->clear();
      err << "weir: savepoint written: " << *path << std::endl;
      return;
    }
    if (monitor)
      monitor->clear();
    err << "weir: error: " << error_text(path.error())
        << "; cancelling job (CANCELLING)..." << std::endl;
    if (control)
      control->cancel();
  };
  std::optional<job_info> final_info;
  opts.on_finished = [&](const job_info& info) { final_info = info; };
  auto res = run_local_job(loaded->first, reg, opts);
  {
    std::lock_guard<std::mutex> guard{mtx};
    control.reset();
  }
  if (!res) {
    err << "weir: error: job rejected: " << error_text(res.error()) << "\n";
    return exit_usage;
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
              std::chrono::steady_clock::now() - started)
              .count();
  err << "weir: job '" << name << "' " << to_string(res->status) << " after "
      << ms << " ms";
  if (!res->cause.empty())
    err << ": " << res->cause;
  err << std::endl;
  if (final_info)
    print_summary(*final_info, err);
  switch (res->status) {
    case job_status::finished:
      return exit_ok;
    case job_status::canceled:
      return exit_canceled;
    default:
      return exit_job_failed;
  }
}

} // namespace

bool parse_params(const std::vector<std::string>& raw, job_params& out,
                  std::ostream& err) {
  for (const auto& kv : raw) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      err << "weir: error: --param '" << kv
          << "' must have the form name=value\n";
      return false;
    }
    auto name = kv.substr(0, eq);
    if (out.count(name) > 0) {
      err << "weir: error: --param '" << name << "' is given twice\n";
      return false;
    }
    out.emplace(name, kv.substr(eq + 1));
  }
  return true;
}

int main(const std::vector<std::string>& args, std::ostream& out,
         std::ostream& err) {
  if (args.empty()) {
    err << usage_text;
    return exit_usage;
  }
  const auto& cmd = args.front();
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (cmd == "run")
    return wants_remote(rest) ? cmd_remote_run(rest, out, err)
                              : cmd_run(rest, out, err);
  if (cmd == "jobmanager")
    return cmd_jobmanager(rest, out, err);
  if (cmd == "taskmanager")
    return cmd_taskmanager(rest, out, err);
  if (cmd == "list")
    return cmd_list(rest, out, err);
  if (cmd == "info")
    return cmd_info(rest, out, err);
  if (cmd == "cancel")
    return cmd_cancel(rest, out, err);
  if (cmd == "savepoint")
    return cmd_savepoint(rest, out, err);
  if (cmd == "stop")
    return cmd_stop(rest, out, err);
  if (cmd == "validate")
    return cmd_validate(rest, out, err);
  if (cmd == "plan")
    return cmd_plan(rest, out, err);
  if (cmd == "operators")
    return cmd_operators(rest, out, err);
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    out << usage_text;
    return exit_ok;
  }
  err << "weir: unknown command '" << cmd << "'\n" << usage_text;
  return exit_usage;
}

} // namespace weir::cli
