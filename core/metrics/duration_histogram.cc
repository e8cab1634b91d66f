#include "core/metrics/duration_histogram.h"

namespace epolld::metrics {

void HistogramSnapshot::merge(const DurationHistogram& histogram) noexcept {
  std::uint64_t below = 0;  // running total: the buckets are kept per bucket
  for (std::size_t i = 0; i < kDurationBucketCount; ++i) {
    below += histogram.buckets_[i].load();
    cumulative[i] += below;
  }
  sum_ns += histogram.sum_ns_.load();
}

HistogramSnapshot& HistogramSnapshot::operator+=(const HistogramSnapshot& other) noexcept {
  for (std::size_t i = 0; i < kDurationBucketCount; ++i) {
    cumulative[i] += other.cumulative[i];
  }
  sum_ns += other.sum_ns;
  return *this;
}

}  // namespace epolld::metrics
