// Values that exactly one thread writes and any thread reads, without a lock
// or a read-modify-write instruction on the writer's path.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace epolld::metrics {

// A monotonic count with a single writer thread.
//
// add() is a load and a store, not fetch_add: with one writer no increment
// can be lost, and a plain store costs the hot path nothing, where a locked
// read-modify-write costs tens of cycles. Two threads calling add() on one
// Counter DO lose counts: give each writer thread its own Counter and let
// readers sum them (ListenerStats does).
//
// The store is a release. On x86-64 that is the same plain mov as a relaxed
// store; it lets a reader that uses loadAcquire() see everything the writer
// saw before counting, including what other threads handed it. ListenerStats
// relies on that to derive "open = accepted - closed" without ever seeing a
// close whose accept it missed.
class Counter {
 public:
  Counter() = default;
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  // The writer thread only.
  void add(std::uint64_t n) noexcept {
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_release);
  }
  void increment() noexcept { add(1); }

  // Safe to call from any thread.
  std::uint64_t load() const noexcept { return value_.load(std::memory_order_relaxed); }
  std::uint64_t loadAcquire() const noexcept { return value_.load(std::memory_order_acquire); }

 private:
  static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
  std::atomic<std::uint64_t> value_{0};
};

// The time a thread last did something (a worker's last loop iteration), set
// by that thread, read by any (/healthz, /status). It starts at its
// construction time, so a thread that never gets going still ages.
class SteadyTimestamp {
 public:
  using Clock = std::chrono::steady_clock;

  SteadyTimestamp() noexcept : SteadyTimestamp(Clock::now()) {}
  explicit SteadyTimestamp(Clock::time_point time) noexcept : ns_(toNanos(time)) {}
  SteadyTimestamp(const SteadyTimestamp&) = delete;
  SteadyTimestamp& operator=(const SteadyTimestamp&) = delete;

  // The writer thread only.
  void set(Clock::time_point time) noexcept { ns_.store(toNanos(time), std::memory_order_relaxed); }

  // Safe to call from any thread.
  Clock::time_point load() const noexcept {
    return Clock::time_point(std::chrono::nanoseconds(ns_.load(std::memory_order_relaxed)));
  }

 private:
  static std::int64_t toNanos(Clock::time_point time) noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
  }

  std::atomic<std::int64_t> ns_;
};

}  // namespace epolld::metrics
