#include <doctest/doctest.h>

#include "operators/builtins.hpp"
#include "operators/harness.hpp"

using namespace weir;
using namespace weir::test;

namespace {

/// Checks that validation fails with a message holding every `parts`.
void check_rejected(const std::string& op, const parameters& params,
                    const std::vector<std::string>& input,
                    const std::vector<std::string>& parts) {
  auto msg = validation_error(op, params, input);
  CAPTURE(op);
  CAPTURE(msg);
  REQUIRE(!msg.empty());
  for (const auto& part : parts)
    CHECK(msg.find(part) != std::string::npos);
}

} // namespace

TEST_CASE("all built-in operators are registered with their kinds") {
  const auto& r = builtin_registry();
  CHECK(r.names()
        == std::vector<std::string>{
          "aggregate", "compute", "discard", "file_sink", "file_source",
          "filter", "interval_join", "nexmark", "print", "select", "sequence",
          "tokenize", "window", "window_join"});
  CHECK(r.find("sequence")->kind == operator_kind::source);
  CHECK(r.find("file_source")->kind == operator_kind::source);
  CHECK(r.find("tokenize")->kind == operator_kind::transform);
  CHECK(r.find("print")->kind == operator_kind::sink);
  CHECK(r.find("discard")->kind == operator_kind::sink);
  for (const auto& name : r.names()) {
    CAPTURE(name);
    CHECK(!r.find(name)->help.empty());
    for (const auto& p : r.find(name)->params)
      CHECK(!p.help.empty());
  }
}

TEST_CASE("registering the built-ins twice fails") {
  operator_registry r;
  CHECK(!register_builtin_operators(r));
  CHECK(register_builtin_operators(r));
}

TEST_CASE("sequence validates its range and rate") {
  check_rejected("sequence", {{"from", "5"}, {"to", "2"}}, {},
                 {"'to'", "from"});
  check_rejected("sequence", {{"rate", "0"}}, {}, {"'rate'", "positive"});
  check_rejected("sequence", {{"rate", "-3"}}, {}, {"'rate'"});
  check_rejected("sequence", {{"to", "ten"}}, {}, {"'to'"});
  CHECK(validation_error("sequence", {{"to", "5"}, {"from", "5"}}).empty());
}

TEST_CASE("file_source validates format, fields and types") {
  check_rejected("file_source", {{"path", "x"}, {"format", "json"}}, {},
                 {"'format'", "json", "lines csv"});
  check_rejected("file_source", {{"path", "x"}, {"format", "csv"}}, {},
                 {"'fields'"});
  check_rejected("file_source",
                 {{"path", "x"},
                  {"format", "csv"},
                  {"fields", "a,b,c"},
                  {"types", "int64,string"}},
                 {}, {"'types'", "2 types", "3 fields"});
  check_rejected("file_source",
                 {{"path", "x"},
                  {"format", "csv"},
                  {"fields", "a,b"},
                  {"types", "int64,float"}},
                 {}, {"'float'", "'b'", "int64 double string bool timestamp"});
  check_rejected("file_source",
                 {{"path", "x"}, {"format", "csv"}, {"fields", "a,a"}}, {},
                 {"'a' twice"});
  check_rejected("file_source", {{"path", "x"}, {"fields", "a"}}, {},
                 {"csv only"});
  check_rejected("file_source", {{"path", ""}}, {}, {"'path'"});
  check_rejected("file_source", {}, {}, {"'path'"});
  CHECK(validation_error("file_source", {{"path", "x"},
                                         {"format", "csv"},
                                         {"fields", "a, b"},
                                         {"types", "timestamp, bool"}})
          .empty());
}

TEST_CASE("transforms validate their fields and options") {
  const std::vector<std::string> in{"a", "b"};
  check_rejected("tokenize", {{"field", "c"}}, in, {"'c'"});
  check_rejected("tokenize", {{"field", "a"}, {"as", "b"}}, in,
                 {"'as'", "'b'"});
  CHECK(
    validation_error("tokenize", {{"field", "a"}, {"as", "a"}}, in).empty());
  check_rejected("filter", {{"field", "a"}, {"op", "=~"}, {"value", "1"}}, in,
                 {"'op'", "=~", "== != < <= > >= contains"});
  check_rejected("filter", {{"field", "a"}, {"op", "=="}}, in, {"'value'"});
  check_rejected("select", {{"fields", "a,z"}}, in, {"'z'"});
}

TEST_CASE("aggregate validates function, field, emit and as") {
  const std::vector<std::string> in{"k", "x"};
  check_rejected("aggregate", {{"key", "k"}, {"function", "median"}}, in,
                 {"'function'", "median", "count sum min max avg"});
  check_rejected("aggregate",
                 {{"key", "k"}, {"function", "count"}, {"field", "x"}}, in,
                 {"count", "'field'"});
  check_rejected("aggregate", {{"key", "k"}, {"function", "sum"}}, in,
                 {"sum", "'field'"});
  check_rejected("aggregate",
                 {{"key", "k"}, {"function", "max"}, {"field", "y"}}, in,
                 {"'y'"});
  check_rejected("aggregate",
                 {{"key", "k"}, {"function", "count"}, {"emit", "always"}}, in,
                 {"'emit'", "final updates"});
  check_rejected("aggregate",
                 {{"key", "k"}, {"function", "count"}, {"as", "k"}}, in,
                 {"'as'", "key"});
  check_rejected("aggregate", {{"key", "q"}, {"function", "count"}}, in,
                 {"'q'"});
}

TEST_CASE("sinks validate their parameters") {
  check_rejected("file_sink", {}, {"a"}, {"'path'"});
  check_rejected("file_sink", {{"path", ""}}, {"a"}, {"'path'"});
  check_rejected("print", {{"prefx", "x"}}, {"a"}, {"'prefix'"});
  check_rejected("discard", {{"x", "1"}}, {"a"}, {"'x'"});
}
