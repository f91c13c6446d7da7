#include "checkpoint/checkpoint_store.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <optional>
#include <random>
#include <set>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

#include "checkpoint/state_file.hpp"

namespace fs = std::filesystem;

namespace weir {

namespace {

constexpr char metadata_name[] = "_metadata";
constexpr char chk_prefix[] = "chk-";

caf::error io_error(const std::string& what, const fs::path& path,
                    const std::error_code& ec) {
  return make_error(checkpoint_errc::io_error,
                    what + " '" + path.string() + "': " + ec.message());
}

caf::error corrupt(std::string text) {
  return make_error(checkpoint_errc::corrupt, std::move(text));
}

/// Makes `name` a single, harmless path component: bytes other than
/// letters, digits and `_.-` become %XX, so distinct names stay distinct.
std::string escape(const std::string& name) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(name.size());
  for (char c : name) {
    auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z')
        || (u >= '0' && u <= '9') || u == '_' || u == '.' || u == '-') {
      out += c;
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 0xF];
    }
  }
  return out;
}

/// The file name of a subtask's state. The subtask index follows the last
/// '-' and has no sign, so no two (vertex, subtask) pairs share a name.
std::string state_file_name(const std::string& vertex, uint32_t subtask) {
  return escape(vertex) + "-" + std::to_string(subtask) + ".state";
}

/// Whether a file name read from metadata stays inside its directory.
bool is_plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name != metadata_name
         && name.find('/') == std::string::npos
         && name.find('\0') == std::string::npos;
}

/// The id of a directory named `chk-<decimal id>`.
std::optional<uint64_t> parse_chk_name(const std::string& name) {
  constexpr size_t prefix_size = sizeof(chk_prefix) - 1;
  if (name.size() <= prefix_size || name.compare(0, prefix_size, chk_prefix))
    return std::nullopt;
  const char* first = name.data() + prefix_size;
  const char* last = name.data() + name.size();
  uint64_t id = 0;
  auto [end, ec] = std::from_chars(first, last, id);
  if (ec != std::errc{} || end != last)
    return std::nullopt;
  return id;
}

/// Makes a created directory entry durable.
void fsync_dir(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

/// Creates `dir` and missing parents. When it creates anything, it syncs
/// the two levels above `dir` so that a checkpoint (or a job directory)
/// written into it survives a crash.
caf::error create_dir(const fs::path& dir) {
  std::error_code ec;
  if (!fs::create_directories(dir, ec)) {
    if (ec)
      return io_error("cannot create directory", dir, ec);
    return caf::none;
  }
  fsync_dir(dir.parent_path());
  fsync_dir(dir.parent_path().parent_path());
  return caf::none;
}

/// A `chk-<id>` directory of a job.
struct chk_entry {
  uint64_t id;
  bool complete;
};

/// Every `chk-<id>` directory under `job_dir`, ascending by id; none when
/// `job_dir` does not exist yet.
caf::expected<std::vector<chk_entry>> scan(const fs::path& job_dir) {
  std::vector<chk_entry> out;
  std::error_code ec;
  fs::directory_iterator it{job_dir, ec};
  if (ec == std::errc::no_such_file_or_directory)
    return out;
  for (; !ec && it != fs::directory_iterator{}; it.increment(ec)) {
    auto id = parse_chk_name(it->path().filename().string());
    std::error_code type_ec;
    if (!id || !it->is_directory(type_ec))
      continue;
    auto complete = fs::exists(it->path() / metadata_name, type_ec);
    out.push_back({*id, complete});
  }
  if (ec)
    return io_error("cannot list checkpoint directory", job_dir, ec);
  std::sort(out.begin(), out.end(),
            [](const chk_entry& a, const chk_entry& b) { return a.id < b.id; });
  return out;
}

caf::error write_metadata(const fs::path& dir,
                          const proto::CheckpointMetadata& metadata) {
  std::string bytes;
  if (!metadata.SerializeToString(&bytes))
    return corrupt("cannot serialize the metadata of '" + dir.string() + "'");
  return write_state_file((dir / metadata_name).string(), bytes);
}

caf::expected<proto::CheckpointMetadata> read_metadata(const fs::path& dir) {
  auto path = (dir / metadata_name).string();
  auto bytes = read_state_file(path);
  if (!bytes)
    return std::move(bytes.error());
  proto::CheckpointMetadata metadata;
  if (!metadata.ParseFromString(*bytes))
    return corrupt(path + ": the metadata does not parse");
  return metadata;
}

/// Checks that a listed state file exists with its recorded size.
caf::error check_size(const fs::path& dir,
                      const proto::SubtaskStateHandle& handle) {
  if (!is_plain_file_name(handle.file()))
    return corrupt(dir.string() + ": the metadata names the state file '"
                   + handle.file()
                   + "', which is not a file name inside the directory");
  auto path = dir / handle.file();
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec)
    return io_error("missing state file", path, ec);
  if (size != handle.size())
    return corrupt(path.string() + ": " + std::to_string(size)
                   + " bytes where the metadata records "
                   + std::to_string(handle.size())
                   + " (truncated or replaced)");
  return caf::none;
}

/// Reads `dir`'s metadata and checks every state file it lists.
caf::expected<completed_checkpoint> verify(const fs::path& dir) {
  auto metadata = read_metadata(dir);
  if (!metadata)
    return std::move(metadata.error());
  for (const auto& handle : metadata->subtasks()) {
    auto state = checkpoint_store::read_subtask_state(dir.string(), handle);
    if (!state)
      return std::move(state.error());
  }
  completed_checkpoint out;
  out.dir = dir.string();
  out.metadata = std::move(*metadata);
  return out;
}

std::string random_hex(size_t digits) {
  static constexpr char hex[] = "0123456789abcdef";
  std::random_device seed;
  std::mt19937_64 rng{(uint64_t{seed()} << 32) ^ seed()};
  std::string out;
  for (size_t i = 0; i < digits; ++i)
    out += hex[rng() & 0xF];
  return out;
}

} // namespace

checkpoint_store::checkpoint_store(std::string root, std::string job_id,
                                   size_t retain)
  : root_(std::move(root)), job_id_(std::move(job_id)),
    job_dir_((fs::path{root_} / escape(job_id_)).string()),
    retain_(std::max(retain, size_t{1})) {
  // Nothing else: the directories appear with the first checkpoint.
}

std::string checkpoint_store::checkpoint_dir(uint64_t id) const {
  return (fs::path{job_dir_} / (chk_prefix + std::to_string(id))).string();
}

// -- taking checkpoints -------------------------------------------------------

caf::expected<uint64_t> checkpoint_store::next_id() const {
  auto entries = scan(job_dir_);
  if (!entries)
    return std::move(entries.error());
  return entries->empty() ? uint64_t{1} : entries->back().id + 1;
}

caf::expected<proto::SubtaskStateHandle>
checkpoint_store::write_subtask_state(uint64_t id, const std::string& vertex,
                                      uint32_t subtask,
                                      const std::string& payload) {
  fs::path dir = checkpoint_dir(id);
  std::error_code ec;
  if (fs::exists(dir / metadata_name, ec))
    return corrupt("checkpoint " + std::to_string(id) + " in '" + dir.string()
                   + "' is already complete; its state cannot change");
  if (auto err = create_dir(dir))
    return err;
  proto::SubtaskStateHandle handle;
  handle.set_vertex_or_task_id(vertex);
  handle.set_subtask(static_cast<int32_t>(subtask));
  handle.set_file(state_file_name(vertex, subtask));
  auto path = dir / handle.file();
  if (auto err = write_state_file(path.string(), payload))
    return err;
  handle.set_size(fs::file_size(path, ec));
  if (ec)
    return io_error("cannot stat state file", path, ec);
  return handle;
}

caf::error checkpoint_store::complete(proto::CheckpointMetadata metadata) {
  auto id = metadata.checkpoint_id();
  fs::path dir = checkpoint_dir(id);
  if (metadata.job_id().empty())
    metadata.set_job_id(job_id_);
  else if (metadata.job_id() != job_id_)
    return corrupt("checkpoint " + std::to_string(id) + " of job "
                   + metadata.job_id() + " cannot complete in '" + dir.string()
                   + "', which belongs to job " + job_id_);
  auto entries = scan(job_dir_);
  if (!entries)
    return std::move(entries.error());
  for (const auto& e : *entries)
    if (e.complete && e.id >= id)
      return corrupt("checkpoint " + std::to_string(id)
                     + " cannot complete in '" + job_dir_ + "': checkpoint "
                     + std::to_string(e.id)
                     + " is already complete and ids must increase");
  for (const auto& handle : metadata.subtasks())
    if (auto err = check_size(dir, handle))
      return err;
  // A checkpoint of a job without state has no directory yet.
  if (auto err = create_dir(dir))
    return err;
  if (auto err = write_metadata(dir, metadata))
    return err;
  prune();
  return caf::none;
}

caf::error checkpoint_store::abort(uint64_t id) {
  fs::path dir = checkpoint_dir(id);
  std::error_code ec;
  if (fs::exists(dir / metadata_name, ec))
    return corrupt("checkpoint " + std::to_string(id) + " in '" + dir.string()
                   + "' is complete and cannot be aborted");
  fs::remove_all(dir, ec);
  if (ec)
    return io_error("cannot remove aborted checkpoint", dir, ec);
  return caf::none;
}

void checkpoint_store::prune() {
  auto entries = scan(job_dir_);
  if (!entries)
    return;
  size_t kept = 0;
  for (auto i = entries->rbegin(); i != entries->rend(); ++i) {
    if (!i->complete || ++kept <= retain_)
      continue;
    std::error_code ec;
    fs::remove_all(checkpoint_dir(i->id), ec);
  }
}

// -- recovery -----------------------------------------------------------------

caf::expected<std::vector<uint64_t>> checkpoint_store::list() const {
  auto entries = scan(job_dir_);
  if (!entries)
    return std::move(entries.error());
  std::vector<uint64_t> out;
  for (const auto& e : *entries)
    if (e.complete)
      out.push_back(e.id);
  return out;
}

caf::expected<completed_checkpoint> checkpoint_store::latest() const {
  auto ids = list();
  if (!ids)
    return std::move(ids.error());
  if (ids->empty())
    return make_error(checkpoint_errc::io_error,
                      "job " + job_id_ + " has no completed checkpoint in '"
                        + job_dir_ + "'");
  std::vector<std::string> warnings;
  for (auto i = ids->rbegin(); i != ids->rend(); ++i) {
    auto skipped = [&](const std::string& why) {
      warnings.push_back("skipped checkpoint " + std::to_string(*i) + ": "
                         + why);
    };
    auto chk = verify(checkpoint_dir(*i));
    if (!chk) {
      skipped(error_text(chk.error()));
      continue;
    }
    const auto& metadata = chk->metadata;
    if (metadata.checkpoint_id() != *i || metadata.job_id() != job_id_) {
      skipped(chk->dir + "/" + metadata_name + " describes checkpoint "
              + std::to_string(metadata.checkpoint_id()) + " of job "
              + metadata.job_id());
      continue;
    }
    chk->warnings = std::move(warnings);
    return chk;
  }
  std::string text
    = "job " + job_id_ + " has no intact checkpoint in '" + job_dir_ + "'";
  for (const auto& w : warnings)
    text += "; " + w;
  return corrupt(std::move(text));
}

caf::expected<size_t> checkpoint_store::cleanup_incomplete() {
  auto entries = scan(job_dir_);
  if (!entries)
    return std::move(entries.error());
  size_t removed = 0;
  for (const auto& e : *entries) {
    if (e.complete)
      continue;
    std::error_code ec;
    fs::path dir = checkpoint_dir(e.id);
    fs::remove_all(dir, ec);
    if (ec)
      return io_error("cannot remove incomplete checkpoint", dir, ec);
    ++removed;
  }
  return removed;
}

// -- savepoints ---------------------------------------------------------------

caf::expected<std::string>
checkpoint_store::make_savepoint_dir(const std::string& target_dir) const {
  if (auto err = create_dir(target_dir))
    return err;
  // Flink's naming: the job id's first six characters and random digits.
  auto prefix = "savepoint-" + escape(job_id_).substr(0, 6) + "-";
  fs::path dir;
  std::error_code ec;
  for (bool created = false; !created;) {
    dir = fs::path{target_dir} / (prefix + random_hex(12));
    created = fs::create_directory(dir, ec);
    if (ec)
      return io_error("cannot create savepoint directory", dir, ec);
  }
  fsync_dir(target_dir);
  return dir.string();
}

caf::expected<std::string> checkpoint_store::write_savepoint(
  const std::string& target_dir, proto::CheckpointMetadata metadata,
  const std::vector<subtask_state>& states) const {
  if (metadata.job_id().empty())
    metadata.set_job_id(job_id_);
  metadata.set_savepoint(true);
  metadata.clear_subtasks();
  auto made = make_savepoint_dir(target_dir);
  if (!made)
    return std::move(made.error());
  fs::path dir = *made;
  std::error_code ec;
  auto fail = [&](caf::error err) -> caf::expected<std::string> {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
    return err;
  };
  std::set<std::string> files;
  for (const auto& state : states) {
    auto handle = state.handle;
    if (handle.subtask() < 0)
      return fail(corrupt("savepoint '" + dir.string() + "': subtask "
                          + std::to_string(handle.subtask()) + " of "
                          + handle.vertex_or_task_id() + " is negative"));
    handle.set_file(state_file_name(handle.vertex_or_task_id(),
                                    static_cast<uint32_t>(handle.subtask())));
    if (!files.insert(handle.file()).second)
      return fail(corrupt("savepoint '" + dir.string()
                          + "': two states for subtask "
                          + std::to_string(handle.subtask()) + " of "
                          + handle.vertex_or_task_id()));
    auto path = dir / handle.file();
    if (auto err = write_state_file(path.string(), state.payload))
      return fail(std::move(err));
    handle.set_size(fs::file_size(path, ec));
    if (ec)
      return fail(io_error("cannot stat state file", path, ec));
    *metadata.add_subtasks() = std::move(handle);
  }
  if (auto err = write_metadata(dir, metadata))
    return fail(std::move(err));
  return dir.string();
}

caf::expected<std::string>
checkpoint_store::export_savepoint(uint64_t id,
                                   const std::string& target_dir) const {
  auto source = fs::path{checkpoint_dir(id)};
  auto checkpoint = verify(source);
  if (!checkpoint)
    return std::move(checkpoint.error());
  auto made = make_savepoint_dir(target_dir);
  if (!made)
    return std::move(made.error());
  fs::path dir = *made;
  auto fail = [&](caf::error err) -> caf::expected<std::string> {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
    return err;
  };
  for (const auto& handle : checkpoint->metadata.subtasks()) {
    auto from = source / handle.file();
    auto to = dir / handle.file();
    // State files never change once written: a hard link is a copy.
    std::error_code ec;
    fs::create_hard_link(from, to, ec);
    if (ec) {
      ec.clear();
      fs::copy_file(from, to, ec);
      if (ec)
        return fail(io_error("cannot copy state file into savepoint", to, ec));
      int fd = ::open(to.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
      }
    }
  }
  auto metadata = std::move(checkpoint->metadata);
  metadata.set_savepoint(true);
  if (auto err = write_metadata(dir, metadata))
    return fail(std::move(err));
  return dir.string();
}

caf::expected<completed_checkpoint>
checkpoint_store::load(const std::string& path) {
  fs::path dir = path;
  std::error_code ec;
  auto status = fs::status(dir, ec);
  if (fs::is_regular_file(status) && dir.filename() == metadata_name)
    dir = dir.parent_path();
  else if (!fs::is_directory(status))
    return make_error(checkpoint_errc::io_error,
                      "'" + path
                        + "' is neither a checkpoint or savepoint directory "
                          "nor its _metadata file"
                        + (ec ? ": " + ec.message() : std::string{}));
  if (!fs::exists(dir / metadata_name, ec))
    return make_error(checkpoint_errc::io_error,
                      "'" + dir.string() + "' has no " + metadata_name
                        + ": not a completed checkpoint or savepoint");
  return verify(dir);
}

caf::expected<std::string>
checkpoint_store::read_subtask_state(const std::string& dir,
                                     const proto::SubtaskStateHandle& handle) {
  if (auto err = check_size(dir, handle))
    return err;
  return read_state_file((fs::path{dir} / handle.file()).string());
}

} // namespace weir
