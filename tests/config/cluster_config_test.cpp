#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "api/error.hpp"
#include "config/cluster_config.hpp"
#include "support/temp_dir.hpp"

using namespace weir;
using namespace std::chrono_literals;

namespace {

/// Writes `yaml` as cluster.yaml into a fresh directory and loads it.
struct fixture {
  test::temp_dir dir;

  std::string write(const std::string& yaml) {
    return dir.write("cluster.yaml", yaml);
  }

  caf::expected<cluster_config>
  load(const std::string& yaml, const std::vector<std::string>& flags = {}) {
    return load_cluster_config(write(yaml), flags);
  }

  /// The error text of loading `yaml`, with the file's path shortened to
  /// "cluster.yaml".
  std::string error(const std::string& yaml,
                    const std::vector<std::string>& flags = {}) {
    auto cfg = load(yaml, flags);
    if (cfg)
      return "loaded";
    auto text = error_text(cfg.error());
    auto path = dir / "cluster.yaml";
    for (auto i = text.find(path); i != std::string::npos; i = text.find(path))
      text.replace(i, path.size(), "cluster.yaml");
    return text;
  }
};

const char* flat_yaml = R"(
jobmanager.rpc.address: 10.0.0.1
jobmanager.rpc.port: 7000
rest.address: 10.0.0.2
rest.port: 9000
rest.server.max-content-length: 1048576
taskmanager.host: 10.0.0.3
taskmanager.rpc.port: 7100
taskmanager.numberOfTaskSlots: 4
taskmanager.network.compression: lz4
heartbeat.interval: 2 s
heartbeat.timeout: 20s
slot.request.timeout: 2min
state.savepoints.dir: /sp
log.level: debug
log.dir: /var/log/weir
state.checkpoints.dir: /chk
execution.checkpointing.interval: 10 s
restart-strategy.type: fixed-delay
)";

const char* nested_yaml = R"(
jobmanager:
  rpc:
    address: 10.0.0.1
    port: 7000
rest:
  address: 10.0.0.2
  port: 9000
  server:
    max-content-length: 1048576
taskmanager:
  host: 10.0.0.3
  rpc.port: 7100
  numberOfTaskSlots: 4
  network: {compression: lz4}
heartbeat: {interval: 2 s, timeout: 20s}
slot:
  request:
    timeout: 2min
state:
  savepoints: {dir: /sp}
log:
  level: debug
  dir: /var/log/weir
state.checkpoints.dir: /chk
execution:
  checkpointing:
    interval: 10 s
restart-strategy:
  type: fixed-delay
)";

void check_flat_values(const cluster_config& cfg) {
  CHECK(cfg.jobmanager_address == "10.0.0.1");
  CHECK(cfg.jobmanager_port == 7000);
  CHECK(cfg.rest_address == "10.0.0.2");
  CHECK(cfg.rest_port == 9000);
  CHECK(cfg.rest_max_content_length == 1048576);
  CHECK(cfg.taskmanager_host == "10.0.0.3");
  CHECK(cfg.taskmanager_port == 7100);
  CHECK(cfg.taskmanager_slots == 4);
  CHECK(cfg.compression == network_compression::lz4);
  CHECK(cfg.heartbeat_interval == 2s);
  CHECK(cfg.heartbeat_timeout == 20s);
  CHECK(cfg.slot_request_timeout == 2min);
  CHECK(cfg.savepoints_dir == "/sp");
  CHECK(cfg.log.level == log_level::debug);
  CHECK(cfg.log.dir == "/var/log/weir");
  using kv = std::pair<std::string, std::string>;
  CHECK(cfg.job_defaults
        == std::vector<kv>{{"state.checkpoints.dir", "/chk"},
                           {"execution.checkpointing.interval", "10 s"},
                           {"restart-strategy.type", "fixed-delay"}});
}

} // namespace

TEST_CASE("without a file every setting has its default") {
  auto cfg = load_cluster_config("");
  REQUIRE_MESSAGE(cfg, error_text(cfg.error()));
  using kv = std::pair<std::string, std::string>;
  CHECK(effective_entries(*cfg)
        == std::vector<kv>{
          {"jobmanager.rpc.address", "127.0.0.1"},
          {"jobmanager.rpc.port", "6123"},
          {"rest.address", "127.0.0.1"},
          {"rest.port", "8081"},
          {"rest.server.max-content-length", "104857600"},
          {"web.cancel.enable", "true"},
          {"web.savepoint.enable", "true"},
          {"web.refresh-interval", "3 s"},
          {"metrics.reporter.prom.port", "9249"},
          {"taskmanager.host", "127.0.0.1"},
          {"taskmanager.rpc.port", "0"},
          {"taskmanager.numberOfTaskSlots", "1"},
          {"taskmanager.network.compression", "none"},
          {"heartbeat.interval", "1 s"},
          {"heartbeat.timeout", "5 s"},
          {"slot.request.timeout", "1 min"},
          {"state.savepoints.dir", ""},
          {"blob.storage.directory", ""},
          {"log.level", "info"},
          {"log.dir", "."},
        });
  CHECK(cfg->job_defaults.empty());
  CHECK(cfg->source.empty());
}

TEST_CASE("an empty file leaves every setting at its default") {
  fixture f;
  auto cfg = f.load("# nothing here\n");
  REQUIRE_MESSAGE(cfg, error_text(cfg.error()));
  CHECK(effective_entries(*cfg) == effective_entries(cluster_config{}));
  CHECK(cfg->source == f.dir / "cluster.yaml");
}

TEST_CASE("flat keys are read as in Flink's flink-conf.yaml") {
  fixture f;
  auto cfg = f.load(flat_yaml);
  REQUIRE_MESSAGE(cfg, error_text(cfg.error()));
  check_flat_values(*cfg);
}

TEST_CASE("nested keys are joined with dots and may mix with flat ones") {
  fixture f;
  auto cfg = f.load(nested_yaml);
  REQUIRE_MESSAGE(cfg, error_text(cfg.error()));
  check_flat_values(*cfg);
}

TEST_CASE("overrides win over the file, and a later one over an earlier one") {
  fixture f;
  auto cfg
    = f.load(flat_yaml, {"rest.port=9100", "rest.port = 9200", "log.level=WARN",
                         "execution.checkpointing.interval=1s",
                         "restart-strategy.fixed-delay.attempts=5"});
  REQUIRE_MESSAGE(cfg, error_text(cfg.error()));
  CHECK(cfg->rest_port == 9200);
  CHECK(cfg->log.level == log_level::warn);
  CHECK(cfg->jobmanager_port == 7000);
  // An overridden job default keeps its place; a new one goes last.
  using kv = std::pair<std::string, std::string>;
  CHECK(cfg->job_defaults
        == std::vector<kv>{{"state.checkpoints.dir", "/chk"},
                           {"execution.checkpointing.interval", "1s"},
                           {"restart-strategy.type", "fixed-delay"},
                           {"restart-strategy.fixed-delay.attempts", "5"}});
  // Without a file, overrides apply to the defaults.
  auto bare = load_cluster_config("", {"taskmanager.numberOfTaskSlots=8"});
  REQUIRE(bare);
  CHECK(bare->taskmanager_slots == 8);
}

TEST_CASE("malformed YAML is an error naming the file, line and column") {
  fixture f;
  CHECK(f.error("rest.port: 8081\nrest: [1, 2\n")
        == "cluster.yaml:3:1: invalid YAML: end of sequence flow not found");
  CHECK(f.error("- rest.port\n- 8081\n")
        == "cluster.yaml:1: a cluster config must be a mapping of keys to "
           "values");
  CHECK(f.error("? [rest, port]\n: 8081\n")
        == "cluster.yaml:1: a key must be a plain name");
}

TEST_CASE("a file that cannot be read is an error naming it") {
  auto cfg = load_cluster_config("/nonexistent/cluster.yaml");
  REQUIRE_FALSE(cfg);
  CHECK(error_text(cfg.error())
        == "cannot read cluster config '/nonexistent/cluster.yaml': No such "
           "file or directory");
  auto dir = load_cluster_config("/tmp");
  REQUIRE_FALSE(dir);
  CHECK(error_text(dir.error())
        == "cannot read cluster config '/tmp': Is a directory");
}

TEST_CASE("an unknown key names its line and the nearest known key") {
  fixture f;
  CHECK(f.error("rest.port: 8081\njobmanager.rpc.prot: 6123\n")
        == "cluster.yaml:2: unknown key 'jobmanager.rpc.prot'; did you mean "
           "'jobmanager.rpc.port'?");
  CHECK(f.error("jobmanager:\n  rpc:\n    adress: 10.0.0.1\n")
        == "cluster.yaml:3: unknown key 'jobmanager.rpc.adress'; did you mean "
           "'jobmanager.rpc.address'?");
  CHECK(f.error("taskmanager.numberOfTaskslots: 2\n")
        == "cluster.yaml:1: unknown key 'taskmanager.numberOfTaskslots'; did "
           "you mean 'taskmanager.numberOfTaskSlots'?");
  CHECK(f.error("execution.checkpointing.intervall: 1s\n")
        == "cluster.yaml:1: unknown key 'execution.checkpointing.intervall'; "
           "did you mean 'execution.checkpointing.interval'?");
  CHECK(f.error("high-availability: zookeeper\n")
        == "cluster.yaml:1: unknown key 'high-availability'");
  CHECK(f.error("", {"rest.prot=1"})
        == "command line: unknown key 'rest.prot'; did you mean 'rest.port'?");
}

TEST_CASE("a value of the wrong type names the key, the value and what fits") {
  fixture f;
  CHECK(f.error("rest.port: abc\n")
        == "cluster.yaml:1: invalid value 'abc' for rest.port: expected an "
           "integer in [0, 65535]");
  CHECK(f.error("\nrest:\n  port: 70000\n")
        == "cluster.yaml:3: invalid value '70000' for rest.port: expected an "
           "integer in [0, 65535]");
  CHECK(f.error("jobmanager.rpc.port: 0\n")
        == "cluster.yaml:1: invalid value '0' for jobmanager.rpc.port: "
           "expected an integer in [1, 65535]");
  CHECK(f.error("taskmanager.numberOfTaskSlots: 0\n")
        == "cluster.yaml:1: invalid value '0' for "
           "taskmanager.numberOfTaskSlots: expected an integer in [1, 1024]");
  CHECK(f.error("taskmanager.numberOfTaskSlots: 2.5\n")
        == "cluster.yaml:1: invalid value '2.5' for "
           "taskmanager.numberOfTaskSlots: expected an integer in [1, 1024]");
  CHECK(f.error("rest.server.max-content-length: 100mb\n")
        == "cluster.yaml:1: invalid value '100mb' for "
           "rest.server.max-content-length: expected an integer in [1, "
           "2147483647]");
  CHECK(f.error("heartbeat.interval: soon\n")
        == "cluster.yaml:1: invalid value 'soon' for heartbeat.interval: "
           "expected a positive duration such as 500ms, 10s, 2min or 1h (a "
           "bare number is ms)");
  CHECK(f.error("slot.request.timeout: 0 s\n")
        == "cluster.yaml:1: invalid value '0 s' for slot.request.timeout: "
           "expected a positive duration such as 500ms, 10s, 2min or 1h (a "
           "bare number is ms)");
  CHECK(f.error("taskmanager.network.compression: zstd\n")
        == "cluster.yaml:1: invalid value 'zstd' for "
           "taskmanager.network.compression: expected none or lz4");
  CHECK(f.error("log.level: loud\n")
        == "cluster.yaml:1: invalid value 'loud' for log.level: expected one "
           "of trace, debug, info, warn, error, off");
  CHECK(f.error("rest.address: 'my host'\n")
        == "cluster.yaml:1: invalid value 'my host' for rest.address: "
           "expected a host name or IP address");
  CHECK(f.error("rest.address:\n")
        == "cluster.yaml:1: invalid value '' for rest.address: expected a "
           "host name or IP address");
  CHECK(f.error("rest.port: [8081, 8082]\n")
        == "cluster.yaml:1: invalid value for rest.port: expected an integer "
           "in [0, 65535], got a list");
  CHECK(f.error("rest:\n  port:\n    value: 8081\n")
        == "cluster.yaml:2: invalid value for rest.port: expected an integer "
           "in [0, 65535], got a mapping");
  CHECK(f.error("", {"rest.port=-1"})
        == "command line: invalid value '-1' for rest.port: expected an "
           "integer in [0, 65535]");
  CHECK(f.error("", {"rest.port"})
        == "command line: a setting must look like key=value, got "
           "'rest.port'");
}

TEST_CASE("heartbeat.timeout must exceed heartbeat.interval") {
  fixture f;
  CHECK(f.error("heartbeat.interval: 10 s\n")
        == "cluster.yaml:1: heartbeat.timeout (5 s) must exceed "
           "heartbeat.interval (10 s)");
  CHECK(f.error("heartbeat.interval: 2 s\nheartbeat.timeout: 2000\n")
        == "cluster.yaml:2: heartbeat.timeout (2 s) must exceed "
           "heartbeat.interval (2 s)");
  CHECK(f.error("heartbeat.interval: 2 s\n", {"heartbeat.timeout=1500ms"})
        == "command line: heartbeat.timeout (1500 ms) must exceed "
           "heartbeat.interval (2 s)");
  // An override may repair what the file got wrong.
  CHECK(f.error("heartbeat.interval: 10 s\n", {"heartbeat.timeout=1min"})
        == "loaded");
}

TEST_CASE("rest.port may not be jobmanager.rpc.port on the same address") {
  fixture f;
  CHECK(f.error("jobmanager.rpc.port: 8081\n")
        == "cluster.yaml:1: rest.port 8081 is also jobmanager.rpc.port on "
           "127.0.0.1");
  CHECK(f.error("jobmanager.rpc.port: 8081\nrest.address: 127.0.0.2\n")
        == "loaded");
}

TEST_CASE("a key given twice, flat and nested, names both lines") {
  fixture f;
  CHECK(f.error("jobmanager.rpc.port: 6123\n"
                "jobmanager:\n"
                "  rpc:\n"
                "    port: 6124\n")
        == "cluster.yaml:4: jobmanager.rpc.port is given twice (first at "
           "cluster.yaml:1)");
  CHECK(f.error("rest.port: 1\nrest.port: 2\n")
        == "cluster.yaml:2: rest.port is given twice (first at "
           "cluster.yaml:1)");
  CHECK(f.error("execution.checkpointing:\n  interval: 1s\n"
                "execution.checkpointing.interval: 2s\n")
        == "cluster.yaml:3: execution.checkpointing.interval is given twice "
           "(first at cluster.yaml:2)");
}

TEST_CASE("job defaults are checked at load, naming the key and its line") {
  fixture f;
  CHECK(f.error("execution.checkpointing.mode: twice\n")
        == "cluster.yaml:1: invalid value 'twice' for "
           "execution.checkpointing.mode: expected EXACTLY_ONCE or "
           "AT_LEAST_ONCE");
  CHECK(f.error("restart-strategy:\n  type: sometimes\n")
        == "cluster.yaml:2: invalid value 'sometimes' for "
           "restart-strategy.type: expected none, fixed-delay, "
           "exponential-delay, failure-rate");
  CHECK(f.error("execution.checkpointing.interval: 1s\n"
                "execution.checkpointing.max-concurrent-checkpoints: 0\n")
        == "cluster.yaml:2: invalid value '0' for "
           "execution.checkpointing.max-concurrent-checkpoints: "
           "checkpointing: max_concurrent must be at least 1, got 0");
  CHECK(f.error("restart-strategy.exponential-delay.jitter-factor: 2\n")
        == "cluster.yaml:1: invalid value '2' for "
           "restart-strategy.exponential-delay.jitter-factor: "
           "restart_strategy: jitter_factor must be in [0, 1]");
  // A constraint between two settings names the one that breaks it.
  CHECK(f.error("restart-strategy.exponential-delay.initial-backoff: 1min\n"
                "restart-strategy.exponential-delay.max-backoff: 10s\n")
        == "cluster.yaml:2: invalid value '10s' for "
           "restart-strategy.exponential-delay.max-backoff: "
           "restart_strategy: max_backoff_ms must not be below "
           "initial_backoff_ms");
  // Fine together, though the first alone is below the default initial
  // backoff; and checkpoints without a directory are left to the jobs.
  CHECK(f.error("restart-strategy.exponential-delay.max-backoff: 500ms\n"
                "restart-strategy.exponential-delay.initial-backoff: 100ms\n"
                "execution.checkpointing.interval: 1s\n")
        == "loaded");
}

TEST_CASE("job defaults fill in what a job leaves unset, key by key") {
  fixture f;
  auto cfg = f.load(R"(
state.checkpoints.dir: /chk
execution.checkpointing.interval: 10 s
execution.checkpointing.mode: at-least-once
restart-strategy.type: fixed-delay
restart-strategy.fixed-delay.attempts: 3
)");
  REQUIRE_MESSAGE(cfg, error_text(cfg.error()));
  SUBCASE("a job without settings gets every default") {
    proto::JobSpec spec;
    spec.set_name("plain");
    REQUIRE(!apply_job_defaults(*cfg, spec));
    CHECK(spec.name() == "plain");
    CHECK(spec.checkpointing().interval_ms() == 10000);
    CHECK(spec.checkpointing().dir() == "/chk");
    CHECK(spec.checkpointing().mode() == proto::AT_LEAST_ONCE);
    CHECK(spec.restart_strategy().type() == "fixed-delay");
    CHECK(spec.restart_strategy().attempts() == 3);
    CHECK_FALSE(spec.restart_strategy().has_delay_ms());
  }
  SUBCASE("a job's own settings win, even when they equal the built-in "
          "defaults") {
    proto::JobSpec spec;
    auto* cp = spec.mutable_checkpointing();
    cp->set_interval_ms(1000);
    cp->set_mode(proto::EXACTLY_ONCE);
    spec.mutable_restart_strategy()->set_type("none");
    REQUIRE(!apply_job_defaults(*cfg, spec));
    CHECK(spec.checkpointing().interval_ms() == 1000);
    CHECK(spec.checkpointing().mode() == proto::EXACTLY_ONCE);
    CHECK(spec.checkpointing().dir() == "/chk");
    CHECK(spec.restart_strategy().type() == "none");
  }
  SUBCASE("a job's own directory wins") {
    proto::JobSpec spec;
    spec.mutable_checkpointing()->set_dir("/mine");
    REQUIRE(!apply_job_defaults(*cfg, spec));
    CHECK(spec.checkpointing().dir() == "/mine");
    CHECK(spec.checkpointing().interval_ms() == 10000);
  }
  SUBCASE("a config without job defaults leaves the job untouched") {
    proto::JobSpec spec;
    REQUIRE(!apply_job_defaults(cluster_config{}, spec));
    CHECK_FALSE(spec.has_checkpointing());
    CHECK_FALSE(spec.has_restart_strategy());
  }
}

TEST_CASE("the effective entries load back into the same config") {
  fixture f;
  auto cfg = f.load(flat_yaml);
  REQUIRE(cfg);
  auto again = f.load(to_yaml(*cfg));
  REQUIRE_MESSAGE(again, error_text(again.error()));
  CHECK(effective_entries(*again) == effective_entries(*cfg));
  auto defaults = f.load(to_yaml(cluster_config{}));
  REQUIRE_MESSAGE(defaults, error_text(defaults.error()));
  CHECK(effective_entries(*defaults) == effective_entries(cluster_config{}));
}

TEST_CASE("durations render in their largest whole unit") {
  CHECK(format_duration(250ms) == "250 ms");
  CHECK(format_duration(1500ms) == "1500 ms");
  CHECK(format_duration(10s) == "10 s");
  CHECK(format_duration(2min) == "2 min");
  CHECK(format_duration(90s) == "90 s");
  CHECK(format_duration(1h) == "1 h");
  CHECK(format_duration(0ms) == "0 ms");
}

TEST_CASE("every key is known, with no duplicates") {
  const auto& keys = cluster_config_keys();
  CHECK(std::adjacent_find(keys.begin(), keys.end()) == keys.end());
  for (const auto& [key, value] : effective_entries(cluster_config{}))
    CHECK(std::binary_search(keys.begin(), keys.end(), key));
  CHECK(std::binary_search(keys.begin(), keys.end(),
                           "restart-strategy.failure-rate.delay"));
}

TEST_CASE("the example cluster file loads, and flags adapt it per process") {
  auto path = std::string{WEIR_SOURCE_DIR} + "/examples/cluster/cluster.yaml";
  auto cfg = load_cluster_config(path);
  REQUIRE_MESSAGE(cfg, error_text(cfg.error()));
  CHECK(cfg->jobmanager_address == "127.0.0.1");
  CHECK(cfg->jobmanager_port == 6123);
  CHECK(cfg->rest_port == 8081);
  CHECK(cfg->taskmanager_port == 6131);
  CHECK(cfg->taskmanager_slots == 2);
  CHECK(cfg->heartbeat_timeout > cfg->heartbeat_interval);
  proto::JobSpec spec;
  REQUIRE(!apply_job_defaults(*cfg, spec));
  CHECK(spec.checkpointing().interval_ms() == 10000);
  CHECK(spec.restart_strategy().attempts() == 3);
  auto second = load_cluster_config(path, {"taskmanager.rpc.port=6132"});
  REQUIRE(second);
  CHECK(second->taskmanager_port == 6132);
}
