// The web dashboard in a real browser: Debian's headless Chromium, driven
// through chromedriver, against a real cluster running a job. Screenshots
// of every page go to <build>/test-artifacts/dashboard/.

#include <string>

#include <doctest/doctest.h>

#include "cluster/cluster_fixture.hpp"
#include "web/webdriver.hpp"

using namespace weir::test;
using json = nlohmann::json;

namespace {

/// Submits tests/cluster/jobs/hot_items.pbtxt detached; returns its id.
std::string submit_hot_items(test_cluster& c) {
  weir_process run{{"run", "-m", c.address(),
                    source_file("tests/cluster/jobs/hot_items.pbtxt"),
                    "--detached", "--param", "output=" + (c.dir() / "out"),
                    "--param", "checkpoints=" + (c.dir() / "chk")}};
  auto r = run.wait();
  INFO("submit: " << r.err);
  REQUIRE_EQ(r.exit_code, 0);
  return r.out.substr(0, 32);
}

/// Submits a job spec over REST; returns its id.
std::string submit_spec(test_cluster& c, const std::string& spec) {
  auto sub = rest_post(c.rest_port(), "/jobs", json{{"jobSpec", spec}}.dump());
  REQUIRE_EQ(sub.status, 202);
  return sub.body["jobid"].get<std::string>();
}

std::string url(const test_cluster& c, const std::string& route = "") {
  return "http://127.0.0.1:" + std::to_string(c.rest_port()) + "/" + route;
}

/// The JavaScript for "the text of the element with id `id`".
std::string text_of(const std::string& id) {
  return "(document.getElementById('" + id + "') || {}).textContent";
}

std::string count_of(const std::string& selector) {
  return "document.querySelectorAll('" + selector + "').length";
}

} // namespace

TEST_CASE("the dashboard draws a running job, updates its rates, watermarks "
          "and checkpoints, takes a savepoint and cancels the job") {
  test_cluster c{{"web.refresh-interval=500ms"}};
  c.add_task_manager(2);
  c.add_task_manager(2);
  auto id = submit_hot_items(c);
  REQUIRE(c.wait_for_state(id, "RUNNING"));
  auto shots = artifact_dir("dashboard");
  browser b;

  // Overview: TaskManagers, slots, the running job.
  b.open(url(c));
  CHECK(b.wait_until("return " + text_of("tm-count") + " === '2' && "
                     + text_of("slots-total") + " === '4' && "
                     + count_of("#running-body tr.job-row") + " === 1;"));
  CHECK_EQ(b.run("return " + text_of("running-body") + ";")
             .get<std::string>()
             .find("hot_items"),
           0);
  b.screenshot(shots + "/overview.png");

  // The job page, from a click on its row: the graph with every vertex,
  // its parallelism and its exchanges.
  b.click("#running-body tr.job-row");
  REQUIRE(b.wait_until("return " + count_of("#job-graph g.vertex")
                       + " === 3 && " + count_of("#job-graph g.edge")
                       + " === 2;"));
  CHECK_EQ(b.run("return location.hash;"), "#/jobs/" + id);
  auto graph = b.run("return Array.from(document.querySelectorAll("
                     "'#job-graph g.vertex')).map(g => g.textContent);");
  INFO("graph: " << graph.dump());
  CHECK_NE(graph[0].get<std::string>().find("events -> bids -> project"),
           std::string::npos);
  CHECK_NE(graph[1].get<std::string>().find("parallelism 2"),
           std::string::npos);
  CHECK_EQ(b.run("return Array.from(document.querySelectorAll('#job-graph "
                 "g.edge')).map(e => e.getAttribute('data-ship-strategy'))"
                 ".join();"),
           "HASH,HASH");
  CHECK_NE(b.run("return document.getElementById('job-graph').textContent;")
             .get<std::string>()
             .find("HASH [bid_auction]"),
           std::string::npos);
  // Each vertex colored by its backpressure once its metrics came, with
  // rates and a watermark.
  const std::string vertices
    = "Array.from(document.querySelectorAll('#job-graph g.vertex'))";
  REQUIRE(b.wait_until(
    "return " + vertices
    + ".every(g => ['ok', 'low', 'high'].includes(g.getAttribute("
      "'data-backpressure')) && !g.querySelector('.vertex-watermark')"
      ".textContent.includes('no watermark')) && "
    + vertices
    + "[0].querySelector('.vertex-rate').textContent.match(/out [1-9]/) "
      "!== null;"));
  auto fills = b.run("return " + vertices
                     + ".map(g => [g.getAttribute('data-backpressure'), "
                       "g.querySelector('.vbox').getAttribute('fill')]);");
  INFO("fills: " << fills.dump());
  for (const auto& f : fills) {
    auto level = f[0].get<std::string>();
    auto fill = f[1].get<std::string>();
    CHECK_EQ(fill, level == "ok"    ? "#d6f1e0"
                   : level == "low" ? "#ffecbf"
                                    : "#fbd3d3");
  }
  // It updates itself: the watermark moves on, checkpoints accumulate.
  auto watermark = b.run("return " + vertices
                         + "[1].querySelector('.vertex-watermark')"
                           ".textContent;");
  const std::string newest_checkpoint
    = "Number((document.querySelector('#cp-rows tr.checkpoint-row') || "
      "{getAttribute: () => 0}).getAttribute('data-cid'))";
  auto checkpoint = b.run("return " + newest_checkpoint + ";");
  CHECK(b.wait_until("return " + vertices
                     + "[1].querySelector('.vertex-watermark').textContent !== "
                     + watermark.dump() + " && " + newest_checkpoint + " > "
                     + checkpoint.dump() + ";"));
  CHECK(
    b.wait_until("return " + count_of("#checkpoint-chart .cp-bar") + " >= 2;"));
  // Throughput over time: a line per vertex once two samples came.
  CHECK(b.wait_until("return " + count_of("#throughput-chart .tp-line")
                     + " === 3;"));
  // The table shows the newest 20 checkpoints; the rest on request.
  REQUIRE(
    b.wait_until("return " + count_of("#cp-rows tr.checkpoint-row")
                   + " === 20 && !!document.querySelector('[data-cp-all]');",
                 std::chrono::seconds{30}));
  b.click("[data-cp-all]");
  CHECK(b.wait_until("return " + count_of("#cp-rows tr.checkpoint-row")
                     + " > 20;"));
  b.click("[data-cp-all]");
  CHECK(b.wait_until("return " + count_of("#cp-rows tr.checkpoint-row")
                     + " === 20;"));
  CHECK_EQ(b.run("return " + count_of("#vertex-body tr.vertex-row") + ";"), 3);
  b.screenshot(shots + "/job.png");

  // A vertex's subtasks, from a click on the graph.
  b.click("#job-graph g.vertex[data-vertex-id='1']");
  REQUIRE(b.wait_until("return !document.getElementById('vertex-details')"
                       ".hidden && "
                       + count_of("#subtask-table tbody tr") + " === 2;"));
  CHECK_NE(b.run("return " + text_of("vertex-details") + ";")
             .get<std::string>()
             .find("counts (window)"),
           std::string::npos);
  b.screenshot(shots + "/vertex.png");

  // One checkpoint's details per task.
  auto cid = b.run("return " + newest_checkpoint + ";").dump();
  b.click("#cp-rows tr.checkpoint-row[data-cid='" + cid + "']");
  REQUIRE(b.wait_until("return " + count_of("#checkpoint-details .cpd-task")
                       + " === 3 && " + text_of("checkpoint-details")
                       + ".includes('Checkpoint #" + cid + " details');"));
  b.screenshot(shots + "/checkpoint.png");

  // A TaskManager: its slots and the tail of its log.
  b.open(url(c, "#/taskmanagers/" + c.task_manager_id(0)));
  CHECK(b.wait_until("return " + count_of("#tm-slots .slot") + " === 2 && "
                     + text_of("tm-log") + ".includes('registered 2 slots');"));
  CHECK(b.wait_until("return " + count_of("#tm-metrics-body tr") + " >= 4;"));
  b.screenshot(shots + "/taskmanager.png");

  // Savepoint, then cancel, with the page's own buttons.
  b.open(url(c, "#/jobs/" + id));
  REQUIRE(b.wait_until("return !!document.getElementById('trigger-savepoint')"
                       " && "
                       + text_of("job-state") + " === 'RUNNING';"));
  b.click("#trigger-savepoint");
  REQUIRE(b.wait_until("return (document.querySelector('.savepoint-location')"
                       " || {}).textContent > '';",
                       std::chrono::seconds{30}));
  auto location = b.run("return document.querySelector('.savepoint-location')"
                        ".textContent;")
                    .get<std::string>();
  CHECK_NE(location.find(c.dir() / "savepoints"), std::string::npos);
  b.click("#cancel-job");
  REQUIRE(b.wait_until("return !document.getElementById('confirm-dialog')"
                       ".hidden;"));
  b.screenshot(shots + "/cancel-dialog.png");
  b.click("#confirm-yes");
  CHECK(b.wait_until("return " + text_of("job-state") + " === 'CANCELED';",
                     std::chrono::seconds{30}));
  CHECK(c.wait_for_state(id, "CANCELED", std::chrono::seconds{5}));
  CHECK(b.wait_until("return !document.getElementById('cancel-job');"));
  b.screenshot(shots + "/canceled.png");
}

TEST_CASE("the dashboard shows a failed job's exceptions and offers no "
          "buttons the config turned off") {
  test_cluster c{{"web.refresh-interval=500ms", "web.cancel.enable=false",
                  "web.savepoint.enable=false"}};
  c.add_task_manager(2);
  auto endless = submit_spec(c, "name: \"endless\" parallelism: 1 "
                                "vertices { id: \"a\" operator: \"sequence\" "
                                "params { key: \"rate\" value: \"1000\" } } "
                                "vertices { id: \"b\" operator: \"discard\" } "
                                "edges { from: \"a\" to: \"b\" }");
  REQUIRE(c.wait_for_state(endless, "RUNNING"));
  auto shots = artifact_dir("dashboard");
  browser b;
  b.open(url(c, "#/jobs/" + endless));
  REQUIRE(b.wait_until("return " + text_of("job-state") + " === 'RUNNING' && "
                       + count_of("#job-graph g.vertex") + " === 1;"));
  CHECK_EQ(b.run("return " + count_of("#job-actions button") + ";"), 0);
  // It sets no checkpoint interval: the cluster's directory serves its
  // savepoints only, and the page says so.
  auto config
    = rest_get(c.rest_port(), "/jobs/" + endless + "/checkpoints/config");
  REQUIRE_EQ(config.status, 200);
  CHECK_EQ(config.body["interval"], 0);
  CHECK(b.wait_until("return " + text_of("cp-kv")
                     + ".includes('savepoints only');"));

  auto failing = submit_spec(
    c, "name: \"broken\" vertices { id: \"in\" operator: \"file_source\" "
       "params { key: \"path\" value: \"/nonexistent/input.txt\" } } "
       "vertices { id: \"out\" operator: \"discard\" } "
       "edges { from: \"in\" to: \"out\" } "
       "restart_strategy { type: \"fixed-delay\" attempts: 1 delay_ms: 10 }");
  REQUIRE(c.wait_for_state(failing, "FAILED"));
  b.open(url(c, "#/jobs/" + failing));
  REQUIRE(b.wait_until("return " + text_of("job-state") + " === 'FAILED' && "
                       + count_of(".exception-entry") + " === 2;"));
  CHECK_NE(b.run("return " + text_of("exception-history") + ";")
             .get<std::string>()
             .find("/nonexistent/input.txt"),
           std::string::npos);
  CHECK(b.run("return !document.getElementById('root-exception').hidden;")
        == true);
  b.screenshot(shots + "/failed.png");

  // The overview lists it among the completed jobs.
  b.open(url(c));
  CHECK(b.wait_until("return " + count_of("#completed-body tr.job-row")
                     + " === 1 && " + text_of("jobs-failed") + " === '1';"));
}
