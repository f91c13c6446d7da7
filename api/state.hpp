#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "api/error.hpp"
#include "api/value.hpp"

namespace weir {

/// Errors of the state API: restoring snapshots and redistributing them.
enum class state_errc : uint8_t {
  /// A key group outside the backend's range.
  key_group_out_of_range = 1,
  /// The bytes belong to another key group than the one named.
  wrong_key_group,
  /// Truncated, malformed or non-canonical bytes.
  corrupt,
  /// A format version this build does not read.
  unsupported_version,
  /// A state name known with another kind (value, list, map).
  kind_mismatch,
  /// Restoring into a key group that already holds state.
  not_empty,
  /// A target parallelism below one.
  invalid_parallelism,
};

caf::error make_error(state_errc code, std::string text);

/// What a named keyed state holds per key; also its tag in snapshots.
enum class state_kind : uint8_t {
  value = 1,
  list = 2,
  map = 3,
};

/// Renders a kind: "value", "list", "map".
const char* to_string(state_kind x);

class keyed_state_backend;

/// One value per key (Flink's ValueState). A cheap handle, valid while its
/// backend lives: copy it into handlers freely. Every call acts on the
/// backend's current key and throws std::logic_error when no key is set.
/// Null is absence: updating to null clears.
class value_state {
public:
  /// The value of the current key, nullopt when absent.
  std::optional<value> get() const;

  /// The value of the current key without a copy, nullptr when absent;
  /// valid until the next change of state or of the current key.
  const value* peek() const;

  /// The value of the current key, `fallback` when absent.
  value get_or(value fallback) const;

  /// Sets the value of the current key; a null value clears it.
  void update(value x);

  /// Removes the value of the current key.
  void clear();

private:
  friend class keyed_state_backend;

  value_state(keyed_state_backend* backend, size_t id)
    : backend_(backend), id_(id) {
  }

  keyed_state_backend* backend_;
  size_t id_;
};

/// A list of values per key (Flink's ListState); an empty list is absence.
/// Same handle rules as value_state.
class list_state {
public:
  /// The list of the current key (empty when absent). The reference is
  /// valid until the next change of state or of the current key.
  const std::vector<value>& get() const;

  /// Appends `x` to the list of the current key.
  void add(value x);

  /// Replaces the list of the current key; an empty list clears it.
  void update(std::vector<value> xs);

  /// Removes the list of the current key.
  void clear();

private:
  friend class keyed_state_backend;

  list_state(keyed_state_backend* backend, size_t id)
    : backend_(backend), id_(id) {
  }

  keyed_state_backend* backend_;
  size_t id_;
};

/// A map from value to value per key (Flink's MapState), iterated in key
/// order; an empty map is absence. Map values may be null. Same handle
/// rules as value_state.
class map_state {
public:
  using map_type = std::map<value, value>;

  /// The entry for `k` under the current key, nullopt when absent.
  std::optional<value> get(const value& k) const;

  bool contains(const value& k) const;

  /// Inserts or replaces the entry for `k`.
  void put(value k, value v);

  /// Removes the entry for `k`, if any.
  void remove(const value& k);

  /// All entries of the current key in key order (empty when absent). The
  /// reference is valid until the next change of state or current key.
  const map_type& entries() const;

  /// Number of entries of the current key.
  size_t size() const;

  bool empty() const;

  /// Removes every entry of the current key.
  void clear();

private:
  friend class keyed_state_backend;

  map_state(keyed_state_backend* backend, size_t id)
    : backend_(backend), id_(id) {
  }

  keyed_state_backend* backend_;
  size_t id_;
};

/// All keyed state of one subtask, in memory, organised by key group.
///
/// Lifecycle: the task creates one backend per keyed operator with the
/// subtask's key-group range, restores the key groups of its checkpoint
/// handle (restore()), then lets the operator factory obtain its handles by
/// name (value_state("count")); the order of the two steps does not matter.
/// Before each record handler the task calls set_current_key() with the
/// record's key and key group (computed by the caller, e.g. with
/// scheduler's key_group_of); handles then read and write that key's state.
/// On a checkpoint the task calls snapshot(). The backend is neither
/// copyable nor movable: handles point to it.
///
/// Programming errors (a key group outside the range in set_current_key, a
/// handle used without a current key, one name asked for as two kinds)
/// throw std::logic_error or a subclass; in a handler that fails the task.
///
/// Snapshot format, one blob per key group (all integers unsigned LEB128
/// varints, minimal; rows in the row codec of api/codec.hpp):
///
///   version       1
///   key group     the group this blob belongs to
///   state count   states with at least one key in this group
///   per state, in ascending name order:
///     name        varint length, then bytes
///     kind        one byte: 1 value, 2 list, 3 map
///     key count   at least 1
///     per key, in ascending key order:
///       key       a row
///       payload   a row: value: the one non-null value; list: the
///                 elements (at least one); map: key0, value0, key1, ...
///                 (at least one entry, keys strictly ascending)
///
/// Every accepted blob is canonical: equal state gives equal bytes, and
/// restore() rejects any other encoding. The blob of an empty key group is
/// the three header varints alone. Because each key group is a separate
/// blob, a rescaled job restores each subtask from the blobs of exactly the
/// groups it now owns.
class keyed_state_backend {
public:
  /// Format version written by snapshot().
  static constexpr uint64_t format_version = 1;

  /// A backend owning key groups [first_key_group, last_key_group] of
  /// `max_parallelism`. Throws std::invalid_argument unless
  /// 0 <= first_key_group <= last_key_group < max_parallelism.
  keyed_state_backend(int max_parallelism, int first_key_group,
                      int last_key_group);

  keyed_state_backend(const keyed_state_backend&) = delete;
  keyed_state_backend& operator=(const keyed_state_backend&) = delete;

  int max_parallelism() const {
    return max_parallelism_;
  }
  int first_key_group() const {
    return first_;
  }
  int last_key_group() const {
    return last_;
  }
  bool owns_key_group(int kg) const {
    return kg >= first_ && kg <= last_;
  }

  // -- handles ----------------------------------------------------------------

  /// The handle of the named value state, registering it on first use.
  /// Throws std::invalid_argument if `name` has another kind. The operator
  /// factory calls these once and captures the handles.
  weir::value_state value_state(const std::string& name);
  weir::list_state list_state(const std::string& name);
  weir::map_state map_state(const std::string& name);

  // -- current key ------------------------------------------------------------

  /// Makes `key` the key that handles act on. Its key group is that of
  /// key_group_of(hash_fields(key, all fields)), which is how a hash
  /// exchange on the same fields routes it; it is computed only when the
  /// key first gets state, and the first write then throws
  /// std::out_of_range if the backend does not own it.
  void set_current_key(const row& key);

  /// Makes `key`, whose key group the caller knows to be `key_group`, the
  /// key that handles act on. Throws std::out_of_range if the backend does
  /// not own `key_group`.
  void set_current_key(const row& key, int key_group);
  void set_current_key(row&& key, int key_group);

  bool has_current_key() const {
    return current_key_ != nullptr;
  }

  /// The current key; only when has_current_key().
  const row& current_key() const {
    return *current_key_;
  }
  /// The current key's group; only when has_current_key().
  int current_key_group() const;

  // -- iteration --------------------------------------------------------------

  /// Calls `f` for every key that has state under `name` when the call
  /// begins, in ascending key order, with that key made current (so `f` may
  /// read, change or clear its state). Afterwards the previous current key is
  /// current again. For end of input and timers; an unknown name visits
  /// nothing.
  void for_each_key(const std::string& name,
                    const std::function<void(const row& key)>& f);

  /// The keys that have state under `name`, in ascending order.
  std::vector<row> keys(const std::string& name) const;

  /// True if no key group holds any state.
  bool empty() const;

  /// True if owned key group `kg` holds no state.
  bool key_group_empty(int kg) const {
    return group_sizes_[static_cast<size_t>(kg - first_)] == 0;
  }

  // -- snapshots --------------------------------------------------------------

  /// The blob of one owned key group (format above). Throws
  /// std::out_of_range for a key group outside the range.
  std::string snapshot_key_group(int kg) const;

  /// One blob per owned key group: element i holds first_key_group() + i.
  std::vector<std::string> snapshot() const;

  /// The blobs of the owned key groups that hold state, ascending by key
  /// group, made in one pass over the keys (what a checkpoint writes).
  std::vector<std::pair<int, std::string>> snapshot_nonempty() const;

  /// Loads the blob of key group `kg` into this backend, whose group `kg`
  /// must be empty. Either all of it is loaded or, on error, nothing:
  /// key_group_out_of_range, not_empty, wrong_key_group, unsupported_version,
  /// corrupt or kind_mismatch (a name registered with another kind).
  [[nodiscard]] caf::error restore(int kg, const std::string& bytes);

private:
  friend class weir::value_state;
  friend class weir::list_state;
  friend class weir::map_state;

  using entry = std::variant<std::monostate, value, std::vector<value>,
                             weir::map_state::map_type>;

  /// The state of one key: one entry per state id, `live` of them
  /// present, and the key's group.
  struct key_slot {
    std::vector<entry> entries;
    size_t live = 0;
    int key_group = -1;
  };

  /// Hashes a key with the stable value hash.
  struct key_hash {
    size_t operator()(const row& key) const noexcept;
  };

  /// Every key with state, in hash order: a record's lookup is one hash
  /// probe. Snapshots, iteration and keys() sort, so nothing observable
  /// depends on the order.
  using key_map = std::unordered_map<row, key_slot, key_hash>;

  /// The keys of group `kg` (all groups when `kg` is -1), sorted.
  std::vector<const key_map::value_type*> sorted_keys(int kg) const;

  /// The blob of key group `kg` from its keys, sorted.
  std::string
  encode_group(int kg,
               const std::vector<const key_map::value_type*>& keys) const;

  struct state_info {
    std::string name;
    state_kind kind;
  };

  size_t register_state(const std::string& name, state_kind kind);

  std::optional<size_t> find_state(const std::string& name) const;

  /// State ids in ascending name order.
  std::vector<size_t> ids_by_name() const;

  /// The present entry `id` of the current key, or nullptr.
  const entry* read(size_t id) const;

  /// The entry `id` of the current key, created (as T) if absent.
  template <class T>
  T& write(size_t id);

  /// Makes entry `id` of the current key absent, dropping the key's slot
  /// when it was the last one.
  void erase(size_t id);

  void require_key() const;

  /// Implements the set_current_key overloads; `key_group` is -1 when it
  /// is to be computed on the first write.
  template <class Row>
  void select(Row&& key, int key_group);

  /// The key group of `key` by the stable hash.
  int key_group_of_key(const row& key) const;

  size_t& group_size(int kg) {
    return group_sizes_[static_cast<size_t>(kg - first_)];
  }

  int max_parallelism_;
  int first_;
  int last_;
  std::vector<state_info> states_;
  key_map keys_;
  /// Keys with state per owned key group.
  std::vector<size_t> group_sizes_;
  /// Points to the node key of current_slot_ or to pending_key_.
  const row* current_key_ = nullptr;
  /// The current key's group; -1 while a pending key's is not computed.
  int current_group_ = -1;
  /// The current key's state, nullptr while it has none.
  key_slot* current_slot_ = nullptr;
  /// The current key while it has no slot yet.
  row pending_key_;
};

/// Non-keyed state of one operator instance (Flink's operator ListState):
/// named lists of values, snapshotted into one blob. On rescaling, the
/// lists of all old instances are dealt round-robin to the new ones
/// (redistribute()).
///
/// Blob format (varints and rows as for keyed_state_backend):
///
///   version       1
///   list count    non-empty lists
///   per list, in ascending name order:
///     name        varint length, then bytes
///     elements    a row (at least one element)
class operator_state {
public:
  static constexpr uint64_t format_version = 1;

  /// The named list, created empty on first use. References stay valid for
  /// the life of this object.
  std::vector<value>& list(const std::string& name);

  /// Names of the non-empty lists, ascending.
  std::vector<std::string> names() const;

  /// The blob of every non-empty list; deterministic.
  std::string snapshot() const;

  /// Appends the lists of `bytes` to this state's lists of the same names
  /// (so restoring several blobs forms their union). Either all of it or,
  /// on error (unsupported_version, corrupt), nothing.
  [[nodiscard]] caf::error restore(const std::string& bytes);

  /// Splits the blobs of N old instances into `parallelism` new blobs: per
  /// list name, the elements of all blobs in blob order are concatenated,
  /// and element j goes to new instance j % parallelism.
  static caf::expected<std::vector<std::string>>
  redistribute(const std::vector<std::string>& blobs, int parallelism);

private:
  std::map<std::string, std::vector<value>> lists_;
};

} // namespace weir
