#include "api/text.hpp"

#include <algorithm>

namespace weir {

std::string join(const std::vector<std::string>& xs,
                 const std::string& separator) {
  std::string result;
  for (const auto& x : xs) {
    if (!result.empty())
      result += separator;
    result += x;
  }
  return result;
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::vector<size_t>> d(a.size() + 1,
                                     std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i)
    d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j)
    d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j]
        = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

std::string nearest(const std::string& name,
                    const std::vector<std::string>& candidates) {
  auto limit = std::max<size_t>(1, name.size() / 3);
  std::string best;
  auto best_distance = limit + 1;
  for (const auto& candidate : candidates) {
    auto distance = edit_distance(name, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

} // namespace weir
