#include "core/log/rate_limiter.h"

#include <algorithm>
#include <cassert>
#include <limits>

namespace epolld::log {

RateLimiter::RateLimiter(int burst, std::chrono::milliseconds period)
    : interval_(std::chrono::duration_cast<Clock::duration>(period) / burst),
      tolerance_(interval_ * (burst - 1)),
      full_at_(std::numeric_limits<Clock::rep>::min()) {
  assert(burst >= 1 && period.count() > 0);
}

std::optional<std::uint64_t> RateLimiter::allow(Clock::time_point now) {
  const Clock::rep now_ticks = now.time_since_epoch().count();
  Clock::rep full_at = full_at_.load(std::memory_order_relaxed);
  for (;;) {
    // An empty bucket's schedule has run out; an idle one starts from now.
    const Clock::rep start = std::max(full_at, now_ticks);
    if (start - now_ticks > tolerance_.count()) {
      suppressed_.fetch_add(1, std::memory_order_relaxed);
      return std::nullopt;
    }
    if (full_at_.compare_exchange_weak(full_at, start + interval_.count(),
                                       std::memory_order_relaxed)) {
      break;
    }
  }
  // A line suppressed by another thread between the two atomics is reported
  // by this line or the next allowed one; none is counted twice or lost.
  return suppressed_.exchange(0, std::memory_order_relaxed);
}

std::string suppressedNote(std::uint64_t suppressed) {
  if (suppressed == 0) {
    return {};
  }
  return " (" + std::to_string(suppressed) + " similar messages suppressed)";
}

}  // namespace epolld::log
