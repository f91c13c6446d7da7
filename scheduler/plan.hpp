#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "scheduler/job_graph.hpp"
#include "scheduler/key_groups.hpp"

namespace weir {

/// A chain of job vertices fused into one task: consecutive vertices joined
/// by a FORWARD edge with equal parallelism (and equal max parallelism, so
/// the task has one key-group layout), where the producer has exactly one
/// output and the consumer exactly one input. Records pass between them by
/// function call, not by message.
struct task_vertex {
  /// Task index in the plan; also its position in topological order.
  int id = 0;
  /// Job vertex indexes, head of the chain first.
  std::vector<size_t> chain;
  /// "tokenize -> filter" style name built from the vertex ids.
  std::string name;
  int parallelism = 1;
  int max_parallelism = 128;
  /// Indexes into plan::edges.
  std::vector<size_t> inputs;
  std::vector<size_t> outputs;
};

/// An exchange between two tasks (a job edge not chained away).
struct task_edge {
  int from = 0;
  int to = 0;
  /// The job edge this exchange implements.
  size_t job_edge = 0;
  partitioner part = partitioner::forward;
  std::vector<size_t> key_indexes;
  /// The side output of the producer's last operator it carries; empty:
  /// the main output.
  std::string output;
  /// The input of the consumer's head operator it feeds (0 or 1).
  int input = 0;
};

/// One parallel instance of a task.
struct execution_vertex {
  int task = 0;
  int subtask = 0;
  /// Key groups this subtask owns (all of them for unkeyed tasks too; the
  /// range matters only where keyed state lives).
  key_group_range key_groups;
  /// Indexes into plan::channels, grouped per task input / output edge:
  /// input_channels[k] lists the channels of task input k in producer
  /// subtask order; output_channels[k] those of task output k in consumer
  /// subtask order.
  std::vector<std::vector<size_t>> input_channels;
  std::vector<std::vector<size_t>> output_channels;
};

/// A point-to-point connection from a producer subtask to a consumer subtask.
struct channel {
  size_t id = 0;
  size_t edge = 0;
  size_t producer = 0;
  size_t consumer = 0;
};

/// The chained and parallel plan of a job: what gets scheduled.
struct plan {
  job_graph graph;
  std::vector<task_vertex> tasks;
  std::vector<task_edge> edges;
  /// Ordered by task, then subtask.
  std::vector<execution_vertex> executions;
  std::vector<channel> channels;

  /// Index into executions of (task, subtask).
  size_t execution_index(int task, int subtask) const;

  /// Slots the job needs with slot sharing: the largest task parallelism.
  int required_slots() const;
};

/// Chains the graph and expands it into execution vertices and channels.
/// FORWARD connects subtask i to subtask i; every other partitioner connects
/// every producer subtask to every consumer subtask.
plan make_plan(job_graph graph);

/// Renders the plan for `weir plan`: one block per task with its chained
/// operators and parallelism, then its outgoing exchanges and partitioners.
std::string describe(const plan& p);

} // namespace weir
