#include "cluster/rest_api.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <nlohmann/json.hpp>

#include "cluster/library_store.hpp"
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

json job_json(const job_info& info) {
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
  // Vertices are the chained tasks, in the order of their first subtask.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const subtask_info*>> by_task;
  for (const auto& s : info.subtasks) {
    if (by_task.count(s.task) == 0)
      order.push_back(s.task);
    by_task[s.task].push_back(&s);
  }
  json vertices = json::array();
  std::vector<const subtask_info*> all;
  for (const auto& name : order) {
    const auto& subs = by_task[name];
    all.insert(all.end(), subs.begin(), subs.end());
    json v;
    v["id"] = name;
    v["name"] = name;
    v["parallelism"] = subs.size();
    v["status"] = vertex_state(subs);
    v["tasks"] = state_counts(subs);
    json list = json::array();
    for (const auto* s : subs) {
      json t;
      t["subtask"] = s->subtask;
      t["status"] = to_string(s->state);
      t["taskmanager-id"] = s->task_manager;
      t["start-time"]
        = s->transitions.empty() ? -1 : s->transitions.front().second;
      list.push_back(std::move(t));
    }
    v["subtasks"] = std::move(list);
    vertices.push_back(std::move(v));
  }
  j["vertices"] = std::move(vertices);
  j["status-counts"] = state_counts(all);
  j["checkpoints"] = {{"completed", info.checkpoints_completed},
                      {"failed", info.checkpoints_failed}};
  j["restarts"] = std::count_if(
    info.transitions.begin(), info.transitions.end(),
    [](const auto& t) { return t.first == job_status::restarting; });
  return j;
}

json checkpoint_json(const checkpoint_stats& c) {
  json j;
  j["id"] = c.id;
  j["status"] = c.completed ? "COMPLETED" : "FAILED";
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

json checkpoints_json(const job_info& info) {
  json j;
  j["counts"]
    = {{"total", info.checkpoints_completed + info.checkpoints_failed},
       {"completed", info.checkpoints_completed},
       {"failed", info.checkpoints_failed},
       {"in_progress", 0},
       {"restored", 0}};
  json latest
    = {{"completed", nullptr}, {"savepoint", nullptr}, {"failed", nullptr}};
  json history = json::array();
  std::vector<int64_t> durations;
  for (auto i = info.checkpoints.rbegin(); i != info.checkpoints.rend(); ++i) {
    auto c = checkpoint_json(*i);
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
    {"timeSinceLastHeartbeat", std::max<int64_t>(0, now - tm.last_heartbeat)}};
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
  if (segs.empty())
    return fail(404, "not found: " + req.path
                       + " (try /overview, /jobs, /taskmanagers)");
  const auto& root = segs[0];
  if (root == "overview" && segs.size() == 1)
    return m == "GET" ? overview() : method_not_allowed();
  if (root == "config" && segs.size() == 1)
    return m == "GET" ? config() : method_not_allowed();
  if (root == "libraries" && segs.size() == 1)
    return m == "POST" ? upload(req.body) : method_not_allowed();
  if (root == "taskmanagers" && segs.size() <= 2) {
    if (m != "GET")
      return method_not_allowed();
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
  return reply(200, {{"weir-version", weir_version},
                     {"refresh-interval", 3000},
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
  if (sub == "exceptions")
    return reply(200, exceptions_json(*info));
  return reply(200, job_json(*info));
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

} // namespace weir
