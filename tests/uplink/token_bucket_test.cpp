#include "uplink/token_bucket.hpp"

#include <gtest/gtest.h>

namespace postgate::uplink {
namespace {

using namespace std::chrono_literals;
using Clock = TokenBucket::Clock;

TEST(UplinkTokenBucket, StartsFullWithOneSecondsWorth) {
  const auto t0 = Clock::time_point{} + 100s;
  TokenBucket b(2000, t0);
  EXPECT_DOUBLE_EQ(b.available(t0), 2000);
  EXPECT_EQ(b.wait_for(1, t0), 0ms);
}

TEST(UplinkTokenBucket, OverdraftIsPaidBackBeforeTheNextSpend) {
  const auto t0 = Clock::time_point{} + 100s;
  TokenBucket b(1000, t0);
  b.spend(1500);  // a batch larger than what was left
  EXPECT_DOUBLE_EQ(b.available(t0), -500);
  EXPECT_EQ(b.wait_for(1, t0), 501ms);
  EXPECT_NEAR(b.available(t0 + 250ms), -250, 1e-6);
  EXPECT_EQ(b.wait_for(1, t0 + 501ms), 0ms);
}

TEST(UplinkTokenBucket, NeverHoldsMoreThanTheRate) {
  const auto t0 = Clock::time_point{} + 100s;
  TokenBucket b(10, t0);
  EXPECT_DOUBLE_EQ(b.available(t0 + 1h), 10);
  EXPECT_EQ(b.wait_for(1e9, t0 + 1h), 0ms);  // asking more than a second's worth
}

TEST(UplinkTokenBucket, SustainedRateIsTheConfiguredOne) {
  auto t = Clock::time_point{} + 100s;
  TokenBucket b(500, t);
  std::uint64_t sent = 0;
  const auto end = t + 10s;
  while (t < end) {
    t += b.wait_for(1, t);
    const double n = std::min(200.0, std::max(1.0, b.available(t)));
    b.spend(n);
    sent += static_cast<std::uint64_t>(n);
  }
  // One second's burst plus ten seconds at the rate.
  EXPECT_NEAR(static_cast<double>(sent), 500 + 10 * 500, 250);
}

TEST(UplinkTokenBucket, ZeroRateIsUnlimited) {
  const auto t0 = Clock::time_point{} + 100s;
  TokenBucket b(0, t0);
  EXPECT_TRUE(b.unlimited());
  b.spend(1e12);
  EXPECT_EQ(b.wait_for(1, t0), 0ms);
}

}  // namespace
}  // namespace postgate::uplink
