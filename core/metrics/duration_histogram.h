// A request-duration histogram with fixed buckets: constant memory, one
// writer thread, observe() in a handful of integer instructions.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "core/metrics/counter.h"

namespace epolld::metrics {

// Upper bounds (inclusive, as Prometheus's `le` means <=) in nanoseconds:
// 1-2-5 per decade from 1 µs to 10 s, then +Inf. Why these:
// - 1-2-5 gives round `le` values a person can read and PromQL users expect,
//   at most 2.5x apart, so histogram_quantile() is off by at most that factor
//   within a bucket;
// - a loopback hello-world request takes a few to a few tens of µs, so the
//   decade below 10 µs matters; past 10 s only timeouts are left (+Inf);
// - 22 bounds + Inf = 23 series per listener, an acceptable cardinality.
// Adjacent bounds are at least 2x apart: bucketIndex() depends on it.
inline constexpr std::array<std::uint64_t, 22> kDurationBoundsNs = {
    1'000,         2'000,         5'000,                                  // µs
    10'000,        20'000,        50'000,        100'000,     200'000,    500'000,
    1'000'000,     2'000'000,     5'000'000,                              // ms
    10'000'000,    20'000'000,    50'000'000,    100'000'000, 200'000'000, 500'000'000,
    1'000'000'000, 2'000'000'000, 5'000'000'000, 10'000'000'000,          // s
};
// One bucket per bound, plus the +Inf bucket at the end.
inline constexpr std::size_t kDurationBucketCount = kDurationBoundsNs.size() + 1;

namespace detail {

// The bounds with a sentinel past the last, so the lookup needs no range check.
inline constexpr auto kPaddedBoundsNs = [] {
  std::array<std::uint64_t, kDurationBoundsNs.size() + 1> padded{};
  for (std::size_t i = 0; i < kDurationBoundsNs.size(); ++i) {
    padded[i] = kDurationBoundsNs[i];
  }
  padded.back() = std::numeric_limits<std::uint64_t>::max();
  return padded;
}();

// For a value of bit width w (in [2^(w-1), 2^w)), the number of bounds below
// 2^(w-1): every one of them is below the value. Bounds at least 2x apart put
// at most one more bound in [2^(w-1), 2^w), the one at this index.
inline constexpr auto kBoundsBelowWidth = [] {
  std::array<std::uint8_t, 65> below{};
  for (std::size_t width = 1; width <= 64; ++width) {
    const std::uint64_t low = std::uint64_t{1} << (width - 1);
    std::uint8_t count = 0;
    for (const std::uint64_t bound : kDurationBoundsNs) {
      count += bound < low ? 1 : 0;
    }
    below[width] = count;
  }
  return below;
}();

constexpr bool boundsAtLeastDoubling() {
  for (std::size_t i = 1; i < kDurationBoundsNs.size(); ++i) {
    if (kDurationBoundsNs[i] / 2 < kDurationBoundsNs[i - 1]) {
      return false;
    }
  }
  return true;
}
static_assert(boundsAtLeastDoubling(), "durationBucket() needs bounds at least 2x apart");

}  // namespace detail

// The bucket an observation of `ns` falls in: the first bound >= ns, or
// kDurationBucketCount - 1 (+Inf). A bit width, two loads and a compare:
// no loop, no floating point.
constexpr std::size_t durationBucket(std::uint64_t ns) noexcept {
  const std::size_t candidate = detail::kBoundsBelowWidth[static_cast<std::size_t>(std::bit_width(ns))];
  return candidate + (detail::kPaddedBoundsNs[candidate] < ns ? 1 : 0);
}

class DurationHistogram;

// What readers see: several histograms (one per worker) merged.
struct HistogramSnapshot {
  // cumulative[i]: observations <= kDurationBoundsNs[i]; the last entry
  // (le="+Inf") counts every observation, so it is also the count. Cumulative
  // because the Prometheus text format wants exactly that.
  std::array<std::uint64_t, kDurationBucketCount> cumulative{};
  std::uint64_t sum_ns = 0;

  std::uint64_t count() const noexcept { return cumulative.back(); }
  // Adds one writer's histogram, read as it is now (safe from any thread).
  void merge(const DurationHistogram& histogram) noexcept;
  HistogramSnapshot& operator+=(const HistogramSnapshot& other) noexcept;
};

// One writer thread's histogram: per-bucket counts (not cumulative, so that
// observe() touches one bucket) and the sum. The count is not kept apart: it
// is the buckets' total, so a snapshot's _count always equals its +Inf bucket.
class DurationHistogram {
 public:
  // The writer thread only.
  void observe(std::uint64_t ns) noexcept {
    buckets_[durationBucket(ns)].increment();
    sum_ns_.add(ns);
  }

 private:
  friend struct HistogramSnapshot;
  std::array<Counter, kDurationBucketCount> buckets_;
  Counter sum_ns_;
};

}  // namespace epolld::metrics
