#include "core/server.h"

#include <sched.h>

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "config/loader.h"
#include "core/protocols/registry.h"

namespace epolld {

unsigned defaultWorkerCount() {
  // The affinity mask, not the machine: under taskset or a cpuset, one worker
  // per CPU we may actually use.
  cpu_set_t cpus;
  if (sched_getaffinity(0, sizeof cpus, &cpus) == 0) return static_cast<unsigned>(CPU_COUNT(&cpus));
  const unsigned online = std::thread::hardware_concurrency();
  return online > 0 ? online : 1;
}

namespace {

WorkerSettings settingsOf(const config::Config& config) {
  return {config.trigger, config.idle_timeout, config.output_buffer_limit};
}

SocketAddress configuredAddress(const config::Listener& listener) {
  // The loader has validated the address already.
  return SocketAddress::parse(listener.address, listener.port).value_or(SocketAddress{});
}

}  // namespace

Server::Server(const config::Config& config, InheritedSockets& inherited, ListenerEvents events)
    : config_(config), events_(std::move(events)) {
  std::vector<ListenSocket> listeners = openListeners(config_, inherited, nullptr);
  listeners_ = announce(listeners);
  const unsigned count = config_.workers > 0 ? config_.workers : defaultWorkerCount();
  std::vector<Worker*> workers;
  for (unsigned id = 0; id < count; ++id) {
    workers_.push_back(std::make_unique<Worker>(id, settingsOf(config_), open_connections_));
    workers.push_back(workers_.back().get());
  }
  acceptor_ = std::make_unique<Acceptor>(std::move(listeners), std::move(workers), config_.max_connections,
                                         open_connections_);
}

Server::~Server() { stop(); }

// Opens the listeners of `config` that are not open yet and returns them. With
// `kept`, listeners already open are matched by their configured address and
// port, and listed there with their new options instead of being opened again.
std::vector<ListenSocket> Server::openListeners(const config::Config& config, InheritedSockets& inherited,
                                                std::vector<ReplaceListeners::Kept>* kept) {
  std::vector<ListenSocket> opened;
  for (const config::Listener& listener : config.listeners) {
    const SocketAddress configured = configuredAddress(listener);
    auto record = std::find_if(listeners_.begin(), listeners_.end(),
                               [&](const ListenerRecord& r) { return r.configured == configured; });
    if (kept && record != listeners_.end()) {
      std::shared_ptr<const Protocol> protocol;
      try {
        protocol = makeProtocol(listener);
      } catch (const std::exception& e) {
        throw StartError("listener " + record->name + ": " + e.what());
      }
      kept->push_back({record->bound, listener, std::move(protocol), record->id});
      continue;
    }
    std::string error;
    ListenSocket socket = openListenSocket(listener, inherited, error);
    if (!socket.fd) throw StartError(error);  // what was opened so far closes with `opened`
    socket.id = ++last_listener_id_;
    opened.push_back(std::move(socket));
  }
  return opened;
}

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
  for (unsigned id = 0; id < workers_.size(); ++id) post(id, BeginShutdown{deadline});
  for (auto& worker : workers_) worker->join();
}

void Server::reconfigure(const config::Config& next, InheritedSockets& inherited) {
  ReplaceListeners change;
  change.added = openListeners(next, inherited, &change.kept);
  change.max_connections = next.max_connections;

  std::vector<ListenerRecord> records = announce(change.added);
  std::vector<SocketAddress> removed;
  for (const ListenerRecord& record : listeners_) {
    const bool kept = std::any_of(change.kept.begin(), change.kept.end(),
                                  [&](const ReplaceListeners::Kept& k) { return k.address == record.bound; });
    if (kept) {
      records.push_back(record);
    } else {
      removed.push_back(record.bound);
    }
  }
  ReplaceProtocols replace;
  for (const ReplaceListeners::Kept& kept : change.kept) replace.by_listener.emplace_back(kept.id, kept.protocol);
  acceptor_->replaceListeners(std::move(change));
  listeners_ = std::move(records);
  for (unsigned id = 0; id < workers_.size(); ++id) post(id, replace);
  for (const SocketAddress& address : removed) {
    if (events_.removed) events_.removed(address);
  }

  config::Config applied = next;
  if (next.workers != config_.workers) {
    spdlog::warn("workers: changing it needs a restart; keeping {}", config_.workers);
    applied.workers = config_.workers;
  }
  if (next.trigger != config_.trigger) {
    spdlog::warn("trigger: changing it needs a restart; keeping {}", config::toString(config_.trigger));
    applied.trigger = config_.trigger;
  }
  for (unsigned id = 0; id < workers_.size(); ++id) post(id, UpdateSettings{settingsOf(applied)});
  config_ = std::move(applied);
}

std::vector<Server::ListenerRecord> Server::announce(const std::vector<ListenSocket>& opened) {
  std::vector<ListenerRecord> records;
  for (const ListenSocket& listener : opened) {
    spdlog::info("listening on {}", listener.name());
    if (events_.opened) events_.opened(listener);
    records.push_back({configuredAddress(listener.config), listener.address, listener.name(), listener.id});
  }
  return records;
}

std::uint64_t Server::requestsServed() const {
  std::uint64_t total = 0;
  for (const auto& worker : workers_) total += worker->requestsServed();
  return total;
}

std::vector<std::uint64_t> Server::heartbeats() const {
  std::vector<std::uint64_t> beats;
  for (const auto& worker : workers_) beats.push_back(worker->heartbeat());
  return beats;
}

void Server::stallWorker() { post(0, Stall{}); }

void Server::post(unsigned worker, WorkerMessage message) {
  std::vector<WorkerMessage> batch;
  batch.push_back(std::move(message));
  workers_[worker]->post(batch);
}

}  // namespace epolld
