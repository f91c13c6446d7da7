#include "api/state.hpp"

#include <algorithm>
#include <iterator>
#include <stdexcept>
#include <utility>

#include "api/codec.hpp"

namespace weir {

namespace {

// -- framing ------------------------------------------------------------------

void append_string(std::string& out, const std::string& s) {
  append_varint(out, s.size());
  out += s;
}

/// Bounds-checked reader over a snapshot. Like the row codec it accepts
/// only minimal varints, so that every snapshot has one encoding.
class reader {
public:
  explicit reader(const std::string& bytes)
    : data_(bytes.data()), size_(bytes.size()) {
  }

  size_t pos() const {
    return pos_;
  }

  size_t remaining() const {
    return size_ - pos_;
  }

  bool byte(uint8_t& x) {
    if (pos_ >= size_)
      return false;
    x = static_cast<uint8_t>(data_[pos_++]);
    return true;
  }

  bool varint(uint64_t& x) {
    return read_varint(data_, size_, pos_, x);
  }

  /// A count of items that take at least one byte each: larger counts are
  /// corrupt, and rejecting them early bounds every allocation.
  bool count(uint64_t& n) {
    return varint(n) && n <= remaining();
  }

  bool string(std::string& x) {
    uint64_t n;
    if (!count(n))
      return false;
    x.assign(data_ + pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return true;
  }

  std::optional<row> next_row() {
    return decode_row(data_, size_, pos_);
  }

private:
  const char* data_;
  size_t size_;
  size_t pos_ = 0;
};

// -- keyed state decoding -----------------------------------------------------

// The same type as keyed_state_backend::entry.
using entry = std::variant<std::monostate, value, std::vector<value>,
                           map_state::map_type>;

struct decoded_state {
  std::string name;
  state_kind kind;
  std::vector<std::pair<row, entry>> keys;
};

bool strictly_ascending_keys(const row& r) {
  for (size_t i = 2; i < r.size(); i += 2)
    if (!(r[i - 2] < r[i]))
      return false;
  return true;
}

// Turns a payload row into the entry of `kind`; nullopt if not canonical.
std::optional<entry> to_entry(state_kind kind, row payload) {
  switch (kind) {
    case state_kind::value:
      if (payload.size() != 1 || payload[0].is_null())
        return std::nullopt;
      return entry{std::move(payload[0])};
    case state_kind::list:
      if (payload.empty())
        return std::nullopt;
      return entry{std::move(payload)};
    case state_kind::map: {
      if (payload.empty() || payload.size() % 2 != 0
          || !strictly_ascending_keys(payload))
        return std::nullopt;
      map_state::map_type m;
      for (size_t i = 0; i < payload.size(); i += 2)
        m.emplace_hint(m.end(), std::move(payload[i]),
                       std::move(payload[i + 1]));
      return entry{std::move(m)};
    }
  }
  return std::nullopt;
}

caf::error corrupt_at(int kg, const reader& in) {
  return make_error(state_errc::corrupt,
                    "the snapshot of key group " + std::to_string(kg)
                      + " is truncated or malformed at byte "
                      + std::to_string(in.pos()) + ".");
}

caf::expected<std::vector<decoded_state>> decode_group(int kg,
                                                       const std::string& bs) {
  reader in{bs};
  uint64_t version;
  if (!in.varint(version))
    return corrupt_at(kg, in);
  if (version != keyed_state_backend::format_version)
    return make_error(
      state_errc::unsupported_version,
      "the snapshot of key group " + std::to_string(kg) + " has format version "
        + std::to_string(version) + ", this build reads only version "
        + std::to_string(keyed_state_backend::format_version) + ".");
  uint64_t group;
  if (!in.varint(group))
    return corrupt_at(kg, in);
  if (group != static_cast<uint64_t>(kg))
    return make_error(state_errc::wrong_key_group,
                      "a snapshot of key group " + std::to_string(group)
                        + " was given as the one of key group "
                        + std::to_string(kg) + ".");
  uint64_t num_states;
  if (!in.count(num_states))
    return corrupt_at(kg, in);
  std::vector<decoded_state> result;
  result.reserve(static_cast<size_t>(num_states));
  for (uint64_t i = 0; i < num_states; ++i) {
    decoded_state st;
    uint8_t kind;
    uint64_t num_keys;
    if (!in.string(st.name)
        || (!result.empty() && !(result.back().name < st.name))
        || !in.byte(kind) || kind < 1 || kind > 3 || !in.count(num_keys)
        || num_keys == 0)
      return corrupt_at(kg, in);
    st.kind = static_cast<state_kind>(kind);
    st.keys.reserve(static_cast<size_t>(num_keys));
    for (uint64_t j = 0; j < num_keys; ++j) {
      auto key = in.next_row();
      if (!key || (!st.keys.empty() && !(st.keys.back().first < *key)))
        return corrupt_at(kg, in);
      auto payload = in.next_row();
      if (!payload)
        return corrupt_at(kg, in);
      auto e = to_entry(st.kind, std::move(*payload));
      if (!e)
        return corrupt_at(kg, in);
      st.keys.emplace_back(std::move(*key), std::move(*e));
    }
    result.push_back(std::move(st));
  }
  if (in.remaining() != 0)
    return corrupt_at(kg, in);
  return result;
}

// -- operator state decoding --------------------------------------------------

using list_map = std::map<std::string, std::vector<value>>;

caf::error corrupt_lists_at(const reader& in) {
  return make_error(state_errc::corrupt,
                    "the operator state snapshot is truncated or malformed "
                    "at byte "
                      + std::to_string(in.pos()) + ".");
}

caf::expected<list_map> decode_lists(const std::string& bytes) {
  reader in{bytes};
  uint64_t version;
  if (!in.varint(version))
    return corrupt_lists_at(in);
  if (version != operator_state::format_version)
    return make_error(state_errc::unsupported_version,
                      "the operator state snapshot has format version "
                        + std::to_string(version)
                        + ", this build reads only version "
                        + std::to_string(operator_state::format_version) + ".");
  uint64_t n;
  if (!in.count(n))
    return corrupt_lists_at(in);
  list_map result;
  for (uint64_t i = 0; i < n; ++i) {
    std::string name;
    if (!in.string(name)
        || (!result.empty() && !(std::prev(result.end())->first < name)))
      return corrupt_lists_at(in);
    auto elements = in.next_row();
    if (!elements || elements->empty())
      return corrupt_lists_at(in);
    result.emplace_hint(result.end(), std::move(name), std::move(*elements));
  }
  if (in.remaining() != 0)
    return corrupt_lists_at(in);
  return result;
}

} // namespace

caf::error make_error(state_errc code, std::string text) {
  return make_weir_error(static_cast<uint8_t>(code), caf::atom("weir_state"),
                         std::move(text));
}

const char* to_string(state_kind x) {
  switch (x) {
    case state_kind::value:
      return "value";
    case state_kind::list:
      return "list";
    case state_kind::map:
      return "map";
  }
  return "???";
}

// -- value_state --------------------------------------------------------------

const value* value_state::peek() const {
  if (auto e = backend_->read(id_))
    return &std::get<value>(*e);
  return nullptr;
}

std::optional<value> value_state::get() const {
  if (auto e = backend_->read(id_))
    return std::get<value>(*e);
  return std::nullopt;
}

value value_state::get_or(value fallback) const {
  if (auto e = backend_->read(id_))
    return std::get<value>(*e);
  return fallback;
}

void value_state::update(value x) {
  if (x.is_null())
    backend_->erase(id_);
  else
    backend_->write<value>(id_) = std::move(x);
}

void value_state::clear() {
  backend_->erase(id_);
}

// -- list_state ---------------------------------------------------------------

const std::vector<value>& list_state::get() const {
  static const std::vector<value> empty_list;
  if (auto e = backend_->read(id_))
    return std::get<std::vector<value>>(*e);
  return empty_list;
}

void list_state::add(value x) {
  backend_->write<std::vector<value>>(id_).push_back(std::move(x));
}

void list_state::update(std::vector<value> xs) {
  if (xs.empty())
    backend_->erase(id_);
  else
    backend_->write<std::vector<value>>(id_) = std::move(xs);
}

void list_state::clear() {
  backend_->erase(id_);
}

// -- map_state ----------------------------------------------------------------

std::optional<value> map_state::get(const value& k) const {
  if (auto e = backend_->read(id_)) {
    auto& m = std::get<map_type>(*e);
    if (auto i = m.find(k); i != m.end())
      return i->second;
  }
  return std::nullopt;
}

bool map_state::contains(const value& k) const {
  auto e = backend_->read(id_);
  return e != nullptr && std::get<map_type>(*e).count(k) > 0;
}

void map_state::put(value k, value v) {
  backend_->write<map_type>(id_).insert_or_assign(std::move(k), std::move(v));
}

void map_state::remove(const value& k) {
  auto e = backend_->read(id_);
  if (e == nullptr)
    return;
  // read() hands out const access; the entry itself is ours to change.
  auto& m = backend_->write<map_type>(id_);
  m.erase(k);
  if (m.empty())
    backend_->erase(id_);
}

const map_state::map_type& map_state::entries() const {
  static const map_type empty_map;
  if (auto e = backend_->read(id_))
    return std::get<map_type>(*e);
  return empty_map;
}

size_t map_state::size() const {
  return entries().size();
}

bool map_state::empty() const {
  return entries().empty();
}

void map_state::clear() {
  backend_->erase(id_);
}

// -- keyed_state_backend ------------------------------------------------------

size_t
keyed_state_backend::key_hash::operator()(const row& key) const noexcept {
  if (key.size() == 1)
    return static_cast<size_t>(key.front().hash());
  uint64_t h = key.size();
  for (const auto& v : key)
    h = (h ^ v.hash()) * 0x100000001b3ULL;
  return static_cast<size_t>(mix64(h));
}

keyed_state_backend::keyed_state_backend(int max_parallelism,
                                         int first_key_group,
                                         int last_key_group)
  : max_parallelism_(max_parallelism), first_(first_key_group),
    last_(last_key_group) {
  if (first_ < 0 || first_ > last_ || last_ >= max_parallelism_)
    throw std::invalid_argument(
      "a keyed state backend needs 0 <= first <= last < max parallelism, got "
      "key groups ["
      + std::to_string(first_) + ", " + std::to_string(last_)
      + "] of max parallelism " + std::to_string(max_parallelism_));
  group_sizes_.resize(static_cast<size_t>(last_ - first_ + 1));
}

int keyed_state_backend::key_group_of_key(const row& key) const {
  std::vector<size_t> all(key.size());
  for (size_t i = 0; i < all.size(); ++i)
    all[i] = i;
  return key_group_of(hash_fields(key, all), max_parallelism_);
}

std::vector<const keyed_state_backend::key_map::value_type*>
keyed_state_backend::sorted_keys(int kg) const {
  std::vector<const key_map::value_type*> result;
  result.reserve(kg < 0 ? keys_.size() : group_sizes_[kg - first_]);
  for (auto& kv : keys_)
    if (kg < 0 || kv.second.key_group == kg)
      result.push_back(&kv);
  std::sort(result.begin(), result.end(),
            [](auto* a, auto* b) { return a->first < b->first; });
  return result;
}

std::optional<size_t>
keyed_state_backend::find_state(const std::string& name) const {
  for (size_t id = 0; id < states_.size(); ++id)
    if (states_[id].name == name)
      return id;
  return std::nullopt;
}

size_t keyed_state_backend::register_state(const std::string& name,
                                           state_kind kind) {
  if (auto id = find_state(name)) {
    if (states_[*id].kind != kind)
      throw std::invalid_argument(
        "keyed state \"" + name + "\" is a " + to_string(states_[*id].kind)
        + " state, not a " + to_string(kind) + " state");
    return *id;
  }
  states_.push_back({name, kind});
  return states_.size() - 1;
}

std::vector<size_t> keyed_state_backend::ids_by_name() const {
  std::vector<size_t> ids(states_.size());
  for (size_t id = 0; id < ids.size(); ++id)
    ids[id] = id;
  std::sort(ids.begin(), ids.end(), [this](size_t a, size_t b) {
    return states_[a].name < states_[b].name;
  });
  return ids;
}

weir::value_state keyed_state_backend::value_state(const std::string& name) {
  return weir::value_state{this, register_state(name, state_kind::value)};
}

weir::list_state keyed_state_backend::list_state(const std::string& name) {
  return weir::list_state{this, register_state(name, state_kind::list)};
}

weir::map_state keyed_state_backend::map_state(const std::string& name) {
  return weir::map_state{this, register_state(name, state_kind::map)};
}

void keyed_state_backend::set_current_key(const row& key) {
  select(key, -1);
}

void keyed_state_backend::set_current_key(const row& key, int key_group) {
  if (!owns_key_group(key_group))
    throw std::out_of_range("key group " + std::to_string(key_group)
                            + " is outside this subtask's key groups ["
                            + std::to_string(first_) + ", "
                            + std::to_string(last_) + "]");
  select(key, key_group);
}

void keyed_state_backend::set_current_key(row&& key, int key_group) {
  if (!owns_key_group(key_group))
    throw std::out_of_range("key group " + std::to_string(key_group)
                            + " is outside this subtask's key groups ["
                            + std::to_string(first_) + ", "
                            + std::to_string(last_) + "]");
  select(std::move(key), key_group);
}

template <class Row>
void keyed_state_backend::select(Row&& key, int key_group) {
  if (auto i = keys_.find(key); i != keys_.end()) {
    current_key_ = &i->first;
    current_slot_ = &i->second;
    current_group_ = i->second.key_group;
  } else {
    // Only keys without state are copied; the others stay in the map.
    pending_key_ = std::forward<Row>(key);
    current_key_ = &pending_key_;
    current_slot_ = nullptr;
    current_group_ = key_group;
  }
}

int keyed_state_backend::current_key_group() const {
  require_key();
  return current_group_ >= 0 ? current_group_ : key_group_of_key(*current_key_);
}

void keyed_state_backend::require_key() const {
  if (current_key_ == nullptr)
    throw std::logic_error("keyed state used without a current key");
}

const keyed_state_backend::entry* keyed_state_backend::read(size_t id) const {
  require_key();
  if (current_slot_ == nullptr || id >= current_slot_->entries.size())
    return nullptr;
  auto& e = current_slot_->entries[id];
  return std::holds_alternative<std::monostate>(e) ? nullptr : &e;
}

template <class T>
T& keyed_state_backend::write(size_t id) {
  require_key();
  if (current_slot_ == nullptr) {
    if (current_group_ < 0)
      current_group_ = key_group_of_key(pending_key_);
    if (!owns_key_group(current_group_))
      throw std::out_of_range(
        "key " + to_csv(pending_key_) + " is in key group "
        + std::to_string(current_group_)
        + ", outside this subtask's key groups [" + std::to_string(first_)
        + ", " + std::to_string(last_) + "]");
    auto i = keys_.try_emplace(std::move(pending_key_)).first;
    i->second.key_group = current_group_;
    ++group_size(current_group_);
    current_key_ = &i->first;
    current_slot_ = &i->second;
    pending_key_.clear();
  }
  auto& entries = current_slot_->entries;
  if (entries.size() <= id)
    entries.resize(id + 1);
  auto& e = entries[id];
  if (std::holds_alternative<std::monostate>(e)) {
    e.emplace<T>();
    ++current_slot_->live;
  }
  return std::get<T>(e);
}

void keyed_state_backend::erase(size_t id) {
  if (read(id) == nullptr)
    return;
  current_slot_->entries[id] = std::monostate{};
  if (--current_slot_->live > 0)
    return;
  // Absent state leaves no trace, which keeps snapshots canonical; the key
  // itself moves out of the map node so it can stay current.
  --group_size(current_slot_->key_group);
  auto node = keys_.extract(*current_key_);
  pending_key_ = std::move(node.key());
  current_key_ = &pending_key_;
  current_slot_ = nullptr;
}

void keyed_state_backend::for_each_key(
  const std::string& name, const std::function<void(const row& key)>& f) {
  auto id = find_state(name);
  if (!id)
    return;
  std::vector<std::pair<row, int>> todo;
  for (auto& [key, slot] : keys_)
    if (*id < slot.entries.size()
        && !std::holds_alternative<std::monostate>(slot.entries[*id]))
      todo.emplace_back(key, slot.key_group);
  // Keys sort across key groups; the group only breaks ties between equal
  // keys, which cannot happen with one map (kept for a stable order).
  std::sort(todo.begin(), todo.end());
  std::optional<std::pair<row, int>> previous;
  if (current_key_ != nullptr)
    previous.emplace(*current_key_, current_group_);
  for (auto& [key, kg] : todo) {
    select(std::move(key), kg);
    f(*current_key_);
  }
  if (previous) {
    select(std::move(previous->first), previous->second);
  } else {
    current_key_ = nullptr;
    current_group_ = -1;
    current_slot_ = nullptr;
    pending_key_.clear();
  }
}

std::vector<row> keyed_state_backend::keys(const std::string& name) const {
  std::vector<row> result;
  auto id = find_state(name);
  if (!id)
    return result;
  for (auto& [key, slot] : keys_)
    if (*id < slot.entries.size()
        && !std::holds_alternative<std::monostate>(slot.entries[*id]))
      result.push_back(key);
  std::sort(result.begin(), result.end());
  return result;
}

bool keyed_state_backend::empty() const {
  return keys_.empty();
}

std::string keyed_state_backend::encode_group(
  int kg, const std::vector<const key_map::value_type*>& sorted) const {
  auto present = [](const key_slot& slot, size_t id) {
    return id < slot.entries.size()
           && !std::holds_alternative<std::monostate>(slot.entries[id]);
  };
  std::vector<size_t> counts(states_.size());
  for (auto* kv : sorted) {
    auto& slot = kv->second;
    for (size_t id = 0; id < slot.entries.size(); ++id)
      if (present(slot, id))
        ++counts[id];
  }
  std::string out;
  append_varint(out, format_version);
  append_varint(out, static_cast<uint64_t>(kg));
  append_varint(
    out, static_cast<uint64_t>(std::count_if(counts.begin(), counts.end(),
                                             [](size_t n) { return n > 0; })));
  row payload;
  for (auto id : ids_by_name()) {
    if (counts[id] == 0)
      continue;
    append_string(out, states_[id].name);
    out += static_cast<char>(states_[id].kind);
    append_varint(out, counts[id]);
    for (auto* kv : sorted) {
      auto& slot = kv->second;
      if (!present(slot, id))
        continue;
      encode_row(kv->first, out);
      auto& e = slot.entries[id];
      if (auto v = std::get_if<value>(&e)) {
        payload.assign(1, *v);
        encode_row(payload, out);
      } else if (auto xs = std::get_if<std::vector<value>>(&e)) {
        encode_row(*xs, out);
      } else {
        payload.clear();
        for (auto& [k, v] : std::get<map_state::map_type>(e)) {
          payload.push_back(k);
          payload.push_back(v);
        }
        encode_row(payload, out);
      }
    }
  }
  return out;
}

std::string keyed_state_backend::snapshot_key_group(int kg) const {
  if (!owns_key_group(kg))
    throw std::out_of_range("key group " + std::to_string(kg)
                            + " is outside this subtask's key groups");
  return encode_group(kg, sorted_keys(kg));
}

std::vector<std::pair<int, std::string>>
keyed_state_backend::snapshot_nonempty() const {
  // One pass: every key into its group's list, then each list sorted.
  std::vector<std::vector<const key_map::value_type*>> groups(
    group_sizes_.size());
  for (size_t i = 0; i < groups.size(); ++i)
    groups[i].reserve(group_sizes_[i]);
  for (auto& kv : keys_)
    groups[static_cast<size_t>(kv.second.key_group - first_)].push_back(&kv);
  std::vector<std::pair<int, std::string>> result;
  for (size_t i = 0; i < groups.size(); ++i) {
    auto& keys = groups[i];
    if (keys.empty())
      continue;
    std::sort(keys.begin(), keys.end(),
              [](auto* a, auto* b) { return a->first < b->first; });
    auto kg = first_ + static_cast<int>(i);
    result.emplace_back(kg, encode_group(kg, keys));
  }
  return result;
}

std::vector<std::string> keyed_state_backend::snapshot() const {
  std::vector<std::string> result(group_sizes_.size());
  for (int kg = first_; kg <= last_; ++kg)
    result[static_cast<size_t>(kg - first_)] = encode_group(kg, {});
  for (auto& [kg, blob] : snapshot_nonempty())
    result[static_cast<size_t>(kg - first_)] = std::move(blob);
  return result;
}

caf::error keyed_state_backend::restore(int kg, const std::string& bytes) {
  if (!owns_key_group(kg))
    return make_error(state_errc::key_group_out_of_range,
                      "key group " + std::to_string(kg)
                        + " is outside this subtask's key groups ["
                        + std::to_string(first_) + ", " + std::to_string(last_)
                        + "].");
  if (!key_group_empty(kg))
    return make_error(state_errc::not_empty,
                      "key group " + std::to_string(kg)
                        + " already holds state; restore needs it empty.");
  auto decoded = decode_group(kg, bytes);
  if (!decoded)
    return std::move(decoded.error());
  for (auto& st : *decoded)
    if (auto id = find_state(st.name); id && states_[*id].kind != st.kind)
      return make_error(
        state_errc::kind_mismatch,
        "keyed state \"" + st.name + "\" is a " + to_string(states_[*id].kind)
          + " state, but the snapshot of key group " + std::to_string(kg)
          + " holds a " + to_string(st.kind) + " state.");
  // A key already present in another group cannot be restored into this
  // one: each key has exactly one group.
  for (auto& st : *decoded)
    for (auto& kv : st.keys)
      if (auto i = keys_.find(kv.first);
          i != keys_.end() && i->second.key_group != kg)
        return make_error(state_errc::wrong_key_group,
                          "key " + to_csv(kv.first) + " of key group "
                            + std::to_string(kg)
                            + " already has state in key group "
                            + std::to_string(i->second.key_group) + ".");
  // Nothing can fail from here on.
  for (auto& st : *decoded) {
    auto id = register_state(st.name, st.kind);
    for (auto& [key, e] : st.keys) {
      auto [it, inserted] = keys_.try_emplace(std::move(key));
      auto& slot = it->second;
      if (inserted) {
        slot.key_group = kg;
        ++group_size(kg);
      }
      if (slot.entries.size() <= id)
        slot.entries.resize(id + 1);
      slot.entries[id] = std::move(e);
      ++slot.live;
    }
  }
  // The current key may have just gained state.
  if (current_key_ != nullptr && current_slot_ == nullptr) {
    if (auto i = keys_.find(pending_key_); i != keys_.end()) {
      current_key_ = &i->first;
      current_slot_ = &i->second;
      current_group_ = i->second.key_group;
      pending_key_.clear();
    }
  }
  return caf::none;
}

// -- operator_state -----------------------------------------------------------

std::vector<value>& operator_state::list(const std::string& name) {
  return lists_[name];
}

std::vector<std::string> operator_state::names() const {
  std::vector<std::string> result;
  for (auto& [name, xs] : lists_)
    if (!xs.empty())
      result.push_back(name);
  return result;
}

std::string operator_state::snapshot() const {
  std::string out;
  append_varint(out, format_version);
  append_varint(out, names().size());
  for (auto& [name, xs] : lists_) {
    if (xs.empty())
      continue;
    append_string(out, name);
    encode_row(xs, out);
  }
  return out;
}

caf::error operator_state::restore(const std::string& bytes) {
  auto decoded = decode_lists(bytes);
  if (!decoded)
    return std::move(decoded.error());
  for (auto& [name, xs] : *decoded) {
    auto& target = lists_[name];
    target.insert(target.end(), std::make_move_iterator(xs.begin()),
                  std::make_move_iterator(xs.end()));
  }
  return caf::none;
}

caf::expected<std::vector<std::string>>
operator_state::redistribute(const std::vector<std::string>& blobs,
                             int parallelism) {
  if (parallelism < 1)
    return make_error(state_errc::invalid_parallelism,
                      "operator state cannot be split among "
                        + std::to_string(parallelism) + " instances.");
  list_map all;
  for (size_t i = 0; i < blobs.size(); ++i) {
    auto decoded = decode_lists(blobs[i]);
    if (!decoded)
      return make_weir_error(decoded.error().code(), caf::atom("weir_state"),
                             "operator state blob " + std::to_string(i) + " of "
                               + std::to_string(blobs.size()) + ": "
                               + error_text(decoded.error()));
    for (auto& [name, xs] : *decoded) {
      auto& target = all[name];
      target.insert(target.end(), std::make_move_iterator(xs.begin()),
                    std::make_move_iterator(xs.end()));
    }
  }
  auto n = static_cast<size_t>(parallelism);
  std::vector<operator_state> parts(n);
  for (auto& [name, xs] : all)
    for (size_t j = 0; j < xs.size(); ++j)
      parts[j % n].lists_[name].push_back(std::move(xs[j]));
  std::vector<std::string> result;
  result.reserve(n);
  for (auto& part : parts)
    result.push_back(part.snapshot());
  return result;
}

} // namespace weir
