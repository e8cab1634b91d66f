// A worker thread: one epoll loop that owns every connection handed to it.
//
// Thread ownership: after start(), everything in a Worker except its queue and
// its counters belongs to the worker's own thread. Other threads talk to it
// only through post(); the acceptor hands over a socket fd and never touches it
// again. Each connection fd is registered EPOLLET|EPOLLONESHOT (or level-
// triggered, by configuration) and re-armed as the last step of handling it,
// so no two threads, and no two events, ever work on one connection at once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "config/config.h"
#include "core/buffer.h"
#include "core/connection.h"
#include "core/handoff_queue.h"
#include "core/handover.h"
#include "core/metrics/listener_stats.h"
#include "core/event_loop.h"
#include "core/protocol.h"
#include "core/socket_address.h"
#include "core/timer_wheel.h"
#include "core/unique_fd.h"

namespace epolld {

// A client socket the acceptor has just accepted, with the protocol it speaks.
struct NewConnection {
  UniqueFd fd;
  SocketAddress peer;
  std::shared_ptr<const Protocol> protocol;
  std::uint32_t listener_id = 0;
  std::shared_ptr<metrics::ListenerStats> stats;  // the listener's
};

// Stop: close idle connections now, the rest once they finish or at `deadline`.
// With `handover`, a connection is passed on there instead of being closed
// once it is between requests (HandoverList); only those still busy at
// `deadline` are closed.
struct BeginShutdown {
  std::chrono::steady_clock::time_point deadline;
  HandoverList* handover = nullptr;
};

struct WorkerSettings {
  config::Trigger trigger = config::Trigger::kEdge;  // fixed for the worker's lifetime
  config::Duration idle_timeout{};
  std::size_t buffer_limit = 0;
};

// A reload: new idle timeout and buffer limit, from the next event on.
struct UpdateSettings {
  WorkerSettings settings;
};

// A reload changed these listeners' protocol options: their open connections
// switch to the new ones at their next request.
struct ReplaceProtocols {
  std::vector<std::pair<std::uint32_t, std::shared_ptr<const Protocol>>> by_listener;
};

// Test hook (EPOLLD_TEST_HOOKS=1, SIGUSR2): the loop stops turning for good,
// as a deadlocked worker would, so the watchdog can be seen to notice.
struct Stall {};

using WorkerMessage = std::variant<NewConnection, BeginShutdown, UpdateSettings, ReplaceProtocols, Stall>;

class Worker final : private EventLoop::Handler {
 public:
  // `open_connections` counts connections across all workers; the worker
  // decrements it for every connection it closes. `counters` are its own
  // loop's (events, wake-ups, last iteration).
  Worker(unsigned id, const WorkerSettings& settings, std::atomic<std::size_t>& open_connections,
         metrics::WorkerCounters& counters);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker();

  void start() { loop_.start(*this, "worker-" + std::to_string(id_)); }
  void join() { loop_.join(); }  // returns once shutdown has finished

  /// Safe to call from any thread. Leaves `batch` empty.
  void post(std::vector<WorkerMessage>& batch) { queue_.push(batch); }

 private:
  // EventLoop::Handler
  void onWakeUp() override;
  void onTimer() override;
  void onReady(void* tag, std::uint32_t events) override;
  void afterBatch() override;
  bool finished() const override { return shutting_down_ && connections_.empty(); }

  void adopt(NewConnection& message);
  void beginShutdown(const BeginShutdown& shutdown);
  void replaceProtocols(const ReplaceProtocols& replace);
  void windDown(Connection& connection, bool grace_over);
  std::vector<Connection*> openConnections() const;
  void onConnectionEvent(Connection& connection, std::uint32_t events);
  bool handleOrClose(Connection& connection, std::uint32_t events);
  IoContext ioContext();
  void scheduleTimeout(Connection& connection);
  void rearm(Connection& connection);
  void close(Connection& connection, metrics::CloseReason reason);
  TimerWheel::Tick currentTick() const;

  const unsigned id_;
  WorkerSettings settings_;
  std::atomic<std::size_t>& open_connections_;
  metrics::WorkerCounters& counters_;
  HandoffQueue<WorkerMessage> queue_;
  EventLoop loop_;  // after queue_: it watches the queue's eventfd
  TimerWheel wheel_;
  std::vector<std::unique_ptr<Connection>> connections_;
  // Closed connections live on until the end of the loop iteration: events
  // for them may still be in the batch being handled (muduo#368).
  std::vector<std::unique_ptr<Connection>> closed_;
  std::vector<WorkerMessage> messages_;
  std::unique_ptr<char[]> input_scratch_;
  Buffer output_scratch_;
  std::vector<Answer> answers_scratch_;
  bool shutting_down_ = false;
  HandoverList* handover_ = nullptr;  // while stopping: where idle connections go instead of closing
  std::chrono::steady_clock::time_point shutdown_deadline_{};
  std::chrono::steady_clock::time_point grace_end_{};
};

}  // namespace epolld
