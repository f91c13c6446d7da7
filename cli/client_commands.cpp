// The `weir` commands that are clients of a JobManager's REST API.

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include <unistd.h>

#include <boost/program_options.hpp>
#include <google/protobuf/text_format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "cli/cluster_commands.hpp"
#include "cli/commands.hpp"
#include "cli/progress.hpp"
#include "cli/signals.hpp"
#include "scheduler/job_loader.hpp"
#include "scheduler/job_settings.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace weir::cli {

namespace {

constexpr const char* default_jobmanager = "127.0.0.1:8081";

/// How often attached commands poll the JobManager.
constexpr std::chrono::milliseconds poll_interval{200};

/// A JobManager's REST endpoint, from `-m HOST:PORT`.
struct endpoint {
  std::string host;
  int port = 0;

  std::string url() const {
    return "http://" + host + ":" + std::to_string(port) + "/";
  }
};

std::optional<endpoint> parse_endpoint(const std::string& text,
                                       const std::string& command,
                                       std::ostream& err) {
  auto colon = text.rfind(':');
  auto bad = [&] {
    err << "weir " << command << ": error: -m '" << text
        << "' must be HOST:PORT of the JobManager's REST API (e.g. "
        << default_jobmanager << ")\n";
    return std::nullopt;
  };
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return bad();
  endpoint ep;
  ep.host = text.substr(0, colon);
  auto port = text.substr(colon + 1);
  if (port.size() > 5
      || port.find_first_not_of("0123456789") != std::string::npos)
    return bad();
  ep.port = std::stoi(port);
  if (ep.port < 1 || ep.port > 65535)
    return bad();
  return ep;
}

/// One answer of the REST API; `status` 0 when there was none (the error
/// says why).
struct answer {
  int status = 0;
  json body;
  std::string error;
};

/// A small client of the REST API that turns every transport fault into
/// one line naming the JobManager.
class rest_client {
public:
  explicit rest_client(endpoint ep)
    : ep_(std::move(ep)), http_(ep_.host, ep_.port) {
    http_.set_connection_timeout(std::chrono::seconds{3});
    http_.set_read_timeout(std::chrono::seconds{30});
    http_.set_write_timeout(std::chrono::seconds{30});
  }

  answer get(const std::string& path) {
    return wrap(http_.Get(path.c_str()));
  }

  answer post(const std::string& path, const std::string& body,
              const char* type = "application/json") {
    return wrap(http_.Post(path.c_str(), body, type));
  }

  answer patch(const std::string& path) {
    return wrap(http_.Patch(path.c_str(), "", "application/json"));
  }

  const endpoint& where() const {
    return ep_;
  }

private:
  answer wrap(httplib::Result res) {
    answer a;
    if (!res) {
      if (res.error() == httplib::Error::Write)
        a.error = "the JobManager at " + ep_.url()
                  + " closed the connection while the request was sent "
                    "(a body over its rest.server.max-content-length?)";
      else
        a.error = "cannot reach the JobManager at " + ep_.url() + " ("
                  + httplib::to_string(res.error()) + ")";
      return a;
    }
    a.status = res->status;
    try {
      a.body = res->body.empty() ? json::object() : json::parse(res->body);
    } catch (const json::exception&) {
      a.body = nullptr;
    }
    // Every answer the commands ask for is a JSON object.
    if (!a.body.is_object()) {
      a.error = ep_.url() + " answered HTTP " + std::to_string(res->status)
                + " with a body that is not a JSON object; is it a Weir "
                  "JobManager?";
      a.status = 0;
      a.body = json::object();
      return a;
    }
    if (a.status >= 400) {
      std::string what;
      if (a.body.contains("errors") && a.body["errors"].is_array())
        for (const auto& e : a.body["errors"])
          what += (what.empty() ? "" : "; ")
                  + (e.is_string() ? e.get<std::string>() : e.dump());
      a.error = what.empty() ? "HTTP " + std::to_string(a.status) : what;
    }
    return a;
  }

  endpoint ep_;
  httplib::Client http_;
};

/// The exit code of a failed request: 3 when the JobManager was not there,
/// 1 when it refused.
int failure(const std::string& command, const answer& a, std::ostream& err) {
  err << "weir " << command << ": error: " << a.error << "\n";
  return a.status == 0 ? exit_unreachable : exit_job_failed;
}

/// Shared parsing: `-m`, `--help`, and positional arguments.
int parse(const std::vector<std::string>& args, const std::string& command,
          const std::string& synopsis, po::options_description& desc,
          po::positional_options_description& pos, std::string& jobmanager,
          std::ostream& out, std::ostream& err) {
  desc.add_options()(
    "jobmanager,m", po::value(&jobmanager)->default_value(default_jobmanager),
    "HOST:PORT of the JobManager's REST API")("help,h", "show this help");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(desc).positional(pos).run(),
              vm);
    po::notify(vm);
  } catch (const po::error& e) {
    err << "weir " << command << ": error: " << e.what() << "\n"
        << "usage: weir " << command << " " << synopsis << "\n";
    return exit_usage;
  }
  if (vm.count("help") > 0) {
    out << "usage: weir " << command << " " << synopsis << "\n\n" << desc;
    return exit_ok;
  }
  return -1;
}

/// Parses `weir COMMAND JOB_ID [EXTRA] ... [-m HOST:PORT]`: returns -1 with
/// `id` and `ep` set to go on, or an exit code. `extra` names a second
/// positional option the caller added to `desc` (or is null).
int parse_job_command(const std::vector<std::string>& args,
                      const std::string& command, const std::string& synopsis,
                      po::options_description& desc, const char* extra,
                      std::string& id, std::optional<endpoint>& ep,
                      std::ostream& out, std::ostream& err) {
  std::string jobmanager;
  desc.add_options()("id", po::value(&id), "job id");
  po::positional_options_description pos;
  pos.add("id", 1);
  if (extra != nullptr)
    pos.add(extra, 1);
  if (auto rc = parse(args, command, synopsis, desc, pos, jobmanager, out, err);
      rc >= 0)
    return rc;
  if (id.empty()) {
    err << "weir " << command << ": error: no job id given\n";
    return exit_usage;
  }
  ep = parse_endpoint(jobmanager, command, err);
  return ep ? -1 : exit_usage;
}

bool terminal_state(const std::string& s) {
  return s == "FINISHED" || s == "CANCELED" || s == "FAILED";
}

int exit_for(const std::string& state) {
  if (state == "FINISHED")
    return exit_ok;
  if (state == "CANCELED")
    return exit_canceled;
  return exit_job_failed;
}

std::string text_of(const json& j, const char* key) {
  auto i = j.find(key);
  if (i == j.end() || !i->is_string())
    return {};
  return i->get<std::string>();
}

int64_t int_of(const json& j, const char* key) {
  auto i = j.find(key);
  if (i == j.end() || !i->is_number())
    return 0;
  return i->get<int64_t>();
}

int64_t steady_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

/// Polls a savepoint operation until it completes; returns its path, or
/// nullopt after printing why it failed.
std::optional<std::string> await_savepoint(rest_client& client,
                                           const std::string& command,
                                           const std::string& job,
                                           const std::string& request, int& rc,
                                           std::ostream& err) {
  // Past the longest checkpoint timeout anyone sets, give up waiting.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes{15};
  for (;;) {
    if (std::chrono::steady_clock::now() > deadline) {
      err << "weir " << command << ": error: savepoint " << request
          << " of job " << job << " has no outcome after 15 min\n";
      rc = exit_job_failed;
      return std::nullopt;
    }
    auto a = client.get("/jobs/" + job + "/savepoints/" + request);
    if (!a.error.empty()) {
      rc = failure(command, a, err);
      return std::nullopt;
    }
    auto status = a.body.value("status", json::object());
    if (text_of(status, "id") == "COMPLETED") {
      auto op = a.body.value("operation", json::object());
      if (op.contains("location"))
        return text_of(op, "location");
      auto cause = op.value("failure-cause", json::object());
      err << "weir " << command
          << ": error: the savepoint failed: " << text_of(cause, "stack-trace")
          << "\n";
      rc = exit_job_failed;
      return std::nullopt;
    }
    std::this_thread::sleep_for(poll_interval);
  }
}

/// Reads a whole file into `out`; false with a message on failure.
bool read_file(const fs::path& path, std::string& out, std::string& why) {
  std::ifstream in{path, std::ios::binary};
  if (!in) {
    why = "cannot open " + path.string();
    return false;
  }
  std::ostringstream os;
  os << in.rdbuf();
  out = os.str();
  return true;
}

} // namespace

bool wants_remote(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a == "-m" || (a.rfind("-m", 0) == 0 && a.size() > 2 && a[2] != '-')
        || a == "--jobmanager" || a.rfind("--jobmanager=", 0) == 0)
      return true;
  return false;
}

int cmd_remote_run(const std::vector<std::string>& args, std::ostream& out,
                   std::ostream& err) {
  // Signals are blocked before any thread starts (httplib starts none, but
  // the watcher must come first all the same).
  // The progress display shares `err` with the signal thread: both write
  // with `mtx` held.
  std::mutex mtx;
  std::optional<progress_reporter> reporter;
  signal_watcher signals;
  int signals_seen = 0;
  signals.on_signal([&](int) {
    std::lock_guard<std::mutex> guard{mtx};
    if (++signals_seen > 1) {
      if (reporter)
        reporter->clear();
      err << "weir: second interrupt, exiting without waiting" << std::endl;
      std::_Exit(exit_canceled);
    }
  });
  std::string jobmanager;
  std::string file;
  std::vector<std::string> raw_params;
  std::vector<std::string> settings;
  int parallelism = 0;
  bool detached = false;
  std::string from_savepoint;
  bool allow_non_restored = false;
  std::string savepoint_dir;
  std::string progress;
  po::options_description desc{"options"};
  desc.add_options()("job", po::value(&file), "job descriptor")(
    "param", po::value(&raw_params)->composing(),
    "fill placeholder ${name} with value (name=value; repeatable)")(
    "parallelism,p", po::value(&parallelism),
    "default parallelism of vertices that set none")(
    "set,D", po::value(&settings)->composing(),
    "override a setting of the descriptor (key=value; repeatable)")(
    "detached,d", po::bool_switch(&detached),
    "print the job id once submitted and exit")(
    "from-savepoint,s", po::value(&from_savepoint),
    "start from this savepoint or retained checkpoint (a path the "
    "JobManager and TaskManagers can read)")(
    "allow-non-restored-state,n", po::bool_switch(&allow_non_restored),
    "with --from-savepoint: drop state of vertices the job no longer has")(
    "savepoint-dir", po::value(&savepoint_dir),
    "attached: on SIGTERM or Ctrl-C, stop the job with a savepoint into "
    "this directory instead of cancelling it")(
    "progress", po::value(&progress)->default_value("auto"),
    progress_option_help);
  po::positional_options_description pos;
  pos.add("job", 1);
  const std::string synopsis
    = "-m HOST:PORT JOB.pbtxt [--param k=v]... [-p N] [-D key=value]...\n"
      "         [--detached] [--from-savepoint PATH [-n]] [--savepoint-dir "
      "DIR]\n         [--progress auto|live|log|none]";
  if (auto rc = parse(args, "run", synopsis, desc, pos, jobmanager, out, err);
      rc >= 0)
    return rc;
  if (file.empty()) {
    err << "weir run: error: no job descriptor given\nusage: weir run "
        << synopsis << "\n";
    return exit_usage;
  }
  if (parallelism < 0) {
    err << "weir run: error: --parallelism must be positive\n";
    return exit_usage;
  }
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
  auto ep = parse_endpoint(jobmanager, "run", err);
  if (!ep)
    return exit_usage;
  job_params params;
  if (!parse_params(raw_params, params, err))
    return exit_usage;
  auto spec = load_job_file(file, params);
  if (!spec) {
    err << "weir: error: " << error_text(spec.error()) << "\n";
    return exit_usage;
  }
  if (auto e = apply_job_settings(*spec, settings)) {
    err << "weir: error: -D: " << error_text(e) << "\n";
    return exit_usage;
  }
  rest_client client{*ep};
  if (!spec->library().empty()) {
    fs::path lib{spec->library()};
    std::string bytes;
    std::string why;
    if (!read_file(lib, bytes, why)) {
      err << "weir: error: " << file << ": library: " << why << "\n";
      return exit_usage;
    }
    auto a = client.post("/libraries", bytes, "application/octet-stream");
    if (!a.error.empty()) {
      if (a.status == 0)
        return failure("run", a, err);
      err << "weir: error: library " << lib.string() << " refused: " << a.error
          << "\n";
      return exit_usage;
    }
    spec->set_library_id(text_of(a.body, "id"));
    spec->clear_library();
    err << "weir: library " << lib.string() << " uploaded as "
        << spec->library_id() << std::endl;
  }
  std::string text;
  google::protobuf::TextFormat::PrintToString(*spec, &text);
  json body = {{"jobSpec", text}};
  if (parallelism > 0)
    body["parallelism"] = parallelism;
  if (!from_savepoint.empty()) {
    body["savepointPath"] = fs::absolute(from_savepoint).string();
    body["allowNonRestoredState"] = allow_non_restored;
  }
  auto submitted = client.post("/jobs", body.dump());
  if (!submitted.error.empty()) {
    if (submitted.status == 0)
      return failure("run", submitted, err);
    err << "weir: error: job rejected: " << submitted.error << "\n";
    return exit_usage;
  }
  auto id = text_of(submitted.body, "jobid");
  err << "weir: job '" << spec->name() << "' (" << id << ") submitted to "
      << ep->url() << std::endl;
  if (detached) {
    out << id << "\n";
    return exit_ok;
  }
  auto started = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> guard{mtx};
    reporter.emplace(err, style, width, STDERR_FILENO);
  }
  checkpoint_reader checkpoints{"/jobs/" + id};
  auto get = [&client](const std::string& path) {
    auto a = client.get(path);
    return a.error.empty() ? std::move(a.body) : json{};
  };
  bool asked_to_end = false;
  std::optional<std::string> stop_request;
  bool stop_failed = false;
  for (;;) {
    bool signalled;
    {
      std::lock_guard<std::mutex> guard{mtx};
      signalled = signals_seen > 0;
    }
    if (signalled && !asked_to_end) {
      asked_to_end = true;
      {
        std::lock_guard<std::mutex> guard{mtx};
        reporter->clear();
      }
      if (savepoint_dir.empty()) {
        err << "weir: cancelling job (CANCELLING)..." << std::endl;
        auto a = client.patch("/jobs/" + id + "?mode=cancel");
        if (!a.error.empty())
          return failure("run", a, err);
      } else {
        err << "weir: stopping job with a savepoint into " << savepoint_dir
            << "..." << std::endl;
        json req = {{"targetDirectory", fs::absolute(savepoint_dir).string()}};
        auto a = client.post("/jobs/" + id + "/stop", req.dump());
        if (!a.error.empty())
          return failure("run", a, err);
        stop_request = text_of(a.body, "request-id");
      }
    }
    if (stop_request && !stop_failed) {
      // A failed stop-with-savepoint falls back to cancelling, as on the
      // mini cluster.
      auto sp = client.get("/jobs/" + id + "/savepoints/" + *stop_request);
      auto op = sp.body.value("operation", json::object());
      if (sp.error.empty() && op.contains("failure-cause")) {
        stop_failed = true;
        err << "weir: error: the savepoint failed: "
            << text_of(op.value("failure-cause", json::object()), "stack-trace")
            << "; cancelling job (CANCELLING)..." << std::endl;
        auto c = client.patch("/jobs/" + id + "?mode=cancel");
        if (!c.error.empty())
          return failure("run", c, err);
      }
    }
    auto a = client.get("/jobs/" + id);
    if (!a.error.empty())
      return failure("run", a, err);
    auto state = text_of(a.body, "state");
    const auto& stats = checkpoints.update(a.body, get);
    {
      std::lock_guard<std::mutex> guard{mtx};
      reporter->update(a.body, stats, steady_millis());
      if (terminal_state(state))
        reporter->clear();
    }
    if (terminal_state(state)) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - started)
                  .count();
      if (stop_request && !stop_failed) {
        int rc = exit_ok;
        if (auto path
            = await_savepoint(client, "run", id, *stop_request, rc, err))
          err << "weir: savepoint written: " << *path << std::endl;
      }
      err << "weir: job '" << spec->name() << "' " << state << " after " << ms
          << " ms";
      auto cause = text_of(a.body, "root-exception");
      if (!cause.empty() && state == "FAILED")
        err << ": " << cause;
      err << std::endl;
      auto ex = client.get("/jobs/" + id + "/exceptions");
      if (ex.error.empty()) {
        const auto& all = ex.body.value("all-exceptions", json::array());
        if (!all.empty())
          err << "weir: " << all.size()
              << (all.size() == 1 ? " failure" : " failures")
              << " during the run (exception history, newest first):\n";
        for (const auto& e : all) {
          err << "weir:   ";
          auto task = text_of(e, "task");
          if (!task.empty())
            err << task << ": ";
          err << text_of(e, "exception") << "\n";
        }
      }
      return exit_for(state);
    }
    std::this_thread::sleep_for(poll_interval);
  }
}

int cmd_list(const std::vector<std::string>& args, std::ostream& out,
             std::ostream& err) {
  std::string jobmanager;
  po::options_description desc{"options"};
  po::positional_options_description pos;
  if (auto rc
      = parse(args, "list", "[-m HOST:PORT]", desc, pos, jobmanager, out, err);
      rc >= 0)
    return rc;
  auto ep = parse_endpoint(jobmanager, "list", err);
  if (!ep)
    return exit_usage;
  rest_client client{*ep};
  auto a = client.get("/jobs/overview");
  if (!a.error.empty())
    return failure("list", a, err);
  auto jobs = a.body.value("jobs", json::array());
  // Oldest first, as submitted.
  std::stable_sort(jobs.begin(), jobs.end(), [](const json& x, const json& y) {
    return int_of(x, "start-time") < int_of(y, "start-time");
  });
  if (jobs.empty()) {
    out << "no jobs\n";
    return exit_ok;
  }
  out << std::left << std::setw(34) << "JOB ID" << std::setw(12) << "STATE"
      << std::setw(12) << "DURATION"
      << "NAME\n";
  for (const auto& j : jobs) {
    auto secs = int_of(j, "duration") / 1000;
    out << std::setw(34) << text_of(j, "jid") << std::setw(12)
        << text_of(j, "state") << std::setw(12) << (std::to_string(secs) + " s")
        << text_of(j, "name") << "\n";
  }
  return exit_ok;
}

int cmd_info(const std::vector<std::string>& args, std::ostream& out,
             std::ostream& err) {
  std::string id;
  std::optional<endpoint> ep;
  po::options_description desc{"options"};
  if (auto rc = parse_job_command(args, "info", "JOB_ID [-m HOST:PORT]", desc,
                                  nullptr, id, ep, out, err);
      rc >= 0)
    return rc;
  rest_client client{*ep};
  auto a = client.get("/jobs/" + id);
  if (!a.error.empty())
    return failure("info", a, err);
  const auto& j = a.body;
  out << "job:       " << text_of(j, "jid") << " '" << text_of(j, "name")
      << "'\n"
      << "state:     " << text_of(j, "state") << "\n"
      << "duration:  " << int_of(j, "duration") << " ms\n"
      << "restarts:  " << int_of(j, "restarts") << "\n";
  auto cause = text_of(j, "root-exception");
  if (!cause.empty())
    out << "last failure: " << cause << "\n";
  out << "vertices:\n";
  for (const auto& v : j.value("vertices", json::array())) {
    out << "  " << text_of(v, "name") << " x" << int_of(v, "parallelism") << " "
        << text_of(v, "status") << " on";
    for (const auto& s : v.value("subtasks", json::array()))
      out << " " << text_of(s, "taskmanager-id");
    out << "\n";
  }
  auto cp = client.get("/jobs/" + id + "/checkpoints");
  if (cp.error.empty()) {
    const auto& counts = cp.body.value("counts", json::object());
    out << "checkpoints: " << int_of(counts, "completed") << " completed, "
        << int_of(counts, "failed") << " failed";
    auto latest = cp.body.value("latest", json::object());
    auto done = latest.value("completed", json());
    if (done.is_object())
      out << "; latest " << int_of(done, "id") << " took "
          << int_of(done, "end_to_end_duration") << " ms";
    out << "\n";
  }
  return exit_ok;
}

int cmd_cancel(const std::vector<std::string>& args, std::ostream& out,
               std::ostream& err) {
  std::string id;
  std::optional<endpoint> ep;
  po::options_description desc{"options"};
  if (auto rc = parse_job_command(args, "cancel", "JOB_ID [-m HOST:PORT]", desc,
                                  nullptr, id, ep, out, err);
      rc >= 0)
    return rc;
  rest_client client{*ep};
  auto a = client.patch("/jobs/" + id + "?mode=cancel");
  if (!a.error.empty())
    return failure("cancel", a, err);
  // Wait for the outcome, as a user typing `weir cancel` expects.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{60};
  for (;;) {
    auto j = client.get("/jobs/" + id);
    if (!j.error.empty())
      return failure("cancel", j, err);
    auto state = text_of(j.body, "state");
    if (terminal_state(state)) {
      out << "job " << id << " " << state << "\n";
      return exit_ok;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      err << "weir cancel: error: job " << id << " is still " << state
          << " after 60 s\n";
      return exit_job_failed;
    }
    std::this_thread::sleep_for(poll_interval);
  }
}

namespace {

int savepoint_command(const std::string& command, const std::string& id,
                      const std::string& dir, bool stop, const endpoint& ep,
                      std::ostream& out, std::ostream& err) {
  rest_client client{ep};
  json req = json::object();
  if (!dir.empty())
    req[stop ? "targetDirectory" : "target-directory"]
      = fs::absolute(dir).string();
  auto a
    = client.post("/jobs/" + id + (stop ? "/stop" : "/savepoints"), req.dump());
  if (!a.error.empty())
    return failure(command, a, err);
  int rc = exit_ok;
  auto path = await_savepoint(client, command, id,
                              text_of(a.body, "request-id"), rc, err);
  if (!path)
    return rc;
  out << *path << "\n";
  err << "weir " << command << ": savepoint written: " << *path
      << (stop ? "; the job stops" : "") << std::endl;
  return exit_ok;
}

} // namespace

int cmd_savepoint(const std::vector<std::string>& args, std::ostream& out,
                  std::ostream& err) {
  std::string id;
  std::string dir;
  std::optional<endpoint> ep;
  po::options_description desc{"options"};
  desc.add_options()(
    "dir", po::value(&dir),
    "target directory (default: state.savepoints.dir of the cluster)");
  if (auto rc
      = parse_job_command(args, "savepoint", "JOB_ID [DIR] [-m HOST:PORT]",
                          desc, "dir", id, ep, out, err);
      rc >= 0)
    return rc;
  return savepoint_command("savepoint", id, dir, false, *ep, out, err);
}

int cmd_stop(const std::vector<std::string>& args, std::ostream& out,
             std::ostream& err) {
  std::string id;
  std::string dir;
  std::optional<endpoint> ep;
  po::options_description desc{"options"};
  desc.add_options()("savepoint-dir", po::value(&dir),
                     "where the savepoint goes (default: state.savepoints.dir "
                     "of the cluster)");
  if (auto rc = parse_job_command(args, "stop",
                                  "JOB_ID --savepoint-dir DIR [-m HOST:PORT]",
                                  desc, nullptr, id, ep, out, err);
      rc >= 0)
    return rc;
  return savepoint_command("stop", id, dir, true, *ep, out, err);
}

} // namespace weir::cli
