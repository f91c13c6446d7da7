// The REST API of a real JobManager: Flink's shapes where the concept is the
// same, JSON errors with 4xx for bad requests, a body limit enforced before
// the body is read, and no path mapped onto the filesystem.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <httplib.h>

#include "cluster/cluster_fixture.hpp"

using namespace weir::test;

namespace {

/// The first error of a JSON error body.
std::string first_error(const rest_answer& a) {
  if (!a.body.is_object() || !a.body.contains("errors")
      || a.body["errors"].empty())
    return "(no JSON error: " + a.body.dump() + ")";
  return a.body["errors"][0].get<std::string>();
}

/// Sends `request` as is and returns the response that comes back (what
/// came within 5 s when it is incomplete).
std::string raw_request(uint16_t port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string out;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0
      && ::send(fd, request.data(), request.size(), 0)
           == static_cast<ssize_t>(request.size())) {
    // One whole response: its headers, then Content-Length bytes of body.
    char buf[4096];
    for (;;) {
      auto end = out.find("\r\n\r\n");
      if (end != std::string::npos) {
        auto at = out.find("Content-Length: ");
        size_t length = 0;
        if (at != std::string::npos && at < end)
          length = std::stoul(out.substr(at + 16));
        if (out.size() >= end + 4 + length)
          break;
      }
      auto n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0)
        break;
      out.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return out;
}

} // namespace

TEST_CASE("the REST API answers with Flink's shapes and JSON errors") {
  test_cluster c{{"rest.server.max-content-length=4096"}};
  c.add_task_manager(3);
  auto port = c.rest_port();

  auto overview = rest_get(port, "/overview");
  CHECK_EQ(overview.status, 200);
  CHECK_EQ(overview.body["taskmanagers"], 1);
  CHECK_EQ(overview.body["slots-total"], 3);
  CHECK(overview.body.contains("weir-version"));

  auto config = rest_get(port, "/config");
  CHECK_EQ(config.status, 200);
  bool has_rest_port = false;
  for (const auto& e : config.body["config"])
    has_rest_port
      |= e["key"] == "rest.port" && e["value"] == std::to_string(port);
  CHECK(has_rest_port);

  auto tms = rest_get(port, "/taskmanagers");
  CHECK_EQ(tms.status, 200);
  REQUIRE_EQ(tms.body["taskmanagers"].size(), 1);
  CHECK_EQ(tms.body["taskmanagers"][0]["id"], c.task_manager_id(0));
  CHECK_EQ(tms.body["taskmanagers"][0]["slotsNumber"], 3);
  CHECK_EQ(rest_get(port, "/taskmanagers/" + c.task_manager_id(0)).status, 200);
  auto no_tm = rest_get(port, "/taskmanagers/nobody");
  CHECK_EQ(no_tm.status, 404);
  CHECK(contains(first_error(no_tm), "nobody"));

  auto bad_id = rest_get(port, "/jobs/0123");
  CHECK_EQ(bad_id.status, 404);
  CHECK_EQ(first_error(bad_id), "'0123' is not a job id (32 hex digits)");
  auto no_job = rest_get(port, "/jobs/0123456789abcdef0123456789abcdef");
  CHECK_EQ(no_job.status, 404);

  auto not_json = rest_post(port, "/jobs", "{jobSpec");
  CHECK_EQ(not_json.status, 400);
  CHECK(contains(first_error(not_json), "not valid JSON"));
  auto unknown_field = rest_post(port, "/jobs", R"({"jobSpec":"x","jar":1})");
  CHECK_EQ(unknown_field.status, 400);
  CHECK(contains(first_error(unknown_field), "unknown field 'jar'"));
  auto bad_spec = rest_post(port, "/jobs", R"({"jobSpec":"name: {"})");
  CHECK_EQ(bad_spec.status, 400);
  CHECK(contains(first_error(bad_spec), "jobSpec:1:"));
  auto wrong_type = rest_post(port, "/jobs", R"({"jobSpec": 5})");
  CHECK_EQ(wrong_type.status, 400);
  CHECK(contains(first_error(wrong_type), "'jobSpec' has the wrong type"));

  // Over rest.server.max-content-length: refused from the header.
  auto big = rest_post(port, "/jobs", std::string(5000, ' '));
  CHECK_EQ(big.status, 413);
  CHECK(contains(first_error(big), "rest.server.max-content-length"));

  // Paths are routes, never files.
  httplib::Client raw{"127.0.0.1", port};
  for (const char* path : {"/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
                           "/jobs/../../etc/passwd"}) {
    auto res = raw.Get(path);
    REQUIRE(res);
    INFO(path << " -> " << res->body);
    CHECK_GE(res->status, 400);
    CHECK_LT(res->status, 500);
    CHECK_FALSE(contains(res->body, "root:"));
  }

  // A chunked body has no length to check before reading: refused.
  auto chunked = raw_request(port, "POST /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                   "Content-Type: application/json\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n"
                                   "2\r\n{}\r\n0\r\n\r\n");
  CHECK_EQ(chunked.substr(0, 12), "HTTP/1.1 411");
  CHECK(contains(chunked, "send Content-Length"));

  httplib::Client del{"127.0.0.1", port};
  auto res = del.Delete("/jobs");
  REQUIRE(res);
  CHECK_EQ(res->status, 405);

  // A job submitted over REST, then cancelled with PATCH.
  std::string spec = "name: \"endless\" parallelism: 2 "
                     "vertices { id: \"a\" operator: \"sequence\" } "
                     "vertices { id: \"b\" operator: \"discard\" } "
                     "edges { from: \"a\" to: \"b\" }";
  auto sub = rest_post(port, "/jobs", nlohmann::json{{"jobSpec", spec}}.dump());
  REQUIRE_EQ(sub.status, 202);
  auto id = sub.body["jobid"].get<std::string>();
  REQUIRE(c.wait_for_state(id, "RUNNING"));
  auto plan = rest_get(port, "/jobs/" + id + "/plan");
  CHECK_EQ(plan.status, 200);
  CHECK_EQ(plan.body["plan"]["nodes"].size(), 2);
  CHECK_EQ(plan.body["plan"]["nodes"][1]["inputs"][0]["ship_strategy"],
           "FORWARD");
  auto no_mode = raw.Patch(("/jobs/" + id).c_str(), "", "application/json");
  REQUIRE(no_mode);
  CHECK_EQ(no_mode->status, 400);
  // As `curl -X PATCH .../jobs/ID?mode=cancel` sends it: no body, no
  // Content-Length; answered at once.
  auto cancel = raw_request(port, "PATCH /jobs/" + id
                                    + "?mode=cancel HTTP/1.1\r\nHost: "
                                      "127.0.0.1\r\n\r\n");
  CHECK_EQ(cancel.substr(0, 12), "HTTP/1.1 202");
  CHECK(c.wait_for_state(id, "CANCELED"));
  auto ex = rest_get(port, "/jobs/" + id + "/exceptions");
  CHECK_EQ(ex.status, 200);
  CHECK(ex.body.contains("exceptionHistory"));
  auto cps = rest_get(port, "/jobs/" + id + "/checkpoints");
  CHECK_EQ(cps.status, 200);
  CHECK(cps.body["counts"].contains("completed"));
  auto jobs = rest_get(port, "/jobs/overview");
  CHECK_EQ(jobs.status, 200);
  CHECK_EQ(jobs.body["jobs"][0]["state"], "CANCELED");
}

TEST_CASE("a path that is not UTF-8 gets a JSON 404, not a failure") {
  test_cluster c;
  httplib::Client raw{"127.0.0.1", c.rest_port()};
  auto res = raw.Get("/jobs/%FF%FE");
  REQUIRE(res);
  CHECK_EQ(res->status, 404);
  CHECK(contains(res->body, "is not a job id"));
}
