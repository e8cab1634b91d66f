#include "core/metrics/listener_stats.h"

#include <numeric>

namespace epolld::metrics {

std::uint64_t ListenerSnapshot::requests() const noexcept {
  return std::accumulate(requests_by_status.begin(), requests_by_status.end(), std::uint64_t{0});
}

ListenerStats::ListenerStats(std::size_t workers, std::size_t acceptors)
    : workers_(workers), blocks_(workers + acceptors) {}

ListenerSnapshot ListenerStats::sum() const {
  ListenerSnapshot total;
  // Closes first, with acquire: a worker counts a close after the acceptor
  // counted the accept and handed the connection over, so once a close is
  // seen here its accept is visible to the loads below, and open() is never
  // negative, even on a weakly ordered CPU.
  for (const ListenerCounters& block : blocks_) {
    total.closed += block.closed.loadAcquire();
  }
  for (const ListenerCounters& block : blocks_) {
    for (std::size_t reason = 0; reason < kCloseReasonCount; ++reason) {
      total.closed_by_reason[reason] += block.closed_by_reason[reason].load();
    }
    total.accepted += block.accepted.load();
    total.adopted += block.adopted.load();
    total.refused += block.refused.load();
    total.bytes_received += block.bytes_received.load();
    total.bytes_sent += block.bytes_sent.load();
    for (std::size_t slot = 0; slot < kStatusSlotCount; ++slot) {
      total.requests_by_status[slot] += block.requests_by_status[slot].load();
    }
    total.request_duration.merge(block.request_duration);
  }
  return total;
}

WorkerSnapshot snapshot(const WorkerCounters& counters) noexcept {
  // Both written by the worker itself: closes first, so never more than adopted.
  const std::uint64_t closed = counters.connections_closed.loadAcquire();
  const std::uint64_t adopted = counters.connections_adopted.load();
  return {counters.events.load(), counters.wakeups.load(), counters.last_loop.load(), adopted - closed};
}

}  // namespace epolld::metrics
