#include "scheduler/plan.hpp"

#include "api/text.hpp"

#include <algorithm>
#include <sstream>
#include <utility>

namespace weir {

namespace {

/// Whether `e` can become a function call inside one task. Equal max
/// parallelism too: a task has one key-group layout for all its operators.
bool chainable(const job_graph& g, const job_edge& e) {
  const auto& up = g.vertices[e.from];
  const auto& down = g.vertices[e.to];
  return e.part == partitioner::forward && e.output.empty()
         && up.outputs.size() == 1 && down.inputs.size() == 1
         && up.parallelism == down.parallelism
         && up.max_parallelism == down.max_parallelism;
}

std::string count_of(size_t n, const char* noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

} // namespace

size_t plan::execution_index(int task, int subtask) const {
  size_t offset = 0;
  for (int t = 0; t < task; ++t)
    offset += static_cast<size_t>(tasks[static_cast<size_t>(t)].parallelism);
  return offset + static_cast<size_t>(subtask);
}

int plan::required_slots() const {
  int result = 0;
  for (const auto& t : tasks)
    result = std::max(result, t.parallelism);
  return result;
}

plan make_plan(job_graph graph) {
  plan p;
  p.graph = std::move(graph);
  const auto& g = p.graph;
  // -- chains: vertices come in topological order, so a vertex's producer
  //    already has its task when the vertex joins it
  std::vector<int> task_of(g.vertices.size());
  std::vector<bool> chained(g.edges.size(), false);
  for (size_t v = 0; v < g.vertices.size(); ++v) {
    const auto& x = g.vertices[v];
    if (x.inputs.size() == 1 && chainable(g, g.edges[x.inputs.front()])) {
      auto e = x.inputs.front();
      chained[e] = true;
      task_of[v] = task_of[g.edges[e].from];
      p.tasks[static_cast<size_t>(task_of[v])].chain.push_back(v);
      continue;
    }
    task_vertex t;
    t.id = static_cast<int>(p.tasks.size());
    t.chain.push_back(v);
    t.parallelism = x.parallelism;
    t.max_parallelism = x.max_parallelism;
    task_of[v] = t.id;
    p.tasks.push_back(std::move(t));
  }
  for (auto& t : p.tasks) {
    std::vector<std::string> ids;
    for (auto v : t.chain)
      ids.push_back(g.vertices[v].id);
    t.name = join(ids, " -> ");
  }
  // -- exchanges between tasks
  for (size_t e = 0; e < g.edges.size(); ++e) {
    if (chained[e])
      continue;
    const auto& x = g.edges[e];
    p.edges.push_back(task_edge{task_of[x.from], task_of[x.to], e, x.part,
                                x.key_indexes, x.output, x.input});
  }
  std::stable_sort(
    p.edges.begin(), p.edges.end(), [](const task_edge& a, const task_edge& b) {
      return std::make_pair(a.from, a.to) < std::make_pair(b.from, b.to);
    });
  // Position of each exchange among its producer's outputs and its
  // consumer's inputs.
  std::vector<size_t> out_pos(p.edges.size());
  std::vector<size_t> in_pos(p.edges.size());
  for (size_t k = 0; k < p.edges.size(); ++k) {
    auto& from = p.tasks[static_cast<size_t>(p.edges[k].from)];
    auto& to = p.tasks[static_cast<size_t>(p.edges[k].to)];
    out_pos[k] = from.outputs.size();
    from.outputs.push_back(k);
    in_pos[k] = to.inputs.size();
    to.inputs.push_back(k);
  }
  // -- parallel instances
  std::vector<size_t> offset;
  for (const auto& t : p.tasks) {
    offset.push_back(p.executions.size());
    for (int s = 0; s < t.parallelism; ++s) {
      execution_vertex x;
      x.task = t.id;
      x.subtask = s;
      x.key_groups = key_group_range_of(t.max_parallelism, t.parallelism, s);
      x.input_channels.resize(t.inputs.size());
      x.output_channels.resize(t.outputs.size());
      p.executions.push_back(std::move(x));
    }
  }
  // -- channels, producer subtask major, so each list comes out in the
  //    order execution_vertex documents
  for (size_t k = 0; k < p.edges.size(); ++k) {
    const auto& e = p.edges[k];
    auto from = static_cast<size_t>(e.from);
    auto to = static_cast<size_t>(e.to);
    auto connect = [&](size_t producer, size_t consumer) {
      auto id = p.channels.size();
      p.channels.push_back(channel{id, k, producer, consumer});
      p.executions[producer].output_channels[out_pos[k]].push_back(id);
      p.executions[consumer].input_channels[in_pos[k]].push_back(id);
    };
    auto producers = static_cast<size_t>(p.tasks[from].parallelism);
    auto consumers = static_cast<size_t>(p.tasks[to].parallelism);
    for (size_t i = 0; i < producers; ++i) {
      if (e.part == partitioner::forward) {
        connect(offset[from] + i, offset[to] + i);
        continue;
      }
      for (size_t j = 0; j < consumers; ++j)
        connect(offset[from] + i, offset[to] + j);
    }
  }
  return p;
}

std::string describe(const plan& p) {
  std::ostringstream out;
  out << "Job " << (p.graph.name.empty() ? "(unnamed)" : p.graph.name) << ": "
      << count_of(p.tasks.size(), "task") << ", "
      << count_of(p.executions.size(), "subtask") << ", needs "
      << count_of(static_cast<size_t>(p.required_slots()), "slot") << '\n';
  for (const auto& t : p.tasks) {
    std::vector<std::string> ops;
    for (auto v : t.chain)
      ops.push_back(p.graph.vertices[v].op->name);
    out << "task " << t.id << " \"" << t.name << "\" parallelism "
        << t.parallelism << " (" << join(ops, " -> ") << ")\n";
    for (auto k : t.outputs) {
      const auto& e = p.edges[k];
      const auto& to = p.tasks[static_cast<size_t>(e.to)];
      out << "  -> task " << to.id << " \"" << to.name << "\" by "
          << to_string(e.part);
      if (e.part == partitioner::hash)
        out << '(' << join(p.graph.edges[e.job_edge].keys, ", ") << ')';
      out << '\n';
    }
  }
  return out.str();
}

} // namespace weir
