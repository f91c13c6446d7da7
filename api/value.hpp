#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

namespace weir {

/// Milliseconds since the Unix epoch, distinct from a plain int64 field.
struct timestamp {
  int64_t millis = 0;

  friend bool operator==(timestamp a, timestamp b) {
    return a.millis == b.millis;
  }
  friend bool operator<(timestamp a, timestamp b) {
    return a.millis < b.millis;
  }
};

/// The type tag of a value; also the tag byte of the binary codec.
enum class value_type : uint8_t {
  null = 0,
  int64 = 1,
  float64 = 2,
  string = 3,
  boolean = 4,
  timestamp = 5,
};

/// Renders a type as it appears in descriptors: "int64", "double", ...
const char* to_string(value_type x);

/// One typed field of a row. Comparison orders first by type tag, then by
/// value, so mixed-type columns still sort deterministically.
class value {
public:
  using storage = std::variant<std::monostate, int64_t, double, std::string,
                               bool, timestamp>;

  value() = default;
  /// Any integer type except bool becomes an int64.
  template <class T,
            std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>,
                             int> = 0>
  value(T x) : data_(static_cast<int64_t>(x)) {
  }
  value(double x) : data_(x) {
  }
  value(std::string x) : data_(std::move(x)) {
  }
  value(const char* x) : data_(std::string{x}) {
  }
  value(bool x) : data_(x) {
  }
  value(timestamp x) : data_(x) {
  }

  value_type type() const {
    return static_cast<value_type>(data_.index());
  }
  bool is_null() const {
    return data_.index() == 0;
  }

  /// Accessors; calling one of the wrong type is a programming error.
  int64_t as_int64() const {
    return std::get<int64_t>(data_);
  }
  double as_double() const {
    return std::get<double>(data_);
  }
  const std::string& as_string() const {
    return std::get<std::string>(data_);
  }
  bool as_bool() const {
    return std::get<bool>(data_);
  }
  timestamp as_timestamp() const {
    return std::get<timestamp>(data_);
  }

  const storage& data() const {
    return data_;
  }

  /// Stable 64-bit hash, identical on every node and every run (it decides
  /// key groups, so it must never depend on std::hash).
  uint64_t hash() const;

  friend bool operator==(const value& a, const value& b) {
    return a.data_ == b.data_;
  }
  friend bool operator!=(const value& a, const value& b) {
    return !(a == b);
  }
  /// A strict total order, also for doubles: NaN sorts after every other
  /// double and equals itself here, so rows with NaN keys sort safely.
  friend bool operator<(const value& a, const value& b) {
    if (a.data_.index() != b.data_.index())
      return a.data_.index() < b.data_.index();
    if (a.data_.index() == 2) {
      auto x = std::get<double>(a.data_);
      auto y = std::get<double>(b.data_);
      if (x != x)
        return false;
      if (y != y)
        return true;
      return x < y;
    }
    return a.data_ < b.data_;
  }

private:
  storage data_;
};

/// Renders a value for humans and CSV: null is empty, strings unquoted.
std::string to_string(const value& x);

/// A record: a row of positional fields. Field names live in the plan.
using row = std::vector<value>;

/// Renders a row as one CSV line (no newline), quoting fields that need it.
std::string to_csv(const row& r);

/// MurmurHash3's 64-bit finalizer: spreads the bits of a hash so that
/// taking it modulo a small number uses all of them.
uint64_t mix64(uint64_t h);

/// Combined stable hash of the fields at `indexes`.
uint64_t hash_fields(const row& r, const std::vector<size_t>& indexes);

/// The key group of a key hash (hash_fields over the key fields): a further
/// mix of the hash, modulo `max_parallelism`. Hash exchanges route by it
/// and keyed state is kept by it.
int key_group_of(uint64_t key_hash, int max_parallelism);

} // namespace weir
