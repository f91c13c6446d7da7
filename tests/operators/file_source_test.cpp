#include <algorithm>
#include <functional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>

#include <doctest/doctest.h>

#include "operators/harness.hpp"
#include "operators/line_reader.hpp"

using namespace weir;
using namespace weir::test;

namespace {

/// Reads `path` as lines with `p` file_source subtasks; returns the lines in
/// subtask order (which must be file order).
std::vector<std::string> read_lines(const std::string& path, int p,
                                    size_t budget = 3) {
  std::vector<std::string> out;
  for (int i = 0; i < p; ++i) {
    auto op = make_op("file_source", {{"path", path}}, {}, i, p);
    CHECK(op.ctx.output_fields == std::vector<std::string>{"line"});
    for (const auto& r : drain(op.behavior, budget)) {
      REQUIRE(r.size() == 1);
      out.push_back(r[0].as_string());
    }
  }
  return out;
}

/// Reads `path` with `p` line_readers of `buffer` bytes, in subtask order.
std::vector<std::string> read_with_line_readers(const std::string& path, int p,
                                                size_t buffer) {
  std::vector<std::string> out;
  for (int i = 0; i < p; ++i) {
    builtins::line_reader reader{path, i, p, buffer};
    reader.open();
    std::string line;
    while (reader.next(line))
      out.push_back(line);
  }
  return out;
}

std::string what_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  FAIL("no exception");
  return {};
}

} // namespace

TEST_CASE("file_source subtasks read every line exactly once") {
  temp_dir dir;
  std::string long_line(200 * 1024, 'x');
  long_line[100] = 'y';
  const std::vector<std::string> contents{
    "",
    "\n",
    "one line without newline",
    "one line\n",
    "a\nb\nc\n",
    "a\nb\nc",
    "\n\n\nx\n\n",
    "first\r\nsecond\r\n\r\nlast\r\n",
    "short\n" + long_line + "\nshort again\n" + long_line,
    "alpha beta\ngamma\n\ndelta epsilon zeta\neta\ntheta iota kappa\n",
  };
  for (size_t c = 0; c < contents.size(); ++c) {
    auto path = dir.write("input.txt", contents[c]);
    auto expected = expected_lines(contents[c]);
    for (int p = 1; p <= 4; ++p) {
      CAPTURE(c);
      CAPTURE(p);
      CHECK(read_lines(path, p) == expected);
    }
  }
}

TEST_CASE("line readers agree with a plain split for any buffer size and "
          "split") {
  temp_dir dir;
  std::mt19937 rng{42};
  const std::string alphabet = "ab\n\r";
  for (int round = 0; round < 200; ++round) {
    std::string text;
    auto len = std::uniform_int_distribution<size_t>{0, 40}(rng);
    for (size_t i = 0; i < len; ++i)
      text += alphabet[std::uniform_int_distribution<size_t>{0, 3}(rng)];
    auto path = dir.write("random.txt", text);
    auto expected = expected_lines(text);
    for (int p = 1; p <= 6; ++p)
      for (size_t buffer : {1, 2, 3, 5, 64}) {
        CAPTURE(text);
        CAPTURE(p);
        CAPTURE(buffer);
        REQUIRE(read_with_line_readers(path, p, buffer) == expected);
      }
  }
}

TEST_CASE("line reader numbers lines across the whole file") {
  temp_dir dir;
  auto path = dir.write("n.txt", "l1\nl2\nl3\nl4\nl5\nl6\n");
  builtins::line_reader reader{path, 1, 2, 2};
  reader.open();
  std::string line;
  REQUIRE(reader.next(line));
  CHECK(line == "l4");
  CHECK(reader.line_number() == 4);
  REQUIRE(reader.next(line));
  CHECK(reader.line_number() == 5);
}

TEST_CASE("file_source emits at most budget rows per poll") {
  temp_dir dir;
  auto path = dir.write("in.txt", "1\n2\n3\n4\n5\n");
  auto op = make_op("file_source", {{"path", path}});
  vector_collector out;
  CHECK(op.behavior.on_poll(out, 2).kind == poll_result::more);
  CHECK(out.rows.size() == 2);
  CHECK(op.behavior.on_poll(out, 2).kind == poll_result::more);
  CHECK(op.behavior.on_poll(out, 2).kind == poll_result::finished);
  CHECK(out.rows.size() == 5);
}

TEST_CASE("file_source with skip_header drops only the file's first line") {
  temp_dir dir;
  auto path = dir.write("in.txt", "header\na\nb\nc\nd\n");
  for (int p = 1; p <= 3; ++p) {
    std::vector<std::string> lines;
    for (int i = 0; i < p; ++i) {
      auto op = make_op("file_source",
                        {{"path", path}, {"skip_header", "true"}}, {}, i, p);
      for (const auto& r : drain(op.behavior))
        lines.push_back(r[0].as_string());
    }
    CHECK(lines == std::vector<std::string>{"a", "b", "c", "d"});
  }
}

TEST_CASE("file_source fails on its first poll when the file is missing") {
  auto op = make_op("file_source", {{"path", "/nonexistent/weir/input.txt"}});
  vector_collector out;
  auto msg = what_of([&] { op.behavior.on_poll(out, 10); });
  CHECK(msg.find("/nonexistent/weir/input.txt") != std::string::npos);
  CHECK(msg.find("cannot open") != std::string::npos);
}

TEST_CASE("file_source parses typed CSV columns") {
  temp_dir dir;
  auto path = dir.write(
    "in.csv",
    "name,count,ratio,ok,at\r\n"
    "plain,1,0.5,true,0\r\n"
    "\"quoted, with comma\",-42,1e3,FALSE,2024-02-29T12:34:56.789Z\r\n"
    "\"say \"\"hi\"\"\",+7,,yes,1709210096789\r\n"
    "\n"
    ",  8 ,2,0,1970-01-01\r\n");
  auto op
    = make_op("file_source", {{"path", path},
                              {"format", "csv"},
                              {"fields", "name, count, ratio, ok, at"},
                              {"types", "string,int64,double,bool,timestamp"},
                              {"skip_header", "true"}});
  CHECK(op.ctx.output_fields
        == std::vector<std::string>{"name", "count", "ratio", "ok", "at"});
  auto rows = drain(op.behavior);
  REQUIRE(rows.size() == 4);
  CHECK(rows[0] == row{"plain", int64_t{1}, 0.5, true, timestamp{0}});
  CHECK(rows[1]
        == row{"quoted, with comma", int64_t{-42}, 1000.0, false,
               timestamp{1709210096789}});
  CHECK(
    rows[2]
    == row{"say \"hi\"", int64_t{7}, value{}, true, timestamp{1709210096789}});
  CHECK(rows[3] == row{"", int64_t{8}, 2.0, false, timestamp{0}});
}

TEST_CASE("file_source reads CSV columns as strings without types") {
  temp_dir dir;
  auto path = dir.write("in.csv", "a,1\nb,2");
  auto op = make_op("file_source",
                    {{"path", path}, {"format", "csv"}, {"fields", "k,v"}});
  CHECK(drain(op.behavior) == std::vector<row>{{"a", "1"}, {"b", "2"}});
}

TEST_CASE("CSV errors name the file, the line and the column") {
  temp_dir dir;
  std::string text;
  for (int i = 1; i <= 10; ++i)
    text += "k" + std::to_string(i) + "," + std::to_string(i) + "\n";
  SUBCASE("an unparsable value") {
    auto bad = text;
    bad.replace(bad.find("k3,3"), 4, "k3,x3");
    auto path = dir.write("bad.csv", bad);
    for (int p = 1; p <= 3; ++p) {
      CAPTURE(p);
      std::string msg;
      for (int i = 0; i < p; ++i) {
        auto op = make_op("file_source",
                          {{"path", path},
                           {"format", "csv"},
                           {"fields", "key,count"},
                           {"types", "string,int64"}},
                          {}, i, p);
        vector_collector out;
        try {
          while (op.behavior.on_poll(out, 100).kind != poll_result::finished) {
          }
        } catch (const std::runtime_error& e) {
          msg = e.what();
        }
      }
      CHECK(msg.find(path + ":3:") != std::string::npos);
      CHECK(msg.find("column 2 ('count')") != std::string::npos);
      CHECK(msg.find("'x3'") != std::string::npos);
    }
  }
  SUBCASE("a wrong column count, seen by a later subtask") {
    auto bad = text;
    bad.replace(bad.find("k8,8"), 4, "k8,8,extra");
    auto path = dir.write("bad.csv", bad);
    auto op = make_op("file_source",
                      {{"path", path}, {"format", "csv"}, {"fields", "k,v"}},
                      {}, 1, 2);
    auto msg = what_of([&] { drain(op.behavior); });
    CHECK(msg.find(path + ":8:") != std::string::npos);
    CHECK(msg.find("expected 2 columns") != std::string::npos);
    CHECK(msg.find("found 3") != std::string::npos);
  }
  SUBCASE("an unterminated quote") {
    auto path = dir.write("bad.csv", "a,1\n\"b,2\n");
    auto op = make_op("file_source",
                      {{"path", path}, {"format", "csv"}, {"fields", "k,v"}});
    auto msg = what_of([&] { drain(op.behavior); });
    CHECK(msg.find(path + ":2:") != std::string::npos);
    CHECK(msg.find("column 1") != std::string::npos);
    CHECK(msg.find("unterminated") != std::string::npos);
  }
}

TEST_CASE("file_source resumes after a restore exactly where the snapshot "
          "was taken") {
  temp_dir dir;
  std::string text;
  for (int i = 0; i < 500; ++i)
    text += "line " + std::to_string(i) + "\n";
  auto path = dir.write("in.txt", text);
  for (int p : {1, 3}) {
    CAPTURE(p);
    std::vector<row> all;
    for (int s = 0; s < p; ++s) {
      auto first = make_op("file_source", {{"path", path}}, {}, s, p);
      vector_collector out;
      first.behavior.on_poll(out, 37);
      auto snap = first.behavior.on_snapshot();
      // Rows read after the snapshot are lost with the failed instance.
      first.behavior.on_poll(out, 11);
      out.rows.resize(std::min<size_t>(out.rows.size(), 37));
      auto second
        = make_op("file_source", {{"path", path}}, {}, s, p, nullptr, true);
      second.behavior.on_restore(snap);
      for (auto& r : drain(second.behavior))
        out.rows.push_back(std::move(r));
      for (auto& r : out.rows)
        all.push_back(std::move(r));
    }
    REQUIRE(all.size() == 500);
    std::sort(all.begin(), all.end(), [](const row& a, const row& b) {
      return std::stoi(a[0].as_string().substr(5))
             < std::stoi(b[0].as_string().substr(5));
    });
    for (int i = 0; i < 500; ++i)
      CHECK(all[static_cast<size_t>(i)][0].as_string()
            == "line " + std::to_string(i));
  }
}

TEST_CASE("sequence resumes after a restore exactly where the snapshot was "
          "taken") {
  auto first = make_op("sequence", {{"from", "5"}, {"to", "105"}});
  vector_collector out;
  first.behavior.on_poll(out, 40);
  auto snap = first.behavior.on_snapshot();
  auto second = make_op("sequence", {{"from", "5"}, {"to", "105"}}, {}, 0, 1,
                        nullptr, true);
  second.behavior.on_restore(snap);
  auto rest = drain(second.behavior);
  REQUIRE(rest.size() == 60);
  CHECK(rest.front()[0].as_int64() == 45);
  CHECK(rest.back()[0].as_int64() == 104);
  CHECK_THROWS(second.behavior.on_restore("garbage"));
}

TEST_CASE("file_source splits follow a rescaled job: every line once at "
          "any new parallelism") {
  temp_dir dir;
  std::string text;
  for (int i = 0; i < 300; ++i)
    text += "line " + std::to_string(i) + "\n";
  auto path = dir.write("in.txt", text);
  for (int before : {1, 2, 3}) {
    for (int after : {1, 2, 4}) {
      CAPTURE(before);
      CAPTURE(after);
      std::multiset<std::string> seen;
      std::vector<std::string> snaps;
      for (int s = 0; s < before; ++s) {
        auto op = make_op("file_source", {{"path", path}}, {}, s, before);
        vector_collector out;
        // Subtask 0 has not started when the checkpoint is taken.
        if (s > 0)
          op.behavior.on_poll(out, static_cast<size_t>(13 * s));
        for (auto& r : out.rows)
          seen.insert(r[0].as_string());
        snaps.push_back(op.behavior.on_snapshot());
      }
      for (int s = 0; s < after; ++s) {
        auto op = make_op("file_source", {{"path", path}}, {}, s, after,
                          nullptr, true);
        // Old subtask j's state goes to new subtask j % after.
        for (int j = 0; j < before; ++j)
          if (j % after == s)
            op.behavior.on_restore(snaps[static_cast<size_t>(j)]);
        for (auto& r : drain(op.behavior))
          seen.insert(r[0].as_string());
      }
      REQUIRE(seen.size() == 300);
      for (int i = 0; i < 300; ++i)
        CHECK(seen.count("line " + std::to_string(i)) == 1);
    }
  }
}

TEST_CASE("file_source refuses corrupt splits") {
  temp_dir dir;
  auto path = dir.write("in.txt", "a\nb\n");
  auto op = make_op("file_source", {{"path", path}}, {}, 0, 1, nullptr, true);
  operator_state bad;
  bad.list("splits") = {value{int64_t{3}}, value{int64_t{2}}, value{int64_t{0}},
                        value{int64_t{0}}};
  CHECK_THROWS_WITH_AS(op.behavior.on_restore(bad.snapshot()),
                       doctest::Contains("out of range"), std::runtime_error);
  bad.list("splits").pop_back();
  CHECK_THROWS_WITH_AS(op.behavior.on_restore(bad.snapshot()),
                       doctest::Contains("not quadruples"), std::runtime_error);
}
