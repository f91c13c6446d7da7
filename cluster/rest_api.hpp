#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>
#include <string>

#include <caf/actor_system.hpp>

#include "actors/protocol.hpp"
#include "api/registry.hpp"
#include "cluster/metric_rates.hpp"
#include "config/cluster_config.hpp"

namespace weir {

class library_store;

/// One HTTP request as the REST API sees it (the server parsed it).
struct http_request {
  std::string method;
  /// The path without the query string, e.g. "/jobs/abc/checkpoints".
  std::string path;
  std::map<std::string, std::string> query;
  std::string body;
};

/// The answer: a status and a body (JSON unless said otherwise).
struct http_response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
};

/// One reading of every subtask of a running job, by execution index
/// (empty where a subtask did not answer), with the rates derived from it.
struct job_metrics {
  std::vector<std::optional<task_metrics>> readings;
  std::vector<subtask_rates> rates;
};

/// What the REST API talks to.
struct rest_api_context {
  caf::actor_system* sys = nullptr;
  job_manager_actor job_manager;
  resource_manager_actor resource_manager;
  cluster_config config;
  std::shared_ptr<library_store> libraries;
  /// The built-in operators (plans of jobs with libraries add theirs).
  std::shared_ptr<const operator_registry> registry;
  /// How long one request waits for an actor's answer.
  std::chrono::milliseconds ask_timeout{10000};
};

/// The JobManager's REST API, with Flink's paths and JSON shapes where the
/// concept is the same:
///
///   GET    /                              the web dashboard (HTML)
///   GET    /overview                      cluster and job counts
///   GET    /config                        the effective cluster config
///   GET    /jobs                          ids and states
///   GET    /jobs/overview                 one line per job
///   GET    /jobs/{id}                     details, vertices, timestamps
///   GET    /jobs/{id}/plan                the job graph
///   GET    /jobs/{id}/exceptions          the exception history
///   GET    /jobs/{id}/vertices/{vid}      one vertex, per-subtask metrics
///   GET    /jobs/{id}/vertices/{vid}/backpressure
///   GET    /jobs/{id}/vertices/{vid}/watermarks
///   GET    /jobs/{id}/checkpoints         counts, latest, history
///   GET    /jobs/{id}/checkpoints/config  interval, mode, timeout, ...
///   GET    /jobs/{id}/checkpoints/details/{cid}  per task and subtask
///   GET    /jobs/{id}/savepoints/{tid}    a savepoint or stop operation
///   GET    /taskmanagers                  registered TaskManagers
///   GET    /taskmanagers/{id}             one of them, with its slots
///   GET    /taskmanagers/{id}/metrics     memory, slots, heartbeat age
///   GET    /taskmanagers/{id}/log         the tail of its log
///   POST   /jobs                          submit (JSON, see submit())
///   POST   /jobs/{id}/savepoints          trigger a savepoint
///   POST   /jobs/{id}/stop                stop with a savepoint
///   PATCH  /jobs/{id}?mode=cancel         cancel
///   POST   /libraries                     upload a user library (raw bytes)
///
/// Errors are 4xx/5xx with {"errors": ["what is wrong"]}. A plain class:
/// the server calls handle() from its threads, tests call it directly.
class rest_api {
public:
  explicit rest_api(rest_api_context ctx);

  http_response handle(const http_request& req);

  /// Every metric of the cluster and its running jobs in Prometheus' text
  /// exposition format (version 0.0.4), for metrics.reporter.prom.port.
  http_response prometheus();

private:
  struct trigger {
    job_id job;
    bool done = false;
    std::string location;
    std::string failure;
  };

  struct submitted {
    std::string spec;
    submit_options options;
  };

  http_response overview();
  http_response config();
  http_response jobs(bool overview);
  http_response job(const job_id& id, const std::string& sub);
  http_response plan(const job_id& id);
  http_response submit(const std::string& body);
  http_response cancel(const job_id& id, const http_request& req);
  http_response savepoint(const job_id& id, const std::string& body, bool stop);
  http_response savepoint_status(const job_id& id, const std::string& tid);
  http_response taskmanagers(const std::string& id);
  http_response taskmanager_metrics(const std::string& id);
  http_response taskmanager_log(const std::string& id);
  http_response vertex(const job_id& id, const std::string& vid,
                       const std::string& sub);
  http_response checkpoint_details(const job_id& id, const std::string& cid);

  /// The metrics of every subtask of a job: read from the running ones,
  /// the final counters of those that ended.
  job_metrics read_metrics(const job_info& info);
  http_response upload(const std::string& body);

  /// Savepoint operations by trigger id; shared with the actors that
  /// wait for their outcome.
  struct trigger_table {
    std::mutex mtx;
    std::map<std::string, trigger> entries;
    uint64_t next = 0;
  };

  rest_api_context ctx_;
  std::shared_ptr<trigger_table> triggers_ = std::make_shared<trigger_table>();
  std::mutex submitted_mtx_;
  std::map<job_id, submitted> submitted_;
  metric_rates rates_;
};

} // namespace weir
