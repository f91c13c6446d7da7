#include "cluster/rest_api.hpp"

#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <limits>
#include <random>

#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <nlohmann/json.hpp>

#include "cluster/dashboard.hpp"
#include "cluster/library_store.hpp"
#include "cluster/prometheus.hpp"
#include "cluster/user_library.hpp"
#include "scheduler/job_graph.hpp"

using json = nlohmann::json;

namespace weir {

namespace {

http_response reply(int status, const json& body) {
  // Replace, not throw on, invalid UTF-8 echoed from a request path.
  return http_response{
    status, body.dump(-1, ' ', false, json::error_handler_t::replace)};
}

http_response fail(int status, const std::string& what) {
  return reply(status, json{{"errors", json::array({what})}});
}

int64_t now_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// Splits "/jobs/abc/plan" into {"jobs", "abc", "plan"}.
std::vector<std::string> segments(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    auto j = path.find('/', i);
    if (j == std::string::npos)
      j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool is_job_id(const std::string& s) {
  return s.size() == 32 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

int64_t start_time(const job_info& info) {
  return info.transitions.empty() ? -1 : info.transitions.front().second;
}

int64_t end_time(const job_info& info) {
  if (!is_terminal(info.status) || info.transitions.empty())
    return -1;
  return info.transitions.back().second;
}

json state_counts(const std::vector<const subtask_info*>& subs) {
  json counts = json::object();
  for (auto s : {execution_state::created, execution_state::scheduled,
                 execution_state::deploying, execution_state::initializing,
                 execution_state::running, execution_state::finished,
                 execution_state::canceling, execution_state::canceled,
                 execution_state::failed})
    counts[to_string(s)] = 0;
  for (const auto* s : subs)
    counts[to_string(s->state)] = counts[to_string(s->state)].get<int>() + 1;
  return counts;
}

/// A vertex's state from its subtasks', as Flink's aggregation does.
std::string vertex_state(const std::vector<const subtask_info*>& subs) {
  auto any = [&](execution_state x) {
    return std::any_of(subs.begin(), subs.end(),
                       [x](const subtask_info* s) { return s->state == x; });
  };
  auto all = [&](execution_state x) {
    return std::all_of(subs.begin(), subs.end(),
                       [x](const subtask_info* s) { return s->state == x; });
  };
  for (auto x : {execution_state::failed, execution_state::canceling,
                 execution_state::canceled})
    if (any(x))
      return to_string(x);
  if (all(execution_state::finished))
    return to_string(execution_state::finished);
  if (any(execution_state::running))
    return to_string(execution_state::running);
  if (any(execution_state::initializing))
    return to_string(execution_state::initializing);
  if (any(execution_state::deploying))
    return to_string(execution_state::deploying);
  if (any(execution_state::scheduled))
    return to_string(execution_state::scheduled);
  return to_string(execution_state::created);
}

json watermark_json(int64_t wm) {
  return wm == min_watermark ? json(nullptr) : json(wm);
}

/// The metrics of a subtask (one reading) or of a vertex (several,
/// combined as Flink's dashboard does: counts and rates summed, the worst
/// backpressure, the lowest watermark).
json metrics_json(const std::vector<const task_metrics*>& ms,
                  const std::vector<subtask_rates>& rs) {
  if (ms.empty())
    return nullptr;
  uint64_t rows_in = 0, rows_out = 0, bytes_in = 0, bytes_out = 0;
  uint64_t in_flight = 0, state = 0;
  double r_in = 0, r_out = 0, b_in = 0, b_out = 0;
  double bp = 0, busy = 0, idle = 0;
  int64_t in_wm = max_watermark, out_wm = max_watermark;
  for (size_t i = 0; i < ms.size(); ++i) {
    const auto& m = *ms[i];
    const auto& r = rs[i];
    rows_in += m.rows_in;
    rows_out += m.rows_out;
    bytes_in += m.bytes_in;
    bytes_out += m.bytes_out;
    in_flight += m.batches_in_flight;
    state += m.state_bytes;
    r_in += r.rows_in;
    r_out += r.rows_out;
    b_in += r.bytes_in;
    b_out += r.bytes_out;
    bp = std::max(bp, r.backpressured_ms);
    busy = std::max(busy, r.busy_ms);
    idle += r.idle_ms / static_cast<double>(ms.size());
    in_wm = std::min(in_wm, m.input_watermark);
    out_wm = std::min(out_wm, m.watermark);
  }
  auto round1 = [](double x) { return std::round(x * 10) / 10; };
  return {{"read-records", rows_in},
          {"write-records", rows_out},
          {"read-bytes", bytes_in},
          {"write-bytes", bytes_out},
          {"read-records-per-second", round1(r_in)},
          {"write-records-per-second", round1(r_out)},
          {"read-bytes-per-second", round1(b_in)},
          {"write-bytes-per-second", round1(b_out)},
          {"batches-in-flight", in_flight},
          {"backPressuredTimeMsPerSecond", std::lround(bp)},
          {"busyTimeMsPerSecond", std::lround(busy)},
          {"idleTimeMsPerSecond", std::lround(idle)},
          {"backpressure-level", backpressure_level(bp)},
          {"input-watermark", watermark_json(in_wm)},
          {"output-watermark", watermark_json(out_wm)},
          {"state-size", state}};
}

/// The chained task `t` of a job: its subtasks with their states and,
/// where `live` has a reading, their metrics.
json vertex_json(const job_info& info, size_t t, const job_metrics* live) {
  std::vector<size_t> subs;
  for (size_t i = 0; i < info.subtasks.size(); ++i)
    if (info.subtasks[i].task == info.tasks[t].name)
      subs.push_back(i);
  std::vector<const subtask_info*> infos;
  for (auto i : subs)
    infos.push_back(&info.subtasks[i]);
  const auto& task = info.tasks[t];
  json v;
  v["id"] = std::to_string(t);
  v["name"] = task.name;
  v["parallelism"] = task.parallelism;
  v["operators"] = task.operators;
  v["status"] = vertex_state(infos);
  v["tasks"] = state_counts(infos);
  std::vector<const task_metrics*> ms;
  std::vector<subtask_rates> rs;
  json list = json::array();
  for (auto i : subs) {
    const auto& s = info.subtasks[i];
    json one;
    one["subtask"] = s.subtask;
    one["status"] = to_string(s.state);
    one["taskmanager-id"] = s.task_manager;
    one["start-time"]
      = s.transitions.empty() ? -1 : s.transitions.front().second;
    one["metrics"] = nullptr;
    if (live && i < live->readings.size() && live->readings[i]) {
      const auto* m = &*live->readings[i];
      one["metrics"] = metrics_json({m}, {live->rates[i]});
      ms.push_back(m);
      rs.push_back(live->rates[i]);
    }
    list.push_back(std::move(one));
  }
  v["metrics"] = metrics_json(ms, rs);
  // Per chained operator, summed over the subtasks that answered: records
  // in and out (operator i reads what operator i-1 wrote).
  json ops = json::array();
  for (size_t k = 0; k < task.operators.size(); ++k) {
    uint64_t in = 0, out = 0;
    double in_rate = 0, out_rate = 0;
    bool known = false;
    for (size_t i = 0; i < ms.size(); ++i) {
      const auto& m = *ms[i];
      const auto& r = rs[i];
      if (k >= m.operator_rows_out.size())
        continue;
      known = true;
      out += m.operator_rows_out[k];
      in += k == 0 ? m.rows_in : m.operator_rows_out[k - 1];
      auto rate = [&](size_t j) {
        return j < r.operator_rows_out.size() ? r.operator_rows_out[j] : 0.0;
      };
      out_rate += rate(k);
      in_rate += k == 0 ? r.rows_in : rate(k - 1);
    }
    auto round1 = [](double x) { return std::round(x * 10) / 10; };
    json op = {{"name", task.operators[k]}};
    op["read-records"] = known ? json(in) : json(nullptr);
    op["write-records"] = known ? json(out) : json(nullptr);
    op["read-records-per-second"]
      = known ? json(round1(in_rate)) : json(nullptr);
    op["write-records-per-second"]
      = known ? json(round1(out_rate)) : json(nullptr);
    ops.push_back(std::move(op));
  }
  v["operator-metrics"] = std::move(ops);
  v["subtasks"] = std::move(list);
  return v;
}

json job_json(const job_info& info, const job_metrics* live = nullptr) {
  json j;
  j["jid"] = info.id.value;
  j["name"] = info.name;
  j["state"] = to_string(info.status);
  auto start = start_time(info);
  auto end = end_time(info);
  auto now = now_millis();
  j["start-time"] = start;
  j["end-time"] = end;
  j["duration"] = start < 0 ? 0 : (end < 0 ? now : end) - start;
  j["now"] = now;
  json stamps = json::object();
  for (const auto& [st, at] : info.transitions)
    stamps[to_string(st)] = at;
  j["timestamps"] = stamps;
  j["transitions"] = json::array();
  for (const auto& [st, at] : info.transitions)
    j["transitions"].push_back({{"state", to_string(st)}, {"timestamp", at}});
  if (!info.cause.empty())
    j["root-exception"] = info.cause;
  json vertices = json::array();
  json edges = json::array();
  for (size_t t = 0; t < info.tasks.size(); ++t) {
    vertices.push_back(vertex_json(info, t, live));
    for (const auto& in : info.tasks[t].inputs)
      edges.push_back({{"source", std::to_string(in.from)},
                       {"target", std::to_string(t)},
                       {"ship_strategy", in.partitioner},
                       {"keys", in.keys},
                       {"side-output", in.output}});
  }
  j["vertices"] = std::move(vertices);
  j["edges"] = std::move(edges);
  std::vector<const subtask_info*> all;
  for (const auto& s : info.subtasks)
    all.push_back(&s);
  j["status-counts"] = state_counts(all);
  j["checkpoints"] = {{"completed", info.checkpoints_completed},
                      {"failed", info.checkpoints_failed}};
  j["restarts"] = std::count_if(
    info.transitions.begin(), info.transitions.end(),
    [](const auto& t) { return t.first == job_status::restarting; });
  return j;
}

/// One checkpoint of a job with `subtasks` subtasks: completed, failed, or
/// still in progress (neither completed nor failed).
json checkpoint_json(const checkpoint_stats& c, size_t subtasks) {
  json j;
  j["id"] = c.id;
  j["status"] = c.completed          ? "COMPLETED"
                : !c.failure.empty() ? "FAILED"
                                     : "IN_PROGRESS";
  j["num_subtasks"] = subtasks;
  j["num_acknowledged_subtasks"] = c.completed ? subtasks : c.subtasks.size();
  int64_t latest_ack = -1;
  for (const auto& ss : c.subtasks)
    latest_ack = std::max(latest_ack, ss.acked_at);
  j["latest_ack_timestamp"] = latest_ack;
  j["is_savepoint"] = c.savepoint;
  j["trigger_timestamp"] = c.triggered_at;
  j["end_to_end_duration"] = c.duration_nanos / 1000000;
  j["alignment_duration"] = c.max_alignment_nanos / 1000000;
  j["sync_duration"] = c.max_snapshot_nanos / 1000000;
  j["state_size"] = c.state_bytes;
  if (!c.savepoint_path.empty())
    j["external_path"] = c.savepoint_path;
  if (!c.failure.empty())
    j["failure_message"] = c.failure;
  return j;
}

/// Flink's /jobs/{id}/checkpoints/config; null when the job keeps no
/// checkpoints.
json checkpoint_config_json(const checkpoint_config_info& c) {
  if (!c.storage)
    return nullptr;
  return {{"mode", c.exactly_once ? "exactly_once" : "at_least_once"},
          {"interval", c.interval_ms},
          {"timeout", c.timeout_ms},
          {"min_pause", c.min_pause_ms},
          {"max_concurrent", c.max_concurrent},
          {"tolerable_failed_checkpoints", c.tolerable_failures},
          {"retained", c.retained},
          {"checkpoint_storage", "FileSystemCheckpointStorage"},
          {"checkpoint_dir", c.dir}};
}

json checkpoints_json(const job_info& info) {
  json j;
  auto in_progress = info.pending_checkpoints.size();
  j["counts"] = {{"total", info.checkpoints_completed + info.checkpoints_failed
                             + in_progress},
                 {"completed", info.checkpoints_completed},
                 {"failed", info.checkpoints_failed},
                 {"in_progress", in_progress},
                 {"restored", info.restores.count}};
  json latest = {{"completed", nullptr},
                 {"savepoint", nullptr},
                 {"failed", nullptr},
                 {"restored", nullptr}};
  if (const auto& r = info.restores; r.count > 0)
    latest["restored"] = {{"id", r.id},
                          {"restore_timestamp", r.at},
                          {"is_savepoint", r.savepoint},
                          {"external_path", r.path}};
  json history = json::array();
  // Newest first: those in flight, then the finished ones.
  auto n = info.subtasks.size();
  for (auto i = info.pending_checkpoints.rbegin();
       i != info.pending_checkpoints.rend(); ++i)
    history.push_back(checkpoint_json(*i, n));
  std::vector<int64_t> durations;
  for (auto i = info.checkpoints.rbegin(); i != info.checkpoints.rend(); ++i) {
    auto c = checkpoint_json(*i, n);
    if (i->completed) {
      durations.push_back(i->duration_nanos / 1000000);
      if (latest["completed"].is_null())
        latest["completed"] = c;
      if (i->savepoint && latest["savepoint"].is_null())
        latest["savepoint"] = c;
    } else if (latest["failed"].is_null()) {
      latest["failed"] = c;
    }
    history.push_back(std::move(c));
  }
  j["latest"] = latest;
  j["history"] = history;
  json summary = nullptr;
  if (!durations.empty()) {
    std::sort(durations.begin(), durations.end());
    int64_t sum = 0;
    for (auto d : durations)
      sum += d;
    summary = {{"min", durations.front()},
               {"max", durations.back()},
               {"avg", sum / static_cast<int64_t>(durations.size())},
               {"p50", durations[durations.size() / 2]}};
  }
  j["summary"] = {{"end_to_end_duration", summary}};
  j["config"] = checkpoint_config_json(info.checkpoint_config);
  return j;
}

json exceptions_json(const job_info& info) {
  json j;
  j["root-exception"] = info.cause.empty() ? json(nullptr) : json(info.cause);
  j["timestamp"]
    = info.exceptions.empty() ? json(nullptr) : json(info.exceptions.back().at);
  json all = json::array();
  json entries = json::array();
  for (auto i = info.exceptions.rbegin(); i != info.exceptions.rend(); ++i) {
    all.push_back(
      {{"exception", i->cause}, {"task", i->task}, {"timestamp", i->at}});
    entries.push_back(
      {{"exceptionName", "JobFailure"},
       {"stacktrace", i->cause},
       {"timestamp", i->at},
       {"taskName", i->task.empty() ? json(nullptr) : json(i->task)}});
  }
  j["all-exceptions"] = all;
  j["truncated"] = false;
  j["exceptionHistory"] = {{"entries", entries}, {"truncated", false}};
  return j;
}

json taskmanager_json(const task_manager_info& tm) {
  auto now = now_millis();
  return {
    {"id", tm.id},
    {"path", "weir://" + tm.id},
    {"host", tm.host},
    {"pid", tm.pid},
    {"slotsNumber", tm.slots_total},
    {"freeSlots", tm.slots_free},
    {"registeredAt", tm.registered_at},
    {"timeSinceLastHeartbeat", std::max<int64_t>(0, now - tm.last_heartbeat)},
    {"memory", {{"rss", tm.memory_rss}}},
    {"slots", tm.slot_jobs}};
}

/// Sends a request and waits for its answer (or the timeout).
template <class T, class Handle, class... Ts>
caf::expected<T> ask(caf::actor_system& sys, std::chrono::milliseconds timeout,
                     const Handle& dest, Ts&&... xs) {
  caf::scoped_actor self{sys};
  caf::expected<T> out = caf::error{};
  self->request(dest, timeout, std::forward<Ts>(xs)...)
    .receive([&](T& x) { out = std::move(x); },
             [&](caf::error& err) { out = std::move(err); });
  return out;
}

/// 404 for unknown jobs, 503 when the job manager did not answer.
http_response actor_failure(const caf::error& err) {
  auto text = error_text(err);
  if (text.find("unknown job") != std::string::npos
      || text.find("no job") != std::string::npos)
    return fail(404, text);
  if (err == caf::sec::request_timeout)
    return fail(503, "the JobManager did not answer in time");
  return fail(400, text);
}

std::optional<json> parse_body(const std::string& body, http_response& err) {
  if (body.empty())
    return json::object();
  try {
    auto j = json::parse(body);
    if (!j.is_object()) {
      err = fail(400, "the request body must be a JSON object");
      return std::nullopt;
    }
    return j;
  } catch (const json::exception& e) {
    err = fail(400,
               std::string{"the request body is not valid JSON: "} + e.what());
    return std::nullopt;
  }
}

/// Reads an optional field of type T; false (with `err` set) when present
/// with another type.
template <class T>
bool field(const json& body, const char* name, T& out, http_response& err) {
  auto i = body.find(name);
  if (i == body.end() || i->is_null())
    return true;
  try {
    out = i->get<T>();
    return true;
  } catch (const json::exception&) {
    err = fail(400, std::string{"field '"} + name + "' has the wrong type");
    return false;
  }
}

} // namespace

rest_api::rest_api(rest_api_context ctx) : ctx_(std::move(ctx)) {
}

http_response rest_api::handle(const http_request& req) {
  auto segs = segments(req.path);
  const auto& m = req.method;
  auto method_not_allowed = [&] {
    return fail(405, "method " + m + " is not allowed on " + req.path);
  };
  if (segs.empty() || (segs.size() == 1 && segs[0] == "index.html")) {
    if (m != "GET")
      return method_not_allowed();
    return http_response{200, dashboard_html(), "text/html; charset=utf-8"};
  }
  const auto& root = segs[0];
  if (root == "overview" && segs.size() == 1)
    return m == "GET" ? overview() : method_not_allowed();
  if (root == "config" && segs.size() == 1)
    return m == "GET" ? config() : method_not_allowed();
  if (root == "libraries" && segs.size() == 1)
    return m == "POST" ? upload(req.body) : method_not_allowed();
  if (root == "taskmanagers" && segs.size() <= 3) {
    if (m != "GET")
      return method_not_allowed();
    if (segs.size() == 3) {
      if (segs[2] == "metrics")
        return taskmanager_metrics(segs[1]);
      if (segs[2] == "log")
        return taskmanager_log(segs[1]);
      return fail(404, "not found: " + req.path);
    }
    return taskmanagers(segs.size() == 2 ? segs[1] : std::string{});
  }
  if (root == "jobs") {
    if (segs.size() == 1) {
      if (m == "GET")
        return jobs(false);
      if (m == "POST")
        return submit(req.body);
      return method_not_allowed();
    }
    if (segs.size() == 2 && segs[1] == "overview")
      return m == "GET" ? jobs(true) : method_not_allowed();
    if (!is_job_id(segs[1]))
      return fail(404, "'" + segs[1] + "' is not a job id (32 hex digits)");
    job_id id{segs[1]};
    if (segs.size() == 2) {
      if (m == "GET")
        return job(id, "");
      if (m == "PATCH")
        return cancel(id, req);
      return method_not_allowed();
    }
    const auto& sub = segs[2];
    if (segs.size() == 3) {
      if (sub == "plan")
        return m == "GET" ? plan(id) : method_not_allowed();
      if (sub == "exceptions" || sub == "checkpoints")
        return m == "GET" ? job(id, sub) : method_not_allowed();
      if (sub == "savepoints")
        return m == "POST" ? savepoint(id, req.body, false)
                           : method_not_allowed();
      if (sub == "stop")
        return m == "POST" ? savepoint(id, req.body, true)
                           : method_not_allowed();
    }
    if (segs.size() == 4 && sub == "savepoints")
      return m == "GET" ? savepoint_status(id, segs[3]) : method_not_allowed();
    if (sub == "vertices" && (segs.size() == 4 || segs.size() == 5)) {
      if (m != "GET")
        return method_not_allowed();
      auto what = segs.size() == 5 ? segs[4] : std::string{};
      if (!what.empty() && what != "backpressure" && what != "watermarks")
        return fail(404, "not found: " + req.path);
      return vertex(id, segs[3], what);
    }
    if (sub == "checkpoints" && segs.size() == 4 && segs[3] == "config")
      return m == "GET" ? job(id, "checkpoints/config") : method_not_allowed();
    if (sub == "checkpoints" && segs.size() == 5 && segs[3] == "details")
      return m == "GET" ? checkpoint_details(id, segs[4])
                        : method_not_allowed();
  }
  return fail(404, "not found: " + req.path);
}

http_response rest_api::overview() {
  auto ci = ask<cluster_info>(*ctx_.sys, ctx_.ask_timeout,
                              ctx_.resource_manager, info_atom::value);
  if (!ci)
    return actor_failure(ci.error());
  auto list = ask<std::vector<job_result>>(*ctx_.sys, ctx_.ask_timeout,
                                           ctx_.job_manager, list_atom::value);
  if (!list)
    return actor_failure(list.error());
  int running = 0, finished = 0, canceled = 0, failed = 0;
  for (const auto& r : *list) {
    switch (r.status) {
      case job_status::finished:
        ++finished;
        break;
      case job_status::canceled:
        ++canceled;
        break;
      case job_status::failed:
        ++failed;
        break;
      default:
        ++running;
    }
  }
  return reply(200, {{"taskmanagers", ci->task_managers},
                     {"slots-total", ci->slots_total},
                     {"slots-available", ci->slots_free},
                     {"jobs-running", running},
                     {"jobs-finished", finished},
                     {"jobs-cancelled", canceled},
                     {"jobs-failed", failed},
                     {"weir-version", weir_version}});
}

http_response rest_api::config() {
  json entries = json::array();
  for (const auto& [k, v] : effective_entries(ctx_.config))
    entries.push_back({{"key", k}, {"value", v}});
  return reply(200,
               {{"weir-version", weir_version},
                {"refresh-interval", ctx_.config.web_refresh_interval.count()},
                {"features",
                 {{"web-cancel", ctx_.config.web_cancel},
                  {"web-savepoint", ctx_.config.web_savepoint}}},
                {"timezone-name", "UTC"},
                {"config", entries}});
}

http_response rest_api::jobs(bool overview) {
  auto list = ask<std::vector<job_result>>(*ctx_.sys, ctx_.ask_timeout,
                                           ctx_.job_manager, list_atom::value);
  if (!list)
    return actor_failure(list.error());
  json out = json::array();
  for (const auto& r : *list) {
    if (!overview) {
      out.push_back({{"id", r.id.value}, {"status", to_string(r.status)}});
      continue;
    }
    auto info = ask<job_info>(*ctx_.sys, ctx_.ask_timeout, ctx_.job_manager,
                              info_atom::value, r.id);
    if (!info)
      continue;
    auto j = job_json(*info);
    json o;
    for (const char* key : {"jid", "name", "state", "start-time", "end-time",
                            "duration", "status-counts"})
      o[key] = j[key];
    o["tasks"] = j["status-counts"];
    o.erase("status-counts");
    out.push_back(std::move(o));
  }
  return reply(200, {{"jobs", out}});
}

http_response rest_api::job(const job_id& id, const std::string& sub) {
  auto info = ask<job_info>(*ctx_.sys, ctx_.ask_timeout, ctx_.job_manager,
                            info_atom::value, id);
  if (!info)
    return actor_failure(info.error());
  if (sub == "checkpoints")
    return reply(200, checkpoints_json(*info));
  if (sub == "checkpoints/config") {
    auto c = checkpoint_config_json(info->checkpoint_config);
    if (c.is_null())
      return fail(404, "checkpointing is not enabled for job " + id.value
                         + " (it sets no checkpoint directory)");
    return reply(200, c);
  }
  if (sub == "exceptions")
    return reply(200, exceptions_json(*info));
  auto live = read_metrics(*info);
  return reply(200, job_json(*info, &live));
}

http_response rest_api::plan(const job_id& id) {
  submitted sub;
  {
    std::lock_guard<std::mutex> guard{submitted_mtx_};
    auto i = submitted_.find(id);
    if (i == submitted_.end()) {
      // Known to the job manager but not submitted here: say so apart.
      auto info = ask<job_info>(*ctx_.sys, ctx_.ask_timeout, ctx_.job_manager,
                                info_atom::value, id);
      if (!info)
        return actor_failure(info.error());
      return fail(404, "no plan is kept for job " + id.value);
    }
    sub = i->second;
  }
  proto::JobSpec spec;
  spec.ParseFromString(sub.spec);
  auto libs = ctx_.libraries;
  auto reg = registry_for(spec, ctx_.registry, [libs](const std::string& l) {
    return libs->path(l);
  });
  if (!reg)
    return fail(500, error_text(reg.error()));
  graph_options opts;
  opts.default_parallelism = sub.options.default_parallelism;
  auto graph = build_job_graph(spec, **reg, opts);
  if (!graph)
    return fail(500, error_text(graph.error()));
  json nodes = json::array();
  for (const auto& v : graph->vertices) {
    json n;
    n["id"] = v.id;
    n["operator"] = v.op ? v.op->name : "";
    n["parallelism"] = v.parallelism;
    n["max_parallelism"] = v.max_parallelism;
    n["description"] = v.id + " (" + (v.op ? v.op->name : "") + ")";
    json inputs = json::array();
    int num = 0;
    for (auto e : v.inputs) {
      const auto& edge = graph->edges[e];
      json in = {{"num", num++},
                 {"id", graph->vertices[edge.from].id},
                 {"ship_strategy", to_string(edge.part)}};
      if (!edge.keys.empty())
        in["keys"] = edge.keys;
      inputs.push_back(std::move(in));
    }
    n["inputs"] = std::move(inputs);
    nodes.push_back(std::move(n));
  }
  return reply(200, {{"plan",
                      {{"jid", id.value},
                       {"name", graph->name},
                       {"type", "STREAMING"},
                       {"nodes", nodes}}}});
}

http_response rest_api::submit(const std::string& body) {
  http_response err;
  auto j = parse_body(body, err);
  if (!j)
    return err;
  std::string text;
  std::string savepoint_path;
  bool allow_non_restored = false;
  int parallelism = 0;
  if (!field(*j, "jobSpec", text, err)
      || !field(*j, "savepointPath", savepoint_path, err)
      || !field(*j, "allowNonRestoredState", allow_non_restored, err)
      || !field(*j, "parallelism", parallelism, err))
    return err;
  for (auto& [key, value] : j->items()) {
    (void)value;
    if (key != "jobSpec" && key != "savepointPath"
        && key != "allowNonRestoredState" && key != "parallelism")
      return fail(400, "unknown field '" + key
                         + "' (known: jobSpec, parallelism, savepointPath, "
                           "allowNonRestoredState)");
  }
  if (text.empty())
    return fail(400, "field 'jobSpec' (the job descriptor as protobuf text) "
                     "is missing");
  if (parallelism < 0)
    return fail(400, "field 'parallelism' must be positive");
  if (allow_non_restored && savepoint_path.empty())
    return fail(400, "allowNonRestoredState needs savepointPath");
  proto::JobSpec spec;
  struct collector : google::protobuf::io::ErrorCollector {
    std::string first;
    void AddError(int line, int column, const std::string& message) override {
      if (first.empty())
        first = "jobSpec:" + std::to_string(line + 1) + ":"
                + std::to_string(column + 1) + ": " + message;
    }
  } errors;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, &spec))
    return fail(400,
                errors.first.empty() ? "jobSpec does not parse" : errors.first);
  if (!spec.library().empty())
    return fail(400, "jobSpec names library '" + spec.library()
                       + "' by path; upload it (POST /libraries) and set "
                         "library_id (the weir CLI does both)");
  if (!spec.library_id().empty()) {
    if (auto p = ctx_.libraries->path(spec.library_id()); !p)
      return fail(400, error_text(p.error()));
  }
  if (auto e = apply_job_defaults(ctx_.config, spec))
    return fail(400, error_text(e));
  submit_options opts;
  opts.default_parallelism = parallelism;
  opts.savepoint_path = savepoint_path;
  opts.allow_non_restored_state = allow_non_restored;
  std::string bytes;
  spec.SerializeToString(&bytes);
  auto id = ask<job_id>(*ctx_.sys, ctx_.ask_timeout, ctx_.job_manager,
                        submit_atom::value, bytes, opts);
  if (!id)
    return fail(400, error_text(id.error()));
  {
    std::lock_guard<std::mutex> guard{submitted_mtx_};
    submitted_[*id] = submitted{bytes, opts};
  }
  return reply(202, {{"jobid", id->value}});
}

http_response rest_api::cancel(const job_id& id, const http_request& req) {
  auto mode = req.query.find("mode");
  if (mode == req.query.end() || mode->second != "cancel")
    return fail(400, "PATCH /jobs/{id} needs ?mode=cancel");
  auto info = ask<job_info>(*ctx_.sys, ctx_.ask_timeout, ctx_.job_manager,
                            info_atom::value, id);
  if (!info)
    return actor_failure(info.error());
  caf::anon_send(ctx_.job_manager, cancel_atom::value, id);
  return reply(202, json::object());
}

http_response rest_api::savepoint(const job_id& id, const std::string& body,
                                  bool stop) {
  http_response err;
  auto j = parse_body(body, err);
  if (!j)
    return err;
  std::string dir;
  // Flink's names: "target-directory" to trigger, "targetDirectory" to stop.
  if (!field(*j, "target-directory", dir, err)
      || !field(*j, "targetDirectory", dir, err))
    return err;
  bool cancel_job = false;
  if (!field(*j, "cancel-job", cancel_job, err))
    return err;
  if (dir.empty())
    dir = ctx_.config.savepoints_dir;
  if (dir.empty())
    return fail(400, "no target directory given and state.savepoints.dir is "
                     "not set");
  auto info = ask<job_info>(*ctx_.sys, ctx_.ask_timeout, ctx_.job_manager,
                            info_atom::value, id);
  if (!info)
    return actor_failure(info.error());
  if (info->status != job_status::running)
    return fail(409, "job " + id.value + " is " + to_string(info->status)
                       + "; only a RUNNING job takes a savepoint");
  std::string tid;
  auto table = triggers_;
  {
    std::lock_guard<std::mutex> guard{table->mtx};
    char buf[33];
    std::snprintf(buf, sizeof(buf), "%016llx%016llx",
                  static_cast<unsigned long long>(now_millis()),
                  static_cast<unsigned long long>(++table->next));
    tid = buf;
    table->entries[tid] = trigger{id, false, {}, {}};
  }
  auto jm = ctx_.job_manager;
  bool with_stop = stop || cancel_job;
  // Hidden: a JobManager shutting down does not wait for it.
  ctx_.sys->spawn<caf::hidden>([=](caf::event_based_actor* self) {
    self->request(jm, caf::infinite, savepoint_atom::value, id, dir, with_stop)
      .then(
        [=](std::string& path) {
          std::lock_guard<std::mutex> guard{table->mtx};
          auto& t = table->entries[tid];
          t.done = true;
          t.location = std::move(path);
        },
        [=](caf::error& e) {
          std::lock_guard<std::mutex> guard{table->mtx};
          auto& t = table->entries[tid];
          t.done = true;
          t.failure = error_text(e);
        });
  });
  return reply(202, {{"request-id", tid}});
}

http_response rest_api::savepoint_status(const job_id& id,
                                         const std::string& tid) {
  std::lock_guard<std::mutex> guard{triggers_->mtx};
  auto i = triggers_->entries.find(tid);
  if (i == triggers_->entries.end() || i->second.job != id)
    return fail(404, "no savepoint operation " + tid + " for job " + id.value);
  const auto& t = i->second;
  if (!t.done)
    return reply(200, {{"status", {{"id", "IN_PROGRESS"}}}});
  json op;
  if (t.failure.empty())
    op = {{"location", t.location}};
  else
    op = {{"failure-cause",
           {{"class", "SavepointFailure"}, {"stack-trace", t.failure}}}};
  return reply(200, {{"status", {{"id", "COMPLETED"}}}, {"operation", op}});
}

http_response rest_api::taskmanagers(const std::string& id) {
  auto list = ask<std::vector<task_manager_info>>(
    *ctx_.sys, ctx_.ask_timeout, ctx_.resource_manager, list_atom::value);
  if (!list)
    return actor_failure(list.error());
  if (id.empty()) {
    json out = json::array();
    for (const auto& tm : *list)
      out.push_back(taskmanager_json(tm));
    return reply(200, {{"taskmanagers", out}});
  }
  for (const auto& tm : *list)
    if (tm.id == id)
      return reply(200, taskmanager_json(tm));
  return fail(404, "no task manager '" + id + "' is registered");
}

http_response rest_api::upload(const std::string& body) {
  if (body.empty())
    return fail(400, "the request body must be the library's bytes");
  // An ELF shared object starts with 0x7f 'E' 'L' 'F'.
  if (body.size() < 4
      || body.compare(0, 4,
                      "\x7f"
                      "ELF")
           != 0)
    return fail(400, "the uploaded file is not a shared library (ELF)");
  auto id = ctx_.libraries->put(body);
  if (!id)
    return fail(500, error_text(id.error()));
  return reply(200, {{"id", *id}, {"size", body.size()}});
}

job_metrics rest_api::read_metrics(const job_info& info) {
  job_metrics out;
  auto n = info.subtasks.size();
  out.readings.resize(n);
  out.rates.resize(n);
  // Subtasks that ended left their final counters with the job; their
  // rates are zero.
  for (const auto& m : info.final_metrics)
    if (m.execution < n)
      out.readings[m.execution] = m;
  if (is_terminal(info.status)) {
    rates_.forget(info.id.value);
    return out;
  }
  auto tasks = ask<std::vector<caf::strong_actor_ptr>>(
    *ctx_.sys, ctx_.ask_timeout, ctx_.job_manager, tasks_atom::value, info.id);
  if (!tasks)
    return out;
  // Every subtask is asked at once, so that the slowest one bounds the
  // wait; a subtask busy with a long batch answers late and the page then
  // shows it without figures rather than waiting.
  auto timeout = std::min(ctx_.ask_timeout, std::chrono::milliseconds{2000});
  caf::scoped_actor self{*ctx_.sys};
  using handle = decltype(self->request(std::declval<task_actor>(), timeout,
                                        metrics_atom::value));
  std::vector<std::pair<size_t, handle>> asked;
  std::vector<std::string> instances(tasks->size());
  for (size_t i = 0; i < tasks->size() && i < n; ++i) {
    auto t = caf::actor_cast<task_actor>((*tasks)[i]);
    if (!t)
      continue;
    instances[i] = caf::to_string(t.address());
    asked.emplace_back(i, self->request(t, timeout, metrics_atom::value));
  }
  for (auto& [i, h] : asked) {
    auto e = i;
    h.receive(
      [&](task_metrics& m) {
        if (m.running_nanos == 0)
          return;
        out.rates[e] = rates_.update(info.id.value, static_cast<uint32_t>(e),
                                     instances[e], m);
        out.readings[e] = std::move(m);
      },
      [&](caf::error&) {});
  }
  return out;
}

http_response rest_api::vertex(const job_id& id, const std::string& vid,
                               const std::string& sub) {
  auto info = ask<job_info>(*ctx_.sys, ctx_.ask_timeout, ctx_.job_manager,
                            info_atom::value, id);
  if (!info)
    return actor_failure(info.error());
  size_t t = info->tasks.size();
  if (!vid.empty() && std::all_of(vid.begin(), vid.end(), ::isdigit)
      && vid.size() < 6)
    t = static_cast<size_t>(std::stoul(vid));
  if (t >= info->tasks.size())
    return fail(404,
                "job " + id.value + " has no vertex '" + vid + "' (ids 0 to "
                  + std::to_string(static_cast<int64_t>(info->tasks.size()) - 1)
                  + ")");
  auto live = read_metrics(*info);
  auto v = vertex_json(*info, t, &live);
  auto now = now_millis();
  if (sub.empty()) {
    v["now"] = now;
    return reply(200, v);
  }
  if (sub == "watermarks") {
    json out = json::array();
    for (const auto& s : v["subtasks"]) {
      if (s["metrics"].is_null())
        continue;
      auto index = std::to_string(s["subtask"].get<int>());
      for (auto [key, name] :
           {std::pair{"input-watermark", "currentInputWatermark"},
            std::pair{"output-watermark", "currentOutputWatermark"}}) {
        const auto& wm = s["metrics"][key];
        out.push_back(
          {{"id", index + "." + name},
           {"value", wm.is_null() ? std::to_string(min_watermark)
                                  : std::to_string(wm.get<int64_t>())}});
      }
    }
    return reply(200, out);
  }
  // backpressure: Flink's shape, from the time accounting (no sampling).
  json subs = json::array();
  std::string level = "ok";
  for (const auto& s : v["subtasks"]) {
    if (s["metrics"].is_null())
      continue;
    const auto& m = s["metrics"];
    auto ratio = [&](const char* key) { return m[key].get<double>() / 1000.0; };
    subs.push_back({{"subtask", s["subtask"]},
                    {"backpressureLevel", m["backpressure-level"]},
                    {"ratio", ratio("backPressuredTimeMsPerSecond")},
                    {"idleRatio", ratio("idleTimeMsPerSecond")},
                    {"busyRatio", ratio("busyTimeMsPerSecond")}});
  }
  if (!v["metrics"].is_null())
    level = v["metrics"]["backpressure-level"];
  return reply(200, {{"status", "ok"},
                     {"backpressureLevel", level},
                     {"end-timestamp", now},
                     {"subtasks", subs}});
}

http_response rest_api::checkpoint_details(const job_id& id,
                                           const std::string& cid) {
  auto info = ask<job_info>(*ctx_.sys, ctx_.ask_timeout, ctx_.job_manager,
                            info_atom::value, id);
  if (!info)
    return actor_failure(info.error());
  const checkpoint_stats* found = nullptr;
  for (const auto* list : {&info->checkpoints, &info->pending_checkpoints})
    for (const auto& c : *list)
      if (std::to_string(c.id) == cid)
        found = &c;
  if (!found)
    return fail(404, "job " + id.value + " keeps no checkpoint '" + cid
                       + "' (the newest " + std::to_string(checkpoint_history)
                       + " are kept)");
  auto j = checkpoint_json(*found, info->subtasks.size());
  json tasks = json::object();
  for (size_t t = 0; t < info->tasks.size(); ++t) {
    const auto& task = info->tasks[t];
    json subs = json::array();
    int64_t e2e = 0, align = 0, sync = 0;
    uint64_t size = 0;
    int total = 0;
    for (size_t i = 0; i < info->subtasks.size(); ++i) {
      if (info->subtasks[i].task != task.name)
        continue;
      ++total;
      for (const auto& ss : found->subtasks) {
        if (ss.execution != i)
          continue;
        auto d = std::max<int64_t>(0, ss.acked_at - found->triggered_at);
        e2e = std::max(e2e, d);
        align = std::max(align, ss.alignment_nanos / 1000000);
        sync = std::max(sync, ss.snapshot_nanos / 1000000);
        size += ss.state_bytes;
        subs.push_back({{"index", info->subtasks[i].subtask},
                        {"ack_timestamp", ss.acked_at},
                        {"end_to_end_duration", d},
                        {"state_size", ss.state_bytes},
                        {"alignment",
                         {{"duration", ss.alignment_nanos / 1000000},
                          {"duration_nanos", ss.alignment_nanos}}},
                        {"checkpoint",
                         {{"sync", ss.snapshot_nanos / 1000000},
                          {"sync_nanos", ss.snapshot_nanos}}}});
      }
    }
    tasks[std::to_string(t)] = {{"id", std::to_string(t)},
                                {"name", task.name},
                                {"num_subtasks", total},
                                {"num_acknowledged_subtasks", subs.size()},
                                {"state_size", size},
                                {"end_to_end_duration", e2e},
                                {"alignment_duration", align},
                                {"sync_duration", sync},
                                {"subtasks", subs}};
  }
  j["tasks"] = std::move(tasks);
  return reply(200, j);
}

http_response rest_api::taskmanager_metrics(const std::string& id) {
  auto list = ask<std::vector<task_manager_info>>(
    *ctx_.sys, ctx_.ask_timeout, ctx_.resource_manager, list_atom::value);
  if (!list)
    return actor_failure(list.error());
  for (const auto& tm : *list) {
    if (tm.id != id)
      continue;
    auto age = std::max<int64_t>(0, now_millis() - tm.last_heartbeat);
    json out = json::array();
    auto add = [&](const char* key, auto value) {
      out.push_back({{"id", key}, {"value", std::to_string(value)}});
    };
    add("Status.Process.Memory.RSS", tm.memory_rss);
    add("Slots.Total", tm.slots_total);
    add("Slots.Free", tm.slots_free);
    add("Heartbeat.AgeMs", age);
    return reply(200, out);
  }
  return fail(404, "no task manager '" + id + "' is registered");
}

http_response rest_api::taskmanager_log(const std::string& id) {
  auto lines = ask<std::vector<std::string>>(
    *ctx_.sys, ctx_.ask_timeout, ctx_.resource_manager, log_atom::value, id);
  if (!lines) {
    auto text = error_text(lines.error());
    if (text.find("no task manager") != std::string::npos)
      return fail(404, text);
    return actor_failure(lines.error());
  }
  return reply(200, {{"lines", *lines}});
}

http_response rest_api::prometheus() {
  prometheus_text page;
  using labels = prometheus_text::labels;
  auto gauge = [&](const std::string& name, const std::string& help) {
    page.family(name, "gauge", help);
  };
  auto counter = [&](const std::string& name, const std::string& help) {
    page.family(name, "counter", help);
  };
  gauge("weir_jobmanager_taskmanagers", "Registered TaskManagers.");
  gauge("weir_jobmanager_slots", "Task slots of all TaskManagers.");
  gauge("weir_jobmanager_slots_available", "Free task slots.");
  gauge("weir_jobmanager_jobs", "Jobs by state.");
  gauge("weir_taskmanager_slots", "Task slots of a TaskManager.");
  gauge("weir_taskmanager_slots_free", "Free task slots of a TaskManager.");
  gauge("weir_taskmanager_heartbeat_age_seconds",
        "Time since the TaskManager's last heartbeat.");
  gauge("weir_taskmanager_memory_rss_bytes",
        "Resident memory of the TaskManager's process.");
  gauge("weir_job_uptime_seconds", "Time since the job was submitted.");
  counter("weir_job_restarts_total", "Restarts of the job.");
  counter("weir_job_checkpoints_completed_total", "Completed checkpoints.");
  counter("weir_job_checkpoints_failed_total", "Failed checkpoints.");
  gauge("weir_job_last_checkpoint_duration_seconds",
        "End-to-end duration of the latest completed checkpoint.");
  gauge("weir_job_last_checkpoint_size_bytes",
        "State size of the latest completed checkpoint.");
  counter("weir_task_records_in_total", "Records a subtask received.");
  counter("weir_task_records_out_total", "Records a subtask emitted.");
  counter("weir_task_bytes_in_total", "Approximate bytes received.");
  counter("weir_task_bytes_out_total", "Approximate bytes emitted.");
  gauge("weir_task_records_in_per_second", "Records received per second.");
  gauge("weir_task_records_out_per_second", "Records emitted per second.");
  gauge("weir_task_backpressured_time_ratio",
        "Share of time the subtask waited for output credit "
        "(backPressuredTimeMsPerSecond / 1000).");
  gauge("weir_task_busy_time_ratio", "Share of time spent processing.");
  gauge("weir_task_idle_time_ratio", "Share of time with nothing to do.");
  gauge("weir_task_batches_in_flight",
        "Batches received and not processed, plus batches waiting for "
        "credit.");
  gauge("weir_task_current_input_watermark_seconds",
        "Combined input watermark (event time, seconds since the epoch).");
  gauge("weir_task_current_output_watermark_seconds",
        "Output watermark (event time, seconds since the epoch).");
  gauge("weir_task_state_size_bytes", "State size of the latest checkpoint.");
  counter("weir_operator_records_in_total",
          "Records an operator of a subtask's chain received.");
  counter("weir_operator_records_out_total",
          "Records an operator of a subtask's chain emitted.");
  auto ci = ask<cluster_info>(*ctx_.sys, ctx_.ask_timeout,
                              ctx_.resource_manager, info_atom::value);
  if (ci) {
    page.sample("weir_jobmanager_taskmanagers", {}, ci->task_managers);
    page.sample("weir_jobmanager_slots", {}, ci->slots_total);
    page.sample("weir_jobmanager_slots_available", {}, ci->slots_free);
  }
  auto tms = ask<std::vector<task_manager_info>>(
    *ctx_.sys, ctx_.ask_timeout, ctx_.resource_manager, list_atom::value);
  auto now = now_millis();
  if (tms) {
    for (const auto& tm : *tms) {
      labels ls{{"tm_id", tm.id}, {"host", tm.host}};
      page.sample("weir_taskmanager_slots", ls, tm.slots_total);
      page.sample("weir_taskmanager_slots_free", ls, tm.slots_free);
      page.sample("weir_taskmanager_heartbeat_age_seconds", ls,
                  std::max<int64_t>(0, now - tm.last_heartbeat) / 1000.0);
      page.sample("weir_taskmanager_memory_rss_bytes", ls,
                  static_cast<double>(tm.memory_rss));
    }
  }
  auto list = ask<std::vector<job_result>>(*ctx_.sys, ctx_.ask_timeout,
                                           ctx_.job_manager, list_atom::value);
  if (list) {
    std::map<std::string, int> by_state;
    for (const auto& r : *list)
      ++by_state[to_string(r.status)];
    for (const auto& [st, n] : by_state)
      page.sample("weir_jobmanager_jobs", {{"state", st}}, n);
    for (const auto& r : *list) {
      if (is_terminal(r.status))
        continue;
      auto info = ask<job_info>(*ctx_.sys, ctx_.ask_timeout, ctx_.job_manager,
                                info_atom::value, r.id);
      if (!info)
        continue;
      labels jl{{"job_id", info->id.value}, {"job_name", info->name}};
      auto start = start_time(*info);
      page.sample("weir_job_uptime_seconds", jl,
                  start < 0 ? 0.0 : (now - start) / 1000.0);
      page.sample(
        "weir_job_restarts_total", jl,
        static_cast<double>(std::count_if(
          info->transitions.begin(), info->transitions.end(),
          [](const auto& t) { return t.first == job_status::restarting; })));
      page.sample("weir_job_checkpoints_completed_total", jl,
                  static_cast<double>(info->checkpoints_completed));
      page.sample("weir_job_checkpoints_failed_total", jl,
                  static_cast<double>(info->checkpoints_failed));
      for (auto i = info->checkpoints.rbegin(); i != info->checkpoints.rend();
           ++i) {
        if (!i->completed)
          continue;
        page.sample("weir_job_last_checkpoint_duration_seconds", jl,
                    i->duration_nanos / 1e9);
        page.sample("weir_job_last_checkpoint_size_bytes", jl,
                    static_cast<double>(i->state_bytes));
        break;
      }
      auto live = read_metrics(*info);
      for (size_t e = 0; e < live.readings.size(); ++e) {
        if (!live.readings[e] || e >= info->subtasks.size())
          continue;
        const auto& m = *live.readings[e];
        const auto& r = live.rates[e];
        const auto& sub = info->subtasks[e];
        labels ls = jl;
        ls.emplace_back("task_name", sub.task);
        ls.emplace_back("subtask_index", std::to_string(sub.subtask));
        ls.emplace_back("tm_id", sub.task_manager);
        auto d = [](uint64_t x) { return static_cast<double>(x); };
        page.sample("weir_task_records_in_total", ls, d(m.rows_in));
        page.sample("weir_task_records_out_total", ls, d(m.rows_out));
        page.sample("weir_task_bytes_in_total", ls, d(m.bytes_in));
        page.sample("weir_task_bytes_out_total", ls, d(m.bytes_out));
        page.sample("weir_task_records_in_per_second", ls, r.rows_in);
        page.sample("weir_task_records_out_per_second", ls, r.rows_out);
        page.sample("weir_task_backpressured_time_ratio", ls,
                    r.backpressured_ms / 1000.0);
        page.sample("weir_task_busy_time_ratio", ls, r.busy_ms / 1000.0);
        page.sample("weir_task_idle_time_ratio", ls, r.idle_ms / 1000.0);
        page.sample("weir_task_batches_in_flight", ls, d(m.batches_in_flight));
        auto wm = [](int64_t x) {
          return x == max_watermark ? std::numeric_limits<double>::infinity()
                                    : x / 1000.0;
        };
        if (m.input_watermark != min_watermark)
          page.sample("weir_task_current_input_watermark_seconds", ls,
                      wm(m.input_watermark));
        if (m.watermark != min_watermark)
          page.sample("weir_task_current_output_watermark_seconds", ls,
                      wm(m.watermark));
        page.sample("weir_task_state_size_bytes", ls, d(m.state_bytes));
        const task_info* task = nullptr;
        for (const auto& t : info->tasks)
          if (t.name == sub.task)
            task = &t;
        if (task == nullptr)
          continue;
        for (size_t k = 0;
             k < m.operator_rows_out.size() && k < task->operators.size();
             ++k) {
          auto ol = ls;
          ol.emplace_back("operator_name", task->operators[k]);
          page.sample("weir_operator_records_in_total", ol,
                      d(k == 0 ? m.rows_in : m.operator_rows_out[k - 1]));
          page.sample("weir_operator_records_out_total", ol,
                      d(m.operator_rows_out[k]));
        }
      }
    }
  }
  return http_response{200, page.str(), "text/plain; version=0.0.4"};
}

} // namespace weir
