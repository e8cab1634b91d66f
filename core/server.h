// The engine, wired: the listening sockets, N workers and the acceptor.
//
//   listeners ──> Acceptor thread ──(queue + eventfd)──> Worker threads ──> Connection ──> Session
//
// Created and driven by the main thread, which does nothing else with it.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/acceptor.h"
#include "core/listen_socket.h"
#include "core/worker.h"

namespace epolld {

class Server {
 public:
  // Binds every listener; on failure throws StartError naming it.
  explicit Server(const config::Config& config);
  ~Server();

  void start();
  // Stops accepting, lets open connections finish within shutdown_timeout,
  // closes the rest and joins every thread.
  void stop();

  unsigned workerCount() const { return static_cast<unsigned>(workers_.size()); }
  std::size_t openConnections() const { return open_connections_.load(std::memory_order_relaxed); }

 private:
  const config::Config config_;
  std::atomic<std::size_t> open_connections_{0};
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<Acceptor> acceptor_;
  bool running_ = false;
};

class StartError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The number of workers `workers: 0` means: the CPUs this process may run on.
unsigned defaultWorkerCount();

}  // namespace epolld
