#include "scheduler/job_graph.hpp"

#include "api/text.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <queue>
#include <utility>

#include "scheduler/key_groups.hpp"

namespace weir {

const char* to_string(partitioner x) {
  switch (x) {
    case partitioner::forward:
      return "FORWARD";
    case partitioner::hash:
      return "HASH";
    case partitioner::rebalance:
      return "REBALANCE";
    case partitioner::broadcast:
      return "BROADCAST";
  }
  return "<invalid>";
}

namespace {

/// Upper bound of max parallelism: the number of key groups must stay small
/// enough that per-key-group bookkeeping in checkpoints is cheap.
constexpr int max_key_groups = 32768;

/// Upper bound of the channels of one job (a 1024 x 1024 all-to-all edge).
constexpr uint64_t max_channels = uint64_t{1} << 20;

std::string quote(const std::string& x) {
  return "'" + x + "'";
}

/// How a user fixes a keyed input in the job text.
std::string hash_hint(const std::vector<std::string>& keys) {
  std::string result = "partitioner: HASH keys: ";
  if (keys.size() == 1)
    return result + "\"" + keys.front() + "\"";
  std::vector<std::string> quoted;
  for (const auto& key : keys)
    quoted.push_back("\"" + key + "\"");
  return result + "[" + join(quoted) + "]";
}

caf::error invalid_graph(std::string text) {
  return make_error(scheduler_errc::invalid_graph, std::move(text));
}

caf::error invalid_parallelism(std::string text) {
  return make_error(scheduler_errc::invalid_parallelism, std::move(text));
}

/// Builds a job graph in steps, each adding what the next one relies on:
/// vertices, edges, the graph's shape, its order, fields, partitioners.
/// Lives for one call of build_job_graph.
class graph_builder {
public:
  graph_builder(const proto::JobSpec& spec, const operator_registry& registry,
                const graph_options& opts)
    : spec_(spec), registry_(registry), opts_(opts) {
    // nop
  }

  caf::expected<job_graph> run() {
    for (auto step :
         {&graph_builder::job_defaults, &graph_builder::add_vertices,
          &graph_builder::add_edges, &graph_builder::check_shape,
          &graph_builder::sort, &graph_builder::derive_fields,
          &graph_builder::resolve_partitioners, &graph_builder::check_keyed,
          &graph_builder::check_size})
      if (auto err = (this->*step)())
        return err;
    return reorder();
  }

private:
  // -- steps ------------------------------------------------------------------

  caf::error job_defaults() {
    if (spec_.has_max_parallelism()) {
      max_parallelism_ = spec_.max_parallelism();
      if (max_parallelism_ < 1 || max_parallelism_ > max_key_groups)
        return invalid_parallelism(
          job_label() + ": max_parallelism " + std::to_string(max_parallelism_)
          + " is out of range [1, " + std::to_string(max_key_groups) + "]");
    }
    if (opts_.default_parallelism > 0) {
      parallelism_ = opts_.default_parallelism;
    } else if (spec_.has_parallelism()) {
      parallelism_ = spec_.parallelism();
      if (parallelism_ < 1)
        return invalid_parallelism(job_label()
                                   + ": parallelism must be at least 1 (got "
                                   + std::to_string(parallelism_) + ")");
    }
    return caf::none;
  }

  caf::error add_vertices() {
    if (spec_.vertices().empty())
      return invalid_graph(job_label() + " has no vertices");
    for (int i = 0; i < spec_.vertices_size(); ++i) {
      const auto& v = spec_.vertices(i);
      auto position = std::to_string(i + 1);
      if (v.id().empty())
        return invalid_graph("the vertex at position " + position
                             + " (operator " + quote(v.operator_())
                             + ") has an empty id");
      auto [pos, added] = index_of_.emplace(v.id(), vertices_.size());
      if (!added)
        return invalid_graph(
          "vertex id " + quote(v.id()) + " is used twice (positions "
          + std::to_string(pos->second + 1) + " and " + position + ")");
      job_vertex x;
      x.id = v.id();
      x.op = registry_.find(v.operator_());
      if (x.op == nullptr)
        return unknown_operator(v);
      x.max_parallelism = max_parallelism_;
      if (v.has_max_parallelism()) {
        x.max_parallelism = v.max_parallelism();
        if (x.max_parallelism < 1 || x.max_parallelism > max_key_groups)
          return invalid_parallelism(
            label(x) + ": max_parallelism " + std::to_string(x.max_parallelism)
            + " is out of range [1, " + std::to_string(max_key_groups) + "]");
      }
      x.parallelism = v.has_parallelism() ? v.parallelism() : parallelism_;
      if (x.parallelism < 1)
        return invalid_parallelism(label(x)
                                   + ": parallelism must be at least 1 (got "
                                   + std::to_string(x.parallelism) + ")");
      if (x.parallelism > x.max_parallelism)
        return invalid_parallelism(
          label(x) + ": parallelism " + std::to_string(x.parallelism)
          + (v.has_parallelism() ? "" : " (the job's default)")
          + " exceeds max_parallelism " + std::to_string(x.max_parallelism));
      given_.emplace_back(v.params().begin(), v.params().end());
      vertices_.push_back(std::move(x));
    }
    return caf::none;
  }

  caf::error add_edges() {
    for (const auto& e : spec_.edges()) {
      auto name = edge_label(e.from(), e.to());
      size_t ends[2] = {0, 0};
      const std::string* ids[2] = {&e.from(), &e.to()};
      const char* roles[2] = {"from", "to"};
      for (int k = 0; k < 2; ++k) {
        if (ids[k]->empty())
          return invalid_graph(name + ": '" + roles[k] + "' names no vertex");
        auto i = index_of_.find(*ids[k]);
        if (i == index_of_.end())
          return invalid_graph(name + ": unknown vertex " + quote(*ids[k])
                               + vertex_hint(*ids[k]));
        ends[k] = i->second;
      }
      if (!proto::Partitioner_IsValid(e.partitioner()))
        return invalid_graph(name + ": unknown partitioner "
                             + std::to_string(e.partitioner()));
      job_edge x;
      x.from = ends[0];
      x.to = ends[1];
      x.keys.assign(e.keys().begin(), e.keys().end());
      x.output = e.output();
      x.input = e.input();
      vertices_[x.from].outputs.push_back(edges_.size());
      vertices_[x.to].inputs.push_back(edges_.size());
      requested_.push_back(e.partitioner());
      edges_.push_back(std::move(x));
    }
    return caf::none;
  }

  caf::error check_shape() {
    auto has_kind = [this](operator_kind kind) {
      return std::any_of(
        vertices_.begin(), vertices_.end(),
        [kind](const job_vertex& x) { return x.op->kind == kind; });
    };
    if (!has_kind(operator_kind::source))
      return invalid_graph(
        job_label() + " has no source (a vertex of operator kind source)");
    if (!has_kind(operator_kind::sink))
      return invalid_graph(job_label()
                           + " has no sink (a vertex of operator kind sink)");
    for (const auto& x : vertices_) {
      switch (x.op->kind) {
        case operator_kind::source:
          if (!x.inputs.empty())
            return invalid_graph(
              label(x) + " is a source and cannot have inputs, but has "
              + edge_label(edges_[x.inputs.front()]));
          break;
        case operator_kind::sink:
          if (!x.outputs.empty())
            return invalid_graph(
              label(x) + " is a sink and cannot have outputs, but has "
              + edge_label(edges_[x.outputs.front()]));
          break;
        case operator_kind::transform:
          if (x.inputs.empty())
            return invalid_graph(label(x)
                                 + " has no input; add an edge into it");
          break;
      }
    }
    return caf::none;
  }

  /// Kahn's algorithm; among ready vertices the one declared first goes
  /// first, so the order depends only on the spec.
  caf::error sort() {
    std::vector<size_t> indegree(vertices_.size());
    std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
    for (size_t i = 0; i < vertices_.size(); ++i) {
      indegree[i] = vertices_[i].inputs.size();
      if (indegree[i] == 0)
        ready.push(i);
    }
    while (!ready.empty()) {
      auto i = ready.top();
      ready.pop();
      order_.push_back(i);
      for (auto e : vertices_[i].outputs)
        if (--indegree[edges_[e].to] == 0)
          ready.push(edges_[e].to);
    }
    if (order_.size() == vertices_.size())
      return caf::none;
    return invalid_graph("the job graph has a cycle: "
                         + join(find_cycle(indegree), " -> "));
  }

  caf::error derive_fields() {
    for (auto i : order_) {
      auto& x = vertices_[i];
      if (auto err = derive_inputs(x))
        return err;
      auto params
        = registry_.resolve_params(*x.op, x.id, given_[i], x.input_fields);
      if (!params)
        return std::move(params.error());
      x.params = std::move(*params);
      auto fields = x.op->inputs == 2
                      ? x.op->output_fields2(x.params, x.input_fields,
                                             x.second_input_fields)
                      : x.op->output_fields(x.params, x.input_fields);
      if (!fields) {
        const auto& err = fields.error();
        return make_weir_error(err.code(), err.category(),
                               label(x) + " (" + x.op->name
                                 + "): " + error_text(err));
      }
      x.output_fields = std::move(*fields);
      if (x.op->side_outputs)
        x.side_outputs = x.op->side_outputs(x.params, x.input_fields);
      if (auto err = resolve_watermarks(x, spec_.vertices(static_cast<int>(i))))
        return err;
      if (!x.op->key_param.empty()) {
        auto keys = split_list(param_or_empty(x.params, x.op->key_param));
        x.key_indexes.clear();
        for (const auto& k : keys) {
          auto pos = std::find(x.input_fields.begin(), x.input_fields.end(), k);
          if (pos == x.input_fields.end())
            return invalid_graph(label(x) + " (" + x.op->name + ") is keyed by "
                                 + quote(k)
                                 + ", which its input does not have");
          x.key_indexes.push_back(
            static_cast<size_t>(pos - x.input_fields.begin()));
        }
      }
      if (!x.op->second_key_param.empty()) {
        auto keys
          = split_list(param_or_empty(x.params, x.op->second_key_param));
        x.second_key_indexes.clear();
        const auto& in = x.second_input_fields;
        for (const auto& k : keys) {
          auto pos = std::find(in.begin(), in.end(), k);
          if (pos == in.end())
            return invalid_graph(label(x) + " (" + x.op->name
                                 + ") is keyed on its second input by "
                                 + quote(k) + ", which that input does not "
                                 + "have (it has: " + join(in) + ")");
          x.second_key_indexes.push_back(static_cast<size_t>(pos - in.begin()));
        }
        if (x.second_key_indexes.size() != x.key_indexes.size())
          return invalid_graph(label(x) + " (" + x.op->name + ") has "
                               + std::to_string(x.key_indexes.size())
                               + " key fields on its first input but "
                               + std::to_string(x.second_key_indexes.size())
                               + " on its second");
      }
    }
    return caf::none;
  }

  /// The input fields of `x` from its edges: all edges into one input
  /// must carry the same fields; a two-input operator needs both inputs.
  caf::error derive_inputs(job_vertex& x) {
    if (x.inputs.empty())
      return caf::none;
    int count = x.op->inputs;
    for (auto e : x.inputs) {
      const auto& edge = edges_[e];
      if (edge.input < 0 || edge.input >= count)
        return invalid_graph(
          edge_label(edge) + ": input " + std::to_string(edge.input)
          + " does not exist; " + quote(x.id) + " (" + x.op->name + ") has "
          + (count == 1 ? std::string{"one input (0)"}
                        : std::string{"two inputs (0 and 1)"}));
    }
    for (int k = 0; k < count; ++k)
      if (std::none_of(x.inputs.begin(), x.inputs.end(),
                       [&](size_t e) { return edges_[e].input == k; }))
        return invalid_graph(label(x) + " (" + x.op->name
                             + ") takes two inputs but no edge feeds input "
                             + std::to_string(k) + " (set `input: "
                             + std::to_string(k) + "` on an edge)");
    for (int k = 0; k < count; ++k) {
      auto& target = k == 0 ? x.input_fields : x.second_input_fields;
      const job_vertex* first = nullptr;
      for (auto e : x.inputs) {
        if (edges_[e].input != k)
          continue;
        const auto& from = vertices_[edges_[e].from];
        auto fields = edge_fields(edges_[e]);
        if (!fields)
          return std::move(fields.error());
        if (first == nullptr) {
          first = &from;
          target = *fields;
        } else if (*fields != target) {
          return invalid_graph(label(x) + " has inputs with different fields: "
                               + quote(first->id) + " emits (" + join(target)
                               + ") but " + quote(from.id) + " emits ("
                               + join(*fields) + ")");
        }
      }
    }
    return caf::none;
  }

  /// The fields of the rows that travel along `e`: the producer's main
  /// output, or the side output the edge names.
  caf::expected<std::vector<std::string>> edge_fields(const job_edge& e) {
    const auto& from = vertices_[e.from];
    if (e.output.empty())
      return from.output_fields;
    auto i = from.side_outputs.find(e.output);
    if (i != from.side_outputs.end())
      return i->second;
    std::vector<std::string> names;
    for (const auto& [name, unused] : from.side_outputs)
      names.push_back(name);
    return invalid_graph(
      edge_label(e) + ": " + quote(from.id) + " (" + from.op->name
      + ") has no side output " + quote(e.output) + " (it has: "
      + (names.empty() ? std::string{"none"} : join(names)) + ")");
  }

  caf::error resolve_watermarks(job_vertex& x, const proto::Vertex& v) {
    if (!v.has_watermarks()
        || v.watermarks().kind() == proto::WatermarkStrategy::NONE)
      return caf::none;
    const auto& w = v.watermarks();
    auto bad = [&](const std::string& what) {
      return invalid_graph(label(x) + ": watermarks: " + what);
    };
    if (x.op->kind != operator_kind::source)
      return bad("only sources generate watermarks, and " + x.op->name
                 + " is not a source");
    auto pos = std::find(x.output_fields.begin(), x.output_fields.end(),
                         w.timestamp_field());
    if (w.timestamp_field().empty())
      return bad("timestamp_field is missing");
    if (pos == x.output_fields.end())
      return bad("timestamp_field " + quote(w.timestamp_field())
                 + " is not a field the source emits (it emits "
                 + join(x.output_fields) + ")");
    if (w.max_out_of_orderness_ms() < 0)
      return bad("max_out_of_orderness_ms must not be negative (got "
                 + std::to_string(w.max_out_of_orderness_ms()) + ")");
    if (w.kind() == proto::WatermarkStrategy::MONOTONOUS
        && w.max_out_of_orderness_ms() != 0)
      return bad("MONOTONOUS timestamps take no max_out_of_orderness_ms; use "
                 "BOUNDED_OUT_OF_ORDERNESS");
    if (w.idle_timeout_ms() < 0)
      return bad("idle_timeout_ms must not be negative");
    if (w.has_interval_ms() && w.interval_ms() < 1)
      return bad("interval_ms must be at least 1 (got "
                 + std::to_string(w.interval_ms()) + ")");
    auto& spec = x.watermarks;
    spec.enabled = true;
    spec.timestamp_index = static_cast<size_t>(pos - x.output_fields.begin());
    spec.max_out_of_orderness_ms = w.max_out_of_orderness_ms();
    spec.idle_timeout_ms = w.idle_timeout_ms();
    if (w.has_interval_ms())
      spec.interval_ms = w.interval_ms();
    return caf::none;
  }

  static std::string param_or_empty(const parameters& params,
                                    const std::string& name) {
    auto i = params.find(name);
    return i == params.end() ? std::string{} : i->second;
  }

  caf::error resolve_partitioners() {
    for (size_t i = 0; i < edges_.size(); ++i) {
      auto& e = edges_[i];
      const auto& from = vertices_[e.from];
      const auto& to = vertices_[e.to];
      auto requested = requested_[i];
      switch (requested) {
        case proto::FORWARD:
          if (from.parallelism != to.parallelism)
            return invalid_graph(
              edge_label(e) + ": FORWARD needs equal parallelism, but "
              + quote(from.id) + " has " + std::to_string(from.parallelism)
              + " and " + quote(to.id) + " has "
              + std::to_string(to.parallelism)
              + "; use REBALANCE, or HASH with keys");
          e.part = partitioner::forward;
          break;
        case proto::HASH:
          e.part = partitioner::hash;
          break;
        case proto::REBALANCE:
          e.part = partitioner::rebalance;
          break;
        case proto::BROADCAST:
          e.part = partitioner::broadcast;
          break;
        default: // AUTO
          e.part = from.parallelism == to.parallelism ? partitioner::forward
                                                      : partitioner::rebalance;
      }
      if (requested != proto::HASH) {
        // Keys matter only for HASH (as the builder documents): drop them
        // so that a job_edge has keys exactly when it hashes.
        e.keys.clear();
        continue;
      }
      auto fields = edge_fields(e);
      if (!fields)
        return std::move(fields.error());
      if (e.keys.empty())
        return invalid_graph(edge_label(e)
                             + ": HASH needs key fields (keys: " + "\"...\"); "
                             + quote(from.id) + " emits: " + join(*fields));
      for (const auto& key : e.keys) {
        auto pos = std::find(fields->begin(), fields->end(), key);
        if (pos == fields->end())
          return invalid_graph(edge_label(e) + ": key field " + quote(key)
                               + " is not produced by vertex " + quote(from.id)
                               + " (it emits: " + join(*fields) + ")");
        e.key_indexes.push_back(static_cast<size_t>(pos - fields->begin()));
      }
    }
    return caf::none;
  }

  /// A keyed operator running in parallel keeps each key's state in one
  /// subtask, so every record of a key must reach that subtask.
  caf::error check_keyed() {
    for (auto i : order_) {
      const auto& x = vertices_[i];
      if (x.op->key_param.empty() || x.parallelism == 1)
        continue;
      std::vector<std::string> keys;
      if (auto pos = x.params.find(x.op->key_param); pos != x.params.end())
        keys = split_list(pos->second);
      auto what = label(x) + " (" + x.op->name + ") has parallelism "
                  + std::to_string(x.parallelism);
      if (keys.empty())
        return invalid_graph(what + " but no key fields in parameter "
                             + quote(x.op->key_param) + "; set "
                             + x.op->key_param + " or use parallelism 1");
      std::vector<std::string> second_keys;
      if (!x.op->second_key_param.empty())
        second_keys
          = split_list(param_or_empty(x.params, x.op->second_key_param));
      for (auto e : x.inputs) {
        const auto& in = edges_[e];
        const auto& want = in.input == 1 ? second_keys : keys;
        if (in.part == partitioner::hash && in.keys == want)
          continue;
        auto actual = std::string{to_string(in.part)};
        if (in.part == partitioner::hash)
          actual += "(" + join(in.keys) + ")";
        return invalid_graph(what + " and is keyed by (" + join(want)
                             + "), but its input " + edge_label(in) + " is "
                             + actual + "; set `" + hash_hint(want)
                             + "` on that edge");
      }
    }
    return caf::none;
  }

  /// Every subtask pair of an all-to-all edge is a channel with its own
  /// buffers and credits; bound their number before anything is built.
  caf::error check_size() {
    uint64_t channels = 0;
    for (const auto& e : edges_) {
      auto p = static_cast<uint64_t>(vertices_[e.from].parallelism);
      auto q = static_cast<uint64_t>(vertices_[e.to].parallelism);
      auto n = e.part == partitioner::forward ? p : p * q;
      channels += n;
      if (channels > max_channels)
        return invalid_graph(
          "the job needs more than " + std::to_string(max_channels)
          + " channels between subtasks (edge " + edge_label(e) + " alone has "
          + std::to_string(n) + "); lower the parallelism");
    }
    return caf::none;
  }

  /// Moves vertices into topological order and edges into the order of
  /// their (producer, consumer) positions, renumbering the references.
  job_graph reorder() {
    std::vector<size_t> position(vertices_.size());
    for (size_t k = 0; k < order_.size(); ++k)
      position[order_[k]] = k;
    std::vector<size_t> edge_order(edges_.size());
    for (size_t k = 0; k < edge_order.size(); ++k)
      edge_order[k] = k;
    std::stable_sort(edge_order.begin(), edge_order.end(),
                     [&](size_t a, size_t b) {
                       auto key = [&](size_t e) {
                         return std::make_pair(position[edges_[e].from],
                                               position[edges_[e].to]);
                       };
                       return key(a) < key(b);
                     });
    job_graph result;
    result.name = spec_.name();
    for (auto i : order_) {
      auto& x = vertices_[i];
      x.inputs.clear();
      x.outputs.clear();
      result.vertices.push_back(std::move(x));
    }
    for (auto e : edge_order) {
      auto x = std::move(edges_[e]);
      x.from = position[x.from];
      x.to = position[x.to];
      result.vertices[x.from].outputs.push_back(result.edges.size());
      result.vertices[x.to].inputs.push_back(result.edges.size());
      result.edges.push_back(std::move(x));
    }
    return result;
  }

  // -- helpers ----------------------------------------------------------------

  /// Called when Kahn's algorithm leaves vertices unsorted: each of them has
  /// an unsorted producer, so walking producers from one of them must
  /// revisit a vertex. Returns the ids on that cycle in edge direction,
  /// starting and ending at its first declared vertex.
  std::vector<std::string>
  find_cycle(const std::vector<size_t>& indegree) const {
    auto unsorted = [&](size_t i) { return indegree[i] > 0; };
    size_t current = 0;
    while (!unsorted(current))
      ++current;
    std::vector<size_t> path;
    std::map<size_t, size_t> seen;
    while (seen.count(current) == 0) {
      seen.emplace(current, path.size());
      path.push_back(current);
      for (auto e : vertices_[current].inputs) {
        if (unsorted(edges_[e].from)) {
          current = edges_[e].from;
          break;
        }
      }
    }
    // path runs against the edges; the cycle is its tail from `current`.
    std::vector<size_t> cycle(path.begin() + seen[current], path.end());
    std::reverse(cycle.begin(), cycle.end());
    std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()),
                cycle.end());
    std::vector<std::string> ids;
    for (auto i : cycle)
      ids.push_back(vertices_[i].id);
    ids.push_back(ids.front());
    return ids;
  }

  caf::error unknown_operator(const proto::Vertex& v) const {
    auto names = registry_.names();
    auto text = "vertex " + quote(v.id()) + ": ";
    if (v.operator_().empty())
      return invalid_graph(
        text + "no operator given; known operators: " + join(names));
    text += "unknown operator " + quote(v.operator_());
    auto guess = nearest(v.operator_(), names);
    if (!guess.empty())
      return invalid_graph(text + "; did you mean " + quote(guess) + "?");
    return invalid_graph(text + "; known operators: " + join(names));
  }

  /// " (did you mean 'x'?)" or " (vertices: a, b)" for an unknown vertex.
  std::string vertex_hint(const std::string& id) const {
    std::vector<std::string> ids;
    for (const auto& x : vertices_)
      ids.push_back(x.id);
    auto guess = nearest(id, ids);
    if (!guess.empty())
      return "; did you mean " + quote(guess) + "?";
    return " (vertices: " + join(ids) + ")";
  }

  std::string job_label() const {
    return spec_.name().empty() ? "the job" : "job " + quote(spec_.name());
  }

  static std::string label(const job_vertex& x) {
    return "vertex " + quote(x.id);
  }

  static std::string edge_label(const std::string& from,
                                const std::string& to) {
    return "edge " + from + " -> " + to;
  }

  std::string edge_label(const job_edge& e) const {
    return edge_label(vertices_[e.from].id, vertices_[e.to].id);
  }

  // -- inputs -----------------------------------------------------------------

  const proto::JobSpec& spec_;
  const operator_registry& registry_;
  const graph_options& opts_;

  // -- state, vertices and edges in spec order until reorder() ----------------

  int parallelism_ = 1;
  int max_parallelism_ = default_max_parallelism;
  std::vector<job_vertex> vertices_;
  /// Parameters as written, per vertex.
  std::vector<parameters> given_;
  std::map<std::string, size_t> index_of_;
  std::vector<job_edge> edges_;
  /// Partitioner as written, per edge.
  std::vector<proto::Partitioner> requested_;
  /// Vertex indexes in topological order.
  std::vector<size_t> order_;
};

} // namespace

caf::expected<job_graph> build_job_graph(const proto::JobSpec& spec,
                                         const operator_registry& registry,
                                         const graph_options& opts) {
  return graph_builder{spec, registry, opts}.run();
}

} // namespace weir
