#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "api/codec.hpp"
#include "operators/support.hpp"

namespace weir::builtins {

namespace {

namespace fs = std::filesystem;

/// Version of the sink's state blob.
constexpr uint64_t file_sink_state_version = 1;

/// Bytes buffered before a write(2).
constexpr size_t write_buffer_bytes = 64 * 1024;

std::string errno_text() {
  return std::strerror(errno);
}

/// One file_sink subtask, a two-phase-commit writer (Flink's FileSink):
///
///   in progress  `.part-<job>-<subtask>-<n>.csv.inprogress`, being written
///   pending      `.part-<job>-<subtask>-<n>.csv.pending`, closed and synced
///                when a checkpoint barrier passed (pre-commit)
///   committed    `part-<job>-<subtask>-<n>.csv`, renamed into place once
///                that checkpoint completed, or when the job finished
///
/// `<job>` is the first 8 digits of the job id, so jobs writing to one
/// directory never touch each other's files. Hidden files are never
/// output. The state of a checkpoint is the next file number and the
/// pending files not yet known to be committed; a restore commits those
/// (their checkpoint completed) and deletes this job's files the restored
/// attempt had not reached, which it will write again.
class file_sink_writer {
public:
  file_sink_writer(const operator_context& ctx) : subtask_(ctx.subtask) {
    dir_ = ctx.get_string("path");
    if (!ctx.job.empty())
      tag_ = ctx.job.substr(0, 8);
    if (ctx.has("header") && ctx.get_bool("header")) {
      row names;
      for (const auto& f : ctx.input_fields)
        names.emplace_back(f);
      header_ = to_csv(names) + '\n';
    }
    std::error_code ec;
    fs::create_directories(dir_, ec);
    // Another subtask may have created it concurrently: only a missing
    // directory is an error.
    if (!fs::is_directory(dir_))
      error_ = "file_sink: cannot create directory '" + dir_.string()
               + "': " + (ec ? ec.message() : "not a directory");
  }

  file_sink_writer(const file_sink_writer&) = delete;
  file_sink_writer& operator=(const file_sink_writer&) = delete;

  ~file_sink_writer() {
    // An abandoned in-progress file is removed by the next attempt.
    if (fd_ >= 0)
      ::close(fd_);
  }

  void write(const row& r) {
    prepare();
    if (fd_ < 0)
      open_next();
    buffer_ += to_csv(r);
    buffer_ += '\n';
    if (buffer_.size() >= write_buffer_bytes)
      flush_buffer();
  }

  /// Pre-commits the open file for checkpoint `id` and returns the state.
  std::string snapshot(uint64_t id) {
    prepare();
    if (fd_ >= 0)
      close_current(id);
    std::string out;
    append_varint(out, file_sink_state_version);
    append_varint(out, tag_.size());
    out += tag_;
    append_varint(out, static_cast<uint64_t>(subtask_));
    append_varint(out, next_);
    append_varint(out, pending_.size());
    for (const auto& [cid, n] : pending_) {
      append_varint(out, cid);
      append_varint(out, n);
    }
    return out;
  }

  /// Input ended: pre-commit the open file for the job's final commit.
  void end_of_input() {
    prepare();
    if (fd_ >= 0)
      close_current(final_checkpoint);
  }

  /// Commits every pending file of a checkpoint up to `id`.
  void commit(uint64_t id) {
    check();
    std::vector<std::pair<uint64_t, uint64_t>> keep;
    for (const auto& [cid, n] : pending_) {
      if (cid <= id)
        commit_file(tag_, subtask_, n);
      else
        keep.emplace_back(cid, n);
    }
    pending_ = std::move(keep);
  }

  /// Restores the state of a subtask of this or an earlier job (several
  /// calls when the sink was rescaled).
  void restore(const std::string& bytes) {
    check();
    size_t pos = 0;
    auto next_varint = [&] {
      uint64_t x = 0;
      if (!read_varint(bytes.data(), bytes.size(), pos, x))
        throw std::runtime_error("file_sink: corrupt state");
      return x;
    };
    if (next_varint() != file_sink_state_version)
      throw std::runtime_error("file_sink: unsupported state version");
    auto tag_len = next_varint();
    if (tag_len > bytes.size() - pos)
      throw std::runtime_error("file_sink: corrupt state");
    auto tag = bytes.substr(pos, tag_len);
    pos += tag_len;
    auto subtask = static_cast<int>(next_varint());
    auto next = next_varint();
    auto count = next_varint();
    std::vector<uint64_t> pending;
    for (uint64_t i = 0; i < count; ++i) {
      next_varint(); // the checkpoint id: it completed, or we would not be here
      pending.push_back(next_varint());
    }
    if (pos != bytes.size())
      throw std::runtime_error("file_sink: corrupt state");
    for (auto n : pending)
      commit_file(tag, subtask, n);
    if (tag != tag_)
      return; // another job's files beyond its savepoint are its own
    remove_files(tag, subtask, [next](uint64_t n) { return n >= next; });
    if (subtask == subtask_) {
      next_ = next;
      prepared_ = true;
    }
  }

private:
  void check() const {
    if (!error_.empty())
      throw std::runtime_error(error_);
  }

  /// Before the first write of a fresh (not restored) attempt: this
  /// subtask's files of an earlier attempt of the same job are stale.
  void prepare() {
    check();
    if (prepared_)
      return;
    remove_files(tag_, subtask_, [](uint64_t) { return true; });
    prepared_ = true;
  }

  std::string base_name(const std::string& tag, int subtask, uint64_t n) const {
    auto name = std::string{"part-"};
    if (!tag.empty())
      name += tag + '-';
    return name + std::to_string(subtask) + '-' + std::to_string(n) + ".csv";
  }

  fs::path committed_path(const std::string& tag, int subtask,
                          uint64_t n) const {
    return dir_ / base_name(tag, subtask, n);
  }

  fs::path hidden_path(const std::string& tag, int subtask, uint64_t n,
                       const char* suffix) const {
    return dir_ / ('.' + base_name(tag, subtask, n) + suffix);
  }

  /// The file number of `name` if it is one of subtask `subtask`'s files
  /// (committed, pending or in progress) of job `tag`.
  std::optional<uint64_t> number_of(std::string name, const std::string& tag,
                                    int subtask) const {
    auto strip_suffix = [&](const std::string& suffix) {
      if (name.size() > suffix.size()
          && name.compare(name.size() - suffix.size(), suffix.size(), suffix)
               == 0) {
        name.resize(name.size() - suffix.size());
        return true;
      }
      return false;
    };
    if (!name.empty() && name.front() == '.') {
      if (!strip_suffix(".inprogress") && !strip_suffix(".pending"))
        return std::nullopt;
      name.erase(0, 1);
    }
    if (!strip_suffix(".csv"))
      return std::nullopt;
    auto prefix = std::string{"part-"};
    if (!tag.empty())
      prefix += tag + '-';
    prefix += std::to_string(subtask) + '-';
    if (name.compare(0, prefix.size(), prefix) != 0
        || name.size() == prefix.size() || name.size() - prefix.size() > 19)
      return std::nullopt;
    uint64_t n = 0;
    for (size_t i = prefix.size(); i < name.size(); ++i) {
      if (name[i] < '0' || name[i] > '9')
        return std::nullopt;
      n = n * 10 + static_cast<uint64_t>(name[i] - '0');
    }
    return n;
  }

  template <class Predicate>
  void remove_files(const std::string& tag, int subtask, Predicate pred) {
    std::error_code ec;
    std::vector<fs::path> doomed;
    for (fs::directory_iterator i{dir_, ec}, end; !ec && i != end;
         i.increment(ec)) {
      auto n = number_of(i->path().filename().string(), tag, subtask);
      if (n && pred(*n))
        doomed.push_back(i->path());
    }
    if (ec)
      throw std::runtime_error("file_sink: cannot list '" + dir_.string()
                               + "': " + ec.message());
    for (const auto& p : doomed)
      if (!fs::remove(p, ec) && ec)
        throw std::runtime_error("file_sink: cannot remove '" + p.string()
                                 + "': " + ec.message());
  }

  void open_next() {
    current_ = next_++;
    auto path = hidden_path(tag_, subtask_, current_, ".inprogress");
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0)
      throw std::runtime_error("file_sink: cannot open '" + path.string()
                               + "': " + errno_text());
    buffer_ = header_;
  }

  void flush_buffer() {
    size_t done = 0;
    while (done < buffer_.size()) {
      auto n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        throw std::runtime_error(
          "file_sink: cannot write '"
          + hidden_path(tag_, subtask_, current_, ".inprogress").string()
          + "': " + errno_text());
      done += static_cast<size_t>(n);
    }
    buffer_.clear();
  }

  /// Closes the open file durably and renames it to pending for `id`.
  void close_current(uint64_t id) {
    flush_buffer();
    auto from = hidden_path(tag_, subtask_, current_, ".inprogress");
    if (::fsync(fd_) != 0 || ::close(fd_) != 0) {
      fd_ = -1;
      throw std::runtime_error("file_sink: cannot sync '" + from.string()
                               + "': " + errno_text());
    }
    fd_ = -1;
    auto to = hidden_path(tag_, subtask_, current_, ".pending");
    if (::rename(from.c_str(), to.c_str()) != 0)
      throw std::runtime_error("file_sink: cannot rename '" + from.string()
                               + "': " + errno_text());
    sync_directory();
    pending_.emplace_back(id, current_);
  }

  /// Makes a pending file visible; committing it twice is harmless.
  void commit_file(const std::string& tag, int subtask, uint64_t n) {
    auto from = hidden_path(tag, subtask, n, ".pending");
    auto to = committed_path(tag, subtask, n);
    if (::rename(from.c_str(), to.c_str()) == 0)
      return;
    auto err = errno;
    std::error_code ec;
    if (err == ENOENT && fs::exists(to, ec))
      return;
    throw std::runtime_error(
      "file_sink: cannot commit '" + from.string() + "': "
      + (err == ENOENT ? std::string{"the pending file is missing"}
                       : std::string{std::strerror(err)}));
  }

  void sync_directory() {
    auto fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
  }

  fs::path dir_;
  std::string tag_;
  int subtask_;
  std::string header_;
  std::string error_;
  /// Whether this attempt's starting point is settled (restored, or stale
  /// files of an earlier attempt removed).
  bool prepared_ = false;
  uint64_t next_ = 0;
  int fd_ = -1;
  uint64_t current_ = 0;
  std::string buffer_;
  /// (checkpoint id, file number) of pre-committed files, oldest first.
  std::vector<std::pair<uint64_t, uint64_t>> pending_;
};

operator_behavior make_file_sink(const operator_context& ctx) {
  auto w = std::make_shared<file_sink_writer>(ctx);
  return operator_behavior{
    [w](const row& r, collector&) { w->write(r); },
    [w](end_of_input_t, collector&) { w->end_of_input(); },
    [w](snapshot_t, uint64_t id) { return w->snapshot(id); },
    [w](restore_t, const std::string& bytes) { w->restore(bytes); },
    [w](checkpoint_complete_t, uint64_t id) { w->commit(id); },
  };
}

} // namespace

operator_descriptor file_sink_descriptor() {
  operator_descriptor d;
  d.name = "file_sink";
  d.kind = operator_kind::sink;
  d.help = "Writes rows as CSV files <path>/part-<job>-<subtask>-<n>.csv, "
           "exactly once: files are committed when a checkpoint completes "
           "and when the job finishes (two-phase commit).";
  d.params = {
    {"path", param_type::string, true, "",
     "output directory, created if missing"},
    {"header", param_type::boolean, false, "false",
     "write the field names as the first line of each file"},
  };
  d.output_fields
    = [](const parameters& params, const std::vector<std::string>&)
    -> caf::expected<std::vector<std::string>> {
    if (param_or(params, "path").empty())
      return bad_param("file_sink", "parameter 'path' is empty");
    return std::vector<std::string>{};
  };
  d.factory = make_file_sink;
  return d;
}

} // namespace weir::builtins
