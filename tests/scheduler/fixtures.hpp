#pragma once

// Job graphs for the scheduler tests, built from small pieces of JobSpec
// text with fake operators (fixtures.cpp): read, split, filter, count
// (keyed), rename, write.

#include <string>

#include <caf/expected.hpp>

#include "api/registry.hpp"
#include "scheduler/job_graph.hpp"

namespace weir::test {

/// The fake operators.
const operator_registry& fake_registry();

/// Parses `text` as a JobSpec and builds its graph with the fake operators.
caf::expected<job_graph> graph_of(const std::string& text,
                                  const graph_options& opts = {});

/// The text of the error building `text` fails with, or "<no error>".
std::string graph_error(const std::string& text,
                        const graph_options& opts = {});

std::string param(const std::string& key, const std::string& value);
std::string vertex(const std::string& id, const std::string& op,
                   const std::string& extra = "");
std::string edge(const std::string& from, const std::string& to,
                 const std::string& extra = "");
std::string source(const std::string& id, const std::string& extra = "");
std::string sink(const std::string& id, const std::string& extra = "");
std::string filter(const std::string& id, const std::string& extra = "");

/// lines -> words -> counts (keyed by word) -> out, parallelism 2 by
/// default, out 1.
std::string wordcount(const std::string& counts_extra = "parallelism: 4",
                      const std::string& into_counts
                      = "partitioner: HASH keys: \"word\"");

} // namespace weir::test
