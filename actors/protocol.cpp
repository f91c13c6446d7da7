#include "actors/protocol.hpp"

#include <atomic>
#include <cstring>

#include <lz4.h>

namespace weir {

namespace {

std::atomic<bool> compress_batches{false};

/// Refuse to inflate a batch beyond this (a corrupt length).
constexpr uint32_t max_batch_bytes = 256u << 20;

} // namespace

void set_batch_compression(bool on) {
  compress_batches.store(on, std::memory_order_relaxed);
}

bool batch_compression() {
  return compress_batches.load(std::memory_order_relaxed);
}

std::string encode_batch(const std::vector<row>& rows) {
  auto plain = encode_rows(rows);
  if (!batch_compression() || plain.size() > max_batch_bytes) {
    plain.insert(plain.begin(), 'R');
    return plain;
  }
  auto n = static_cast<int>(plain.size());
  std::string out(5 + static_cast<size_t>(LZ4_compressBound(n)), '\0');
  out[0] = 'Z';
  auto len = static_cast<uint32_t>(plain.size());
  for (int i = 0; i < 4; ++i)
    out[1 + i] = static_cast<char>((len >> (8 * i)) & 0xff);
  auto packed = LZ4_compress_default(plain.data(), out.data() + 5, n,
                                     static_cast<int>(out.size() - 5));
  if (packed <= 0) {
    plain.insert(plain.begin(), 'R');
    return plain;
  }
  out.resize(5 + static_cast<size_t>(packed));
  return out;
}

std::optional<std::vector<row>> decode_batch(const std::string& bytes) {
  if (bytes.empty())
    return std::nullopt;
  if (bytes[0] == 'R')
    return decode_rows(bytes.substr(1));
  if (bytes[0] != 'Z' || bytes.size() < 5)
    return std::nullopt;
  uint32_t len = 0;
  for (int i = 0; i < 4; ++i)
    len |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[1 + i]))
           << (8 * i);
  if (len > max_batch_bytes)
    return std::nullopt;
  std::string plain(len, '\0');
  auto got = LZ4_decompress_safe(bytes.data() + 5, plain.data(),
                                 static_cast<int>(bytes.size() - 5),
                                 static_cast<int>(len));
  if (got < 0 || static_cast<uint32_t>(got) != len)
    return std::nullopt;
  return decode_rows(plain);
}

void register_protocol(caf::actor_system_config& cfg) {
  cfg.add_message_type<job_id>("weir::job_id");
  cfg.add_message_type<batch>("weir::batch");
  cfg.add_message_type<data_plane_config>("weir::data_plane_config");
  cfg.add_message_type<task_metrics>("weir::task_metrics");
  cfg.add_message_type<std::vector<task_metrics>>(
    "std::vector<weir::task_metrics>");
  cfg.add_message_type<subtask_checkpoint_stats>(
    "weir::subtask_checkpoint_stats");
  cfg.add_message_type<task_input_info>("weir::task_input_info");
  cfg.add_message_type<task_info>("weir::task_info");
  cfg.add_message_type<job_status>("weir::job_status");
  cfg.add_message_type<execution_state>("weir::execution_state");
  cfg.add_message_type<job_result>("weir::job_result");
  cfg.add_message_type<std::vector<job_result>>(
    "std::vector<weir::job_result>");
  cfg.add_message_type<subtask_info>("weir::subtask_info");
  cfg.add_message_type<failure_info>("weir::failure_info");
  cfg.add_message_type<checkpoint_stats>("weir::checkpoint_stats");
  cfg.add_message_type<std::vector<checkpoint_stats>>(
    "std::vector<weir::checkpoint_stats>");
  cfg.add_message_type<checkpoint_config_info>("weir::checkpoint_config_info");
  cfg.add_message_type<restore_info>("weir::restore_info");
  cfg.add_message_type<job_info>("weir::job_info");
  cfg.add_message_type<submit_options>("weir::submit_options");
  cfg.add_message_type<deploy_request>("weir::deploy_request");
  cfg.add_message_type<slot_grant>("weir::slot_grant");
  cfg.add_message_type<std::vector<slot_grant>>(
    "std::vector<weir::slot_grant>");
  cfg.add_message_type<cluster_info>("weir::cluster_info");
  cfg.add_message_type<task_manager_registration>(
    "weir::task_manager_registration");
  cfg.add_message_type<task_manager_info>("weir::task_manager_info");
  cfg.add_message_type<std::vector<task_manager_info>>(
    "std::vector<weir::task_manager_info>");
  cfg.add_message_type<resource_manager_actor>("weir::resource_manager_actor");
  cfg.add_message_type<job_manager_actor>("weir::job_manager_actor");
  cfg.add_message_type<job_master_actor>("weir::job_master_actor");
  cfg.add_message_type<checkpoint_coordinator_actor>(
    "weir::checkpoint_coordinator_actor");
  cfg.add_message_type<task_actor>("weir::task_actor");
  cfg.add_message_type<task_manager_actor>("weir::task_manager_actor");
  cfg.add_message_type<std::vector<caf::strong_actor_ptr>>(
    "std::vector<caf::strong_actor_ptr>");
}

} // namespace weir
