#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "checkpoint/checkpoint_store.hpp"
#include "support/temp_dir.hpp"

using namespace weir;

namespace fs = std::filesystem;

namespace {

constexpr char job[] = "0123456789abcdef0123456789abcdef";

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// The text of a failed result, for messages (doctest renders them even
/// when an assertion holds, e.g. with --success).
template <class T>
std::string why(const caf::expected<T>& x) {
  return x ? std::string{"ok"} : error_text(x.error());
}

bool has_code(const caf::error& err, checkpoint_errc code) {
  return err.category() == caf::atom("weir_chk")
         && err.code() == static_cast<uint8_t>(code);
}

std::string payload_of(uint64_t id, uint32_t subtask) {
  return "state of subtask " + std::to_string(subtask) + " at checkpoint "
         + std::to_string(id) + std::string(500, static_cast<char>('a' + id));
}

/// Writes the state of two subtasks of "counter" and completes checkpoint
/// `id`, as a coordinator would once both acked.
void take_checkpoint(checkpoint_store& store, uint64_t id) {
  proto::CheckpointMetadata metadata;
  metadata.set_checkpoint_id(id);
  metadata.set_timestamp_millis(1000 * static_cast<int64_t>(id));
  metadata.set_job_spec_fingerprint("spec-1");
  for (uint32_t subtask = 0; subtask < 2; ++subtask) {
    auto handle = store.write_subtask_state(id, "counter", subtask,
                                            payload_of(id, subtask));
    REQUIRE_MESSAGE(handle, why(handle));
    handle->set_parallelism(2);
    handle->set_max_parallelism(128);
    handle->set_key_group_first(subtask * 64);
    handle->set_key_group_last(subtask * 64 + 63);
    *metadata.add_subtasks() = std::move(*handle);
  }
  auto err = store.complete(metadata);
  REQUIRE_MESSAGE(!err, error_text(err));
}

std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  out << content;
}

void flip_byte(const std::string& path, size_t pos) {
  auto content = read_file(path);
  REQUIRE(pos < content.size());
  content[pos] = static_cast<char>(content[pos] ^ 0x01);
  write_file(path, content);
}

/// Every file below `dir`, relative to it, sorted.
std::vector<std::string> tree(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator{dir})
    out.push_back(fs::relative(e.path(), dir).string());
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace

TEST_CASE("a completed checkpoint is found again by latest") {
  test::temp_dir dir;
  checkpoint_store store{dir / "checkpoints", job, 1};
  take_checkpoint(store, 1);
  // The layout of Flink's FsCheckpointStorage, nothing left half-written.
  CHECK(store.job_dir() == dir / "checkpoints" + "/" + job);
  CHECK(tree(store.job_dir())
        == std::vector<std::string>{"chk-1", "chk-1/_metadata",
                                    "chk-1/counter-0.state",
                                    "chk-1/counter-1.state"});
  auto ids = store.list();
  REQUIRE(ids);
  CHECK(*ids == std::vector<uint64_t>{1});
  auto chk = store.latest();
  REQUIRE_MESSAGE(chk, why(chk));
  CHECK(chk->dir == store.checkpoint_dir(1));
  CHECK(chk->warnings.empty());
  const auto& metadata = chk->metadata;
  CHECK(metadata.checkpoint_id() == 1);
  CHECK(metadata.job_id() == job);
  CHECK(metadata.timestamp_millis() == 1000);
  CHECK(!metadata.savepoint());
  CHECK(metadata.job_spec_fingerprint() == "spec-1");
  REQUIRE(metadata.subtasks_size() == 2);
  for (uint32_t subtask = 0; subtask < 2; ++subtask) {
    const auto& handle = metadata.subtasks(static_cast<int>(subtask));
    CHECK(handle.vertex_or_task_id() == "counter");
    CHECK(handle.subtask() == static_cast<int32_t>(subtask));
    CHECK(handle.parallelism() == 2);
    CHECK(handle.max_parallelism() == 128);
    CHECK(handle.key_group_first() == subtask * 64);
    CHECK(handle.key_group_last() == subtask * 64 + 63);
    CHECK(handle.size() == fs::file_size(chk->dir + "/" + handle.file()));
    auto state = checkpoint_store::read_subtask_state(chk->dir, handle);
    REQUIRE(state);
    CHECK(*state == payload_of(1, subtask));
  }
}

TEST_CASE("completing a checkpoint keeps only the newest retained ones") {
  test::temp_dir dir;
  SUBCASE("retain 2") {
    checkpoint_store store{dir.path().string(), job, 2};
    for (uint64_t id = 1; id <= 4; ++id)
      take_checkpoint(store, id);
    CHECK(*store.list() == std::vector<uint64_t>{3, 4});
    CHECK(!fs::exists(store.checkpoint_dir(1)));
    CHECK(!fs::exists(store.checkpoint_dir(2)));
    CHECK(store.latest()->metadata.checkpoint_id() == 4);
  }
  SUBCASE("retain 0 keeps one, as Flink requires") {
    checkpoint_store store{dir.path().string(), job, 0};
    take_checkpoint(store, 1);
    take_checkpoint(store, 2);
    CHECK(*store.list() == std::vector<uint64_t>{2});
  }
  SUBCASE("pruning leaves checkpoints in flight alone") {
    checkpoint_store store{dir.path().string(), job, 1};
    take_checkpoint(store, 1);
    REQUIRE(store.write_subtask_state(3, "counter", 0, "in flight"));
    take_checkpoint(store, 2);
    CHECK(*store.list() == std::vector<uint64_t>{2});
    CHECK(fs::exists(store.checkpoint_dir(3) + "/counter-0.state"));
  }
}

TEST_CASE("latest skips a damaged checkpoint and says what was wrong") {
  test::temp_dir dir;
  checkpoint_store store{dir.path().string(), job, 3};
  take_checkpoint(store, 1);
  take_checkpoint(store, 2);
  auto chk2 = store.checkpoint_dir(2);
  auto state = chk2 + "/counter-1.state";
  std::string expected;
  SUBCASE("a truncated state file") {
    fs::resize_file(state, fs::file_size(state) - 5);
    expected = "truncated";
  }
  SUBCASE("a corrupted state file of the recorded size") {
    flip_byte(state, fs::file_size(state) / 2);
    expected = "corrupt";
  }
  SUBCASE("a missing state file") {
    fs::remove(state);
    expected = "missing state file";
  }
  SUBCASE("corrupt metadata") {
    state = chk2 + "/_metadata";
    flip_byte(state, fs::file_size(state) / 2);
    expected = "corrupt";
  }
  SUBCASE("metadata that is not a state file") {
    state = chk2 + "/_metadata";
    write_file(state, "garbage");
    expected = "not a Weir state file";
  }
  CAPTURE(expected);
  auto chk = store.latest();
  REQUIRE_MESSAGE(chk, why(chk));
  CHECK(chk->metadata.checkpoint_id() == 1);
  REQUIRE(chk->warnings.size() == 1);
  const auto& warning = chk->warnings.front();
  CAPTURE(warning);
  CHECK(contains(warning, "skipped checkpoint 2"));
  CHECK(contains(warning, state));
  CHECK(contains(warning, expected));
  // The payloads of the checkpoint used are those of checkpoint 1.
  auto back
    = checkpoint_store::read_subtask_state(chk->dir, chk->metadata.subtasks(1));
  REQUIRE(back);
  CHECK(*back == payload_of(1, 1));
}

TEST_CASE("latest fails clearly when no checkpoint is intact or none exists") {
  test::temp_dir dir;
  checkpoint_store store{dir / "nowhere", job, 2};
  auto none = store.latest();
  REQUIRE(!none);
  CHECK(has_code(none.error(), checkpoint_errc::io_error));
  CHECK(contains(error_text(none.error()), "no completed checkpoint"));
  CHECK(store.list()->empty());
  take_checkpoint(store, 1);
  take_checkpoint(store, 2);
  fs::remove(store.checkpoint_dir(1) + "/counter-0.state");
  fs::remove(store.checkpoint_dir(2) + "/counter-1.state");
  auto broken = store.latest();
  REQUIRE(!broken);
  CHECK(has_code(broken.error(), checkpoint_errc::corrupt));
  auto text = error_text(broken.error());
  CAPTURE(text);
  CHECK(contains(text, "no intact checkpoint"));
  CHECK(contains(text, "skipped checkpoint 2"));
  CHECK(contains(text, "skipped checkpoint 1"));
  CHECK(contains(text, "counter-0.state"));
}

TEST_CASE("incomplete checkpoints are ignored by latest and cleaned up") {
  test::temp_dir dir;
  checkpoint_store store{dir.path().string(), job, 2};
  take_checkpoint(store, 1);
  // Crashed after writing state, and while writing _metadata.
  REQUIRE(store.write_subtask_state(2, "counter", 0, "partial"));
  REQUIRE(store.write_subtask_state(3, "counter", 0, "partial"));
  write_file(store.checkpoint_dir(3) + "/_metadata.inprogress", "half");
  // Directories that are not checkpoints are none of the store's business.
  fs::create_directories(store.job_dir() + "/chk-x");
  fs::create_directories(store.job_dir() + "/shared");
  CHECK(*store.list() == std::vector<uint64_t>{1});
  auto chk = store.latest();
  REQUIRE(chk);
  CHECK(chk->metadata.checkpoint_id() == 1);
  CHECK(chk->warnings.empty());
  auto removed = store.cleanup_incomplete();
  REQUIRE(removed);
  CHECK(*removed == 2);
  CHECK(!fs::exists(store.checkpoint_dir(2)));
  CHECK(!fs::exists(store.checkpoint_dir(3)));
  CHECK(fs::exists(store.checkpoint_dir(1) + "/_metadata"));
  CHECK(fs::exists(store.job_dir() + "/chk-x"));
  CHECK(fs::exists(store.job_dir() + "/shared"));
  CHECK(*store.cleanup_incomplete() == 0);
}

TEST_CASE("abort deletes a checkpoint in flight but never a completed one") {
  test::temp_dir dir;
  checkpoint_store store{dir.path().string(), job, 2};
  take_checkpoint(store, 1);
  REQUIRE(store.write_subtask_state(2, "counter", 0, "declined later"));
  CHECK(!store.abort(2));
  CHECK(!fs::exists(store.checkpoint_dir(2)));
  CHECK(!store.abort(7));
  auto err = store.abort(1);
  REQUIRE(err);
  CHECK(contains(error_text(err), store.checkpoint_dir(1)));
  CHECK(store.latest()->metadata.checkpoint_id() == 1);
}

TEST_CASE("writing where a directory cannot be created is a clear error") {
  test::temp_dir dir;
  auto file = dir.write("afile", "a regular file");
  checkpoint_store store{file + "/x", job, 1};
  auto handle = store.write_subtask_state(1, "counter", 0, "state");
  REQUIRE(!handle);
  CHECK(has_code(handle.error(), checkpoint_errc::io_error));
  auto text = error_text(handle.error());
  CAPTURE(text);
  CHECK(contains(text, "cannot create directory"));
  CHECK(contains(text, file + "/x/"));
  CHECK(contains(text, "Not a directory"));
  proto::CheckpointMetadata metadata;
  metadata.set_checkpoint_id(1);
  auto err = store.complete(metadata);
  REQUIRE(err);
  CHECK(contains(error_text(err), file + "/x/"));
  auto savepoint = store.write_savepoint(file + "/savepoints", metadata, {});
  REQUIRE(!savepoint);
  CHECK(contains(error_text(savepoint.error()), "Not a directory"));
  CHECK(!store.latest());
  CHECK(fs::is_regular_file(file));
}

TEST_CASE("completion refuses metadata that does not match the files") {
  test::temp_dir dir;
  checkpoint_store store{dir.path().string(), job, 2};
  auto handle = store.write_subtask_state(1, "counter", 0, "state");
  REQUIRE(handle);
  proto::CheckpointMetadata metadata;
  metadata.set_checkpoint_id(1);
  SUBCASE("a missing file") {
    handle->set_file("counter-9.state");
  }
  SUBCASE("a wrong size") {
    handle->set_size(handle->size() + 1);
  }
  SUBCASE("a path outside the directory") {
    handle->set_file("../escape.state");
  }
  SUBCASE("another job") {
    metadata.set_job_id("ffffffffffffffffffffffffffffffff");
  }
  *metadata.add_subtasks() = *handle;
  auto err = store.complete(metadata);
  REQUIRE(err);
  CAPTURE(error_text(err));
  CHECK(!fs::exists(store.checkpoint_dir(1) + "/_metadata"));
  CHECK(store.list()->empty());
}

TEST_CASE("checkpoint ids increase across restarts") {
  test::temp_dir dir;
  {
    checkpoint_store store{dir.path().string(), job, 2};
    CHECK(*store.next_id() == 1);
    take_checkpoint(store, 1);
    CHECK(*store.next_id() == 2);
    // In flight when the process died.
    REQUIRE(store.write_subtask_state(2, "counter", 0, "partial"));
  }
  checkpoint_store store{dir.path().string(), job, 2};
  CHECK(*store.next_id() == 3);
  take_checkpoint(store, 3);
  CHECK(*store.next_id() == 4);
  // A completed checkpoint is immutable, and an older one cannot complete
  // after a newer one.
  auto rewrite = store.write_subtask_state(3, "counter", 0, "again");
  REQUIRE(!rewrite);
  CHECK(contains(error_text(rewrite.error()), "already complete"));
  proto::CheckpointMetadata metadata;
  metadata.set_checkpoint_id(2);
  auto err = store.complete(metadata);
  REQUIRE(err);
  CHECK(contains(error_text(err), "ids must increase"));
  CHECK(*store.list() == std::vector<uint64_t>{1, 3});
}

TEST_CASE("vertex names cannot escape the checkpoint directory") {
  test::temp_dir dir;
  checkpoint_store store{dir.path().string(), job, 1};
  auto handle = store.write_subtask_state(1, "../../evil/x", 3, "state");
  REQUIRE(handle);
  CHECK(handle->file() == "..%2F..%2Fevil%2Fx-3.state");
  CHECK(handle->vertex_or_task_id() == "../../evil/x");
  CHECK(handle->subtask() == 3);
  CHECK(fs::exists(store.checkpoint_dir(1) + "/" + handle->file()));
}

TEST_CASE("a savepoint is self-contained and loads from anywhere") {
  test::temp_dir dir;
  checkpoint_store store{dir / "checkpoints", job, 1};
  proto::CheckpointMetadata metadata;
  metadata.set_checkpoint_id(7);
  metadata.set_timestamp_millis(42);
  metadata.set_job_spec_fingerprint("spec-2");
  std::vector<subtask_state> states(3);
  for (int i = 0; i < 3; ++i) {
    auto& handle = states[static_cast<size_t>(i)].handle;
    handle.set_vertex_or_task_id(i < 2 ? "counter" : "source");
    handle.set_subtask(i % 2);
    handle.set_parallelism(2);
    handle.set_max_parallelism(128);
    states[static_cast<size_t>(i)].payload
      = "savepoint state " + std::to_string(i);
  }
  auto path = store.write_savepoint(dir / "savepoints", metadata, states);
  REQUIRE_MESSAGE(path, why(path));
  CAPTURE(*path);
  auto name = fs::path{*path}.filename().string();
  CHECK(fs::path{*path}.parent_path() == dir.path() / "savepoints");
  CHECK(name.rfind("savepoint-012345-", 0) == 0);
  CHECK(name.size() == std::string{"savepoint-012345-"}.size() + 12);
  // Completed checkpoints are unaffected.
  CHECK(store.list()->empty());
  // Moved elsewhere, it still loads, by directory or by _metadata file.
  auto moved = dir / "moved";
  fs::rename(*path, moved);
  for (auto arg : {moved, moved + "/_metadata"}) {
    CAPTURE(arg);
    auto loaded = checkpoint_store::load(arg);
    REQUIRE_MESSAGE(loaded, why(loaded));
    CHECK(loaded->dir == moved);
    const auto& m = loaded->metadata;
    CHECK(m.savepoint());
    CHECK(m.checkpoint_id() == 7);
    CHECK(m.job_id() == job);
    CHECK(m.timestamp_millis() == 42);
    CHECK(m.job_spec_fingerprint() == "spec-2");
    REQUIRE(m.subtasks_size() == 3);
    for (int i = 0; i < 3; ++i) {
      const auto& handle = m.subtasks(i);
      CHECK(handle.vertex_or_task_id() == (i < 2 ? "counter" : "source"));
      CHECK(handle.subtask() == i % 2);
      CHECK(handle.parallelism() == 2);
      auto state = checkpoint_store::read_subtask_state(loaded->dir, handle);
      REQUIRE(state);
      CHECK(*state == "savepoint state " + std::to_string(i));
    }
  }
  // A damaged savepoint is refused, naming the file.
  flip_byte(moved + "/source-0.state", 20);
  auto damaged = checkpoint_store::load(moved);
  REQUIRE(!damaged);
  CHECK(contains(error_text(damaged.error()), moved + "/source-0.state"));
}

TEST_CASE("a savepoint with two states for one subtask is not written") {
  test::temp_dir dir;
  checkpoint_store store{dir.path().string(), job, 1};
  std::vector<subtask_state> states(2);
  for (auto& state : states) {
    state.handle.set_vertex_or_task_id("counter");
    state.payload = "x";
  }
  auto path = store.write_savepoint(dir / "savepoints", {}, states);
  REQUIRE(!path);
  CHECK(contains(error_text(path.error()), "two states for subtask 0"));
  CHECK((!fs::exists(dir / "savepoints") || fs::is_empty(dir / "savepoints")));
}

TEST_CASE("a checkpoint directory loads like a savepoint") {
  test::temp_dir dir;
  checkpoint_store store{dir.path().string(), job, 1};
  take_checkpoint(store, 5);
  auto loaded = checkpoint_store::load(store.checkpoint_dir(5));
  REQUIRE(loaded);
  CHECK(loaded->metadata.checkpoint_id() == 5);
  CHECK(!loaded->metadata.savepoint());
  // Neither a missing path nor a directory without _metadata loads.
  auto missing = checkpoint_store::load(dir / "nope");
  REQUIRE(!missing);
  CHECK(contains(error_text(missing.error()), dir / "nope"));
  REQUIRE(store.write_subtask_state(6, "counter", 0, "partial"));
  auto incomplete = checkpoint_store::load(store.checkpoint_dir(6));
  REQUIRE(!incomplete);
  CHECK(contains(error_text(incomplete.error()), "has no _metadata"));
}

TEST_CASE("a completed checkpoint exports as a savepoint that outlives it") {
  test::temp_dir dir;
  checkpoint_store store{dir / "chk", job, 1};
  take_checkpoint(store, 3);
  auto path = store.export_savepoint(3, dir / "savepoints");
  REQUIRE_MESSAGE(path, why(path));
  CHECK(fs::path{*path}.parent_path() == fs::path{dir / "savepoints"});
  CHECK(contains(fs::path{*path}.filename().string(), "savepoint-012345-"));
  // Pruning the checkpoint leaves the savepoint whole.
  take_checkpoint(store, 4);
  REQUIRE_FALSE(fs::exists(store.checkpoint_dir(3)));
  auto sp = checkpoint_store::load(*path);
  REQUIRE_MESSAGE(sp, why(sp));
  CHECK(sp->metadata.savepoint());
  CHECK(sp->metadata.checkpoint_id() == 3);
  REQUIRE(sp->metadata.subtasks_size() == 2);
  for (const auto& h : sp->metadata.subtasks()) {
    auto bytes = checkpoint_store::read_subtask_state(sp->dir, h);
    REQUIRE_MESSAGE(bytes, why(bytes));
    CHECK(*bytes == payload_of(3, static_cast<uint32_t>(h.subtask())));
  }
}

TEST_CASE("exporting a checkpoint that is not complete fails and leaves "
          "nothing") {
  test::temp_dir dir;
  checkpoint_store store{dir / "chk", job, 1};
  REQUIRE(store.write_subtask_state(5, "counter", 0, "x"));
  auto path = store.export_savepoint(5, dir / "savepoints");
  REQUIRE_FALSE(path);
  CHECK((!fs::exists(dir / "savepoints") || fs::is_empty(dir / "savepoints")));
}
