#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace weir {

/// Joins `xs` with `separator` between items.
std::string join(const std::vector<std::string>& xs,
                 const std::string& separator = ", ");

/// Optimal string alignment distance: Levenshtein plus transpositions of
/// adjacent characters, the usual typos.
size_t edit_distance(const std::string& a, const std::string& b);

/// The candidate nearest to `name` when it is close enough to be a typo of
/// it (at most a third of its length, at least 1 edit), else "".
std::string nearest(const std::string& name,
                    const std::vector<std::string>& candidates);

} // namespace weir
