#pragma once

// A real Weir cluster for tests: a `weir jobmanager` and `weir taskmanager`
// child processes on 127.0.0.1 with ports picked free, each with its own log
// and library directory under a temporary directory, all killed when the
// fixture goes away.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/weir_process.hpp"
#include "support/temp_dir.hpp"

namespace weir::test {

/// A TCP port on 127.0.0.1 that nothing listens on right now.
uint16_t free_port();

/// Milliseconds since the epoch (the clock of the REST API's timestamps).
int64_t wall_millis();

/// A GET or POST against a REST API; status 0 when there was no answer.
struct rest_answer {
  int status = 0;
  nlohmann::json body;
};

rest_answer rest_get(uint16_t port, const std::string& path);
rest_answer rest_post(uint16_t port, const std::string& path,
                      const std::string& body,
                      const std::string& type = "application/json");

class test_cluster {
public:
  /// Starts a JobManager with `settings` (-D key=value) added to the
  /// fixture's own; waits until its REST API answers.
  explicit test_cluster(const std::vector<std::string>& settings = {});

  /// Starts a TaskManager with `slots` slots and waits until it registered;
  /// returns its index.
  size_t add_task_manager(uint32_t slots,
                          const std::vector<std::string>& settings = {});

  weir_process& jobmanager() {
    return *jm_;
  }
  weir_process& task_manager(size_t i) {
    return *tms_[i];
  }
  /// "127.0.0.1:PORT" of TaskManager `i` (its id).
  std::string task_manager_id(size_t i) const;

  uint16_t rest_port() const {
    return rest_port_;
  }
  /// Where the JobManager serves Prometheus metrics
  /// (metrics.reporter.prom.port).
  uint16_t metrics_port() const {
    return metrics_port_;
  }
  /// "127.0.0.1:REST" for `weir -m`.
  std::string address() const;

  const temp_dir& dir() const {
    return dir_;
  }

  /// The blob directory of TaskManager `i` (where it caches libraries).
  std::string task_manager_blobs(size_t i) const;

  /// Waits until the job's state is `state` (true) or `timeout` passes.
  bool wait_for_state(const std::string& job, const std::string& state,
                      std::chrono::milliseconds timeout
                      = std::chrono::seconds{30});

private:
  std::vector<std::string> common() const;

  temp_dir dir_;
  uint16_t rpc_port_ = 0;
  uint16_t rest_port_ = 0;
  uint16_t metrics_port_ = 0;
  std::vector<std::string> settings_;
  std::unique_ptr<weir_process> jm_;
  std::vector<std::unique_ptr<weir_process>> tms_;
  std::vector<uint16_t> tm_ports_;
};

} // namespace weir::test
