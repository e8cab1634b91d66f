// What the daemon counts, for readers on any thread: the admin listener
// (/metrics, /status, /healthz), systemd's STATUS= line and the watchdog.
//
// Writers never lock: each worker and the acceptor count into blocks of their
// own (core/metrics), with plain stores. The list of listeners changes only
// on start and reload; that and the reload counts take a mutex, which only the
// main thread and readers touch.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/metrics/listener_stats.h"

namespace epolld {

class Stats {
 public:
  // A worker whose loop has not turned for this long is stalled: /healthz
  // says 503 and the watchdog stops pinging. Loops wake at least every
  // 100 ms (the worker's tick), so this is twenty missed ticks.
  static constexpr std::chrono::seconds kStallAfter{2};

  struct Listener {
    std::string name;      // as the `listener` label and log lines give it: "127.0.0.1:8080"
    std::string protocol;  // "http"
    bool answers_requests = false;  // HTTP: request counts and durations apply
    std::shared_ptr<metrics::ListenerStats> stats;
  };

  Stats(unsigned workers, unsigned acceptors, std::string config_source);
  Stats(const Stats&) = delete;
  Stats& operator=(const Stats&) = delete;

  // The counters of the listener named `name`: those it had if it is listed
  // now (a listener kept by a reload keeps counting), else fresh ones.
  std::shared_ptr<metrics::ListenerStats> statsFor(const std::string& name) const;
  // The listeners configured now, in configuration order (start, reload).
  void setListeners(std::vector<Listener> listeners);
  std::vector<Listener> listeners() const;

  metrics::WorkerCounters& worker(unsigned id) { return workers_[id]; }
  const metrics::WorkerCounters& worker(unsigned id) const { return workers_[id]; }
  unsigned workerCount() const { return worker_count_; }
  unsigned acceptorCount() const { return acceptor_count_; }
  // The first worker whose loop has not turned within `allowed` of `now`.
  std::optional<unsigned> stalledWorker(std::chrono::steady_clock::time_point now,
                                        std::chrono::steady_clock::duration allowed = kStallAfter) const;

  // HTTP requests answered on every listener so far.
  std::uint64_t requestsAnswered() const;

  void countReload(bool ok);
  std::uint64_t reloads(bool ok) const;

  const std::string& configSource() const { return config_source_; }
  std::chrono::system_clock::time_point startTime() const { return start_time_; }

 private:
  const unsigned worker_count_;
  const unsigned acceptor_count_;
  const std::unique_ptr<metrics::WorkerCounters[]> workers_;
  const std::string config_source_;
  const std::chrono::system_clock::time_point start_time_;
  mutable std::mutex mutex_;  // guards what follows
  std::vector<Listener> listeners_;
  std::uint64_t reloads_ok_ = 0;
  std::uint64_t reloads_failed_ = 0;
};

}  // namespace epolld
