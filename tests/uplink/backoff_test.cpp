#include "uplink/backoff.hpp"

#include <gtest/gtest.h>

#include "core/synthetic.hpp"

namespace postgate::uplink {
namespace {

using namespace std::chrono_literals;

TEST(UplinkBackoff, StaysWithinTheDoublingCeiling) {
  core::SplitMix64 rng(7);
  for (unsigned attempt = 0; attempt < 12; ++attempt) {
    const auto ceiling = std::min<std::chrono::milliseconds>(1000ms * (1LL << attempt), 60'000ms);
    for (int i = 0; i < 200; ++i) {
      const auto d = backoff_delay(attempt, 1000ms, 60'000ms, rng);
      EXPECT_GE(d.count(), 0);
      EXPECT_LE(d, ceiling) << "attempt " << attempt;
    }
  }
}

TEST(UplinkBackoff, FullJitterSpreadsOverTheWholeRange) {
  core::SplitMix64 rng(11);
  std::chrono::milliseconds lo = 60'000ms, hi = 0ms;
  for (int i = 0; i < 2000; ++i) {
    const auto d = backoff_delay(20, 1000ms, 60'000ms, rng);
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  EXPECT_LT(lo, 3'000ms);
  EXPECT_GT(hi, 57'000ms);
}

TEST(UplinkBackoff, HugeAttemptCountsAreCapped) {
  core::SplitMix64 rng(3);
  for (unsigned attempt : {63u, 64u, 1000u, ~0u}) {
    EXPECT_LE(backoff_delay(attempt, 1000ms, 60'000ms, rng), 60'000ms);
  }
}

TEST(UplinkBackoff, SameSeedSameDelays) {
  core::SplitMix64 a(5), b(5);
  for (unsigned i = 0; i < 10; ++i)
    EXPECT_EQ(backoff_delay(i, 100ms, 5000ms, a), backoff_delay(i, 100ms, 5000ms, b));
}

}  // namespace
}  // namespace postgate::uplink
