#include "core/log/rate_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace epolld::log {
namespace {

using namespace std::chrono_literals;
using Clock = RateLimiter::Clock;

const Clock::time_point kStart = Clock::time_point() + 1000h;

TEST(RateLimiter, AllowsABurstThenSuppresses) {
  RateLimiter limiter(3, 1s);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(limiter.allow(kStart), 0u) << i;
  }
  EXPECT_EQ(limiter.allow(kStart), std::nullopt);
  EXPECT_EQ(limiter.allow(kStart + 1ms), std::nullopt);
}

TEST(RateLimiter, ReportsLinesSuppressedSinceTheLastAllowedOne) {
  RateLimiter limiter(1, 1s);
  EXPECT_EQ(limiter.allow(kStart), 0u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(limiter.allow(kStart + 100ms), std::nullopt);
  }
  EXPECT_EQ(limiter.allow(kStart + 1s), 5u);
  EXPECT_EQ(limiter.allow(kStart + 1s), std::nullopt);
  EXPECT_EQ(limiter.allow(kStart + 2s), 1u);
}

TEST(RateLimiter, RefillsOneLineEveryPeriodOverBurst) {
  RateLimiter limiter(10, 1s);
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(limiter.allow(kStart), 0u);
  }
  EXPECT_EQ(limiter.allow(kStart + 99ms), std::nullopt);
  EXPECT_EQ(limiter.allow(kStart + 100ms), 1u);
  EXPECT_EQ(limiter.allow(kStart + 150ms), std::nullopt);
  EXPECT_EQ(limiter.allow(kStart + 200ms), 1u);
}

TEST(RateLimiter, IdleTimeRefillsNoMoreThanTheBurst) {
  RateLimiter limiter(4, 1s);
  EXPECT_EQ(limiter.allow(kStart), 0u);
  const Clock::time_point later = kStart + 1h;
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(limiter.allow(later), 0u) << i;
  }
  EXPECT_EQ(limiter.allow(later), std::nullopt);
}

TEST(RateLimiter, CountsEverySuppressionAcrossThreads) {
  constexpr int kThreads = 4;
  constexpr int kCallsPerThread = 5000;
  constexpr int kBurst = 5;
  RateLimiter limiter(kBurst, 1h);
  std::atomic<int> allowed{0};
  std::atomic<std::uint64_t> reported{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        if (const auto suppressed = limiter.allow(kStart)) {
          ++allowed;
          reported += *suppressed;
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(allowed, kBurst);
  const auto rest = limiter.allow(kStart + 1h);
  ASSERT_TRUE(rest.has_value());
  EXPECT_EQ(reported + *rest, std::uint64_t{kThreads * kCallsPerThread - kBurst});
}

TEST(RateLimiter, SuppressedNoteIsEmptyForNone) {
  EXPECT_EQ(suppressedNote(0), "");
  EXPECT_EQ(suppressedNote(3), " (3 similar messages suppressed)");
}

}  // namespace
}  // namespace epolld::log
