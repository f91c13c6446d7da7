#include <doctest/doctest.h>

#include "operators/parse.hpp"

using namespace weir;
using namespace weir::builtins;

namespace {

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> fields{"stale", "contents"};
  auto err = split_csv_record(line, fields);
  REQUIRE_MESSAGE(err.empty(), err);
  return fields;
}

std::string split_error(const std::string& line) {
  std::vector<std::string> fields;
  return split_csv_record(line, fields);
}

} // namespace

TEST_CASE("CSV records split on commas outside quotes") {
  using v = std::vector<std::string>;
  CHECK(split("") == v{""});
  CHECK(split("a") == v{"a"});
  CHECK(split("a,b,c") == v{"a", "b", "c"});
  CHECK(split("a,,c,") == v{"a", "", "c", ""});
  CHECK(split("\"a,b\",c") == v{"a,b", "c"});
  CHECK(split("\"\"") == v{""});
  CHECK(split("\"say \"\"hi\"\"\",\"\"\"\"") == v{"say \"hi\"", "\""});
  CHECK(split(" a , b ") == v{" a ", " b "});
  // A quote inside an unquoted field is an ordinary character.
  CHECK(split("5\" disk,x") == v{"5\" disk", "x"});
}

TEST_CASE("malformed CSV records report the failing column") {
  CHECK(split_error("a,\"b").find("column 2") != std::string::npos);
  CHECK(split_error("a,\"b").find("unterminated") != std::string::npos);
  CHECK(split_error("\"a\"x,b").find("column 1") != std::string::npos);
}

TEST_CASE("typed values parse from text") {
  CHECK(parse_value("42", value_type::int64) == value{int64_t{42}});
  CHECK(parse_value(" -7 ", value_type::int64) == value{int64_t{-7}});
  CHECK(parse_value("+7", value_type::int64) == value{int64_t{7}});
  CHECK(!parse_value("4.2", value_type::int64));
  CHECK(!parse_value("99999999999999999999", value_type::int64));
  CHECK(!parse_value("", value_type::int64));
  CHECK(!parse_value("+-1", value_type::int64));
  CHECK(parse_value("2.5", value_type::float64) == value{2.5});
  CHECK(parse_value("1e-3", value_type::float64) == value{0.001});
  CHECK(parse_value("3", value_type::float64) == value{3.0});
  CHECK(!parse_value("2.5x", value_type::float64));
  CHECK(parse_value("TRUE", value_type::boolean) == value{true});
  CHECK(parse_value("no", value_type::boolean) == value{false});
  CHECK(!parse_value("maybe", value_type::boolean));
  CHECK(parse_value(" spaced ", value_type::string) == value{" spaced "});
  CHECK(parse_type_name("double") == value_type::float64);
  CHECK(!parse_type_name("float"));
}

TEST_CASE("timestamps parse as epoch millis or ISO-8601") {
  auto ts = [](const std::string& text) -> int64_t {
    auto v = parse_value(text, value_type::timestamp);
    REQUIRE_MESSAGE(v, text);
    return v->as_timestamp().millis;
  };
  CHECK(ts("0") == 0);
  CHECK(ts("-1500") == -1500);
  CHECK(ts("1970-01-01") == 0);
  CHECK(ts("1970-01-02T00:00:00Z") == 86400000);
  CHECK(ts("2024-02-29T12:34:56.789Z") == 1709210096789);
  CHECK(ts("2024-02-29 12:34:56.789") == 1709210096789);
  CHECK(ts("2024-02-29T13:34:56.789+01:00") == 1709210096789);
  CHECK(ts("2024-02-29T12:04:56.789-0030") == 1709210096789);
  CHECK(ts("2024-02-29T12:34:56.7891234Z") == 1709210096789);
  CHECK(ts("2024-02-29T12:34Z") == 1709210040000);
  CHECK(ts("1969-12-31T23:59:59Z") == -1000);
  CHECK(!parse_value("2023-02-29", value_type::timestamp));
  CHECK(!parse_value("2024-13-01", value_type::timestamp));
  CHECK(!parse_value("2024-01-01T25:00", value_type::timestamp));
  CHECK(!parse_value("2024-01-01T10:00:00Q", value_type::timestamp));
  CHECK(!parse_value("yesterday", value_type::timestamp));
}
