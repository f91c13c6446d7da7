#include "cli/cluster_commands.hpp"

#include <condition_variable>
#include <iostream>
#include <mutex>
#include <optional>

#include <boost/program_options.hpp>

#include "cli/commands.hpp"
#include "cli/signals.hpp"
#include "cluster/nodes.hpp"
#include "config/logging.hpp"

namespace po = boost::program_options;

namespace weir::cli {

namespace {

/// What both node commands take: the file, -D overrides, and flags that
/// are shorthands for keys (added after the overrides, so they win).
struct node_args {
  std::string config;
  std::vector<std::string> settings;
};

int parse_node(const std::vector<std::string>& args, const std::string& command,
               po::options_description& desc, node_args& node,
               po::variables_map& vm, std::ostream& out, std::ostream& err) {
  desc.add_options()("config,c", po::value(&node.config),
                     "the cluster config (YAML, Flink's keys)")(
    "set,D", po::value(&node.settings)->composing(),
    "override a key of the config (key=value; repeatable)")("help,h",
                                                            "show this help");
  try {
    po::store(po::command_line_parser(args).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    err << "weir " << command << ": error: " << e.what() << "\n"
        << "try `weir " << command << " --help`\n";
    return exit_usage;
  }
  if (vm.count("help") > 0) {
    out << "usage: weir " << command
        << " [--config FILE] [-D key=value]... [flags]\n\n"
        << desc;
    return exit_ok;
  }
  return -1;
}

/// Loads the config; prints the error and returns nullopt on failure.
std::optional<cluster_config> load_config(const std::string& command,
                                          const node_args& node,
                                          const std::vector<std::string>& flags,
                                          std::ostream& err) {
  auto overrides = node.settings;
  overrides.insert(overrides.end(), flags.begin(), flags.end());
  auto cfg = load_cluster_config(node.config, overrides);
  if (!cfg) {
    err << "weir " << command << ": error: " << error_text(cfg.error()) << "\n";
    return std::nullopt;
  }
  return std::move(*cfg);
}

/// Blocks until a signal arrives.
class stop_latch {
public:
  void release() {
    std::lock_guard<std::mutex> guard{mtx_};
    released_ = true;
    cv_.notify_all();
  }

  void wait() {
    std::unique_lock<std::mutex> guard{mtx_};
    cv_.wait(guard, [this] { return released_; });
  }

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  bool released_ = false;
};

} // namespace

int cmd_jobmanager(const std::vector<std::string>& args, std::ostream& out,
                   std::ostream& err) {
  signal_watcher signals;
  stop_latch latch;
  signals.on_signal([&](int) { latch.release(); });
  node_args node;
  std::optional<int> rest_port;
  std::optional<int> rpc_port;
  std::string host;
  po::options_description desc{"options"};
  desc.add_options()("host", po::value(&host),
                     "jobmanager.rpc.address and rest.address")(
    "rpc-port", po::value<int>()->notifier([&](int p) { rpc_port = p; }),
    "jobmanager.rpc.port")(
    "rest-port", po::value<int>()->notifier([&](int p) { rest_port = p; }),
    "rest.port (0: any free port)");
  po::variables_map vm;
  if (auto rc = parse_node(args, "jobmanager", desc, node, vm, out, err);
      rc >= 0)
    return rc;
  std::vector<std::string> flags;
  if (!host.empty()) {
    flags.push_back("jobmanager.rpc.address=" + host);
    flags.push_back("rest.address=" + host);
  }
  if (rpc_port)
    flags.push_back("jobmanager.rpc.port=" + std::to_string(*rpc_port));
  if (rest_port)
    flags.push_back("rest.port=" + std::to_string(*rest_port));
  auto cfg = load_config("jobmanager", node, flags, err);
  if (!cfg)
    return exit_usage;
  if (auto e = setup_logging("jobmanager", cfg->log)) {
    err << "weir jobmanager: error: " << error_text(e) << "\n";
    return exit_usage;
  }
  auto log = logger();
  auto started = jobmanager_node::start(*cfg);
  if (!started) {
    log->error("{}", error_text(started.error()));
    return exit_job_failed;
  }
  auto& jm = **started;
  log->info("JobManager (Weir {}) up: rpc {}:{}, REST and dashboard "
            "http://{}:{}/, config {}",
            weir_version, cfg->jobmanager_address, jm.rpc_port(),
            cfg->rest_address, jm.rest_port(),
            cfg->source.empty() ? "(defaults)" : cfg->source);
  if (jm.metrics_port() != 0)
    log->info("Prometheus metrics at http://{}:{}/metrics", cfg->rest_address,
              jm.metrics_port());
  latch.wait();
  log->info("JobManager stopping (signal)");
  jm.stop();
  log->info("JobManager stopped");
  return exit_ok;
}

int cmd_taskmanager(const std::vector<std::string>& args, std::ostream& out,
                    std::ostream& err) {
  signal_watcher signals;
  std::mutex mtx;
  taskmanager_node* running = nullptr;
  bool stopping = false;
  signals.on_signal([&](int) {
    std::lock_guard<std::mutex> guard{mtx};
    stopping = true;
    if (running != nullptr)
      running->stop();
  });
  node_args node;
  std::optional<int> slots;
  std::optional<int> rpc_port;
  std::string host;
  std::string jobmanager;
  po::options_description desc{"options"};
  desc.add_options()("host", po::value(&host), "taskmanager.host")(
    "rpc-port", po::value<int>()->notifier([&](int p) { rpc_port = p; }),
    "taskmanager.rpc.port (0: any free port)")(
    "slots", po::value<int>()->notifier([&](int n) { slots = n; }),
    "taskmanager.numberOfTaskSlots")(
    "jobmanager,m", po::value(&jobmanager),
    "HOST:PORT of the JobManager (jobmanager.rpc.address and "
    "jobmanager.rpc.port)");
  po::variables_map vm;
  if (auto rc = parse_node(args, "taskmanager", desc, node, vm, out, err);
      rc >= 0)
    return rc;
  std::vector<std::string> flags;
  if (!host.empty())
    flags.push_back("taskmanager.host=" + host);
  if (rpc_port)
    flags.push_back("taskmanager.rpc.port=" + std::to_string(*rpc_port));
  if (slots)
    flags.push_back("taskmanager.numberOfTaskSlots=" + std::to_string(*slots));
  if (!jobmanager.empty()) {
    auto colon = jobmanager.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      err << "weir taskmanager: error: --jobmanager '" << jobmanager
          << "' must be HOST:PORT\n";
      return exit_usage;
    }
    flags.push_back("jobmanager.rpc.address=" + jobmanager.substr(0, colon));
    flags.push_back("jobmanager.rpc.port=" + jobmanager.substr(colon + 1));
  }
  auto cfg = load_config("taskmanager", node, flags, err);
  if (!cfg)
    return exit_usage;
  // Until the port is known, log to stderr only; then to the file named
  // after it, so TaskManagers sharing a host and log.dir keep apart.
  if (auto e = setup_logging("taskmanager", log_settings{cfg->log.level, ""})) {
    err << "weir taskmanager: error: " << error_text(e) << "\n";
    return exit_usage;
  }
  auto started = taskmanager_node::start(*cfg);
  if (!started) {
    logger()->error("{}", error_text(started.error()));
    return exit_job_failed;
  }
  auto& tm = **started;
  auto port = tm.id().substr(tm.id().rfind(':') + 1);
  if (auto e = setup_logging("taskmanager-" + port, cfg->log)) {
    err << "weir taskmanager: error: " << error_text(e) << "\n";
    return exit_usage;
  }
  logger()->info("TaskManager {} (Weir {}) up: {} slots, JobManager at {}:{}",
                 tm.id(), weir_version, cfg->taskmanager_slots,
                 cfg->jobmanager_address, cfg->jobmanager_port);
  {
    std::lock_guard<std::mutex> guard{mtx};
    running = &tm;
    if (stopping)
      tm.stop();
  }
  auto why = tm.wait();
  {
    std::lock_guard<std::mutex> guard{mtx};
    running = nullptr;
  }
  if (why) {
    logger()->error("TaskManager {} stops: {}", tm.id(), error_text(why));
    return exit_job_failed;
  }
  logger()->info("TaskManager {} stopped", tm.id());
  return exit_ok;
}

} // namespace weir::cli
