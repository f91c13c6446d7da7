#include "operators/parse.hpp"

#include <cctype>
#include <charconv>
#include <cstdint>

namespace weir::builtins {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out;
  for (char c : s)
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<int64_t> parse_int(std::string_view s) {
  if (s.size() > 1 && s.front() == '+' && s[1] != '-')
    s.remove_prefix(1);
  int64_t x = 0;
  auto res = std::from_chars(s.data(), s.data() + s.size(), x);
  if (s.empty() || res.ec != std::errc{} || res.ptr != s.data() + s.size())
    return std::nullopt;
  return x;
}

std::optional<double> parse_double(std::string_view s) {
  if (s.size() > 1 && s.front() == '+' && s[1] != '-')
    s.remove_prefix(1);
  double x = 0;
  auto res = std::from_chars(s.data(), s.data() + s.size(), x);
  if (s.empty() || res.ec != std::errc{} || res.ptr != s.data() + s.size())
    return std::nullopt;
  return x;
}

std::optional<bool> parse_bool(std::string_view s) {
  auto x = lower(s);
  if (x == "true" || x == "yes" || x == "1")
    return true;
  if (x == "false" || x == "no" || x == "0")
    return false;
  return std::nullopt;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  auto yoe = static_cast<unsigned>(y - era * 400);
  unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

unsigned days_in_month(int64_t y, unsigned m) {
  static constexpr unsigned days[]
    = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : days[m - 1];
}

// A cursor over ISO-8601 text.
class iso_reader {
public:
  explicit iso_reader(std::string_view s) : s_(s) {
  }

  bool at_end() const {
    return pos_ == s_.size();
  }

  bool accept(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  char peek() const {
    return pos_ < s_.size() ? s_[pos_] : '\0';
  }

  // Reads exactly `n` digits.
  bool digits(size_t n, unsigned& out) {
    out = 0;
    for (size_t i = 0; i < n; ++i, ++pos_) {
      if (pos_ >= s_.size()
          || !std::isdigit(static_cast<unsigned char>(s_[pos_])))
        return false;
      out = out * 10 + static_cast<unsigned>(s_[pos_] - '0');
    }
    return true;
  }

  // Reads one or more digits as a fraction of a second, in milliseconds.
  bool fraction_millis(unsigned& out) {
    out = 0;
    size_t n = 0;
    while (pos_ < s_.size()
           && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
      if (n < 3)
        out = out * 10 + static_cast<unsigned>(s_[pos_] - '0');
      ++n;
      ++pos_;
    }
    for (size_t i = n; i < 3; ++i)
      out *= 10;
    return n > 0;
  }

private:
  std::string_view s_;
  size_t pos_ = 0;
};

std::optional<int64_t> parse_iso_millis(std::string_view s) {
  iso_reader in{s};
  unsigned y = 0;
  unsigned mo = 0;
  unsigned d = 0;
  if (!in.digits(4, y) || !in.accept('-') || !in.digits(2, mo)
      || !in.accept('-') || !in.digits(2, d))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
    return std::nullopt;
  unsigned h = 0;
  unsigned mi = 0;
  unsigned sec = 0;
  unsigned ms = 0;
  if (in.accept('T') || in.accept(' ')) {
    if (!in.digits(2, h) || !in.accept(':') || !in.digits(2, mi))
      return std::nullopt;
    if (in.accept(':')) {
      if (!in.digits(2, sec))
        return std::nullopt;
      if ((in.accept('.') || in.accept(',')) && !in.fraction_millis(ms))
        return std::nullopt;
    }
    if (h > 23 || mi > 59 || sec > 60)
      return std::nullopt;
  }
  int64_t offset_minutes = 0;
  if (!in.accept('Z')) {
    auto sign = in.peek();
    if (sign == '+' || sign == '-') {
      in.accept(sign);
      unsigned oh = 0;
      unsigned om = 0;
      if (!in.digits(2, oh))
        return std::nullopt;
      in.accept(':');
      if (!in.digits(2, om) || oh > 23 || om > 59)
        return std::nullopt;
      offset_minutes = (sign == '-' ? -1 : 1) * int64_t{oh * 60 + om};
    }
  }
  if (!in.at_end())
    return std::nullopt;
  int64_t secs = days_from_civil(y, mo, d) * 86400 + int64_t{h} * 3600
                 + int64_t{mi} * 60 + sec - offset_minutes * 60;
  return secs * 1000 + ms;
}

std::optional<timestamp> parse_timestamp(std::string_view s) {
  if (auto millis = parse_int(s))
    return timestamp{*millis};
  if (auto millis = parse_iso_millis(s))
    return timestamp{*millis};
  return std::nullopt;
}

} // namespace

const std::vector<std::string>& type_names() {
  static const std::vector<std::string> names{"int64", "double", "string",
                                              "bool", "timestamp"};
  return names;
}

std::optional<value_type> parse_type_name(std::string_view name) {
  if (name == "int64")
    return value_type::int64;
  if (name == "double")
    return value_type::float64;
  if (name == "string")
    return value_type::string;
  if (name == "bool")
    return value_type::boolean;
  if (name == "timestamp")
    return value_type::timestamp;
  return std::nullopt;
}

std::optional<value> parse_value(std::string_view text, value_type t) {
  if (t == value_type::string)
    return value{std::string{text}};
  auto s = trim(text);
  switch (t) {
    case value_type::int64:
      if (auto x = parse_int(s))
        return value{*x};
      break;
    case value_type::float64:
      if (auto x = parse_double(s))
        return value{*x};
      break;
    case value_type::boolean:
      if (auto x = parse_bool(s))
        return value{*x};
      break;
    case value_type::timestamp:
      if (auto x = parse_timestamp(s))
        return value{*x};
      break;
    case value_type::null:
    case value_type::string:
      break;
  }
  return std::nullopt;
}

std::string split_csv_record(std::string_view line,
                             std::vector<std::string>& fields) {
  size_t count = 0;
  size_t pos = 0;
  for (;;) {
    if (count == fields.size())
      fields.emplace_back();
    auto& field = fields[count++];
    field.clear();
    if (pos < line.size() && line[pos] == '"') {
      ++pos;
      for (;;) {
        auto quote = line.find('"', pos);
        if (quote == std::string_view::npos)
          return "column " + std::to_string(count)
                 + ": unterminated quoted field (a quoted field cannot span "
                   "lines)";
        field.append(line.substr(pos, quote - pos));
        pos = quote + 1;
        if (pos < line.size() && line[pos] == '"') {
          field += '"';
          ++pos;
          continue;
        }
        break;
      }
      if (pos < line.size() && line[pos] != ',')
        return "column " + std::to_string(count)
               + ": unexpected character after the closing quote";
    } else {
      auto comma = line.find(',', pos);
      if (comma == std::string_view::npos)
        comma = line.size();
      field.append(line.substr(pos, comma - pos));
      pos = comma;
    }
    if (pos >= line.size())
      break;
    ++pos; // the comma
  }
  fields.resize(count);
  return {};
}

} // namespace weir::builtins
