#pragma once

// Rows compared as the file sink writes them: CSV lines with their counts.

#include <map>
#include <string>
#include <vector>

#include "api/value.hpp"

namespace weir::test {

/// Each distinct CSV line of `rows` with how often it occurs.
using csv_lines = std::map<std::string, int>;

inline csv_lines lines_of(const std::vector<row>& rows) {
  csv_lines out;
  for (const auto& r : rows)
    ++out[to_csv(r)];
  return out;
}

/// The first few lines that only one side has, for a failure message.
inline std::string difference(const csv_lines& expected,
                              const csv_lines& actual) {
  std::string text;
  int shown = 0;
  for (const auto& [line, n] : expected)
    if (auto i = actual.find(line); i == actual.end() || i->second != n)
      if (shown++ < 10)
        text += "missing: " + line + " (x" + std::to_string(n) + ")\n";
  for (const auto& [line, n] : actual)
    if (auto i = expected.find(line); i == expected.end() || i->second != n)
      if (shown++ < 20)
        text += "unexpected: " + line + " (x" + std::to_string(n) + ")\n";
  return text + std::to_string(expected.size()) + " lines expected, "
         + std::to_string(actual.size()) + " produced";
}

} // namespace weir::test
