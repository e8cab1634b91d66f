#include "core/metrics/counter.h"
#include "core/metrics/listener_stats.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace epolld::metrics {
namespace {

TEST(MetricsCounter, AddsAndReadsBack) {
  Counter counter;
  EXPECT_EQ(counter.load(), 0u);
  counter.increment();
  counter.add(41);
  EXPECT_EQ(counter.load(), 42u);
  EXPECT_EQ(counter.loadAcquire(), 42u);
}

TEST(MetricsSteadyTimestamp, StartsAtConstructionAndKeepsWhatWasSet) {
  const auto before = SteadyTimestamp::Clock::now();
  SteadyTimestamp stamp;
  EXPECT_GE(stamp.load(), before);
  EXPECT_LE(stamp.load(), SteadyTimestamp::Clock::now());
  const auto later = before + std::chrono::seconds(5);
  stamp.set(later);
  EXPECT_EQ(stamp.load(), later);
}

TEST(MetricsStatusSlots, EveryCodeFrom100To599HasItsOwnSlotAndTheRestShareOther) {
  for (int code = kFirstStatusCode; code <= kLastStatusCode; ++code) {
    ASSERT_LT(statusSlot(code), kOtherStatusSlot) << code;
    EXPECT_EQ(statusOfSlot(statusSlot(code)), code);
  }
  for (const int code : {-1, 0, 99, 600, 999}) {
    EXPECT_EQ(statusSlot(code), kOtherStatusSlot) << code;
  }
  EXPECT_EQ(statusOfSlot(kOtherStatusSlot), 0);
}

TEST(MetricsListenerCounters, BlocksOfDifferentThreadsNeverShareACacheLine) {
  static_assert(alignof(ListenerCounters) == 64 && sizeof(ListenerCounters) % 64 == 0);
  static_assert(alignof(WorkerCounters) == 64 && sizeof(WorkerCounters) % 64 == 0);
  ListenerStats stats(3, 1);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(&stats.worker(i)) % 64, 0u) << i;
  }
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(&stats.acceptor(0)) % 64, 0u);
  EXPECT_NE(&stats.acceptor(0), &stats.worker(2));
}

TEST(MetricsListenerStats, SumAddsEveryWorkerAndAcceptor) {
  ListenerStats stats(2, 1);
  EXPECT_EQ(stats.workers(), 2u);
  EXPECT_EQ(stats.acceptors(), 1u);
  stats.acceptor(0).accepted.add(5);
  stats.acceptor(0).refused.add(2);
  stats.worker(0).closed.add(1);
  stats.worker(1).closed.add(2);
  stats.worker(0).bytes_received.add(100);
  stats.worker(1).bytes_received.add(23);
  stats.worker(0).bytes_sent.add(7);
  stats.worker(0).countRequest(200, 3'000);
  stats.worker(1).countRequest(200, 30'000);
  stats.worker(1).countRequest(404, 1'000);
  stats.worker(1).countRequest(999, 1'000);

  const ListenerSnapshot sum = stats.sum();
  EXPECT_EQ(sum.accepted, 5u);
  EXPECT_EQ(sum.refused, 2u);
  EXPECT_EQ(sum.closed, 3u);
  EXPECT_EQ(sum.open(), 2u);
  EXPECT_EQ(sum.bytes_received, 123u);
  EXPECT_EQ(sum.bytes_sent, 7u);
  EXPECT_EQ(sum.requests_by_status[statusSlot(200)], 2u);
  EXPECT_EQ(sum.requests_by_status[statusSlot(404)], 1u);
  EXPECT_EQ(sum.requests_by_status[kOtherStatusSlot], 1u);
  EXPECT_EQ(sum.requests(), 4u);
  // The histogram counts every request countRequest() counted.
  EXPECT_EQ(sum.request_duration.count(), sum.requests());
  EXPECT_EQ(sum.request_duration.sum_ns, 35'000u);
}

TEST(MetricsListenerStats, OpenNeverGoesBelowZero) {
  ListenerSnapshot snapshot;
  snapshot.accepted = 1;
  snapshot.closed = 2;
  EXPECT_EQ(snapshot.open(), 0u);
}

TEST(MetricsWorkerCounters, SnapshotReadsEveryField) {
  std::vector<WorkerCounters> workers(2);
  workers[1].events.add(9);
  workers[1].wakeups.add(4);
  const auto when = SteadyTimestamp::Clock::now() + std::chrono::seconds(1);
  workers[1].last_loop.set(when);
  const WorkerSnapshot read = snapshot(workers[1]);
  EXPECT_EQ(read.events, 9u);
  EXPECT_EQ(read.wakeups, 4u);
  EXPECT_EQ(read.last_loop, when);
  EXPECT_EQ(snapshot(workers[0]).events, 0u);
}

// The daemon's shape under TSan: an acceptor counts accepts and hands the
// connections over a locked queue to a worker, which counts bytes, requests
// and closes, while a reader sums all the time. No count may go backwards,
// closes never outnumber accepts, and the final sums are exact.
TEST(MetricsListenerStats, ReaderSumsWhileAcceptorAndWorkerCountWithoutRaces) {
  constexpr std::uint64_t kConnections = 20'000;
  ListenerStats stats(1, 1);
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<std::uint64_t> handed_off;
  std::atomic<bool> done{false};

  std::thread acceptor([&] {
    ListenerCounters& mine = stats.acceptor(0);
    for (std::uint64_t i = 0; i < kConnections; ++i) {
      mine.accepted.increment();  // before the hand-off, as ListenerCounters asks
      if (i % 10 == 0) {
        mine.refused.increment();
      }
      std::lock_guard lock(mutex);
      handed_off.push_back(i);
      ready.notify_one();
    }
  });
  std::thread worker([&] {
    ListenerCounters& mine = stats.worker(0);
    for (std::uint64_t closed = 0; closed < kConnections; ++closed) {
      std::unique_lock lock(mutex);
      ready.wait(lock, [&] { return !handed_off.empty(); });
      const std::uint64_t connection = handed_off.front();
      handed_off.pop_front();
      lock.unlock();
      mine.bytes_received.add(10);
      mine.bytes_sent.add(20);
      mine.countRequest(connection % 2 == 0 ? 200 : 404, connection * 100);
      mine.closed.increment();
    }
    done.store(true, std::memory_order_release);
  });

  ListenerSnapshot previous;
  std::uint64_t reads = 0;
  for (;;) {
    const bool finished = done.load(std::memory_order_acquire);
    const ListenerSnapshot now = stats.sum();
    ++reads;
    ASSERT_LE(now.closed, now.accepted) << "a close seen before its accept";
    ASSERT_GE(now.accepted, previous.accepted);
    ASSERT_GE(now.closed, previous.closed);
    ASSERT_GE(now.bytes_sent, previous.bytes_sent);
    ASSERT_GE(now.request_duration.count(), previous.request_duration.count());
    ASSERT_GE(now.request_duration.sum_ns, previous.request_duration.sum_ns);
    previous = now;
    if (finished) {
      break;
    }
  }
  acceptor.join();
  worker.join();

  const ListenerSnapshot last = stats.sum();
  EXPECT_EQ(last.accepted, kConnections);
  EXPECT_EQ(last.refused, kConnections / 10);
  EXPECT_EQ(last.closed, kConnections);
  EXPECT_EQ(last.open(), 0u);
  EXPECT_EQ(last.bytes_received, 10 * kConnections);
  EXPECT_EQ(last.bytes_sent, 20 * kConnections);
  EXPECT_EQ(last.requests_by_status[statusSlot(200)], kConnections / 2);
  EXPECT_EQ(last.requests_by_status[statusSlot(404)], kConnections / 2);
  EXPECT_EQ(last.request_duration.count(), kConnections);
  EXPECT_EQ(last.request_duration.sum_ns, 100 * kConnections * (kConnections - 1) / 2);
  EXPECT_GT(reads, 0u);
}

// A worker's loop counters read by another thread (the admin listener's
// /healthz) while the worker writes them.
TEST(MetricsWorkerCounters, ReadWhileTheWorkerWrites) {
  constexpr std::uint64_t kIterations = 50'000;
  WorkerCounters counters;
  std::atomic<bool> done{false};
  std::thread worker([&] {
    for (std::uint64_t i = 0; i < kIterations; ++i) {
      counters.last_loop.set(SteadyTimestamp::Clock::now());
      counters.wakeups.increment();
      counters.events.add(2);
    }
    done.store(true, std::memory_order_release);
  });
  WorkerSnapshot previous = snapshot(counters);
  for (bool finished = false; !finished;) {
    finished = done.load(std::memory_order_acquire);
    const WorkerSnapshot now = snapshot(counters);
    ASSERT_GE(now.wakeups, previous.wakeups);
    ASSERT_GE(now.events, previous.events);
    ASSERT_GE(now.last_loop, previous.last_loop);
    previous = now;
  }
  worker.join();
  EXPECT_EQ(snapshot(counters).wakeups, kIterations);
  EXPECT_EQ(snapshot(counters).events, 2 * kIterations);
}

}  // namespace
}  // namespace epolld::metrics
