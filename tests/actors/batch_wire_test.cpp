// The wire form of a batch: plain or LZ4-compressed
// (taskmanager.network.compression), either readable by every node, and a
// corrupt one refused rather than misread.

#include <string>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>
#include <doctest/doctest.h>

#include "actors/protocol.hpp"

using namespace weir;

namespace {

std::vector<row> sample(size_t n) {
  std::vector<row> rows;
  for (size_t i = 0; i < n; ++i)
    rows.push_back(row{value{static_cast<int64_t>(i)},
                       value{"word-" + std::to_string(i % 7)},
                       value{static_cast<double>(i) / 4}});
  return rows;
}

/// Restores the default setting whatever a test does.
struct compression_guard {
  ~compression_guard() {
    set_batch_compression(false);
  }
};

} // namespace

TEST_CASE("a batch's wire form is plain by default and LZ4 when enabled") {
  compression_guard guard;
  auto rows = sample(1000);
  set_batch_compression(false);
  auto plain = encode_batch(rows);
  CHECK_EQ(plain[0], 'R');
  set_batch_compression(true);
  auto packed = encode_batch(rows);
  CHECK_EQ(packed[0], 'Z');
  // Repetitive rows shrink.
  CHECK_LT(packed.size(), plain.size() * 3 / 4);
  // Either form decodes, whatever this process's own setting.
  for (bool on : {false, true}) {
    set_batch_compression(on);
    CHECK_EQ(decode_batch(plain), std::optional{rows});
    CHECK_EQ(decode_batch(packed), std::optional{rows});
  }
  set_batch_compression(true);
  CHECK_EQ(decode_batch(encode_batch({})), std::optional{std::vector<row>{}});
}

TEST_CASE("a corrupt wire form is refused") {
  compression_guard guard;
  set_batch_compression(true);
  auto packed = encode_batch(sample(200));
  CHECK_FALSE(decode_batch(""));
  CHECK_FALSE(decode_batch("X123"));
  CHECK_FALSE(decode_batch(packed.substr(0, 4)));
  CHECK_FALSE(decode_batch(packed.substr(0, packed.size() / 2)));
  auto wrong_length = packed;
  wrong_length[1] = static_cast<char>(wrong_length[1] + 1);
  CHECK_FALSE(decode_batch(wrong_length));
  auto huge = packed;
  huge[4] = static_cast<char>(0x7f);
  CHECK_FALSE(decode_batch(huge));
}

TEST_CASE("a batch survives CAF's serialization in both forms") {
  compression_guard guard;
  caf::actor_system_config cfg;
  register_protocol(cfg);
  caf::actor_system sys{cfg};
  for (bool on : {false, true}) {
    set_batch_compression(on);
    batch in{sample(300)};
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    REQUIRE_FALSE(sink(in));
    batch out;
    caf::binary_deserializer source{sys, buf};
    REQUIRE_FALSE(source(out));
    CHECK_EQ(out.rows, in.rows);
  }
}
