#include "checkpoint/restore_assignment.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "checkpoint/error.hpp"

namespace weir {

namespace {

caf::error mismatch(const completed_checkpoint& cp, const std::string& what) {
  return make_error(checkpoint_errc::mismatch,
                    "cannot restore from '" + cp.dir + "': " + what);
}

bool overlaps(int first_a, int last_a, int first_b, int last_b) {
  return first_a <= last_b && first_b <= last_a;
}

} // namespace

std::vector<proto::VertexInfo> vertex_infos(const plan& p) {
  std::vector<proto::VertexInfo> out;
  for (const auto& v : p.graph.vertices) {
    proto::VertexInfo info;
    info.set_id(v.id);
    info.set_operator_(v.op->name);
    info.set_parallelism(v.parallelism);
    info.set_max_parallelism(v.max_parallelism);
    info.set_keyed(!v.op->key_param.empty());
    out.push_back(std::move(info));
  }
  return out;
}

caf::expected<restore_assignment>
assign_restore(const completed_checkpoint& checkpoint, const plan& p,
               bool allow_non_restored_state) {
  const auto& md = checkpoint.metadata;
  std::map<std::string, const job_vertex*> job_vertices;
  for (const auto& v : p.graph.vertices)
    job_vertices.emplace(v.id, &v);
  // Vertices with state, and where each vertex's state lives.
  std::set<std::string> stateful;
  for (const auto& h : md.subtasks())
    for (const auto& v : h.stateful_vertices())
      stateful.insert(v);
  for (const auto& info : md.vertices()) {
    auto i = job_vertices.find(info.id());
    if (i == job_vertices.end())
      continue;
    const auto& v = *i->second;
    if (info.operator_() != v.op->name)
      return mismatch(
        checkpoint, "vertex '" + info.id() + "' was a '" + info.operator_()
                      + "' operator, the job has a '" + v.op->name + "' there");
    if (info.keyed() && stateful.count(info.id()) > 0
        && info.max_parallelism() != v.max_parallelism)
      return mismatch(checkpoint,
                      "vertex '" + info.id() + "' keeps keyed state in "
                        + std::to_string(info.max_parallelism())
                        + " key groups (its max parallelism); the job gives "
                          "it max parallelism "
                        + std::to_string(v.max_parallelism)
                        + ", which must stay the same");
  }
  for (const auto& name : stateful) {
    if (job_vertices.count(name) > 0 || allow_non_restored_state)
      continue;
    return mismatch(checkpoint,
                    "it holds state of vertex '" + name
                      + "', which the job does not have (rename it back, or "
                        "allow non-restored state to drop that state)");
  }
  restore_assignment out;
  out.dir = checkpoint.dir;
  out.checkpoint_id = md.checkpoint_id();
  std::set<std::string> present;
  for (const auto& h : md.subtasks())
    for (const auto& v : h.vertices())
      if (job_vertices.count(v) > 0)
        present.insert(v);
  out.vertices.assign(present.begin(), present.end());
  std::set<std::string> keyed;
  for (const auto& info : md.vertices())
    if (info.keyed())
      keyed.insert(info.id());
  out.handles.resize(p.executions.size());
  for (size_t e = 0; e < p.executions.size(); ++e) {
    const auto& ev = p.executions[e];
    const auto& t = p.tasks[ev.task];
    std::set<std::string> mine;
    for (auto vi : t.chain)
      mine.insert(p.graph.vertices[vi].id);
    for (const auto& h : md.subtasks()) {
      bool shares
        = std::any_of(h.vertices().begin(), h.vertices().end(),
                      [&](const std::string& v) { return mine.count(v) > 0; });
      if (!shares)
        continue;
      // Key groups matter only where a shared vertex keeps keyed state.
      bool shares_keyed = std::any_of(
        h.vertices().begin(), h.vertices().end(), [&](const std::string& v) {
          return mine.count(v) > 0 && keyed.count(v) > 0;
        });
      auto holds_keys = shares_keyed
                        && h.key_group_first() <= h.key_group_last()
                        && overlaps(static_cast<int>(h.key_group_first()),
                                    static_cast<int>(h.key_group_last()),
                                    ev.key_groups.first, ev.key_groups.last);
      if (h.subtask() % t.parallelism != ev.subtask && !holds_keys)
        continue;
      std::string bytes;
      h.SerializeToString(&bytes);
      out.handles[e].push_back(std::move(bytes));
    }
  }
  return out;
}

} // namespace weir
