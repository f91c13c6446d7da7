#include "scheduler/key_groups.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <doctest/doctest.h>

using namespace weir;

TEST_CASE("key groups are a murmur3 mix of the hash modulo max parallelism") {
  // Pinned: key groups decide where keyed state lives in savepoints, so they
  // must never change between versions.
  CHECK_EQ(key_group_of(0, 128), 0);
  CHECK_EQ(key_group_of(1, 128), 44);
  CHECK_EQ(key_group_of(42, 128), 76);
  CHECK_EQ(key_group_of(0xdeadbeef, 128), 44);
  CHECK_EQ(key_group_of(~uint64_t{0}, 128), 33);
  CHECK_EQ(key_group_of(1, 32768), 19244);
  CHECK_EQ(key_group_of(42, 32768), 22988);
  CHECK_EQ(key_group_of(12345, 1), 0);
}

TEST_CASE("sequential hashes spread evenly over key groups") {
  constexpr int m = 128;
  constexpr int per_group = 1000;
  std::vector<int> counts(m);
  for (uint64_t h = 0; h < uint64_t{m} * per_group; ++h) {
    auto kg = key_group_of(h, m);
    if (kg < 0 || kg >= m)
      FAIL("hash " << h << " has key group " << kg);
    ++counts[static_cast<size_t>(kg)];
  }
  for (int kg = 0; kg < m; ++kg) {
    INFO("key group " << kg);
    CHECK_GT(counts[static_cast<size_t>(kg)], per_group * 8 / 10);
    CHECK_LT(counts[static_cast<size_t>(kg)], per_group * 12 / 10);
  }
}

TEST_CASE("key group ranges follow Flink's formula") {
  CHECK_EQ(key_group_range_of(128, 3, 0), key_group_range{0, 42});
  CHECK_EQ(key_group_range_of(128, 3, 1), key_group_range{43, 85});
  CHECK_EQ(key_group_range_of(128, 3, 2), key_group_range{86, 127});
  CHECK_EQ(key_group_range_of(128, 1, 0), key_group_range{0, 127});
  CHECK_EQ(key_group_range_of(128, 128, 5), key_group_range{5, 5});
  CHECK_EQ(key_group_range_of(10, 4, 0), key_group_range{0, 2});
  CHECK_EQ(key_group_range_of(10, 4, 1), key_group_range{3, 4});
  CHECK_EQ(key_group_range_of(10, 4, 2), key_group_range{5, 7});
  CHECK_EQ(key_group_range_of(10, 4, 3), key_group_range{8, 9});
}

TEST_CASE("key group ranges partition all key groups evenly and invert "
          "exactly, for every max parallelism up to 300") {
  // Plain comparisons inside, one report per failing (m, p): nine million
  // doctest assertions would take longer than the property is worth.
  for (int m = 1; m <= 300; ++m) {
    for (int p = 1; p <= m; ++p) {
      std::string failure;
      int next = 0;
      int smallest = m;
      int largest = 0;
      for (int i = 0; i < p && failure.empty(); ++i) {
        auto r = key_group_range_of(m, p, i);
        if (r.first != next)
          failure = "subtask " + std::to_string(i) + " starts at "
                    + std::to_string(r.first) + ", expected "
                    + std::to_string(next);
        for (int kg = r.first; kg <= r.last && failure.empty(); ++kg)
          if (!r.contains(kg) || subtask_of_key_group(m, p, kg) != i)
            failure = "key group " + std::to_string(kg) + " maps to subtask "
                      + std::to_string(subtask_of_key_group(m, p, kg))
                      + ", expected " + std::to_string(i);
        smallest = std::min(smallest, r.size());
        largest = std::max(largest, r.size());
        next = r.last + 1;
      }
      if (failure.empty() && next != m)
        failure = "ranges end at " + std::to_string(next) + ", expected "
                  + std::to_string(m);
      if (failure.empty() && (smallest < 1 || largest - smallest > 1))
        failure = "range sizes vary from " + std::to_string(smallest) + " to "
                  + std::to_string(largest);
      if (!failure.empty()) {
        FAIL("m = " << m << ", p = " << p << ": " << failure);
        return;
      }
    }
  }
}

TEST_CASE("the largest max parallelism partitions without overflow") {
  constexpr int m = 32768;
  for (int p : {1, 7, 1000, 32767, 32768}) {
    INFO("p = " << p);
    CHECK_EQ(key_group_range_of(m, p, 0).first, 0);
    CHECK_EQ(key_group_range_of(m, p, p - 1).last, m - 1);
    CHECK_EQ(subtask_of_key_group(m, p, m - 1), p - 1);
    CHECK_EQ(subtask_of_key_group(m, p, 0), 0);
  }
}

TEST_CASE("a key group range knows its size and members") {
  key_group_range r{3, 5};
  CHECK_EQ(r.size(), 3);
  CHECK(r.contains(3));
  CHECK(r.contains(5));
  CHECK_FALSE(r.contains(2));
  CHECK_FALSE(r.contains(6));
  CHECK_EQ(key_group_range{}.size(), 0);
}
