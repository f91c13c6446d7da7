#include <doctest/doctest.h>

#include <filesystem>
#include <random>

#include "checkpoint/state_file.hpp"
#include "support/temp_dir.hpp"

using namespace weir;

namespace {

std::string random_payload(size_t size, unsigned seed) {
  std::mt19937 rng{seed};
  std::string out(size, '\0');
  // Half compressible, half noise.
  for (size_t i = 0; i < size; ++i)
    out[i]
      = i % 2 == 0 ? static_cast<char>('a' + i % 7) : static_cast<char>(rng());
  return out;
}

} // namespace

TEST_CASE("a state file round-trips payloads of every size") {
  for (size_t size : {0u, 1u, 100u, 70000u, 1000000u}) {
    CAPTURE(size);
    auto payload = random_payload(size, 3);
    auto decoded = decode_state_file(encode_state_file(payload), "mem");
    REQUIRE(decoded);
    CHECK(*decoded == payload);
  }
}

TEST_CASE("a truncated state file is rejected at every length") {
  auto image = encode_state_file(random_payload(3000, 5));
  for (size_t n = 0; n < image.size(); ++n) {
    CAPTURE(n);
    auto decoded = decode_state_file(image.substr(0, n), "f");
    CHECK(!decoded);
  }
}

TEST_CASE("a flipped bit anywhere in a state file is detected") {
  auto payload = random_payload(2000, 9);
  auto image = encode_state_file(payload);
  for (size_t i = 0; i < image.size(); ++i) {
    CAPTURE(i);
    auto bad = image;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    auto decoded = decode_state_file(bad, "f");
    // Either rejected or, for bits the frame format ignores, intact.
    if (decoded)
      CHECK(*decoded == payload);
  }
  // Every flip inside the compressed data is rejected outright.
  for (size_t i = 30; i + 8 < image.size(); ++i) {
    auto bad = image;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    CHECK(!decode_state_file(bad, "f"));
  }
}

TEST_CASE("foreign files and other versions are named as such") {
  auto err = decode_state_file("hello world, not state", "/x/y").error();
  CHECK(error_text(err).find("/x/y: not a Weir state file")
        != std::string::npos);
  auto image = encode_state_file("abc");
  image[8] = 7;
  err = decode_state_file(image, "f").error();
  CHECK(error_text(err).find("version 7 is not supported")
        != std::string::npos);
  image = encode_state_file("abc") + "junk";
  CHECK(!decode_state_file(image, "f"));
}

TEST_CASE("state files are written atomically and read back") {
  test::temp_dir dir;
  auto path = dir / "state-1";
  REQUIRE(!write_state_file(path, "payload one"));
  REQUIRE(!write_state_file(path, "payload two"));
  auto back = read_state_file(path);
  REQUIRE(back);
  CHECK(*back == "payload two");
  // No temporary file stays behind.
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator{dir.path()}) {
    (void)e;
    ++files;
  }
  CHECK(files == 1);
}

TEST_CASE("missing and unwritable state files are clear errors") {
  test::temp_dir dir;
  auto missing = read_state_file(dir / "nope");
  REQUIRE(!missing);
  CHECK(error_text(missing.error()).find("nope") != std::string::npos);
  auto err = write_state_file(dir / "no-such-dir/state", "x");
  REQUIRE(err);
  CHECK(error_text(err).find("no-such-dir") != std::string::npos);
}
