#include "scheduler/job_graph.hpp"

#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "scheduler/fixtures.hpp"

using namespace weir;
using namespace weir::test;

namespace {

std::vector<std::string> ids_of(const job_graph& g) {
  std::vector<std::string> result;
  for (const auto& x : g.vertices)
    result.push_back(x.id);
  return result;
}

using strings = std::vector<std::string>;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

// -- valid graphs
// --------------------------------------------------------------

TEST_CASE("a valid job becomes a graph with resolved fields and edges") {
  auto g = graph_of(wordcount());
  REQUIRE_MESSAGE(g, error_text(g.error()));
  CHECK_EQ(g->name, "wordcount");
  CHECK_EQ(ids_of(*g), strings{"lines", "words", "counts", "out"});
  const auto& lines = g->vertices[0];
  CHECK_EQ(lines.op, weir::test::fake_registry().find("read"));
  CHECK_EQ(lines.params.at("columns"), "line");
  CHECK(lines.input_fields.empty());
  CHECK_EQ(lines.output_fields, strings{"line"});
  const auto& words = g->vertices[1];
  CHECK_EQ(words.params.at("as"), "word");
  CHECK_EQ(words.input_fields, strings{"line"});
  CHECK_EQ(words.output_fields, strings{"word"});
  const auto& counts = g->vertices[2];
  CHECK_EQ(counts.output_fields, strings{"word", "count"});
  CHECK_EQ(counts.parallelism, 4);
  CHECK_EQ(counts.max_parallelism, 128);
  CHECK_EQ(counts.inputs, std::vector<size_t>{1});
  CHECK_EQ(counts.outputs, std::vector<size_t>{2});
  REQUIRE_EQ(g->edges.size(), 3u);
  CHECK_EQ(g->edges[0].part, partitioner::forward);
  CHECK_EQ(g->edges[1].part, partitioner::hash);
  CHECK_EQ(g->edges[1].keys, strings{"word"});
  CHECK_EQ(g->edges[1].key_indexes, std::vector<size_t>{0});
  CHECK_EQ(g->edges[2].part, partitioner::rebalance);
  CHECK_EQ(g->edges[2].from, 2u);
  CHECK_EQ(g->edges[2].to, 3u);
}

TEST_CASE("a hash key's index is its position in the producer's fields") {
  auto g = graph_of(source("s", param("columns", "a, b, c") + "parallelism: 2")
                    + vertex("k", "count", param("key", "c, a")) + sink("out")
                    + edge("s", "k", "partitioner: HASH keys: [\"c\", \"a\"]")
                    + edge("k", "out"));
  REQUIRE_MESSAGE(g, error_text(g.error()));
  CHECK_EQ(g->edges[0].key_indexes, std::vector<size_t>{2, 0});
}

TEST_CASE("AUTO becomes FORWARD for equal parallelism, else REBALANCE") {
  auto g = graph_of(
    source("s", "parallelism: 3") + filter("f", "parallelism: 3")
    + sink("out", "parallelism: 2") + edge("s", "f") + edge("f", "out"));
  REQUIRE_MESSAGE(g, error_text(g.error()));
  CHECK_EQ(g->edges[0].part, partitioner::forward);
  CHECK_EQ(g->edges[1].part, partitioner::rebalance);
}

TEST_CASE("explicit partitioners are kept") {
  auto g = graph_of(source("s") + filter("f") + sink("out")
                    + edge("s", "f", "partitioner: REBALANCE")
                    + edge("f", "out", "partitioner: BROADCAST"));
  REQUIRE_MESSAGE(g, error_text(g.error()));
  CHECK_EQ(g->edges[0].part, partitioner::rebalance);
  CHECK_EQ(g->edges[1].part, partitioner::broadcast);
}

TEST_CASE("vertices are sorted topologically, ties by declaration order") {
  // Declared backwards, with two sources feeding one filter.
  auto g = graph_of(sink("out") + filter("f2") + filter("f1") + source("s2")
                    + source("s1") + edge("f2", "out") + edge("f1", "f2")
                    + edge("s1", "f1") + edge("s2", "f1"));
  REQUIRE_MESSAGE(g, error_text(g.error()));
  CHECK_EQ(ids_of(*g), strings{"s2", "s1", "f1", "f2", "out"});
  // Edges are renumbered in (producer, consumer) order.
  REQUIRE_EQ(g->edges.size(), 4u);
  CHECK_EQ(g->edges[0].from, 0u);
  CHECK_EQ(g->edges[1].from, 1u);
  CHECK_EQ(g->vertices[2].inputs, std::vector<size_t>{0, 1});
  CHECK_EQ(g->vertices[2].outputs, std::vector<size_t>{2});
  CHECK_EQ(g->vertices[4].inputs, std::vector<size_t>{3});
  for (size_t i = 0; i < g->edges.size(); ++i)
    CHECK_LT(g->edges[i].from, g->edges[i].to);
}

TEST_CASE("a diamond orders its branches by declaration") {
  auto g = graph_of(source("s") + filter("b") + filter("a") + filter("j")
                    + sink("out") + edge("s", "a") + edge("s", "b")
                    + edge("a", "j") + edge("b", "j") + edge("j", "out"));
  REQUIRE_MESSAGE(g, error_text(g.error()));
  CHECK_EQ(ids_of(*g), strings{"s", "b", "a", "j", "out"});
  CHECK_EQ(g->vertices[0].outputs.size(), 2u);
  CHECK_EQ(g->vertices[3].inputs.size(), 2u);
}

TEST_CASE("parallelism defaults to 1 and max parallelism to 128") {
  auto g = graph_of(source("s") + sink("out") + edge("s", "out"));
  REQUIRE_MESSAGE(g, error_text(g.error()));
  for (const auto& x : g->vertices) {
    CHECK_EQ(x.parallelism, 1);
    CHECK_EQ(x.max_parallelism, 128);
  }
}

TEST_CASE("vertices inherit the job's parallelism and max parallelism") {
  auto g = graph_of("parallelism: 3 max_parallelism: 64\n" + source("s")
                    + sink("out", "parallelism: 2 max_parallelism: 16")
                    + edge("s", "out"));
  REQUIRE_MESSAGE(g, error_text(g.error()));
  CHECK_EQ(g->vertices[0].parallelism, 3);
  CHECK_EQ(g->vertices[0].max_parallelism, 64);
  CHECK_EQ(g->vertices[1].parallelism, 2);
  CHECK_EQ(g->vertices[1].max_parallelism, 16);
}

TEST_CASE("the default parallelism option replaces the job's but not a "
          "vertex's own") {
  graph_options opts;
  opts.default_parallelism = 5;
  auto g = graph_of("parallelism: 3\n" + source("s")
                      + sink("out", "parallelism: 2") + edge("s", "out"),
                    opts);
  REQUIRE_MESSAGE(g, error_text(g.error()));
  CHECK_EQ(g->vertices[0].parallelism, 5);
  CHECK_EQ(g->vertices[1].parallelism, 2);
}

TEST_CASE("a keyed operator with parallelism 1 accepts any input") {
  auto g = graph_of(wordcount("parallelism: 1", "partitioner: REBALANCE"));
  REQUIRE_MESSAGE(g, error_text(g.error()));
  CHECK_EQ(g->edges[1].part, partitioner::rebalance);
}

TEST_CASE("a keyed operator may have several inputs hashed on its key") {
  auto g = graph_of(
    source("s1", param("columns", "k")) + source("s2", param("columns", "k"))
    + vertex("c", "count", param("key", "k") + "parallelism: 2") + sink("out")
    + edge("s1", "c", "partitioner: HASH keys: \"k\"")
    + edge("s2", "c", "partitioner: HASH keys: \"k\"") + edge("c", "out"));
  REQUIRE_MESSAGE(g, error_text(g.error()));
}

// -- rejections
// ----------------------------------------------------------------

TEST_CASE("a job without vertices is rejected") {
  CHECK_EQ(graph_error("name: \"empty\""), "job 'empty' has no vertices");
}

TEST_CASE("an empty vertex id is rejected naming its position") {
  CHECK_EQ(graph_error(source("s") + vertex("", "write")),
           "the vertex at position 2 (operator 'write') has an empty id");
}

TEST_CASE("a duplicate vertex id is rejected naming the id") {
  CHECK_EQ(graph_error(source("s") + filter("f") + filter("f") + sink("out")),
           "vertex id 'f' is used twice (positions 2 and 3)");
}

TEST_CASE("an unknown operator suggests the nearest name") {
  CHECK_EQ(graph_error(source("s") + vertex("w", "splti") + sink("out")),
           "vertex 'w': unknown operator 'splti'; did you mean 'split'?");
}

TEST_CASE("an unknown operator far from every name lists the known ones") {
  CHECK_EQ(graph_error(source("s") + vertex("w", "tokenize") + sink("out")),
           "vertex 'w': unknown operator 'tokenize'; known operators: "
           "count, filter, read, rename, split, write");
  CHECK_EQ(graph_error(source("s") + vertex("w", "")),
           "vertex 'w': no operator given; known operators: "
           "count, filter, read, rename, split, write");
}

TEST_CASE("an unknown parameter is rejected naming vertex and parameter") {
  auto text = graph_error(source("s") + filter("f", param("wehre", "x"))
                          + sink("out") + edge("s", "f") + edge("f", "out"));
  CHECK_MESSAGE(contains(text, "'f'"), text);
  CHECK_MESSAGE(contains(text, "'wehre'"), text);
}

TEST_CASE("a missing required parameter is rejected naming it") {
  auto text = graph_error(vertex("s", "read") + sink("out") + edge("s", "out"));
  CHECK_MESSAGE(contains(text, "'s'"), text);
  CHECK_MESSAGE(contains(text, "'path'"), text);
}

TEST_CASE("a mistyped parameter is rejected naming it") {
  auto text = graph_error(source("s") + filter("f", param("limit", "ten"))
                          + sink("out") + edge("s", "f") + edge("f", "out"));
  CHECK_MESSAGE(contains(text, "'f'"), text);
  CHECK_MESSAGE(contains(text, "'limit'"), text);
}

TEST_CASE("a field parameter naming a field the input lacks is rejected") {
  auto text
    = graph_error(source("s") + vertex("w", "split", param("field", "lne"))
                  + sink("out") + edge("s", "w") + edge("w", "out"));
  CHECK_MESSAGE(contains(text, "'w'"), text);
  CHECK_MESSAGE(contains(text, "'lne'"), text);
}

TEST_CASE("an output fields error is prefixed with the vertex") {
  CHECK_EQ(graph_error(source("s") + vertex("r", "rename", param("to", "a, b"))
                       + sink("out") + edge("s", "r") + edge("r", "out")),
           "vertex 'r' (rename): parameter 'to' names 2 fields "
           "but the input has 1");
}

TEST_CASE("an edge to an unknown vertex is rejected naming the edge") {
  CHECK_EQ(graph_error(wordcount() + edge("words", "countz")),
           "edge words -> countz: unknown vertex 'countz'; did you mean "
           "'counts'?");
  CHECK_EQ(graph_error(wordcount() + edge("elsewhere", "out")),
           "edge elsewhere -> out: unknown vertex 'elsewhere' (vertices: "
           "lines, words, counts, out)");
  CHECK_EQ(graph_error(wordcount() + edge("", "out")),
           "edge  -> out: 'from' names no vertex");
}

TEST_CASE("a job without a source or a sink is rejected") {
  CHECK_EQ(
    graph_error("name: \"j\" " + filter("f") + sink("out") + edge("f", "out")),
    "job 'j' has no source (a vertex of operator kind source)");
  CHECK_EQ(graph_error(source("s") + filter("f") + edge("s", "f")),
           "the job has no sink (a vertex of operator kind sink)");
}

TEST_CASE("a source with an input is rejected naming it and the edge") {
  CHECK_EQ(graph_error(source("s") + source("t") + sink("out") + edge("s", "t")
                       + edge("t", "out")),
           "vertex 't' is a source and cannot have inputs, but has edge "
           "s -> t");
}

TEST_CASE("a sink with an output is rejected naming it and the edge") {
  CHECK_EQ(graph_error(source("s") + sink("a") + sink("b") + edge("s", "a")
                       + edge("a", "b")),
           "vertex 'a' is a sink and cannot have outputs, but has edge "
           "a -> b");
}

TEST_CASE("a transform without inputs is rejected naming it") {
  CHECK_EQ(
    graph_error(source("s") + filter("f") + sink("out") + edge("s", "out")),
    "vertex 'f' has no input; add an edge into it");
}

TEST_CASE("a cycle is rejected naming the vertices on it") {
  CHECK_EQ(graph_error(source("s") + filter("c") + filter("a") + filter("b")
                       + sink("out") + edge("s", "a") + edge("a", "b")
                       + edge("b", "c") + edge("c", "a") + edge("c", "out")),
           "the job graph has a cycle: c -> a -> b -> c");
  CHECK_EQ(graph_error(source("s") + filter("a") + sink("out") + edge("s", "a")
                       + edge("a", "a") + edge("a", "out")),
           "the job graph has a cycle: a -> a");
}

TEST_CASE("a vertex downstream of a cycle does not hide it") {
  CHECK_EQ(graph_error(source("s") + filter("d") + filter("a") + filter("b")
                       + sink("out") + edge("s", "a") + edge("a", "b")
                       + edge("b", "a") + edge("b", "d") + edge("d", "out")),
           "the job graph has a cycle: a -> b -> a");
}

TEST_CASE("non-positive parallelism is rejected naming the vertex") {
  auto g
    = graph_of(source("s", "parallelism: 0") + sink("out") + edge("s", "out"));
  REQUIRE_FALSE(g);
  CHECK_EQ(error_text(g.error()),
           "vertex 's': parallelism must be at least 1 (got 0)");
  CHECK_EQ(g.error().code(),
           static_cast<uint8_t>(scheduler_errc::invalid_parallelism));
  CHECK_EQ(graph_error("name: \"j\" parallelism: -1 " + source("s")),
           "job 'j': parallelism must be at least 1 (got -1)");
}

TEST_CASE("parallelism above max parallelism is rejected naming the vertex") {
  CHECK_EQ(graph_error(source("s", "parallelism: 200") + sink("out")
                       + edge("s", "out")),
           "vertex 's': parallelism 200 exceeds max_parallelism 128");
  CHECK_EQ(graph_error("parallelism: 8 " + source("s", "max_parallelism: 4")),
           "vertex 's': parallelism 8 (the job's default) exceeds "
           "max_parallelism 4");
  graph_options opts;
  opts.default_parallelism = 300;
  CHECK_EQ(graph_error(source("s"), opts),
           "vertex 's': parallelism 300 (the job's default) exceeds "
           "max_parallelism 128");
}

TEST_CASE("max parallelism outside [1, 32768] is rejected") {
  CHECK_EQ(graph_error(source("s", "max_parallelism: 0")),
           "vertex 's': max_parallelism 0 is out of range [1, 32768]");
  CHECK_EQ(graph_error(source("s", "max_parallelism: 32769")),
           "vertex 's': max_parallelism 32769 is out of range [1, 32768]");
  CHECK_EQ(graph_error("name: \"j\" max_parallelism: 40000 " + source("s")),
           "job 'j': max_parallelism 40000 is out of range [1, 32768]");
  auto g = graph_of(source("s", "max_parallelism: 32768") + sink("out")
                    + edge("s", "out"));
  CHECK_MESSAGE(g, error_text(g.error()));
}

TEST_CASE("FORWARD between different parallelisms is rejected") {
  CHECK_EQ(graph_error(source("s", "parallelism: 2")
                       + sink("out", "parallelism: 4")
                       + edge("s", "out", "partitioner: FORWARD")),
           "edge s -> out: FORWARD needs equal parallelism, but 's' has 2 "
           "and 'out' has 4; use REBALANCE, or HASH with keys");
}

TEST_CASE("HASH without keys is rejected naming the edge") {
  CHECK_EQ(graph_error(wordcount("parallelism: 4", "partitioner: HASH")),
           "edge words -> counts: HASH needs key fields (keys: \"...\"); "
           "'words' emits: word");
}

TEST_CASE("a HASH key the producer does not emit is rejected naming it") {
  CHECK_EQ(
    graph_error(wordcount("parallelism: 4", "partitioner: HASH keys: \"wrd\"")),
    "edge words -> counts: key field 'wrd' is not produced by vertex "
    "'words' (it emits: word)");
}

TEST_CASE("keys on an edge that is not HASH are ignored") {
  auto g = graph_of(wordcount("parallelism: 1", "keys: \"word\""));
  REQUIRE_MESSAGE(g, error_text(g.error()));
  CHECK_EQ(g->edges[1].part, partitioner::rebalance);
  CHECK(g->edges[1].keys.empty());
  CHECK(g->edges[1].key_indexes.empty());
}

TEST_CASE("keys on a non-HASH edge do not make a keyed input valid") {
  CHECK_EQ(graph_error(wordcount("parallelism: 4",
                                 "partitioner: REBALANCE keys: \"word\"")),
           "vertex 'counts' (count) has parallelism 4 and is keyed by "
           "(word), but its input edge words -> counts is REBALANCE; set "
           "`partitioner: HASH keys: \"word\"` on that edge");
}

TEST_CASE("a parallel keyed operator whose input is not hashed is rejected "
          "with the fix") {
  CHECK_EQ(graph_error(wordcount("parallelism: 4", "partitioner: REBALANCE")),
           "vertex 'counts' (count) has parallelism 4 and is "
           "keyed by (word), but its input edge words -> counts is "
           "REBALANCE; set `partitioner: HASH keys: \"word\"` on that edge");
  // AUTO between equal parallelisms is FORWARD, which is not enough either.
  CHECK_EQ(graph_error(wordcount("parallelism: 2", "")),
           "vertex 'counts' (count) has parallelism 2 and is "
           "keyed by (word), but its input edge words -> counts is "
           "FORWARD; set `partitioner: HASH keys: \"word\"` on that edge");
}

TEST_CASE("a parallel keyed operator hashed on other keys is rejected") {
  CHECK_EQ(
    graph_error(source("s", param("columns", "a, b"))
                + vertex("k", "count", param("key", "a, b") + "parallelism: 2")
                + sink("out") + edge("s", "k", "partitioner: HASH keys: \"b\"")
                + edge("k", "out")),
    "vertex 'k' (count) has parallelism 2 and is keyed by "
    "(a, b), but its input edge s -> k is HASH(b); set "
    "`partitioner: HASH keys: [\"a\", \"b\"]` on that edge");
}

TEST_CASE("inputs with different fields are rejected naming the vertex") {
  CHECK_EQ(graph_error(source("s1", param("columns", "a"))
                       + source("s2", param("columns", "b")) + filter("u")
                       + sink("out") + edge("s1", "u") + edge("s2", "u")
                       + edge("u", "out")),
           "vertex 'u' has inputs with different fields: 's1' emits (a) but "
           "'s2' emits (b)");
}

TEST_CASE("a job needing more than 2^20 channels is rejected naming the "
          "edge") {
  auto text = "max_parallelism: 4096 " + source("s", "parallelism: 1100")
              + sink("out", "parallelism: 1000")
              + edge("s", "out", "partitioner: REBALANCE");
  auto err = graph_error(text);
  CHECK(err.find("more than 1048576 channels") != std::string::npos);
  CHECK(err.find("s -> out") != std::string::npos);
  // A forward edge of the same width is cheap and accepted.
  CHECK(graph_of("max_parallelism: 4096 parallelism: 1100 " + source("s")
                 + sink("out") + edge("s", "out", "partitioner: FORWARD")));
}

// -- watermark strategies -----------------------------------------------------

namespace {

/// A source emitting "key,ts" with `strategy` as its watermarks block,
/// into a sink.
std::string watermarked(const std::string& strategy) {
  return source("s",
                param("columns", "key,ts") + "watermarks { " + strategy + " } ")
         + sink("out") + edge("s", "out");
}

} // namespace

TEST_CASE("a source's watermark strategy is resolved to the timestamp "
          "field's position") {
  auto g = graph_of(
    watermarked("kind: BOUNDED_OUT_OF_ORDERNESS timestamp_field: \"ts\" "
                "max_out_of_orderness_ms: 250 idle_timeout_ms: 1000 "
                "interval_ms: 50"));
  REQUIRE_MESSAGE(g, error_text(g.error()));
  const auto& w = g->vertices[0].watermarks;
  CHECK(w.enabled);
  CHECK_EQ(w.timestamp_index, 1u);
  CHECK_EQ(w.max_out_of_orderness_ms, 250);
  CHECK_EQ(w.idle_timeout_ms, 1000);
  CHECK_EQ(w.interval_ms, 50);
  CHECK_FALSE(g->vertices[1].watermarks.enabled);
  auto m = graph_of(watermarked("kind: MONOTONOUS timestamp_field: \"key\""));
  REQUIRE_MESSAGE(m, error_text(m.error()));
  CHECK(m->vertices[0].watermarks.enabled);
  CHECK_EQ(m->vertices[0].watermarks.timestamp_index, 0u);
  CHECK_EQ(m->vertices[0].watermarks.max_out_of_orderness_ms, 0);
  CHECK_EQ(m->vertices[0].watermarks.idle_timeout_ms, 0);
  CHECK_EQ(m->vertices[0].watermarks.interval_ms, 200);
}

TEST_CASE("a watermark strategy of kind NONE is ignored") {
  auto g = graph_of(watermarked("kind: NONE timestamp_field: \"nope\" "
                                "max_out_of_orderness_ms: -5"));
  REQUIRE_MESSAGE(g, error_text(g.error()));
  CHECK_FALSE(g->vertices[0].watermarks.enabled);
}

TEST_CASE("watermarks on a vertex that is not a source are rejected") {
  auto text = source("s", param("columns", "key,ts"))
              + filter("f", "watermarks { kind: MONOTONOUS timestamp_field: "
                            "\"ts\" }")
              + sink("out") + edge("s", "f") + edge("f", "out");
  CHECK_EQ(graph_error(text), "vertex 'f': watermarks: only sources generate "
                              "watermarks, and filter is not a source");
}

TEST_CASE("a watermark strategy without a known timestamp field is "
          "rejected") {
  CHECK_EQ(graph_error(watermarked("kind: MONOTONOUS")),
           "vertex 's': watermarks: timestamp_field is missing");
  CHECK_EQ(
    graph_error(watermarked("kind: MONOTONOUS timestamp_field: \"time\"")),
    "vertex 's': watermarks: timestamp_field 'time' is not a field "
    "the source emits (it emits key, ts)");
}

TEST_CASE("a watermark strategy with a negative or misplaced bound is "
          "rejected") {
  CHECK_EQ(
    graph_error(watermarked("kind: BOUNDED_OUT_OF_ORDERNESS timestamp_field: "
                            "\"ts\" max_out_of_orderness_ms: -1")),
    "vertex 's': watermarks: max_out_of_orderness_ms must not be "
    "negative (got -1)");
  CHECK_EQ(graph_error(watermarked("kind: MONOTONOUS timestamp_field: \"ts\" "
                                   "max_out_of_orderness_ms: 10")),
           "vertex 's': watermarks: MONOTONOUS timestamps take no "
           "max_out_of_orderness_ms; use BOUNDED_OUT_OF_ORDERNESS");
}

TEST_CASE("a watermark strategy with a negative idle timeout or a zero "
          "interval is rejected") {
  CHECK_EQ(graph_error(watermarked("kind: MONOTONOUS timestamp_field: \"ts\" "
                                   "idle_timeout_ms: -3")),
           "vertex 's': watermarks: idle_timeout_ms must not be negative");
  CHECK_EQ(graph_error(watermarked("kind: MONOTONOUS timestamp_field: \"ts\" "
                                   "interval_ms: 0")),
           "vertex 's': watermarks: interval_ms must be at least 1 (got 0)");
}
