#include <cctype>
#include <map>
#include <random>

#include <doctest/doctest.h>

#include "operators/harness.hpp"

using namespace weir;
using namespace weir::test;

TEST_CASE("file_source, tokenize and aggregate count words like a plain "
          "loop does") {
  // A text with mixed case, punctuation, blank lines and CRLF endings.
  const std::vector<std::string> words{"The",   "quick", "brown", "fox",
                                       "JUMPS", "over",  "lazy",  "dog",
                                       "fox's", "a1",    "42"};
  const std::vector<std::string> gaps{" ", ", ", "! ", " -- ", "\t"};
  std::mt19937 rng{7};
  std::string text;
  for (int line = 0; line < 500; ++line) {
    auto n = std::uniform_int_distribution<size_t>{0, 12}(rng);
    for (size_t i = 0; i < n; ++i)
      text += words[rng() % words.size()] + gaps[rng() % gaps.size()];
    text += line % 7 == 0 ? "\r\n" : "\n";
  }
  // The expected counts, computed independently.
  std::map<std::string, int64_t> expected;
  std::string word;
  for (char c : text + " ") {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (!word.empty()) {
      ++expected[word];
      word.clear();
    }
  }
  temp_dir dir;
  auto path = dir.write("words.txt", text);
  // Three source subtasks feed two count subtasks, partitioned by key.
  const int sources = 3;
  const int counters = 2;
  std::vector<op_under_test> counts;
  for (int i = 0; i < counters; ++i)
    counts.push_back(make_op("aggregate",
                             {{"key", "line"}, {"function", "count"}}, {"line"},
                             i, counters));
  std::vector<vector_collector> outputs(counters);
  for (int i = 0; i < sources; ++i) {
    auto src = make_op("file_source", {{"path", path}}, {}, i, sources);
    auto tok = make_op("tokenize", {{"field", "line"}}, src.ctx.output_fields,
                       i, sources);
    for (const auto& line : drain(src.behavior, 50)) {
      vector_collector tokens;
      tok.behavior.on_record(line, tokens);
      for (const auto& t : tokens.rows) {
        auto target = hash_fields(t, {0}) % counters;
        counts[target].behavior.on_record(t, outputs[target]);
      }
    }
  }
  std::map<std::string, int64_t> actual;
  for (int i = 0; i < counters; ++i) {
    counts[i].behavior.on_end_of_input(outputs[i]);
    for (const auto& r : outputs[i].rows) {
      REQUIRE(r.size() == 2);
      // Each key reaches exactly one counter.
      CHECK(actual.count(r[0].as_string()) == 0);
      actual[r[0].as_string()] = r[1].as_int64();
    }
  }
  CHECK(!expected.empty());
  CHECK(actual == expected);
}
