#pragma once

#include <string>
#include <vector>

#include "api/operator.hpp"
#include "weir/proto/job_spec.pb.h"

namespace weir {

/// Builds a job descriptor (`proto::JobSpec`) in C++, as an alternative to
/// writing protobuf text by hand:
///
///   auto spec = weir::job_builder{"word_count"}
///                 .parallelism(4)
///                 .vertex("lines", "file_source", {{"path", "in.txt"}})
///                 .vertex("count", "aggregate", {{"keys", "word"}})
///                 .hash("lines", "count", {"word"})
///                 .build();
///
/// The builder records what it is told, in call order, and does no
/// validation: unknown operators, dangling edges or bad parallelism are
/// reported when the spec is planned (scheduler/), exactly as for a spec
/// read from a file. A builder is a plain value; copy it to branch.
class job_builder {
public:
  /// Starts a job named `name` with no vertices or edges.
  explicit job_builder(std::string name);

  /// Sets the default parallelism of vertices that set none.
  job_builder& parallelism(int n);

  /// Sets the default max parallelism (number of key groups).
  job_builder& max_parallelism(int n);

  /// Adds a vertex running operator `op`. A `parallelism` or
  /// `max_parallelism` of 0 leaves the field unset, i.e. the job default.
  job_builder& vertex(std::string id, std::string op, parameters params = {},
                      int parallelism = 0, int max_parallelism = 0);

  /// Adds an edge with any partitioner; `keys` matter only for HASH.
  job_builder& edge(std::string from, std::string to,
                    proto::Partitioner partitioner,
                    std::vector<std::string> keys = {});

  /// Adds an AUTO edge: forward for equal parallelism, rebalance otherwise.
  job_builder& edge(std::string from, std::string to);

  /// Adds a FORWARD edge: subtask i feeds subtask i.
  job_builder& forward(std::string from, std::string to);

  /// Adds a REBALANCE edge: round-robin over all consumer subtasks.
  job_builder& rebalance(std::string from, std::string to);

  /// Adds a BROADCAST edge: every record to every consumer subtask.
  job_builder& broadcast(std::string from, std::string to);

  /// Adds a HASH edge partitioned on the producer's output fields `keys`.
  job_builder& hash(std::string from, std::string to,
                    std::vector<std::string> keys);

  /// Returns the spec built so far; the builder stays usable.
  proto::JobSpec build() const;

  /// Returns the spec in protobuf text format, as a *.pbtxt file holds it.
  std::string to_text() const;

private:
  proto::JobSpec spec_;
};

} // namespace weir
