// The engine, wired: the listening sockets, N workers and K acceptors.
//
//   listeners ──> Acceptor threads ──(queue + eventfd)──> Worker threads ──> Connection ──> Session
//
// Created and driven by the main thread, which does nothing else with it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/acceptor.h"
#include "core/handover.h"
#include "core/listen_socket.h"
#include "core/stats.h"
#include "core/worker.h"

namespace epolld {

class StartError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Makes the Protocol a listener serves (the daemon's registry). Throws
// std::runtime_error when the protocol cannot start with those settings.
using ProtocolFactory = std::function<std::shared_ptr<const Protocol>(const config::Listener&)>;

// What the daemon learns about listening sockets as they come and go
// (systemd's file descriptor store keeps them across restarts).
struct ListenerEvents {
  std::function<void(const ListenSocket&)> opened;  // bound or inherited, before the acceptor takes it
  std::function<void(const SocketAddress&)> removed;  // by a reload; the acceptor has closed it
};

class Server {
 public:
  // Binds every listener, taking inherited sockets first, to serve the
  // protocol `protocols` makes for it; on failure throws StartError naming
  // the listener.
  // Counts into `stats`, which must outlive it and have as many workers.
  Server(const config::Config& config, InheritedSockets& inherited, ProtocolFactory protocols, Stats& stats,
         ListenerEvents events = {});
  ~Server();

  void start();
  // Stops accepting, lets open connections finish within shutdown_timeout,
  // closes the rest and joins every thread. With `hand_over`, a connection
  // that is or gets between requests within shutdown_timeout is not closed
  // but returned, for the next process to take in (adopt()).
  std::vector<HandedConnection> stop(bool hand_over = false);

  // Takes in connections the previous process handed over, each as if its
  // listener had just accepted it, once start() has run. One whose listener
  // (address, port and protocol) is not configured any more, or that is not
  // a live connection on it, is closed with a log line. Returns how many were
  // taken in.
  std::size_t adopt(std::vector<HandedConnection> connections);

  // Applies a reloaded configuration without dropping a connection: new
  // listeners are bound, removed ones closed, kept ones keep their socket and
  // get the new protocol options (open connections keep their protocol, and
  // take up new options of the same protocol); timeouts and limits apply from
  // now on. workers and trigger need a restart: they keep their value, with a
  // warning. Throws StartError, having changed nothing, if a new listener
  // cannot be bound — except one that needs the port of a listener being
  // removed, bound after it: that one failing is logged as an ERROR.
  void reconfigure(const config::Config& next, InheritedSockets& inherited);

  const config::Config& config() const { return config_; }
  unsigned workerCount() const { return static_cast<unsigned>(workers_.size()); }
  std::size_t listenerCount() const { return listeners_.size(); }
  std::size_t openConnections() const { return open_connections_.load(std::memory_order_relaxed); }

  // Test hook: worker 0 stops for good (see Stall).
  void stallWorker();

 private:
  // What the main thread keeps of a listener the acceptors accept on.
  struct ListenerRecord {
    std::shared_ptr<const ListenSocket> socket;  // shared with the acceptors
    SocketAddress configured;  // address and port as configured (port may be 0)
    SocketAddress bound;
    std::string name;
    std::string protocol;
    std::uint32_t id;
    std::shared_ptr<metrics::ListenerStats> stats;
    bool answers_requests = false;
  };

  SharedListener open(const config::Listener& listener, InheritedSockets& inherited, std::string& error);
  std::shared_ptr<const Protocol> makeProtocol(const config::Listener& listener, std::string& error) const;
  void matchListeners(const config::Config& next, ReplaceListeners& change, std::vector<ListenerRecord>& records,
                      std::vector<const config::Listener*>& unmatched);
  bool portFreedByRemoval(const config::Listener& listener, const std::vector<std::uint32_t>& removed) const;
  void openAfterRemoval(const std::vector<const config::Listener*>& listeners, InheritedSockets& inherited);
  // Logs and reports newly opened listeners, and returns their records.
  std::vector<ListenerRecord> announce(const std::vector<SharedListener>& opened);
  void replaceListeners(const ReplaceListeners& change);
  void post(unsigned worker, WorkerMessage message);
  void publishListeners();

  config::Config config_;
  ProtocolFactory make_protocol_;
  Stats& stats_;
  ListenerEvents events_;
  std::atomic<std::size_t> open_connections_{0};
  std::vector<ListenerRecord> listeners_;
  std::uint32_t last_listener_id_ = 0;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  bool running_ = false;
};

// The number of workers `workers: 0` means: the CPUs this process may run on.
unsigned defaultWorkerCount();
// The workers `config` asks for.
unsigned workerCountFor(const config::Config& config);
// The acceptor threads `config` asks for: `acceptors: 0` means one per four
// workers.
unsigned acceptorCountFor(const config::Config& config);

}  // namespace epolld
