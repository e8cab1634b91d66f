#include "core/stats.h"

#include <algorithm>
#include <utility>

namespace epolld {

Stats::Stats(unsigned workers, unsigned acceptors, std::string config_source)
    : worker_count_(workers),
      acceptor_count_(acceptors),
      workers_(std::make_unique<metrics::WorkerCounters[]>(workers)),
      config_source_(std::move(config_source)),
      start_time_(std::chrono::system_clock::now()) {}

std::shared_ptr<metrics::ListenerStats> Stats::statsFor(const std::string& name) const {
  std::lock_guard lock(mutex_);
  const auto found = std::ranges::find(listeners_, name, &Listener::name);
  if (found != listeners_.end()) return found->stats;
  return std::make_shared<metrics::ListenerStats>(worker_count_, acceptor_count_);
}

void Stats::setListeners(std::vector<Listener> listeners) {
  std::lock_guard lock(mutex_);
  listeners_ = std::move(listeners);
}

std::vector<Stats::Listener> Stats::listeners() const {
  std::lock_guard lock(mutex_);
  return listeners_;
}

std::optional<unsigned> Stats::stalledWorker(std::chrono::steady_clock::time_point now,
                                             std::chrono::steady_clock::duration allowed) const {
  for (unsigned id = 0; id < worker_count_; ++id) {
    if (now - workers_[id].last_loop.load() > allowed) return id;
  }
  return std::nullopt;
}

std::uint64_t Stats::requestsAnswered() const {
  std::uint64_t total = 0;
  for (const Listener& listener : listeners()) total += listener.stats->sum().requests();
  return total;
}

void Stats::countReload(bool ok) {
  std::lock_guard lock(mutex_);
  ++(ok ? reloads_ok_ : reloads_failed_);
}

std::uint64_t Stats::reloads(bool ok) const {
  std::lock_guard lock(mutex_);
  return ok ? reloads_ok_ : reloads_failed_;
}

}  // namespace epolld
