#include <functional>
#include <iostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <doctest/doctest.h>

#include "operators/harness.hpp"

using namespace weir;
using namespace weir::test;

namespace {

/// Runs `f` with std::cout redirected into a string; returns the string.
/// Assertions must stay outside `f`: doctest may log to std::cout.
std::string capture_stdout(const std::function<void()>& f) {
  std::ostringstream buf;
  auto* old = std::cout.rdbuf(buf.rdbuf());
  try {
    f();
  } catch (...) {
    std::cout.rdbuf(old);
    throw;
  }
  std::cout.rdbuf(old);
  return buf.str();
}

const std::vector<std::string> fields{"word", "n"};

} // namespace

TEST_CASE("print writes plain CSV lines with parallelism 1") {
  auto op = make_op("print", {}, fields);
  CHECK(op.ctx.output_fields.empty());
  std::vector<row> emitted;
  auto text = capture_stdout([&] {
    emitted = run(op.behavior, {{"a", 1}, {"b,c", 2}});
  });
  CHECK(emitted.empty());
  CHECK(text == "a,1\n\"b,c\",2\n");
}

TEST_CASE("print prefixes lines with the subtask number when parallel") {
  auto a = make_op("print", {}, fields, 1, 3);
  auto b = make_op("print", {{"prefix", "out"}}, fields, 0, 2);
  auto c = make_op("print", {{"prefix", "out"}}, fields);
  auto text = capture_stdout([&] {
    run(a.behavior, {{"a", 1}});
    run(b.behavior, {{"b", 2}});
    run(c.behavior, {{"c", 3}});
  });
  CHECK(text == "2> a,1\nout:1> b,2\nout> c,3\n");
}

TEST_CASE("print keeps lines whole when subtasks print concurrently") {
  const int p = 4;
  const int n = 2000;
  std::vector<op_under_test> ops;
  for (int i = 0; i < p; ++i)
    ops.push_back(make_op("print", {}, fields, i, p));
  auto text = capture_stdout([&] {
    std::vector<std::thread> threads;
    for (int i = 0; i < p; ++i)
      threads.emplace_back([&, i] {
        vector_collector out;
        for (int k = 0; k < n; ++k)
          ops[i].behavior.on_record({"word" + std::to_string(k), k}, out);
        ops[i].behavior.on_end_of_input(out);
      });
    for (auto& t : threads)
      t.join();
  });
  std::set<std::string> expected;
  for (int i = 0; i < p; ++i)
    for (int k = 0; k < n; ++k)
      expected.insert(std::to_string(i + 1) + "> word" + std::to_string(k) + ","
                      + std::to_string(k));
  std::istringstream lines{text};
  std::set<std::string> seen;
  std::string line;
  size_t count = 0;
  while (std::getline(lines, line)) {
    ++count;
    seen.insert(line);
  }
  CHECK(count == expected.size());
  CHECK(seen == expected);
}

TEST_CASE("file_sink writes one CSV file per subtask, creating the "
          "directory") {
  temp_dir tmp;
  auto dir = tmp.path() + "/out/nested";
  auto s0 = make_op("file_sink", {{"path", dir}}, fields, 0, 2);
  auto s1
    = make_op("file_sink", {{"path", dir}, {"header", "true"}}, fields, 1, 2);
  CHECK(s0.ctx.output_fields.empty());
  CHECK(run(s0.behavior, {{"a", 1}, {"say \"x\"", value{}}}).empty());
  run(s1.behavior, {{"b", 2.5}});
  CHECK(read_file(dir + "/part-0.csv") == "a,1\n\"say \"\"x\"\"\",\n");
  CHECK(read_file(dir + "/part-1.csv") == "word,n\nb,2.5\n");
}

TEST_CASE("file_sink truncates an existing part file") {
  temp_dir tmp;
  tmp.write("part-0.csv", "old contents that are long\n");
  run(make_op("file_sink", {{"path", tmp.path()}}, fields).behavior,
      {{"new", 1}});
  CHECK(read_file(tmp.path() + "/part-0.csv") == "new,1\n");
}

TEST_CASE("file_sink writes an empty file for empty input") {
  temp_dir tmp;
  run(make_op("file_sink", {{"path", tmp.path()}}, fields).behavior, {});
  CHECK(read_file(tmp.path() + "/part-0.csv").empty());
}

TEST_CASE("file_sink fails naming the path when it cannot write") {
  temp_dir tmp;
  auto blocker = tmp.write("not-a-dir", "x");
  auto op = make_op("file_sink", {{"path", blocker + "/out"}}, fields);
  vector_collector out;
  auto dir = blocker + "/out";
  CHECK_THROWS_WITH_AS(op.behavior.on_record({"a", 1}, out),
                       doctest::Contains(dir.c_str()), std::runtime_error);
  CHECK_THROWS_AS(op.behavior.on_end_of_input(out), std::runtime_error);
}

TEST_CASE("discard drops every row") {
  auto op = make_op("discard", {}, fields);
  CHECK(op.ctx.output_fields.empty());
  CHECK(run(op.behavior, {{"a", 1}, {"b", 2}}).empty());
}
