#include "core/server.h"

#include <sched.h>

#include <chrono>

#include <spdlog/spdlog.h>

namespace epolld {

unsigned defaultWorkerCount() {
  // The affinity mask, not the machine: under taskset or a cpuset, one worker
  // per CPU we may actually use.
  cpu_set_t cpus;
  if (sched_getaffinity(0, sizeof cpus, &cpus) == 0) return static_cast<unsigned>(CPU_COUNT(&cpus));
  const unsigned online = std::thread::hardware_concurrency();
  return online > 0 ? online : 1;
}

Server::Server(const config::Config& config) : config_(config) {
  std::vector<ListenSocket> listeners;
  for (const config::Listener& listener : config_.listeners) {
    std::string error;
    ListenSocket socket = openListenSocket(listener, error);
    if (!socket.fd) throw StartError(error);
    listeners.push_back(std::move(socket));
  }
  const unsigned count = config_.workers > 0 ? config_.workers : defaultWorkerCount();
  const WorkerSettings settings{config_.trigger, config_.idle_timeout, config_.output_buffer_limit};
  std::vector<Worker*> workers;
  for (unsigned id = 0; id < count; ++id) {
    workers_.push_back(std::make_unique<Worker>(id, settings, open_connections_));
    workers.push_back(workers_.back().get());
  }
  for (const ListenSocket& listener : listeners) spdlog::info("listening on {}", listener.name());
  acceptor_ = std::make_unique<Acceptor>(std::move(listeners), std::move(workers), config_.max_connections,
                                         open_connections_);
}

Server::~Server() { stop(); }

void Server::start() {
  for (auto& worker : workers_) worker->start();
  acceptor_->start();
  running_ = true;
}

void Server::stop() {
  if (!running_) return;
  running_ = false;
  acceptor_->stop();
  const auto deadline = std::chrono::steady_clock::now() + config_.shutdown_timeout;
  for (auto& worker : workers_) {
    std::vector<WorkerMessage> message;
    message.emplace_back(BeginShutdown{deadline});
    worker->post(message);
  }
  for (auto& worker : workers_) worker->join();
}

}  // namespace epolld
