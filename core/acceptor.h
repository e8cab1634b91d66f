// The acceptor thread: owns every listening socket, accepts connections and
// hands each one to a worker, round-robin.
//
// Round-robin rather than least-loaded: connections of one listener cost
// about the same, the per-worker counts would be stale by the time they were
// read, and a fixed order keeps the hand-off free of shared state. It is what
// memcached does.
//
// Thread ownership: after start(), the listening fds, the poller and the
// pending batches belong to the acceptor thread; other threads only post().
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <future>
#include <memory>
#include <variant>
#include <vector>

#include "core/handoff_queue.h"
#include "core/listen_socket.h"
#include "core/log/rate_limiter.h"
#include "core/event_loop.h"
#include "core/unique_fd.h"
#include "core/worker.h"

namespace epolld {

// Close every listener and end the thread.
struct StopAccepting {};

// A reload: `kept` listeners (by id) get their new protocol object and
// options, and a new id when their protocol changed; `removed` ones are
// closed; `added` ones start accepting.
struct ReplaceListeners {
  struct Kept {
    std::uint32_t id;
    std::uint32_t new_id;
    config::Listener config;
    std::shared_ptr<const Protocol> protocol;
  };
  std::vector<Kept> kept;
  std::vector<std::uint32_t> removed;
  std::vector<ListenSocket> added;
  std::size_t max_connections = 0;
  std::shared_ptr<std::promise<void>> applied;  // set once the acceptor runs the new set
};

// Connections the previous process handed over (a restart): each is taken in
// like one just accepted from its listener.
struct AdoptConnections {
  struct Connection {
    UniqueFd fd;
    SocketAddress peer;
    std::uint32_t listener_id = 0;
  };
  std::vector<Connection> connections;
};

using AcceptorMessage = std::variant<StopAccepting, ReplaceListeners, AdoptConnections>;

class Acceptor final : private EventLoop::Handler {
 public:
  Acceptor(std::vector<ListenSocket> listeners, std::vector<Worker*> workers, std::size_t max_connections,
           std::atomic<std::size_t>& open_connections);
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;
  ~Acceptor();

  void start();
  /// Safe to call from any thread; returns once the listeners are closed.
  void stop();
  /// Safe to call from any thread; returns once the new set is in use.
  void replaceListeners(ReplaceListeners change);
  /// Safe to call from any thread; the connections are taken in shortly.
  void adopt(AdoptConnections connections);

 private:
  // EventLoop::Handler
  void onWakeUp() override;
  void onTimer() override { resume(); }
  void onReady(void* tag, std::uint32_t events) override;
  void afterBatch() override;
  bool finished() const override { return stopping_; }

  void acceptFrom(ListenSocket& listener);
  void adoptAll(AdoptConnections& adopted);
  bool admit(UniqueFd& client, const SocketAddress& peer, std::string_view how);
  void assign(ListenSocket& listener, UniqueFd client, const SocketAddress& peer);
  void handOff();
  void pause(int error);
  void resume();
  void apply(ReplaceListeners& change);
  void watch(ListenSocket& listener);
  void retire(std::vector<std::unique_ptr<ListenSocket>>::iterator listener);

  std::vector<std::unique_ptr<ListenSocket>> listeners_;
  // Listeners a reload removed: closed at once, freed only at the end of the
  // loop iteration, as events for them may still be in the batch at hand.
  std::vector<std::unique_ptr<ListenSocket>> retired_;
  std::vector<Worker*> workers_;
  std::size_t max_connections_;
  std::atomic<std::size_t>& open_connections_;
  HandoffQueue<AcceptorMessage> queue_;
  EventLoop loop_;  // after queue_: it watches the queue's eventfd
  std::vector<std::vector<WorkerMessage>> batches_;  // one per worker, sent once per round
  std::vector<AcceptorMessage> messages_;
  std::size_t next_worker_ = 0;
  bool paused_ = false;
  bool stopping_ = false;
  log::RateLimiter accept_error_log_;
  log::RateLimiter limit_log_;
};

}  // namespace epolld
