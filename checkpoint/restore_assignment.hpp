#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "checkpoint/checkpoint_store.hpp"
#include "scheduler/plan.hpp"
#include "weir/proto/checkpoint.pb.h"

namespace weir {

/// Which state every subtask of a job restores from one completed
/// checkpoint or savepoint, possibly taken by a job of another shape.
///
/// State is matched by vertex id (chaining may differ). For a vertex of
/// parallelism p, subtask s receives the handle of old subtask j when the
/// vertex's operator state of j falls to it (j % p == s) or when j's key
/// groups overlap the key groups s owns now; its operator chain then takes
/// exactly those parts (operator_chain::restore). Built by the job master
/// before every deployment, and by the job manager to check a submission.
struct restore_assignment {
  /// The checkpoint's directory and id.
  std::string dir;
  uint64_t checkpoint_id = 0;
  /// Vertex ids of the job that the checkpoint holds state of; their
  /// operators start as restored.
  std::vector<std::string> vertices;
  /// Per execution index of the plan: the serialized SubtaskStateHandles
  /// to restore from (possibly none).
  std::vector<std::vector<std::string>> handles;
};

/// Checks `checkpoint` against plan `p` and assigns its state. Fails with
/// checkpoint_errc::mismatch, naming the vertex, when the checkpoint holds
/// state of a vertex the job lacks (unless `allow_non_restored_state`, as
/// Flink's flag), of a vertex whose operator changed, or keyed state of a
/// vertex whose max parallelism changed (its key groups would not match).
caf::expected<restore_assignment>
assign_restore(const completed_checkpoint& checkpoint, const plan& p,
               bool allow_non_restored_state);

/// The vertices of `p` as checkpoint metadata records them.
std::vector<proto::VertexInfo> vertex_infos(const plan& p);

} // namespace weir
