#include "api/job_builder.hpp"

#include <google/protobuf/text_format.h>

namespace weir {

job_builder::job_builder(std::string name) {
  spec_.set_name(std::move(name));
}

job_builder& job_builder::parallelism(int n) {
  spec_.set_parallelism(n);
  return *this;
}

job_builder& job_builder::max_parallelism(int n) {
  spec_.set_max_parallelism(n);
  return *this;
}

job_builder& job_builder::vertex(std::string id, std::string op,
                                 parameters params, int parallelism,
                                 int max_parallelism) {
  auto& v = *spec_.add_vertices();
  v.set_id(std::move(id));
  v.set_operator_(std::move(op));
  auto& out = *v.mutable_params();
  for (auto& [key, val] : params)
    out[key] = std::move(val);
  if (parallelism != 0)
    v.set_parallelism(parallelism);
  if (max_parallelism != 0)
    v.set_max_parallelism(max_parallelism);
  return *this;
}

job_builder& job_builder::edge(std::string from, std::string to,
                               proto::Partitioner partitioner,
                               std::vector<std::string> keys) {
  auto& e = *spec_.add_edges();
  e.set_from(std::move(from));
  e.set_to(std::move(to));
  e.set_partitioner(partitioner);
  for (auto& k : keys)
    e.add_keys(std::move(k));
  return *this;
}

job_builder& job_builder::edge(std::string from, std::string to) {
  return edge(std::move(from), std::move(to), proto::AUTO);
}

job_builder& job_builder::forward(std::string from, std::string to) {
  return edge(std::move(from), std::move(to), proto::FORWARD);
}

job_builder& job_builder::rebalance(std::string from, std::string to) {
  return edge(std::move(from), std::move(to), proto::REBALANCE);
}

job_builder& job_builder::broadcast(std::string from, std::string to) {
  return edge(std::move(from), std::move(to), proto::BROADCAST);
}

job_builder& job_builder::hash(std::string from, std::string to,
                               std::vector<std::string> keys) {
  return edge(std::move(from), std::move(to), proto::HASH, std::move(keys));
}

proto::JobSpec job_builder::build() const {
  return spec_;
}

std::string job_builder::to_text() const {
  std::string out;
  google::protobuf::TextFormat::PrintToString(spec_, &out);
  return out;
}

} // namespace weir
