#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "api/registry.hpp"
#include "scheduler/error.hpp"
#include "weir/proto/job_spec.pb.h"

namespace weir {

/// How records are routed along an edge (resolved: never AUTO).
enum class partitioner {
  forward,
  hash,
  rebalance,
  broadcast,
};

const char* to_string(partitioner x);

/// A source's watermark strategy (JobSpec WatermarkStrategy), validated.
struct watermark_spec {
  bool enabled = false;
  /// Position of the timestamp field in the vertex's output rows.
  size_t timestamp_index = 0;
  /// 0 for monotonous timestamps.
  int64_t max_out_of_orderness_ms = 0;
  /// 0: a subtask never goes idle.
  int64_t idle_timeout_ms = 0;
  int64_t interval_ms = 200;
};

/// A validated operator of the job.
struct job_vertex {
  std::string id;
  /// Points into the registry the graph was built with (outlives it).
  const operator_descriptor* op = nullptr;
  /// Resolved parameters (defaults filled, types checked).
  parameters params;
  int parallelism = 1;
  int max_parallelism = 128;
  /// Field names of rows entering / leaving this vertex (for two-input
  /// operators, input_fields are the first input's).
  std::vector<std::string> input_fields;
  std::vector<std::string> second_input_fields;
  std::vector<std::string> output_fields;
  /// Side outputs the operator declares: name -> field names.
  std::map<std::string, std::vector<std::string>> side_outputs;
  /// For keyed operators (the descriptor names a key parameter): positions
  /// of the key fields in input rows. The task keeps the operator's keyed
  /// state per key and sets the current key from them before each record.
  std::vector<size_t> key_indexes;
  /// Two-input keyed operators: positions of the second key in the second
  /// input's rows.
  std::vector<size_t> second_key_indexes;
  /// Sources only: how their subtasks generate watermarks.
  watermark_spec watermarks;
  /// Indexes into job_graph::edges.
  std::vector<size_t> inputs;
  std::vector<size_t> outputs;
};

/// A validated edge.
struct job_edge {
  size_t from = 0;
  size_t to = 0;
  partitioner part = partitioner::forward;
  /// Key field names and their positions in the producer's output rows.
  std::vector<std::string> keys;
  std::vector<size_t> key_indexes;
  /// The producer's side output this edge takes; empty: its main output.
  std::string output;
  /// The consumer's input it feeds: 0, or 1 for a two-input operator's
  /// second.
  int input = 0;
};

/// The job after validation, vertices in topological order (sources first,
/// ties broken by descriptor order, so the order is deterministic).
struct job_graph {
  std::string name;
  std::vector<job_vertex> vertices;
  std::vector<job_edge> edges;
};

/// Overrides applied while building a graph (from the CLI).
struct graph_options {
  /// When > 0, replaces the job's default parallelism (vertices with their
  /// own parallelism keep it).
  int default_parallelism = 0;
};

/// Validates `spec` against `registry` and builds the job graph. Each error
/// names the vertex or edge at fault: duplicate or empty vertex ids, unknown
/// operators, unknown/missing/mistyped parameters, edges to unknown
/// vertices, cycles, no source or no sink, sources with inputs, sinks with
/// outputs, transforms without inputs, non-positive parallelism, parallelism
/// above max parallelism, FORWARD between different parallelisms, HASH
/// without keys or with keys the producer does not emit, watermark
/// strategies on non-sources or naming a field the source does not emit or
/// with a negative bound, keyed operators
/// whose input is not hash-partitioned on their key, and vertices with
/// several inputs whose field lists differ.
caf::expected<job_graph> build_job_graph(const proto::JobSpec& spec,
                                         const operator_registry& registry,
                                         const graph_options& opts = {});

} // namespace weir
