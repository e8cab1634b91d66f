// Per-thread counter blocks and their sums. Each writer thread (a worker, an
// acceptor) owns its own block on its own cache lines, so counting is a plain
// store to a line no other thread writes; readers (the admin listener) sum
// the blocks when asked.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/metrics/counter.h"
#include "core/metrics/duration_histogram.h"

namespace epolld::metrics {

// HTTP statuses are counted in one slot per code from 100 to 599, plus one
// "other" slot for anything outside (epolld sends none, but a count must not
// be lost or land in a wrong code). A direct index needs no table kept in step
// with the codes the HTTP code can send; 501 slots are 4 KB per writer thread.
inline constexpr int kFirstStatusCode = 100;
inline constexpr int kLastStatusCode = 599;
inline constexpr std::size_t kOtherStatusSlot = kLastStatusCode - kFirstStatusCode + 1;
inline constexpr std::size_t kStatusSlotCount = kOtherStatusSlot + 1;

constexpr std::size_t statusSlot(int status) noexcept {
  return status >= kFirstStatusCode && status <= kLastStatusCode ? static_cast<std::size_t>(status - kFirstStatusCode)
                                                                 : kOtherStatusSlot;
}
// The code a slot counts; 0 for the "other" slot.
constexpr int statusOfSlot(std::size_t slot) noexcept {
  return slot < kOtherStatusSlot ? kFirstStatusCode + static_cast<int>(slot) : 0;
}

// Why a connection was closed, as /metrics labels it (`reason`).
enum class CloseReason {
  kPeer,      // the client closed first, with nothing owed to it
  kDone,      // epolld closed it after answering (Connection: close, an error response)
  kTimeout,   // idle_timeout, or a protocol's own deadline (header_timeout)
  kError,     // the socket failed (a reset), or the client broke a limit
  kShutdown,  // epolld was stopping
  kHandover,  // epolld was stopping and passed it, idle, to its successor (systemd's fd store)
};
inline constexpr std::size_t kCloseReasonCount = 6;
inline constexpr std::array<std::string_view, kCloseReasonCount> kCloseReasonNames{"peer",  "done",     "timeout",
                                                                                  "error", "shutdown", "handover"};

// One writer thread's counts for one listener. An acceptor writes accepted and
// refused; a worker writes the rest. alignas(64): blocks of different threads
// never share a cache line, so one thread's counting never invalidates
// another's line.
struct alignas(64) ListenerCounters {
  // Acceptor. Count `accepted` before handing the connection to a worker, so
  // the worker's close is ordered after it (see ListenerSnapshot::open()).
  // A connection refused at max_connections is counted in `refused` only.
  // `adopted`: handed over by the previous process at a restart, and taken
  // in like an accepted one.
  Counter accepted;
  Counter adopted;
  Counter refused;
  // Worker.
  Counter closed;
  std::array<Counter, kCloseReasonCount> closed_by_reason;
  Counter bytes_received;
  Counter bytes_sent;
  std::array<Counter, kStatusSlotCount> requests_by_status;
  DurationHistogram request_duration;  // first request byte to last response byte handed to the kernel

  // One answered request: its status and its duration together, so that the
  // histogram's count and the requests summed over codes stay equal.
  void countRequest(int status, std::uint64_t duration_ns) noexcept {
    requests_by_status[statusSlot(status)].increment();
    request_duration.observe(duration_ns);
  }
};

// A listener's counts summed over its writer threads, at one moment per
// counter (not one moment for all: a snapshot taken under traffic may count a
// request in a status slot and not yet in the histogram).
struct ListenerSnapshot {
  std::uint64_t accepted = 0;
  std::uint64_t adopted = 0;
  std::uint64_t refused = 0;
  std::uint64_t closed = 0;
  std::array<std::uint64_t, kCloseReasonCount> closed_by_reason{};
  std::uint64_t bytes_received = 0;
  std::uint64_t bytes_sent = 0;
  std::array<std::uint64_t, kStatusSlotCount> requests_by_status{};
  HistogramSnapshot request_duration;

  // Connections open now. ListenerStats::sum() reads every `closed` (acquire)
  // before any `accepted` or `adopted`, so it never sees more closes than
  // connections taken in; the guard is for snapshots built some other way.
  std::uint64_t open() const noexcept { return accepted + adopted > closed ? accepted + adopted - closed : 0; }
  std::uint64_t requests() const noexcept;
};

// All of one listener's counter blocks: one per worker and one per acceptor
// thread, fixed at construction. The number of workers is fixed for the
// daemon's lifetime (a reload does not change it), so a listener's stats never
// need to grow. The daemon keeps them by listener name as
// shared_ptr<ListenerStats>: a listener kept across a reload keeps its counts,
// and a connection still open on a removed listener can keep counting into
// stats nobody exports any more. Writers hold a reference for as long as they
// count (a shared_ptr, or something that outlives their use).
class ListenerStats {
 public:
  ListenerStats(std::size_t workers, std::size_t acceptors);
  ListenerStats(const ListenerStats&) = delete;
  ListenerStats& operator=(const ListenerStats&) = delete;

  // The block worker `index` (0 to workers - 1) writes, and only it.
  ListenerCounters& worker(std::size_t index) noexcept { return blocks_[index]; }
  // The block acceptor thread `index` (0 to acceptors - 1) writes, and only it.
  ListenerCounters& acceptor(std::size_t index) noexcept { return blocks_[workers_ + index]; }
  const ListenerCounters& acceptor(std::size_t index) const noexcept { return blocks_[workers_ + index]; }

  std::size_t workers() const noexcept { return workers_; }
  std::size_t acceptors() const noexcept { return blocks_.size() - workers_; }

  // Every block summed. Safe to call from any thread, while writers count.
  ListenerSnapshot sum() const;

 private:
  std::size_t workers_;
  std::vector<ListenerCounters> blocks_;  // workers, then acceptors; never resized
};

// One worker's loop counts, on its own cache lines. The daemon keeps one per
// worker (std::vector<WorkerCounters>(workers), never resized).
struct alignas(64) WorkerCounters {
  Counter events;          // readiness events handled
  Counter wakeups;         // epoll_wait returns
  SteadyTimestamp last_loop;  // start of its latest loop iteration
  Counter connections_adopted;  // handed to it by the acceptor
  Counter connections_closed;
};

struct WorkerSnapshot {
  std::uint64_t events = 0;
  std::uint64_t wakeups = 0;
  SteadyTimestamp::Clock::time_point last_loop;
  std::uint64_t connections_open = 0;
};

// Safe to call from any thread.
WorkerSnapshot snapshot(const WorkerCounters& counters) noexcept;

}  // namespace epolld::metrics
