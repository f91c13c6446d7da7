#include <filesystem>
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
  CHECK(s0.behavior.is_committing());
  CHECK(run(s0.behavior, {{"a", 1}, {"say \"x\"", value{}}}).empty());
  run(s1.behavior, {{"b", 2.5}});
  // Pre-committed at end of input, visible after the job's final commit.
  CHECK(list_dir(dir)
        == std::vector<std::string>{".part-0-0.csv.pending",
                                    ".part-1-0.csv.pending"});
  s0.behavior.on_checkpoint_complete(final_checkpoint);
  s1.behavior.on_checkpoint_complete(final_checkpoint);
  CHECK(list_dir(dir)
        == std::vector<std::string>{"part-0-0.csv", "part-1-0.csv"});
  CHECK(read_file(dir + "/part-0-0.csv") == "a,1\n\"say \"\"x\"\"\",\n");
  CHECK(read_file(dir + "/part-1-0.csv") == "word,n\nb,2.5\n");
}

TEST_CASE("file_sink names files after the job, leaving other jobs' alone") {
  temp_dir tmp;
  tmp.write("part-0-0.csv", "another job\n");
  tmp.write("part-0123abcd-0-0.csv", "a stale attempt\n");
  tmp.write(".part-0123abcd-0-1.csv.inprogress", "a stale attempt\n");
  auto op = make_op("file_sink", {{"path", tmp.path()}}, fields);
  op.ctx.job = "0123abcd0123abcd0123abcd0123abcd";
  auto b = builtin_registry().find("file_sink")->factory(op.ctx);
  run(b, {{"new", 1}});
  b.on_checkpoint_complete(final_checkpoint);
  CHECK(list_dir(tmp.path())
        == std::vector<std::string>{"part-0-0.csv", "part-0123abcd-0-0.csv"});
  CHECK(read_file(tmp.path() + "/part-0-0.csv") == "another job\n");
  CHECK(read_file(tmp.path() + "/part-0123abcd-0-0.csv") == "new,1\n");
}

TEST_CASE("file_sink writes no file for empty input") {
  temp_dir tmp;
  auto op = make_op("file_sink", {{"path", tmp.path()}}, fields);
  run(op.behavior, {});
  op.behavior.on_checkpoint_complete(final_checkpoint);
  CHECK(list_dir(tmp.path()).empty());
}

TEST_CASE("file_sink commits a checkpoint's files only when it completes") {
  temp_dir tmp;
  auto op = make_op("file_sink", {{"path", tmp.path()}}, fields);
  vector_collector out;
  op.behavior.on_record({"a", 1}, out);
  CHECK(list_dir(tmp.path())
        == std::vector<std::string>{".part-0-0.csv.inprogress"});
  auto state1 = op.behavior.on_snapshot(1);
  // Nothing new since checkpoint 1: no empty file for checkpoint 2.
  auto state2 = op.behavior.on_snapshot(2);
  op.behavior.on_record({"b", 2}, out);
  auto state3 = op.behavior.on_snapshot(3);
  op.behavior.on_record({"c", 3}, out);
  CHECK(list_dir(tmp.path())
        == std::vector<std::string>{".part-0-0.csv.pending",
                                    ".part-0-1.csv.pending",
                                    ".part-0-2.csv.inprogress"});
  op.behavior.on_checkpoint_complete(2);
  CHECK(list_dir(tmp.path())
        == std::vector<std::string>{
          ".part-0-1.csv.pending", ".part-0-2.csv.inprogress", "part-0-0.csv"});
  // Idempotent, and a later id covers the earlier ones.
  op.behavior.on_checkpoint_complete(2);
  op.behavior.on_checkpoint_complete(5);
  CHECK(list_dir(tmp.path())
        == std::vector<std::string>{".part-0-2.csv.inprogress", "part-0-0.csv",
                                    "part-0-1.csv"});
  CHECK(read_file(tmp.path() + "/part-0-0.csv") == "a,1\n");
  CHECK(read_file(tmp.path() + "/part-0-1.csv") == "b,2\n");
}

TEST_CASE("file_sink restored from a checkpoint commits its pending files "
          "and drops what came after") {
  temp_dir tmp;
  auto first = make_op("file_sink", {{"path", tmp.path()}}, fields);
  vector_collector out;
  first.behavior.on_record({"a", 1}, out);
  auto state1 = first.behavior.on_snapshot(1);
  first.behavior.on_record({"b", 2}, out);
  auto state2 = first.behavior.on_snapshot(2);
  first.behavior.on_checkpoint_complete(2);
  first.behavior.on_record({"c", 3}, out);
  first.behavior.on_snapshot(3);
  first.behavior.on_record({"d", 4}, out);
  first.behavior.on_end_of_input(out);
  // Checkpoint 3 never completed; the attempt dies. Its successor restores
  // checkpoint 2 (committed already) and replays c and d.
  CHECK(list_dir(tmp.path())
        == std::vector<std::string>{".part-0-2.csv.pending",
                                    ".part-0-3.csv.pending", "part-0-0.csv",
                                    "part-0-1.csv"});
  {
    auto second = make_op("file_sink", {{"path", tmp.path()}}, fields);
    second.behavior.on_restore(state2);
    CHECK(list_dir(tmp.path())
          == std::vector<std::string>{"part-0-0.csv", "part-0-1.csv"});
    run(second.behavior, {{"c", 3}, {"d", 4}});
    second.behavior.on_checkpoint_complete(final_checkpoint);
  }
  CHECK(list_dir(tmp.path())
        == std::vector<std::string>{"part-0-0.csv", "part-0-1.csv",
                                    "part-0-2.csv"});
  CHECK(read_file(tmp.path() + "/part-0-2.csv") == "c,3\nd,4\n");
  // Restoring checkpoint 1, whose pending file the completion of 2 has
  // committed already, keeps that file and drops the later ones.
  auto third = make_op("file_sink", {{"path", tmp.path()}}, fields);
  third.behavior.on_restore(state1);
  CHECK(list_dir(tmp.path()) == std::vector<std::string>{"part-0-0.csv"});
  CHECK(read_file(tmp.path() + "/part-0-0.csv") == "a,1\n");
}

TEST_CASE("file_sink rejects corrupt state and a missing pending file") {
  temp_dir tmp;
  auto first = make_op("file_sink", {{"path", tmp.path()}}, fields);
  vector_collector out;
  first.behavior.on_record({"a", 1}, out);
  auto state = first.behavior.on_snapshot(1);
  auto second = make_op("file_sink", {{"path", tmp.path()}}, fields);
  CHECK_THROWS_WITH_AS(second.behavior.on_restore(state.substr(0, 3)),
                       doctest::Contains("corrupt state"), std::runtime_error);
  std::filesystem::remove(tmp.path() + "/.part-0-0.csv.pending");
  CHECK_THROWS_WITH_AS(second.behavior.on_restore(state),
                       doctest::Contains("the pending file is missing"),
                       std::runtime_error);
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
