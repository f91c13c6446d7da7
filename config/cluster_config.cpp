#include "config/cluster_config.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <type_traits>

#include <yaml-cpp/yaml.h>

#include "api/text.hpp"
#include "checkpoint/checkpoint_tracker.hpp"
#include "config/error.hpp"
#include "scheduler/job_settings.hpp"
#include "scheduler/restart_strategy.hpp"

namespace weir {

namespace {

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos)
    return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// A decimal integer with an optional sign and nothing else.
std::optional<int64_t> parse_integer(const std::string& text) {
  auto t = trim(text);
  size_t first = !t.empty() && (t[0] == '+' || t[0] == '-') ? 1 : 0;
  if (t.size() == first || t.size() - first > 18)
    return std::nullopt;
  for (size_t i = first; i < t.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(t[i])))
      return std::nullopt;
  return std::stoll(t);
}

// -- the settings of the cluster config ---------------------------------------

/// One setting: its key, what it accepts (for error messages), and how it
/// reads and renders its field. `set` returns false for a value it does not
/// accept.
struct option {
  std::string key;
  std::string expected;
  std::function<bool(cluster_config&, const std::string&)> set;
  std::function<std::string(const cluster_config&)> get;
};

// Each helper takes the field as a generic accessor, `[](auto& c) -> auto& {
// return c.field; }`, which serves both the const getter and the setter.

template <class Field>
option integer(std::string key, int64_t min, int64_t max, Field field) {
  auto expected = "an integer in [" + std::to_string(min) + ", "
                  + std::to_string(max) + "]";
  return {
    std::move(key), std::move(expected),
    [=](cluster_config& cfg, const std::string& text) {
      auto x = parse_integer(text);
      if (!x || *x < min || *x > max)
        return false;
      auto& f = field(cfg);
      f = static_cast<std::remove_reference_t<decltype(f)>>(*x);
      return true;
    },
    [=](const cluster_config& cfg) { return std::to_string(field(cfg)); }};
}

template <class Field>
option duration(std::string key, Field field) {
  return {
    key,
    "a positive duration such as 500ms, 10s, 2min or 1h (a bare number "
    "is ms)",
    [=](cluster_config& cfg, const std::string& text) {
      auto ms = parse_duration_ms(key, text);
      if (!ms || *ms <= 0)
        return false;
      field(cfg) = std::chrono::milliseconds{*ms};
      return true;
    },
    [=](const cluster_config& cfg) { return format_duration(field(cfg)); }};
}

template <class Field>
option host(std::string key, Field field) {
  return {std::move(key), "a host name or IP address",
          [=](cluster_config& cfg, const std::string& text) {
            auto t = trim(text);
            if (t.empty() || std::any_of(t.begin(), t.end(), [](char c) {
                  return std::isspace(static_cast<unsigned char>(c));
                }))
              return false;
            field(cfg) = t;
            return true;
          },
          [=](const cluster_config& cfg) { return field(cfg); }};
}

template <class Field>
option boolean(std::string key, Field field) {
  return {std::move(key), "true or false",
          [=](cluster_config& cfg, const std::string& text) {
            auto t = lower(trim(text));
            if (t != "true" && t != "false")
              return false;
            field(cfg) = t == "true";
            return true;
          },
          [=](const cluster_config& cfg) {
            return std::string{field(cfg) ? "true" : "false"};
          }};
}

/// A path; the empty string stands for none.
template <class Field>
option path(std::string key, Field field) {
  return {std::move(key), "a path",
          [=](cluster_config& cfg, const std::string& text) {
            field(cfg) = trim(text);
            return true;
          },
          [=](const cluster_config& cfg) { return field(cfg); }};
}

const std::vector<option>& options() {
  static const std::vector<option> table = {
    host(
      "jobmanager.rpc.address",
      [](auto& c) -> auto& { return c.jobmanager_address; }),
    integer(
      "jobmanager.rpc.port", 1, 65535,
      [](auto& c) -> auto& { return c.jobmanager_port; }),
    host(
      "rest.address", [](auto& c) -> auto& { return c.rest_address; }),
    integer(
      "rest.port", 0, 65535, [](auto& c) -> auto& { return c.rest_port; }),
    integer(
      "rest.server.max-content-length", 1, 2147483647,
      [](auto& c) -> auto& { return c.rest_max_content_length; }),
    boolean(
      "web.cancel.enable", [](auto& c) -> auto& { return c.web_cancel; }),
    boolean(
      "web.savepoint.enable", [](auto& c) -> auto& { return c.web_savepoint; }),
    duration(
      "web.refresh-interval",
      [](auto& c) -> auto& { return c.web_refresh_interval; }),
    integer(
      "metrics.reporter.prom.port", 0, 65535,
      [](auto& c) -> auto& { return c.prometheus_port; }),
    host(
      "taskmanager.host", [](auto& c) -> auto& { return c.taskmanager_host; }),
    integer(
      "taskmanager.rpc.port", 0, 65535,
      [](auto& c) -> auto& { return c.taskmanager_port; }),
    // The upper bound only catches typos: a slot is cheap, thousands are not.
    integer(
      "taskmanager.numberOfTaskSlots", 1, 1024,
      [](auto& c) -> auto& { return c.taskmanager_slots; }),
    {"taskmanager.network.compression", "none or lz4",
     [](cluster_config& cfg, const std::string& text) {
       auto t = lower(trim(text));
       if (t == "none")
         cfg.compression = network_compression::none;
       else if (t == "lz4")
         cfg.compression = network_compression::lz4;
       else
         return false;
       return true;
     },
     [](const cluster_config& cfg) {
       return std::string{to_string(cfg.compression)};
     }},
    duration(
      "heartbeat.interval",
      [](auto& c) -> auto& { return c.heartbeat_interval; }),
    duration(
      "heartbeat.timeout",
      [](auto& c) -> auto& { return c.heartbeat_timeout; }),
    duration(
      "slot.request.timeout",
      [](auto& c) -> auto& { return c.slot_request_timeout; }),
    path(
      "state.savepoints.dir",
      [](auto& c) -> auto& { return c.savepoints_dir; }),
    path(
      "blob.storage.directory", [](auto& c) -> auto& { return c.blob_dir; }),
    {"log.level", "one of trace, debug, info, warn, error, off",
     [](cluster_config& cfg, const std::string& text) {
       auto level = parse_log_level(trim(text));
       if (!level)
         return false;
       cfg.log.level = *level;
       return true;
     },
     [](const cluster_config& cfg) {
       return std::string{to_string(cfg.log.level)};
     }},
    path(
      "log.dir", [](auto& c) -> auto& { return c.log.dir; }),
  };
  return table;
}

const option* find_option(const std::string& key) {
  for (const auto& opt : options())
    if (opt.key == key)
      return &opt;
  return nullptr;
}

bool is_job_setting(const std::string& key) {
  const auto& keys = job_setting_keys();
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

bool is_known(const std::string& key) {
  return find_option(key) != nullptr || is_job_setting(key);
}

// -- reading the file ---------------------------------------------------------

/// One key and its value as written, with where it was written
/// ("FILE:LINE" or "command line").
struct entry {
  std::string key;
  std::string value;
  std::string where;
  /// "a list" or "a mapping" when the value is not a single value.
  const char* shape = nullptr;
};

/// Collects the leaves of `map` as dotted keys below `prefix`, in the order
/// they are written.
caf::error flatten(const YAML::Node& map, const std::string& prefix,
                   const std::string& path, std::vector<entry>& out) {
  for (const auto& kv : map) {
    auto where = path + ":" + std::to_string(kv.first.Mark().line + 1);
    if (!kv.first.IsScalar())
      return make_error(config_errc::syntax_error,
                        where + ": a key must be a plain name");
    auto key
      = prefix.empty() ? kv.first.Scalar() : prefix + "." + kv.first.Scalar();
    const auto& value = kv.second;
    // A mapping under a known key is a wrong value, not more keys.
    if (value.IsMap() && !is_known(key)) {
      if (auto err = flatten(value, key, path, out))
        return err;
      continue;
    }
    entry e{key, {}, where};
    if (value.IsScalar())
      e.value = value.Scalar();
    else if (value.IsSequence())
      e.shape = "a list";
    else if (value.IsMap())
      e.shape = "a mapping";
    out.push_back(std::move(e));
  }
  return caf::none;
}

caf::error read_file(const std::string& path, std::vector<entry>& out) {
  auto cannot_read = [&](const char* why) {
    return make_error(config_errc::io_error,
                      "cannot read cluster config '" + path + "': " + why);
  };
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return cannot_read(std::strerror(errno));
  // A directory opens like a file and reads as nothing.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return cannot_read(std::strerror(EISDIR));
  std::ostringstream text;
  text << in.rdbuf();
  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const YAML::Exception& e) {
    return make_error(config_errc::syntax_error,
                      path + ":" + std::to_string(e.mark.line + 1) + ":"
                        + std::to_string(e.mark.column + 1)
                        + ": invalid YAML: " + e.msg);
  }
  if (root.IsNull())
    return caf::none;
  if (!root.IsMap())
    return make_error(config_errc::syntax_error,
                      path + ":" + std::to_string(root.Mark().line + 1)
                        + ": a cluster config must be a mapping of keys to "
                          "values");
  return flatten(root, "", path, out);
}

caf::error read_overrides(const std::vector<std::string>& overrides,
                          std::vector<entry>& out) {
  for (const auto& s : overrides) {
    auto eq = s.find('=');
    if (eq == std::string::npos || trim(s.substr(0, eq)).empty())
      return make_error(config_errc::syntax_error,
                        "command line: a setting must look like key=value, "
                        "got '"
                          + s + "'");
    out.push_back({trim(s.substr(0, eq)), s.substr(eq + 1), "command line"});
  }
  return caf::none;
}

// -- checking and applying ----------------------------------------------------

caf::error bad_value(const entry& e, const std::string& why) {
  return make_error(config_errc::bad_value, e.where + ": invalid value '"
                                              + trim(e.value) + "' for " + e.key
                                              + ": " + why);
}

caf::error apply(cluster_config& cfg, const entry& e) {
  const auto* opt = find_option(e.key);
  if (opt == nullptr && !is_job_setting(e.key)) {
    auto hint = nearest(e.key, cluster_config_keys());
    return make_error(
      config_errc::unknown_key,
      e.where + ": unknown key '" + e.key + "'"
        + (hint.empty() ? std::string{} : "; did you mean '" + hint + "'?"));
  }
  if (e.shape != nullptr)
    return make_error(config_errc::bad_value,
                      e.where + ": invalid value for " + e.key + ": expected "
                        + (opt ? opt->expected : "a single value") + ", got "
                        + e.shape);
  if (opt != nullptr) {
    if (!opt->set(cfg, e.value))
      return bad_value(e, "expected " + opt->expected);
    return caf::none;
  }
  // A job default: checked now on a scratch job, applied to each job later.
  proto::JobSpec scratch;
  if (auto err = apply_job_setting(scratch, e.key, e.value))
    return make_error(config_errc::bad_value, e.where + ": " + error_text(err));
  auto value = trim(e.value);
  auto i = std::find_if(cfg.job_defaults.begin(), cfg.job_defaults.end(),
                        [&](const auto& kvp) { return kvp.first == e.key; });
  if (i != cfg.job_defaults.end())
    i->second = std::move(value);
  else
    cfg.job_defaults.emplace_back(e.key, std::move(value));
  return caf::none;
}

/// Resolves job defaults as a job without settings of its own would see
/// them, so that out-of-range values fail at start-up, not at submission.
caf::error resolve_job_defaults(const proto::JobSpec& spec) {
  auto cp = spec.checkpointing();
  // Jobs may bring their own state.checkpoints.dir; without one, each such
  // job fails at submission, not the cluster at start-up.
  if (cp.dir().empty())
    cp.set_dir("unset");
  auto checkpoints = resolve_checkpoint_settings(cp);
  if (!checkpoints)
    return checkpoints.error();
  auto restarts
    = resolve_restart_settings(spec.restart_strategy(), checkpoints->enabled());
  if (!restarts)
    return restarts.error();
  return caf::none;
}

caf::error check_job_defaults(const cluster_config& cfg,
                              const std::map<std::string, entry>& last) {
  proto::JobSpec all;
  for (const auto& [key, value] : cfg.job_defaults)
    if (auto err = apply_job_setting(all, key, value))
      return err;
  if (!resolve_job_defaults(all))
    return caf::none;
  // Blame the first setting with which the defaults stop resolving: a
  // constraint between two settings (max-backoff below initial-backoff)
  // names the later one, a single bad value names itself.
  proto::JobSpec prefix;
  for (const auto& [key, value] : cfg.job_defaults) {
    if (auto err = apply_job_setting(prefix, key, value))
      return err;
    if (auto err = resolve_job_defaults(prefix))
      return bad_value(last.at(key), error_text(err));
  }
  return caf::none;
}

/// Where `key`, or else `other`, was set last; two settings contradict each
/// other only when at least one of them was set.
std::string where_of(const std::map<std::string, entry>& last,
                     const std::string& key, const std::string& other) {
  auto i = last.find(key);
  if (i == last.end())
    i = last.find(other);
  return i != last.end() ? i->second.where : std::string{"defaults"};
}

caf::error check_consistency(const cluster_config& cfg,
                             const std::map<std::string, entry>& last) {
  if (cfg.heartbeat_timeout <= cfg.heartbeat_interval) {
    return make_error(config_errc::inconsistent,
                      where_of(last, "heartbeat.timeout", "heartbeat.interval")
                        + ": heartbeat.timeout ("
                        + format_duration(cfg.heartbeat_timeout)
                        + ") must exceed heartbeat.interval ("
                        + format_duration(cfg.heartbeat_interval) + ")");
  }
  if (cfg.rest_port != 0 && cfg.rest_port == cfg.jobmanager_port
      && cfg.rest_address == cfg.jobmanager_address) {
    return make_error(config_errc::inconsistent,
                      where_of(last, "rest.port", "jobmanager.rpc.port")
                        + ": rest.port " + std::to_string(cfg.rest_port)
                        + " is also jobmanager.rpc.port on "
                        + cfg.rest_address);
  }
  return check_job_defaults(cfg, last);
}

} // namespace

const char* to_string(network_compression x) {
  return x == network_compression::lz4 ? "lz4" : "none";
}

const std::vector<std::string>& cluster_config_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> out = job_setting_keys();
    for (const auto& opt : options())
      out.push_back(opt.key);
    std::sort(out.begin(), out.end());
    return out;
  }();
  return keys;
}

caf::expected<cluster_config>
load_cluster_config(const std::string& path,
                    const std::vector<std::string>& overrides) {
  std::vector<entry> file;
  if (!path.empty())
    if (auto err = read_file(path, file))
      return err;
  std::vector<entry> flags;
  if (auto err = read_overrides(overrides, flags))
    return err;
  cluster_config cfg;
  cfg.source = path;
  // The entry that set each key last, for errors about its value.
  std::map<std::string, entry> last;
  for (const auto& e : file) {
    if (auto i = last.find(e.key); i != last.end())
      return make_error(config_errc::duplicate_key,
                        e.where + ": " + e.key + " is given twice (first at "
                          + i->second.where + ")");
    if (auto err = apply(cfg, e))
      return err;
    last[e.key] = e;
  }
  for (const auto& e : flags) {
    if (auto err = apply(cfg, e))
      return err;
    last[e.key] = e;
  }
  if (auto err = check_consistency(cfg, last))
    return err;
  return cfg;
}

std::vector<std::pair<std::string, std::string>>
effective_entries(const cluster_config& cfg) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& opt : options())
    out.emplace_back(opt.key, opt.get(cfg));
  for (const auto& kvp : cfg.job_defaults)
    out.push_back(kvp);
  return out;
}

std::string to_yaml(const cluster_config& cfg) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  for (const auto& [key, value] : effective_entries(cfg))
    out << YAML::Key << key << YAML::Value << value;
  out << YAML::EndMap;
  return std::string{out.c_str()} + "\n";
}

caf::error apply_job_defaults(const cluster_config& cfg, proto::JobSpec& spec) {
  if (cfg.job_defaults.empty())
    return caf::none;
  proto::JobSpec defaults;
  for (const auto& [key, value] : cfg.job_defaults)
    if (auto err = apply_job_setting(defaults, key, value))
      return err;
  // MergeFrom copies exactly the fields the job sets (every field with
  // presence, and the non-empty strings dir and type): those win.
  if (defaults.has_checkpointing()) {
    auto merged = defaults.checkpointing();
    merged.MergeFrom(spec.checkpointing());
    *spec.mutable_checkpointing() = std::move(merged);
  }
  if (defaults.has_restart_strategy()) {
    auto merged = defaults.restart_strategy();
    merged.MergeFrom(spec.restart_strategy());
    *spec.mutable_restart_strategy() = std::move(merged);
  }
  return caf::none;
}

std::string format_duration(std::chrono::milliseconds x) {
  auto ms = x.count();
  if (ms != 0 && ms % 3600000 == 0)
    return std::to_string(ms / 3600000) + " h";
  if (ms != 0 && ms % 60000 == 0)
    return std::to_string(ms / 60000) + " min";
  if (ms != 0 && ms % 1000 == 0)
    return std::to_string(ms / 1000) + " s";
  return std::to_string(ms) + " ms";
}

} // namespace weir
