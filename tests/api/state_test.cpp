#include "api/state.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "api/codec.hpp"

using namespace weir;

namespace {

constexpr int max_par = 128;

// The key group of a key for these tests; the backend takes it as given.
int group_of(const row& key) {
  std::vector<size_t> all(key.size());
  for (size_t i = 0; i < all.size(); ++i)
    all[i] = i;
  return static_cast<int>(hash_fields(key, all) % max_par);
}

// Flink's key-group range of subtask i of p: [ceil(i*m/p),
// ceil((i+1)*m/p) - 1], copied here because api/ tests do not link the
// scheduler.
std::pair<int, int> range_of(int i, int p) {
  auto ceil_div = [](int a, int b) { return (a + b - 1) / b; };
  return {ceil_div(i * max_par, p), ceil_div((i + 1) * max_par, p) - 1};
}

void select(keyed_state_backend& b, const row& key) {
  b.set_current_key(key, group_of(key));
}

row key_of(int i) {
  return row{"user-" + std::to_string(i), i % 3};
}

// Writes state of all three kinds for keys [0, n) that `b` owns.
void fill(keyed_state_backend& b, int n) {
  auto count = b.value_state("count");
  auto seen = b.list_state("seen");
  auto last = b.map_state("last");
  for (int i = 0; i < n; ++i) {
    auto key = key_of(i);
    if (!b.owns_key_group(group_of(key)))
      continue;
    select(b, key);
    count.update(i);
    if (i % 2 == 0)
      seen.add(std::to_string(i));
    if (i % 4 == 0)
      seen.add(i * 0.5);
    if (i % 3 == 0) {
      last.put("at", timestamp{i});
      last.put(i, value{});
    }
  }
}

// Every piece of state of `b`, rendered one line per key and state.
std::vector<std::string> dump(keyed_state_backend& b) {
  std::vector<std::string> lines;
  auto count = b.value_state("count");
  auto seen = b.list_state("seen");
  auto last = b.map_state("last");
  b.for_each_key("count", [&](const row& key) {
    lines.push_back("count " + to_csv(key) + ": " + to_string(*count.get()));
  });
  b.for_each_key("seen", [&](const row& key) {
    lines.push_back("seen " + to_csv(key) + ": " + to_csv(seen.get()));
  });
  b.for_each_key("last", [&](const row& key) {
    auto line = "last " + to_csv(key) + ":";
    for (auto& [k, v] : last.entries())
      line += " " + to_string(k) + "=" + to_string(v);
    lines.push_back(line);
  });
  return lines;
}

std::string varint(uint64_t x) {
  std::string out;
  while (x >= 0x80) {
    out += static_cast<char>((x & 0x7f) | 0x80);
    x >>= 7;
  }
  out += static_cast<char>(x);
  return out;
}

std::string encoded(const row& r) {
  std::string out;
  encode_row(r, out);
  return out;
}

// A hand-made blob of key group 0 with one state of one key.
std::string blob(const std::string& name, state_kind kind, const row& key,
                 const row& payload) {
  return varint(1) + varint(0) + varint(1) + varint(name.size()) + name
         + static_cast<char>(kind) + varint(1) + encoded(key)
         + encoded(payload);
}

state_errc code_of(const caf::error& err) {
  REQUIRE(err);
  CHECK(err.category() == caf::atom("weir_state"));
  return static_cast<state_errc>(err.code());
}

} // namespace

TEST_CASE("value state holds one value per key and null clears it") {
  keyed_state_backend b{max_par, 0, max_par - 1};
  auto count = b.value_state("count");
  select(b, row{"a"});
  CHECK(count.get() == std::nullopt);
  CHECK(count.get_or(0) == value{0});
  count.update(1);
  CHECK(count.get() == value{1});
  count.update(count.get_or(0).as_int64() + 1);
  CHECK(count.get() == value{2});
  count.update(value{});
  CHECK(count.get() == std::nullopt);
  count.update("x");
  count.clear();
  CHECK(count.get() == std::nullopt);
  CHECK(b.empty());
}

TEST_CASE("list state appends, replaces and clears per key") {
  keyed_state_backend b{max_par, 0, max_par - 1};
  auto xs = b.list_state("xs");
  select(b, row{1});
  CHECK(xs.get().empty());
  xs.add(1);
  xs.add(value{});
  xs.add("two");
  CHECK(xs.get() == std::vector<value>{1, value{}, "two"});
  xs.update({3.5});
  CHECK(xs.get() == std::vector<value>{3.5});
  xs.update({});
  CHECK(xs.get().empty());
  CHECK(b.empty());
  xs.add(true);
  xs.clear();
  CHECK(xs.get().empty());
  CHECK(b.empty());
}

TEST_CASE("map state puts, gets, removes and iterates in key order") {
  keyed_state_backend b{max_par, 0, max_par - 1};
  auto m = b.map_state("m");
  select(b, row{"k"});
  CHECK(m.empty());
  CHECK_FALSE(m.contains("b"));
  m.put("b", 2);
  m.put("a", 1);
  m.put(7, value{});
  m.put("b", 20);
  CHECK(m.size() == 3);
  CHECK(m.get("b") == value{20});
  CHECK(m.get(7) == value{});
  CHECK(m.contains(7));
  CHECK(m.get("zz") == std::nullopt);
  std::vector<value> order;
  for (auto& kv : m.entries())
    order.push_back(kv.first);
  // Values order by type tag first: int64 before string.
  CHECK(order == std::vector<value>{7, "a", "b"});
  m.remove("a");
  m.remove("absent");
  CHECK(m.size() == 2);
  m.remove(7);
  m.remove("b");
  CHECK(m.empty());
  CHECK(b.empty());
  m.put(1, 1);
  m.clear();
  CHECK(m.entries().empty());
  CHECK(b.empty());
}

TEST_CASE("switching keys isolates the state of every kind") {
  keyed_state_backend b{max_par, 0, max_par - 1};
  auto v = b.value_state("v");
  auto l = b.list_state("l");
  auto m = b.map_state("m");
  // Two keys in one key group and one in another (the caller names the
  // groups; a key keeps the group it first got state in).
  b.set_current_key(row{"a"}, 3);
  v.update(1);
  l.add("a");
  m.put("a", 1);
  b.set_current_key(row{"b"}, 3);
  CHECK(v.get() == std::nullopt);
  CHECK(l.get().empty());
  CHECK(m.empty());
  v.update(2);
  b.set_current_key(row{"c"}, 4);
  CHECK(v.get() == std::nullopt);
  l.add("other group");
  b.set_current_key(row{"a"}, 3);
  CHECK(v.get() == value{1});
  CHECK(l.get() == std::vector<value>{"a"});
  CHECK(m.get("a") == value{1});
  v.clear();
  l.clear();
  m.clear();
  b.set_current_key(row{"b"}, 3);
  CHECK(v.get() == value{2});
  CHECK(b.current_key() == row{"b"});
  CHECK(b.current_key_group() == 3);
}

TEST_CASE("handles need a current key inside the backend's key groups") {
  keyed_state_backend b{max_par, 10, 20};
  auto v = b.value_state("v");
  CHECK_FALSE(b.has_current_key());
  CHECK_THROWS_AS(v.get(), std::logic_error);
  CHECK_THROWS_AS(v.update(1), std::logic_error);
  CHECK_THROWS_AS(b.set_current_key(row{1}, 9), std::out_of_range);
  CHECK_THROWS_AS(b.set_current_key(row{1}, 21), std::out_of_range);
  CHECK_THROWS_AS(keyed_state_backend(max_par, 5, 4), std::invalid_argument);
  CHECK_THROWS_AS(keyed_state_backend(max_par, -1, 4), std::invalid_argument);
  CHECK_THROWS_AS(keyed_state_backend(max_par, 0, max_par),
                  std::invalid_argument);
  b.set_current_key(row{1}, 20);
  v.update(1);
  CHECK(v.get() == value{1});
}

TEST_CASE("a state name asked for as two kinds is refused") {
  keyed_state_backend b{max_par, 0, 0};
  auto v = b.value_state("x");
  auto again = b.value_state("x");
  b.set_current_key(row{1}, 0);
  v.update(5);
  CHECK(again.get() == value{5});
  CHECK_THROWS_AS(b.list_state("x"), std::invalid_argument);
  CHECK_THROWS_AS(b.map_state("x"), std::invalid_argument);
}

TEST_CASE("for_each_key visits the keys of one state in key order") {
  keyed_state_backend b{max_par, 0, max_par - 1};
  auto v = b.value_state("v");
  auto other = b.list_state("other");
  std::vector<row> keys{{"b"}, {2}, {"a", 1}, {"a"}, {value{}}, {1.5}, {-3}};
  for (auto& key : keys) {
    select(b, key);
    v.update(to_csv(key));
  }
  select(b, row{"only other"});
  other.add(1);
  b.set_current_key(row{"current"}, 7);
  std::vector<row> visited;
  b.for_each_key("v", [&](const row& key) {
    CHECK(b.current_key() == key);
    CHECK(v.get() == value{to_csv(key)});
    visited.push_back(key);
    if (key == row{2})
      v.clear();
  });
  auto sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  CHECK(visited == sorted);
  CHECK(b.current_key() == row{"current"});
  CHECK(b.current_key_group() == 7);
  sorted.erase(std::find(sorted.begin(), sorted.end(), row{2}));
  CHECK(b.keys("v") == sorted);
  CHECK(b.keys("other") == std::vector<row>{{"only other"}});
  size_t n = 0;
  b.for_each_key("unknown", [&](const row&) { ++n; });
  CHECK(n == 0);
}

TEST_CASE("a snapshot restores into a backend with equal state") {
  keyed_state_backend b{max_par, 0, max_par - 1};
  fill(b, 300);
  auto blobs = b.snapshot();
  REQUIRE(blobs.size() == static_cast<size_t>(max_par));
  keyed_state_backend copy{max_par, 0, max_par - 1};
  for (int kg = 0; kg < max_par; ++kg)
    REQUIRE_FALSE(copy.restore(kg, blobs[static_cast<size_t>(kg)]));
  CHECK(copy.snapshot() == blobs);
  auto lines = dump(b);
  CHECK(lines.size() == 300 + 150 + 100);
  CHECK(dump(copy) == lines);
  // Restored state is live: handles read and extend it.
  auto count = copy.value_state("count");
  auto seen = copy.list_state("seen");
  select(copy, key_of(4));
  CHECK(count.get() == value{4});
  CHECK(seen.get() == std::vector<value>{"4", 2.0});
  seen.add("more");
  CHECK(seen.get().size() == 3);
}

TEST_CASE("restore makes a current key without state see its new state") {
  keyed_state_backend b{max_par, 0, 0};
  auto v = b.value_state("v");
  b.set_current_key(row{"k"}, 0);
  v.update(9);
  auto blob0 = b.snapshot_key_group(0);
  keyed_state_backend copy{max_par, 0, 0};
  copy.set_current_key(row{"k"}, 0);
  REQUIRE_FALSE(copy.restore(0, blob0));
  CHECK(copy.value_state("v").get() == value{9});
}

TEST_CASE("snapshot bytes depend only on the state, not on its history") {
  keyed_state_backend a{max_par, 0, max_par - 1};
  fill(a, 200);
  // Same state, other registration order, reversed insertion, and detours
  // through state that is cleared again.
  keyed_state_backend b{max_par, 0, max_par - 1};
  auto last = b.map_state("last");
  auto scratch = b.value_state("scratch");
  auto seen = b.list_state("seen");
  auto count = b.value_state("count");
  for (int i = 199; i >= 0; --i) {
    auto key = key_of(i);
    select(b, key);
    scratch.update(i);
    if (i % 3 == 0) {
      last.put("tmp", 1);
      last.put(i, value{});
      last.put("at", timestamp{i});
      last.remove("tmp");
    }
    seen.add("junk");
    seen.clear();
    if (i % 2 == 0)
      seen.add(std::to_string(i));
    if (i % 4 == 0)
      seen.add(i * 0.5);
    count.update(i);
    scratch.clear();
  }
  CHECK(b.snapshot() == a.snapshot());
  CHECK(a.snapshot() == a.snapshot());
  keyed_state_backend empty{max_par, 0, 0};
  auto blob0 = empty.snapshot_key_group(0);
  CHECK(blob0 == std::string("\x01\x00\x00", 3));
}

TEST_CASE("rescaling from two to three subtasks keeps exactly each group's "
          "keys") {
  constexpr int n = 1000;
  std::map<int, std::string> by_group;
  std::vector<std::string> old_lines;
  for (int i = 0; i < 2; ++i) {
    auto [first, last] = range_of(i, 2);
    keyed_state_backend old{max_par, first, last};
    fill(old, n);
    auto blobs = old.snapshot();
    for (int kg = first; kg <= last; ++kg)
      by_group[kg] = blobs[static_cast<size_t>(kg - first)];
    auto lines = dump(old);
    old_lines.insert(old_lines.end(), lines.begin(), lines.end());
  }
  REQUIRE(by_group.size() == static_cast<size_t>(max_par));
  std::set<row> all_keys;
  std::vector<std::string> new_lines;
  for (int i = 0; i < 3; ++i) {
    auto [first, last] = range_of(i, 3);
    keyed_state_backend next{max_par, first, last};
    for (int kg = first; kg <= last; ++kg)
      REQUIRE_FALSE(next.restore(kg, by_group[kg]));
    // A group of another subtask is refused.
    auto foreign = first > 0 ? first - 1 : last + 1;
    CHECK(code_of(next.restore(foreign, by_group[foreign]))
          == state_errc::key_group_out_of_range);
    std::set<row> expected;
    for (int k = 0; k < n; ++k)
      if (next.owns_key_group(group_of(key_of(k))))
        expected.insert(key_of(k));
    auto keys = next.keys("count");
    CHECK(std::set<row>(keys.begin(), keys.end()) == expected);
    CHECK(keys.size() == expected.size());
    all_keys.insert(keys.begin(), keys.end());
    auto lines = dump(next);
    new_lines.insert(new_lines.end(), lines.begin(), lines.end());
  }
  CHECK(all_keys.size() == static_cast<size_t>(n));
  std::sort(old_lines.begin(), old_lines.end());
  std::sort(new_lines.begin(), new_lines.end());
  CHECK(new_lines == old_lines);
}

TEST_CASE("every strict prefix of a snapshot is rejected without effect") {
  // All keys in one group make one long blob.
  keyed_state_backend b{max_par, 5, 5};
  auto count = b.value_state("count");
  auto seen = b.list_state("seen");
  auto last = b.map_state("last");
  for (int i = 0; i < 20; ++i) {
    b.set_current_key(key_of(i), 5);
    count.update(i);
    seen.add(i * 1.25);
    last.put(i, "x");
  }
  auto full = b.snapshot_key_group(5);
  REQUIRE(full.size() > 100);
  keyed_state_backend target{max_par, 5, 5};
  for (size_t len = 0; len < full.size(); ++len) {
    auto err = target.restore(5, full.substr(0, len));
    CHECK_MESSAGE(code_of(err) == state_errc::corrupt, "prefix " << len);
    REQUIRE(target.empty());
  }
  CHECK(code_of(target.restore(5, full + '\0')) == state_errc::corrupt);
  REQUIRE(target.empty());
  REQUIRE_FALSE(target.restore(5, full));
  CHECK(target.snapshot_key_group(5) == full);
}

TEST_CASE("restore refuses other groups, full groups, versions and kinds") {
  keyed_state_backend b{max_par, 0, 1};
  b.set_current_key(row{"k"}, 0);
  b.value_state("v").update(1);
  auto blob0 = b.snapshot_key_group(0);
  auto empty1 = b.snapshot_key_group(1);

  keyed_state_backend target{max_par, 0, 1};
  CHECK(code_of(target.restore(2, blob0))
        == state_errc::key_group_out_of_range);
  CHECK(code_of(target.restore(-1, blob0))
        == state_errc::key_group_out_of_range);
  CHECK(code_of(target.restore(1, blob0)) == state_errc::wrong_key_group);
  auto other_version = blob0;
  other_version[0] = 2;
  CHECK(code_of(target.restore(0, other_version))
        == state_errc::unsupported_version);
  target.list_state("v");
  CHECK(code_of(target.restore(0, blob0)) == state_errc::kind_mismatch);
  CHECK(target.empty());

  keyed_state_backend fresh{max_par, 0, 1};
  REQUIRE_FALSE(fresh.restore(0, blob0));
  REQUIRE_FALSE(fresh.restore(1, empty1));
  REQUIRE_FALSE(fresh.restore(1, empty1));
  CHECK(code_of(fresh.restore(0, blob0)) == state_errc::not_empty);
  // Restored names are registered with their kind.
  CHECK_THROWS_AS(fresh.map_state("v"), std::invalid_argument);
}

TEST_CASE("restore accepts only the canonical encoding") {
  keyed_state_backend ok{max_par, 0, 0};
  auto good = blob("v", state_kind::value, row{1}, row{5});
  REQUIRE_FALSE(ok.restore(0, good));
  ok.set_current_key(row{1}, 0);
  CHECK(ok.value_state("v").get() == value{5});
  CHECK(ok.snapshot_key_group(0) == good);

  std::vector<std::string> bad{
    // A null value state, two values, an empty list or map.
    blob("v", state_kind::value, row{1}, row{value{}}),
    blob("v", state_kind::value, row{1}, row{5, 6}),
    blob("l", state_kind::list, row{1}, row{}),
    blob("m", state_kind::map, row{1}, row{}),
    // A map with an odd field count, unsorted or repeated keys.
    blob("m", state_kind::map, row{1}, row{"a", 1, "b"}),
    blob("m", state_kind::map, row{1}, row{"b", 1, "a", 2}),
    blob("m", state_kind::map, row{1}, row{"a", 1, "a", 2}),
    // An unknown kind.
    blob("v", static_cast<state_kind>(4), row{1}, row{5}),
    // A non-minimal varint for the version.
    std::string("\x81\x00", 2) + good.substr(1),
    // A state with no keys.
    varint(1) + varint(0) + varint(1) + varint(1) + "v" + '\x01' + varint(0),
    // Keys out of order.
    varint(1) + varint(0) + varint(1) + varint(1) + "v" + '\x01' + varint(2)
      + encoded(row{2}) + encoded(row{1}) + encoded(row{1}) + encoded(row{1}),
    // States out of name order.
    varint(1) + varint(0) + varint(2) + varint(1) + "w" + '\x01' + varint(1)
      + encoded(row{1}) + encoded(row{1}) + varint(1) + "v" + '\x01' + varint(1)
      + encoded(row{1}) + encoded(row{1}),
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    keyed_state_backend target{max_par, 0, 0};
    CHECK_MESSAGE(code_of(target.restore(0, bad[i])) == state_errc::corrupt,
                  "case " << i);
    CHECK(target.empty());
  }
}

TEST_CASE("operator state round trips and restoring merges lists") {
  operator_state s;
  s.list("offsets") = {1, 2, 3};
  s.list("names").push_back("a");
  s.list("unused");
  CHECK(s.names() == std::vector<std::string>{"names", "offsets"});
  auto bytes = s.snapshot();
  CHECK(bytes == s.snapshot());

  operator_state copy;
  REQUIRE_FALSE(copy.restore(bytes));
  CHECK(copy.snapshot() == bytes);
  CHECK(copy.list("offsets") == std::vector<value>{1, 2, 3});
  REQUIRE_FALSE(copy.restore(bytes));
  CHECK(copy.list("offsets") == std::vector<value>{1, 2, 3, 1, 2, 3});
  CHECK(copy.list("names") == std::vector<value>{"a", "a"});

  operator_state target;
  for (size_t len = 0; len < bytes.size(); ++len) {
    CHECK_MESSAGE(code_of(target.restore(bytes.substr(0, len)))
                    == state_errc::corrupt,
                  "prefix " << len);
    CHECK(target.names().empty());
  }
  CHECK(code_of(target.restore(bytes + 'x')) == state_errc::corrupt);
  auto other_version = bytes;
  other_version[0] = 9;
  CHECK(code_of(target.restore(other_version))
        == state_errc::unsupported_version);
  CHECK(operator_state{}.snapshot() == std::string("\x01\x00", 2));
}

TEST_CASE("operator state split from N to M instances keeps every element") {
  for (int n : {1, 2, 3, 5}) {
    for (int m : {1, 2, 3, 4, 7}) {
      CAPTURE(n);
      CAPTURE(m);
      std::vector<std::string> blobs;
      std::multiset<std::string> offsets;
      std::multiset<std::string> names;
      for (int i = 0; i < n; ++i) {
        operator_state s;
        for (int j = 0; j < 3 + i; ++j) {
          s.list("offsets").push_back(value{i * 100 + j});
          offsets.insert(std::to_string(i * 100 + j));
        }
        if (i % 2 == 0) {
          s.list("names").push_back("n" + std::to_string(i));
          names.insert("n" + std::to_string(i));
        }
        blobs.push_back(s.snapshot());
      }
      auto parts = operator_state::redistribute(blobs, m);
      REQUIRE(parts);
      REQUIRE(parts->size() == static_cast<size_t>(m));
      std::multiset<std::string> got_offsets;
      std::multiset<std::string> got_names;
      std::vector<size_t> sizes;
      for (auto& part : *parts) {
        operator_state s;
        REQUIRE_FALSE(s.restore(part));
        for (auto& x : s.list("offsets"))
          got_offsets.insert(to_string(x));
        for (auto& x : s.list("names"))
          got_names.insert(to_string(x));
        sizes.push_back(s.list("offsets").size());
      }
      CHECK(got_offsets == offsets);
      CHECK(got_names == names);
      // Round robin: instance sizes differ by at most one.
      auto [lo, hi] = std::minmax_element(sizes.begin(), sizes.end());
      CHECK(*hi - *lo <= 1);
    }
  }
  // Element j of the concatenation goes to instance j % m.
  operator_state a;
  a.list("l") = {0, 1, 2};
  operator_state b;
  b.list("l") = {3, 4};
  auto parts = operator_state::redistribute({a.snapshot(), b.snapshot()}, 2);
  REQUIRE(parts);
  operator_state first;
  REQUIRE_FALSE(first.restore((*parts)[0]));
  CHECK(first.list("l") == std::vector<value>{0, 2, 4});
  operator_state second;
  REQUIRE_FALSE(second.restore((*parts)[1]));
  CHECK(second.list("l") == std::vector<value>{1, 3});
}

TEST_CASE("operator state redistribution rejects bad input") {
  operator_state s;
  s.list("l") = {1};
  auto bytes = s.snapshot();
  auto none = operator_state::redistribute({bytes}, 0);
  REQUIRE_FALSE(none);
  CHECK(code_of(none.error()) == state_errc::invalid_parallelism);
  auto broken = operator_state::redistribute({bytes, bytes.substr(1)}, 2);
  REQUIRE_FALSE(broken);
  CHECK(code_of(broken.error()) == state_errc::corrupt);
  CHECK(error_text(broken.error()).find("blob 1 of 2") != std::string::npos);
  auto empty = operator_state::redistribute({}, 3);
  REQUIRE(empty);
  CHECK(empty->size() == 3);
}

TEST_CASE("a key without a named group gets the one its hash gives, and only "
          "an owned one") {
  auto kg = key_group_of(hash_fields(row{"k", int64_t{1}}, {0, 1}), max_par);
  keyed_state_backend owner{max_par, kg, kg};
  auto v = owner.value_state("v");
  owner.set_current_key(row{"k", int64_t{1}});
  CHECK(owner.current_key_group() == kg);
  v.update(7);
  CHECK_FALSE(owner.key_group_empty(kg));
  auto blobs = owner.snapshot_nonempty();
  REQUIRE(blobs.size() == 1);
  CHECK(blobs[0].first == kg);
  CHECK(blobs[0].second == owner.snapshot_key_group(kg));
  // A backend that does not own the group refuses the key's first write.
  auto other = kg == 0 ? 1 : 0;
  keyed_state_backend stranger{max_par, other, other};
  auto w = stranger.value_state("v");
  stranger.set_current_key(row{"k", int64_t{1}});
  CHECK(w.get() == std::nullopt);
  CHECK_THROWS_AS(w.update(1), std::out_of_range);
  CHECK(stranger.empty());
}
