#include "core/metrics/duration_histogram.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace epolld::metrics {
namespace {

// The definition durationBucket() must agree with: the first bound >= ns.
std::size_t bucketByScan(std::uint64_t ns) {
  std::size_t index = 0;
  while (index < kDurationBoundsNs.size() && kDurationBoundsNs[index] < ns) {
    ++index;
  }
  return index;
}

// Every value where the answer could change: each bound and its neighbours,
// each power of two and its neighbours, the extremes.
std::vector<std::uint64_t> edgeValues() {
  std::vector<std::uint64_t> values = {0, 1, std::numeric_limits<std::uint64_t>::max()};
  for (const std::uint64_t bound : kDurationBoundsNs) {
    values.insert(values.end(), {bound - 1, bound, bound + 1});
  }
  for (int shift = 0; shift < 64; ++shift) {
    const std::uint64_t power = std::uint64_t{1} << shift;
    values.insert(values.end(), {power - 1, power, power + 1});
  }
  return values;
}

TEST(MetricsHistogram, BucketLookupAgreesWithLinearScanAtEveryEdge) {
  for (const std::uint64_t ns : edgeValues()) {
    EXPECT_EQ(durationBucket(ns), bucketByScan(ns)) << "ns = " << ns;
  }
}

TEST(MetricsHistogram, BucketLookupAgreesWithLinearScanOnRandomValues) {
  const std::uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed) + " (replace random_device{}() with it to replay)");
  std::mt19937_64 random(seed);
  for (int i = 0; i < 100'000; ++i) {
    // Log-uniform over all widths, so every bucket gets hits.
    const std::uint64_t ns = random() >> (random() % 64);
    ASSERT_EQ(durationBucket(ns), bucketByScan(ns)) << "ns = " << ns;
  }
}

TEST(MetricsHistogram, ValueOnABoundGoesToThatBoundsBucketBecauseLeMeansAtMost) {
  EXPECT_EQ(kDurationBoundsNs[0], 1'000u);
  EXPECT_EQ(durationBucket(1'000), 0u);
  EXPECT_EQ(durationBucket(1'001), 1u);
  EXPECT_EQ(durationBucket(10'000'000'000), kDurationBoundsNs.size() - 1);
  EXPECT_EQ(durationBucket(10'000'000'001), kDurationBucketCount - 1);  // +Inf
  EXPECT_EQ(durationBucket(0), 0u);
}

TEST(MetricsHistogram, SnapshotIsCumulativeWithSumAndCount) {
  DurationHistogram histogram;
  histogram.observe(500);            // <= 1 µs
  histogram.observe(1'000);          // <= 1 µs, on the bound
  histogram.observe(1'500);          // <= 2 µs
  histogram.observe(20'000'000'000);  // +Inf
  HistogramSnapshot snapshot;
  snapshot.merge(histogram);
  EXPECT_EQ(snapshot.cumulative[0], 2u);
  EXPECT_EQ(snapshot.cumulative[1], 3u);
  for (std::size_t i = 1; i < kDurationBoundsNs.size(); ++i) {
    EXPECT_EQ(snapshot.cumulative[i], 3u) << i;
  }
  EXPECT_EQ(snapshot.cumulative.back(), 4u);
  EXPECT_EQ(snapshot.count(), 4u);
  EXPECT_EQ(snapshot.sum_ns, 500u + 1'000u + 1'500u + 20'000'000'000u);
}

TEST(MetricsHistogram, MergingSeveralWritersAddsTheirCounts) {
  DurationHistogram first;
  DurationHistogram second;
  first.observe(3'000);   // <= 5 µs
  second.observe(3'000);
  second.observe(40'000);  // <= 50 µs
  HistogramSnapshot merged;
  merged.merge(first);
  merged.merge(second);
  EXPECT_EQ(merged.cumulative[durationBucket(3'000)], 2u);
  EXPECT_EQ(merged.cumulative[durationBucket(40'000)], 3u);
  EXPECT_EQ(merged.cumulative[durationBucket(40'000) - 1], 2u);
  EXPECT_EQ(merged.count(), 3u);
  EXPECT_EQ(merged.sum_ns, 46'000u);

  HistogramSnapshot separately;
  separately.merge(first);
  HistogramSnapshot other;
  other.merge(second);
  separately += other;
  EXPECT_EQ(separately.cumulative, merged.cumulative);
  EXPECT_EQ(separately.sum_ns, merged.sum_ns);
}

TEST(MetricsHistogram, EmptySnapshotCountsNothing) {
  DurationHistogram histogram;
  HistogramSnapshot snapshot;
  snapshot.merge(histogram);
  EXPECT_EQ(snapshot.count(), 0u);
  EXPECT_EQ(snapshot.sum_ns, 0u);
}

}  // namespace
}  // namespace epolld::metrics
