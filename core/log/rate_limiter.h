// A token bucket for one log call site that can flood (accept errors,
// refusals at max_connections): up to `burst` lines at once, `burst` per
// `period` on average, and a count of the lines it held back.
//
//   static log::RateLimiter limiter(10, std::chrono::seconds(1));
//   if (auto suppressed = limiter.allow()) {
//     spdlog::error("accept: {}{}", reason, log::suppressedNote(*suppressed));
//   }
//
// Thread-safe and lock-free, so one function-local static can serve a call
// site that several threads reach: the bucket is one atomic timestamp (GCRA's
// "theoretical arrival time"), the count one atomic counter.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace epolld::log {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // burst >= 1, period > 0.
  RateLimiter(int burst, std::chrono::milliseconds period);

  // nullopt: suppress this line. Otherwise log it, with the number of lines
  // suppressed since the last one allowed.
  std::optional<std::uint64_t> allow(Clock::time_point now = Clock::now());

 private:
  const Clock::duration interval_;   // one token's worth: period / burst
  const Clock::duration tolerance_;  // how far the schedule may run ahead of now
  // When the bucket will be full again, in Clock ticks; a line is allowed
  // while that is at most tolerance_ ahead of now.
  std::atomic<Clock::rep> full_at_;
  std::atomic<std::uint64_t> suppressed_{0};
};

// " (N similar messages suppressed)", or "" for 0: the tail of an allowed line.
std::string suppressedNote(std::uint64_t suppressed);

}  // namespace epolld::log
