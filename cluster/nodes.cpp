#include "cluster/nodes.hpp"

#include <chrono>
#include <filesystem>
#include <unistd.h>

#include <caf/exit_reason.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/job_manager.hpp"
#include "actors/resource_manager.hpp"
#include "actors/task_manager.hpp"
#include "cluster/error.hpp"
#include "cluster/library_store.hpp"
#include "cluster/rest_server.hpp"
#include "cluster/user_library.hpp"
#include "config/logging.hpp"
#include "config/ports.hpp"
#include "operators/builtins.hpp"

namespace weir {

namespace {

std::shared_ptr<const operator_registry> builtin_registry() {
  auto reg = std::make_shared<operator_registry>();
  register_builtin_operators(*reg);
  return reg;
}

void remove_temp_dir(std::string& dir) {
  if (dir.empty())
    return;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  dir.clear();
}

caf::timespan span(std::chrono::milliseconds x) {
  return std::chrono::duration_cast<caf::timespan>(x);
}

} // namespace

node_system_config::node_system_config(size_t threads) {
  load<caf::io::middleman>();
  register_protocol(*this);
  // Not CAF's automatic connections: they open a second port on every
  // interface. Task managers dial each other on taskmanager.host instead
  // (deploy_request::peers).
  set("middleman.enable-automatic-connections", false);
  // As in the CLI's mini cluster: a busy source must yield its worker.
  set("scheduler.max-throughput", 64);
  if (threads > 0)
    set("scheduler.max-threads", threads);
}

// -- JobManager ---------------------------------------------------------------

jobmanager_node::jobmanager_node(const cluster_config& cfg) : cfg_(cfg) {
}

jobmanager_node::~jobmanager_node() {
  stop();
}

uint16_t jobmanager_node::rest_port() const {
  return rest_ ? rest_->port() : 0;
}

uint16_t jobmanager_node::metrics_port() const {
  return metrics_ ? metrics_->port() : 0;
}

caf::expected<std::unique_ptr<jobmanager_node>>
jobmanager_node::start(const cluster_config& cfg) {
  if (auto err = check_jobmanager_ports(cfg))
    return err;
  std::unique_ptr<jobmanager_node> node{new jobmanager_node(cfg)};
  auto& n = *node;
  auto store = library_store::open(cfg.blob_dir);
  if (!store)
    return store.error();
  n.libraries_ = std::move(*store);
  if (cfg.blob_dir.empty())
    n.temp_blobs_ = n.libraries_->dir();
  n.sys_ = std::make_unique<caf::actor_system>(n.sys_cfg_);
  auto builtins = builtin_registry();
  auto libs = n.libraries_;
  resource_manager_config rm_cfg;
  rm_cfg.heartbeat_interval = span(cfg.heartbeat_interval);
  rm_cfg.heartbeat_timeout = span(cfg.heartbeat_timeout);
  rm_cfg.fetch_library
    = [libs](const std::string& id) { return libs->get(id); };
  auto log_event = [](bool ok, const std::string& what) {
    if (ok)
      logger()->info("{}", what);
    else
      logger()->warn("{}", what);
  };
  rm_cfg.on_event = log_event;
  n.rm_ = spawn_resource_manager(*n.sys_, rm_cfg);
  job_manager_config jm_cfg;
  jm_cfg.master.slot_request_timeout = span(cfg.slot_request_timeout);
  jm_cfg.on_event = log_event;
  jm_cfg.job_registry = [builtins, libs](const proto::JobSpec& spec) {
    return registry_for(
      spec, builtins, [libs](const std::string& id) { return libs->path(id); });
  };
  n.jm_ = spawn_job_manager(*n.sys_, builtins, n.rm_, jm_cfg);
  auto port = n.sys_->middleman().publish(n.rm_, cfg.jobmanager_port,
                                          cfg.jobmanager_address.c_str(), true);
  if (!port)
    return make_error(cluster_errc::cannot_listen,
                      "jobmanager.rpc.port "
                        + std::to_string(cfg.jobmanager_port) + " on "
                        + cfg.jobmanager_address
                        + ": cannot listen: " + error_text(port.error()));
  n.rpc_port_ = *port;
  rest_api_context ctx;
  ctx.sys = n.sys_.get();
  ctx.job_manager = n.jm_;
  ctx.resource_manager = n.rm_;
  ctx.config = cfg;
  ctx.libraries = n.libraries_;
  ctx.registry = builtins;
  auto api = std::make_shared<rest_api>(std::move(ctx));
  auto rest = rest_server::start(api, cfg.rest_address, cfg.rest_port,
                                 cfg.rest_max_content_length);
  if (!rest)
    return rest.error();
  n.rest_ = std::move(*rest);
  auto scrape = [api](const http_request& req) {
    if (req.path == "/metrics" && req.method == "GET")
      return api->prometheus();
    return http_response{404, "only GET /metrics is served here\n",
                         "text/plain"};
  };
  auto prom = rest_server::start(scrape, cfg.rest_address, cfg.prometheus_port,
                                 4096, "metrics.reporter.prom.port");
  if (prom)
    n.metrics_ = std::move(*prom);
  else
    logger()->warn("{}; serving no Prometheus metrics",
                   error_text(prom.error()));
  return node;
}

void jobmanager_node::stop() {
  if (metrics_)
    metrics_->stop();
  metrics_.reset();
  if (rest_)
    rest_->stop();
  rest_.reset();
  if (!sys_)
    return;
  caf::anon_send_exit(jm_, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(rm_, caf::exit_reason::user_shutdown);
  jm_ = nullptr;
  rm_ = nullptr;
  sys_.reset();
  remove_temp_dir(temp_blobs_);
}

// -- TaskManager --------------------------------------------------------------

taskmanager_node::taskmanager_node(const cluster_config& cfg) : cfg_(cfg) {
}

taskmanager_node::~taskmanager_node() {
  stop();
  tm_ = nullptr;
  sys_.reset();
  remove_temp_dir(temp_blobs_);
}

caf::expected<std::unique_ptr<taskmanager_node>>
taskmanager_node::start(const cluster_config& cfg) {
  if (auto err = check_taskmanager_ports(cfg))
    return err;
  set_batch_compression(cfg.compression == network_compression::lz4);
  std::unique_ptr<taskmanager_node> node{new taskmanager_node(cfg)};
  auto& n = *node;
  n.sys_ = std::make_unique<caf::actor_system>(n.sys_cfg_);
  auto bound = n.sys_->middleman().open(cfg.taskmanager_port,
                                        cfg.taskmanager_host.c_str(), true);
  if (!bound)
    return make_error(cluster_errc::cannot_listen,
                      "taskmanager.rpc.port "
                        + std::to_string(cfg.taskmanager_port) + " on "
                        + cfg.taskmanager_host
                        + ": cannot listen: " + error_text(bound.error()));
  n.id_ = cfg.taskmanager_host + ":" + std::to_string(*bound);
  auto builtins = builtin_registry();
  task_manager_config tm;
  tm.id = n.id_;
  tm.slots = cfg.taskmanager_slots;
  tm.registry = builtins;
  tm.jobmanager_host = cfg.jobmanager_address;
  tm.jobmanager_port = cfg.jobmanager_port;
  tm.reconnect_delay = span(cfg.heartbeat_interval);
  tm.heartbeat_interval = span(cfg.heartbeat_interval);
  tm.heartbeat_timeout = span(cfg.heartbeat_timeout);
  tm.host = cfg.taskmanager_host;
  tm.pid = static_cast<int64_t>(::getpid());
  auto cache = cfg.blob_dir;
  if (cache.empty()) {
    auto tmp = private_temp_dir("weir-taskmanager-blobs-");
    if (!tmp)
      return tmp.error();
    cache = std::move(*tmp);
    n.temp_blobs_ = cache;
  }
  tm.library_missing
    = [cache](const std::string& id) { return !cached_library(cache, id); };
  tm.store_library = [cache](const std::string& id, const std::string& bytes) {
    return store_fetched_library(cache, id, bytes);
  };
  tm.job_registry = [=](const proto::JobSpec& spec) {
    return registry_for(spec, builtins, [&](const std::string& lib) {
      return cached_library_path(cache, lib);
    });
  };
  // The process logger of the moment: the CLI names its log file after
  // the port bound here, so it replaces the logger after start().
  tm.on_event = [](bool ok, const std::string& what) {
    if (ok)
      logger()->info("{}", what);
    else
      logger()->warn("{}", what);
  };
  tm.log_tail = [] { return recent_log_lines(200); };
  n.tm_ = spawn_task_manager(*n.sys_, std::move(tm));
  return node;
}

caf::error taskmanager_node::wait() {
  caf::scoped_actor self{*sys_};
  self->monitor(tm_);
  caf::error result;
  self->receive([&](caf::down_msg& dm) {
    if (dm.reason != caf::exit_reason::user_shutdown)
      result = std::move(dm.reason);
  });
  return result;
}

void taskmanager_node::stop() {
  if (tm_)
    caf::anon_send_exit(tm_, caf::exit_reason::user_shutdown);
}

} // namespace weir
