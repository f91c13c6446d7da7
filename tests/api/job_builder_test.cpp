#include "api/job_builder.hpp"

#include <google/protobuf/text_format.h>
#include <google/protobuf/util/message_differencer.h>

#include <doctest/doctest.h>

using namespace weir;

namespace {

proto::JobSpec parse(const std::string& text) {
  proto::JobSpec spec;
  REQUIRE(google::protobuf::TextFormat::ParseFromString(text, &spec));
  return spec;
}

bool same(const proto::JobSpec& a, const proto::JobSpec& b) {
  std::string diff;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&diff);
  auto equal = differencer.Compare(a, b);
  if (!equal)
    MESSAGE(diff);
  return equal;
}

} // namespace

TEST_CASE("the builder produces the spec its text form describes") {
  auto built = job_builder{"word_count"}
                 .parallelism(4)
                 .max_parallelism(64)
                 .vertex("lines", "file_source",
                         {{"path", "in.txt"}, {"columns", "line"}}, 1)
                 .vertex("words", "split", {{"field", "line"}})
                 .vertex("count", "aggregate", {{"keys", "word"}}, 8, 256)
                 .vertex("print", "stdout_sink")
                 .rebalance("lines", "words")
                 .hash("words", "count", {"word"})
                 .edge("count", "print")
                 .build();
  auto want = parse(R"pb(
    name: "word_count"
    parallelism: 4
    max_parallelism: 64
    vertices {
      id: "lines"
      operator: "file_source"
      params { key: "path" value: "in.txt" }
      params { key: "columns" value: "line" }
      parallelism: 1
    }
    vertices {
      id: "words"
      operator: "split"
      params { key: "field" value: "line" }
    }
    vertices {
      id: "count"
      operator: "aggregate"
      params { key: "keys" value: "word" }
      parallelism: 8
      max_parallelism: 256
    }
    vertices { id: "print" operator: "stdout_sink" }
    edges { from: "lines" to: "words" partitioner: REBALANCE }
    edges { from: "words" to: "count" partitioner: HASH keys: "word" }
    edges { from: "count" to: "print" partitioner: AUTO }
  )pb");
  CHECK(same(built, want));
}

TEST_CASE("unset parallelism stays absent rather than zero") {
  auto spec = job_builder{"j"}.vertex("v", "op").build();
  CHECK(spec.name() == "j");
  CHECK_FALSE(spec.has_parallelism());
  CHECK_FALSE(spec.has_max_parallelism());
  REQUIRE(spec.vertices_size() == 1);
  CHECK_FALSE(spec.vertices(0).has_parallelism());
  CHECK_FALSE(spec.vertices(0).has_max_parallelism());
  auto want = parse(R"pb(name: "j" vertices { id: "v" operator: "op" })pb");
  CHECK(same(spec, want));
}

TEST_CASE("every partitioner shortcut sets its partitioner") {
  auto spec = job_builder{"j"}
                .forward("a", "b")
                .rebalance("a", "c")
                .broadcast("a", "d")
                .hash("a", "e", {"k1", "k2"})
                .edge("a", "f")
                .edge("a", "g", proto::HASH, {"k"})
                .build();
  auto want = parse(R"pb(
    name: "j"
    edges { from: "a" to: "b" partitioner: FORWARD }
    edges { from: "a" to: "c" partitioner: REBALANCE }
    edges { from: "a" to: "d" partitioner: BROADCAST }
    edges { from: "a" to: "e" partitioner: HASH keys: "k1" keys: "k2" }
    edges { from: "a" to: "f" }
    edges { from: "a" to: "g" partitioner: HASH keys: "k" }
  )pb");
  CHECK(same(spec, want));
}

TEST_CASE("the builder does not validate") {
  auto spec = job_builder{""}
                .parallelism(-1)
                .vertex("x", "no_such_operator", {}, -3)
                .forward("x", "nowhere")
                .build();
  CHECK(spec.parallelism() == -1);
  CHECK(spec.vertices(0).parallelism() == -3);
  CHECK(spec.edges(0).to() == "nowhere");
}

TEST_CASE("to_text parses back to the built spec") {
  job_builder b{"round_trip"};
  b.parallelism(2)
    .vertex("src", "sequence", {{"count", "10"}})
    .vertex("sink", "collect")
    .forward("src", "sink");
  auto text = b.to_text();
  CHECK(text.find("name: \"round_trip\"") != std::string::npos);
  CHECK(same(parse(text), b.build()));
}

TEST_CASE("build leaves the builder usable") {
  job_builder b{"j"};
  b.vertex("a", "op");
  auto first = b.build();
  b.vertex("b", "op");
  CHECK(first.vertices_size() == 1);
  CHECK(b.build().vertices_size() == 2);
}
