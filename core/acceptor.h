// An acceptor thread: accepts connections on every listening socket and hands
// each one to a worker, round-robin.
//
// Several acceptors (`acceptors:`) share each listening socket: every one
// registers it with EPOLLEXCLUSIVE, so the kernel wakes one of them per new
// connection rather than all. Shared rather than one SO_REUSEPORT socket
// each, because closing a reuseport socket resets the connections waiting in
// its own backlog: a reload, a restart through the fd store or a change in
// the number of acceptors would then refuse connections. A socket passed by
// systemd can be shared that way too.
//
// Round-robin rather than least-loaded: connections of one listener cost
// about the same, the per-worker counts would be stale by the time they were
// read, and a fixed order keeps the hand-off free of shared state. It is what
// memcached does. Acceptors start their rounds at different workers.
//
// Thread ownership: after start(), its poller, its view of each listener
// (protocol, id) and the pending batches belong to the acceptor thread; other
// threads only post(). A listening socket is shared, read-only, with the
// other acceptors and the server; it closes when the last of them lets go.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/handoff_queue.h"
#include "core/listen_socket.h"
#include "core/log/rate_limiter.h"
#include "core/event_loop.h"
#include "core/unique_fd.h"
#include "core/worker.h"

namespace epolld {

// A listener as the server hands it to every acceptor: the shared socket,
// and the protocol its connections are served with.
struct SharedListener {
  std::shared_ptr<const ListenSocket> socket;
  std::shared_ptr<const Protocol> protocol;
};

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
  std::vector<SharedListener> added;
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
  // Acceptor `index` (its thread is acceptor-<index>, it counts into the
  // listeners' acceptor(index) blocks) of `count`. `open_connections` counts
  // every worker's connections, held under `max_connections` by all the
  // acceptors together.
  Acceptor(unsigned index, unsigned count, const std::vector<SharedListener>& listeners,
           std::vector<Worker*> workers, std::size_t max_connections, std::atomic<std::size_t>& open_connections);
  Acceptor(const Acceptor&) = delete;
  Acceptor& operator=(const Acceptor&) = delete;
  ~Acceptor();

  void start();
  /// Safe to call from any thread; returns once it has let go of every listener.
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

  // This acceptor's view of a listener: the shared socket, and the protocol
  // and id its connections get, which a reload may change.
  struct Listening {
    std::shared_ptr<const ListenSocket> socket;  // null once retired
    std::shared_ptr<const Protocol> protocol;
    std::uint32_t id = 0;
    std::string name;  // for log lines: "0.0.0.0:2003 (echo)"
    bool watched = false;  // registered with the poller (not while paused)
  };
  using ListeningList = std::vector<std::unique_ptr<Listening>>;

  void acceptFrom(Listening& listener);
  void adoptAll(AdoptConnections& adopted);
  bool admit(UniqueFd& client, const SocketAddress& peer, std::string_view how);
  void assign(const Listening& listener, UniqueFd client, const SocketAddress& peer);
  metrics::ListenerCounters& countersOf(const Listening& listener) const;
  void handOff();
  void pause(int error);
  void resume();
  void apply(ReplaceListeners& change);
  void add(const SharedListener& shared);
  void watch(Listening& listener);
  void unwatch(Listening& listener);
  void retire(ListeningList::iterator listener);

  const unsigned index_;
  ListeningList listeners_;
  // Listeners a reload removed: let go of at once, freed only at the end of
  // the loop iteration, as events for them may still be in the batch at hand.
  ListeningList retired_;
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
