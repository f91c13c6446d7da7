// `weir run --local`: the wordcount contract at several parallelisms, a job
// that fails, and a cluster too small for the job.

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "cli/weir_process.hpp"
#include "support/temp_dir.hpp"

using namespace weir::test;

namespace {

using strings = std::vector<std::string>;
using word_counts = std::map<std::string, uint64_t>;

// -- the test's own word count ------------------------------------------------

bool is_word_byte(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')
         || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

/// Words are maximal runs of ASCII alphanumerics and bytes >= 0x80, with
/// ASCII letters lower-cased.
word_counts count_words(const std::string& text) {
  word_counts result;
  std::string word;
  for (char c : text + '\n') {
    auto b = static_cast<unsigned char>(c);
    if (is_word_byte(b)) {
      word += (b >= 'A' && b <= 'Z') ? static_cast<char>(b - 'A' + 'a') : c;
    } else if (!word.empty()) {
      ++result[word];
      word.clear();
    }
  }
  return result;
}

/// A text exercising the tokenizer and the file split: mixed case, digits,
/// UTF-8, punctuation inside words, tabs, empty lines, CRLF endings, a line
/// longer than the reader's 64 KiB buffer, and no newline at the end.
std::string make_input() {
  const strings vocabulary{
    "the",  "The",    "THE",   "weir",   "Weir",    "stream",  "Stream",
    "it's", "e-mail", "x_y",   "42",     "2024",    "abc123",  "ABC123",
    "café", "CAFÉ",   "naïve", "日本語", "Ünïcode", "ÜNÏCODE", "a",
    "I",    "zzz",    "data",  "Data",   "flow",    "FLOW",    "q"};
  const strings separators{" ",    " ",   " ",   "\t", ", ", "; ", " -- ",
                           "... ", " \"", "\" ", " (", ") ", "!",  "?"};
  std::mt19937 gen{20240611};
  auto pick = [&](const strings& xs) -> const std::string& {
    return xs[std::uniform_int_distribution<size_t>{0, xs.size() - 1}(gen)];
  };
  std::string text;
  for (int line = 0; line < 12000; ++line) {
    auto words = std::uniform_int_distribution<int>{0, 14}(gen);
    for (int i = 0; i < words; ++i) {
      if (i > 0)
        text += pick(separators);
      text += pick(vocabulary);
      // Some words appear only a few times, so that rare keys matter too.
      if (line % 97 == 0 && i == 0)
        text += std::to_string(line);
    }
    text += line % 5 == 0 ? "\r\n" : "\n";
    if (line == 6000) {
      for (int i = 0; i < 20000; ++i)
        text += pick(vocabulary) + " ";
      text += "\n";
    }
  }
  text += "trailing words without a final newline";
  return text;
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out{path, std::ios::binary};
  out << content;
  REQUIRE(out.good());
}

// -- reading the job's output -------------------------------------------------

struct job_output {
  word_counts counts;
  /// Lines that do not parse as word,count or repeat a word.
  strings faults;
  /// Output file names, sorted.
  strings files;
};

job_output read_output(const std::string& dir) {
  job_output result;
  for (const auto& e : std::filesystem::directory_iterator{dir})
    result.files.push_back(e.path().filename().string());
  std::sort(result.files.begin(), result.files.end());
  for (const auto& line : read_lines(dir)) {
    auto comma = line.rfind(',');
    if (comma == std::string::npos || comma == 0 || comma + 1 == line.size()) {
      result.faults.push_back("malformed line '" + line + "'");
      continue;
    }
    auto word = line.substr(0, comma);
    auto digits = line.substr(comma + 1);
    if (digits.find_first_not_of("0123456789") != std::string::npos) {
      result.faults.push_back("malformed count in '" + line + "'");
      continue;
    }
    if (!result.counts.emplace(word, std::stoull(digits)).second)
      result.faults.push_back("word '" + word + "' appears twice");
  }
  return result;
}

/// Up to 10 differences between the expected and the actual counts.
std::string differences(const word_counts& expected,
                        const word_counts& actual) {
  std::ostringstream out;
  int shown = 0;
  for (const auto& [word, n] : expected) {
    auto i = actual.find(word);
    if (i == actual.end())
      out << "missing '" << word << "' (expected " << n << ")\n";
    else if (i->second != n)
      out << "'" << word << "': " << i->second << " instead of " << n << "\n";
    else
      continue;
    if (++shown == 10)
      return out.str();
  }
  for (const auto& [word, n] : actual) {
    if (expected.count(word) > 0)
      continue;
    out << "unexpected '" << word << "' (" << n << ")\n";
    if (++shown == 10)
      break;
  }
  return out.str();
}

/// Runs the wordcount example on a generated text with `extra` arguments
/// and checks that it writes exactly the test's own counts into
/// `parallelism` committed files part-<job>-<i>-0.csv, one per subtask.
void check_wordcount(const strings& extra, int parallelism) {
  temp_dir tmp;
  auto text = make_input();
  auto input = tmp / "input.txt";
  auto output = tmp / "out";
  write_file(input, text);
  strings args{"run",
               "--local",
               source_file("examples/wordcount.pbtxt"),
               "--param",
               "input=" + input,
               "--param",
               "output=" + output};
  args.insert(args.end(), extra.begin(), extra.end());
  auto r = run_weir(args);
  INFO("stderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  REQUIRE_EQ(r.exit_code, 0);
  CHECK(contains(r.err, "weir: job 'wordcount' ("));
  CHECK(contains(r.err, ") submitted: 2 tasks, "
                          + std::to_string(2 * parallelism) + " subtasks"));
  CHECK(contains(r.err, "weir: job 'wordcount' FINISHED after "));
  auto got = read_output(output);
  auto at = r.err.find("weir: job 'wordcount' (");
  REQUIRE(at != std::string::npos);
  auto job = r.err.substr(at + 23, 8);
  strings expected_files;
  for (int i = 0; i < parallelism; ++i)
    expected_files.push_back("part-" + job + "-" + std::to_string(i)
                             + "-0.csv");
  std::sort(expected_files.begin(), expected_files.end());
  CHECK_EQ(got.files, expected_files);
  for (const auto& fault : got.faults)
    FAIL_CHECK(fault);
  auto expected = count_words(text);
  REQUIRE_GT(expected.size(), 50);
  CHECK_MESSAGE(got.counts.size() == expected.size(),
                "distinct words: " << got.counts.size() << " instead of "
                                   << expected.size());
  auto diff = differences(expected, got.counts);
  CHECK_MESSAGE(diff.empty(), diff);
}

} // namespace

TEST_CASE("the test's word count splits and lower-cases ASCII only") {
  auto counts = count_words("It's the THE\tcafé, CAFÉ x_y 42\r\nnaïve");
  // Only ASCII letters are lower-cased: "CAFÉ" becomes "cafÉ".
  word_counts expected{{"it", 1},   {"s", 1},    {"the", 2},
                       {"café", 1}, {"cafÉ", 1}, {"x", 1},
                       {"y", 1},    {"42", 1},   {"naïve", 1}};
  CHECK_EQ(counts, expected);
}

TEST_CASE("run wordcount at parallelism 1 counts every word exactly once") {
  check_wordcount({"-p", "1"}, 1);
}

TEST_CASE("run wordcount at parallelism 2 counts every word exactly once") {
  check_wordcount({"-p", "2"}, 2);
}

TEST_CASE("run wordcount at parallelism 4 counts every word exactly once") {
  check_wordcount({"-p", "4"}, 4);
}

TEST_CASE("run wordcount with --param parallelism=3 counts every word "
          "exactly once") {
  check_wordcount({"--param", "parallelism=3"}, 3);
}

TEST_CASE("run wordcount with one credit per channel counts every word "
          "exactly once") {
  check_wordcount({"-p", "2", "--credits", "1"}, 2);
}

TEST_CASE("run wordcount over two task managers counts every word exactly "
          "once") {
  check_wordcount({"-p", "4", "--taskmanagers", "2"}, 4);
}

TEST_CASE("run of a job whose input file is missing exits 1 with FAILED "
          "and the path") {
  temp_dir tmp;
  auto missing = tmp / "no-such-input.txt";
  auto r = run_weir({"run", "--local", source_file("examples/wordcount.pbtxt"),
                     "--param", "input=" + missing, "--param",
                     "output=" + tmp / "out"});
  INFO("stderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  CHECK_EQ(r.exit_code, 1);
  CHECK(contains(r.err, "weir: job 'wordcount' FAILED after "));
  CHECK(contains(r.err, "'" + missing + "'"));
  CHECK(contains(r.err, "No such file or directory"));
}

TEST_CASE("run of an invalid job exits 2 before anything runs") {
  auto r = run_weir({"run", "--local", job_fixture("cycle.pbtxt")});
  INFO("stderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  CHECK_EQ(r.exit_code, 2);
  CHECK(contains(r.err, "has a cycle"));
  CHECK_FALSE(contains(r.err, "submitted"));
}

TEST_CASE("run without enough slots exits 1 once the slot timeout passes") {
  temp_dir tmp;
  auto input = tmp / "input.txt";
  write_file(input, "a few words\n");
  auto r = run_weir({"run", "--local", source_file("examples/wordcount.pbtxt"),
                     "--param", "input=" + input, "--param",
                     "output=" + tmp / "out", "-p", "4", "--slots", "1",
                     "--taskmanagers", "1", "--slot-timeout", "0.5"});
  INFO("stderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  CHECK_EQ(r.exit_code, 1);
  CHECK(contains(r.err, "weir: job 'wordcount' FAILED after "));
  CHECK(contains(r.err, "could not allocate 4 slots"));
  CHECK(contains(r.err, "the cluster has 1 slots in 1 task managers"));
}

TEST_CASE("run rejects bad cluster options with exit code 2") {
  auto job = job_fixture("unbounded.pbtxt");
  for (const auto& option : strings{"--taskmanagers=0", "--credits=0",
                                    "--slot-timeout=0", "--slot-timeout=-1"}) {
    CAPTURE(option);
    auto r = run_weir({"run", "--local", job, option});
    INFO("stderr: " << r.err);
    REQUIRE_FALSE(r.timed_out);
    CHECK_EQ(r.exit_code, 2);
    CHECK(contains(r.err, "weir run: error: "));
    CHECK_FALSE(contains(r.err, "submitted"));
  }
}

TEST_CASE("run rejects a negative --taskmanagers with exit code 2") {
  auto r = run_weir(
    {"run", "--local", job_fixture("unbounded.pbtxt"), "--taskmanagers=-1"});
  INFO("stderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  CHECK_EQ(r.exit_code, 2);
  CHECK(contains(r.err, "--taskmanagers"));
}

TEST_CASE("run rejects a negative --slots with exit code 2") {
  auto r = run_weir(
    {"run", "--local", job_fixture("unbounded.pbtxt"), "--slots=-1"});
  INFO("stderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  CHECK_EQ(r.exit_code, 2);
  CHECK(contains(r.err, "--slots"));
}

TEST_CASE("run rejects a non-finite --slot-timeout with exit code 2") {
  for (const auto& option :
       strings{"--slot-timeout=nan", "--slot-timeout=inf"}) {
    CAPTURE(option);
    auto r = run_weir({"run", "--local", job_fixture("unbounded.pbtxt"), "-p",
                       "4", "--slots", "1", option});
    INFO("stderr: " << r.err);
    REQUIRE_FALSE(r.timed_out);
    CHECK_EQ(r.exit_code, 2);
    CHECK(contains(r.err, "--slot-timeout"));
  }
}

TEST_CASE("run -D overrides settings by Flink's keys and rejects bad ones "
          "with exit code 2") {
  temp_dir tmp;
  auto base = strings{"run",     source_file("examples/wordcount.pbtxt"),
                      "--param", "input=" + tmp / "in",
                      "--param", "output=" + tmp / "out"};
  auto with = [&](strings extra) {
    auto args = base;
    args.insert(args.end(), extra.begin(), extra.end());
    return run_weir(args);
  };
  auto typo = with({"-D", "execution.checkpointing.intervall=1s"});
  CHECK_EQ(typo.exit_code, 2);
  CHECK(contains(typo.err, "unknown setting 'execution.checkpointing."
                           "intervall'; did you mean "
                           "'execution.checkpointing.interval'?"));
  auto mode = with({"-D", "execution.checkpointing.mode=sometimes"});
  CHECK_EQ(mode.exit_code, 2);
  CHECK(contains(mode.err, "invalid value 'sometimes' for "
                           "execution.checkpointing.mode"));
  auto no_dir = with({"--set", "execution.checkpointing.interval=1s"});
  CHECK_EQ(no_dir.exit_code, 2);
  CHECK(contains(no_dir.err, "state.checkpoints.dir"));
  for (const auto& r : {typo, mode, no_dir})
    CHECK_FALSE(contains(r.err, "submitted"));
}

TEST_CASE("run with checkpoints set by -D reports their statistics and "
          "writes every row exactly once") {
  temp_dir tmp;
  auto job = tmp / "numbers.pbtxt";
  write_file(job,
             "name: \"numbers\"\n"
             "parallelism: 2\n"
             "vertices { id: \"n\" operator: \"sequence\"\n"
             "  params { key: \"to\" value: \"3000\" }\n"
             "  params { key: \"rate\" value: \"2000\" } }\n"
             "vertices { id: \"out\" operator: \"file_sink\"\n"
             "  params { key: \"path\" value: \""
               + tmp / "out"
               + "\" } }\n"
                 "edges { from: \"n\" to: \"out\" partitioner: REBALANCE }\n");
  auto r = run_weir({"run", job, "-D", "execution.checkpointing.interval=100ms",
                     "-D", "state.checkpoints.dir=" + tmp / "chk"});
  INFO("stderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  REQUIRE_EQ(r.exit_code, 0);
  CHECK(contains(r.err, "weir: checkpoints: "));
  CHECK(contains(r.err, " completed, 0 failed; duration median "));
  // The progress log on a pipe: the job's transitions and each checkpoint.
  CHECK(contains(r.err, " job RUNNING\n"));
  CHECK(contains(r.err, " job FINISHED\n"));
  CHECK(contains(r.err, " checkpoint 1 completed in "));
  CHECK_FALSE(contains(r.err, "\r"));
  CHECK(contains(r.err, "; alignment median "));
  auto lines = read_lines(tmp / "out");
  std::sort(lines.begin(), lines.end());
  strings expected;
  for (int i = 0; i < 3000; ++i)
    expected.push_back(std::to_string(i));
  std::sort(expected.begin(), expected.end());
  CHECK(lines == expected);
}

TEST_CASE("run prints the exception history when the job restarted") {
  temp_dir tmp;
  auto missing = tmp / "no-such-input.txt";
  auto r = run_weir({"run", source_file("examples/wordcount.pbtxt"), "--param",
                     "input=" + missing, "--param", "output=" + tmp / "out",
                     "-D", "restart-strategy.type=fixed-delay", "-D",
                     "restart-strategy.fixed-delay.attempts=1", "-D",
                     "restart-strategy.fixed-delay.delay=10ms"});
  INFO("stderr: " << r.err);
  REQUIRE_FALSE(r.timed_out);
  CHECK_EQ(r.exit_code, 1);
  CHECK(contains(r.err, "weir: 2 failures during the run (exception "
                        "history):\nweir:   "));
  CHECK(contains(r.err, "Z task 'lines"));
  CHECK(contains(r.err, " job RESTARTING\n"));
  CHECK(contains(r.err, " job FAILED\n"));
  CHECK(contains(r.err, "No such file or directory"));
}
