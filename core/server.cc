#include "core/server.h"

#include <fcntl.h>
#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include <spdlog/spdlog.h>

#include "config/loader.h"

namespace epolld {

unsigned defaultWorkerCount() {
  // The affinity mask, not the machine: under taskset or a cpuset, one worker
  // per CPU we may actually use.
  cpu_set_t cpus;
  if (sched_getaffinity(0, sizeof cpus, &cpus) == 0) return static_cast<unsigned>(CPU_COUNT(&cpus));
  const unsigned online = std::thread::hardware_concurrency();
  return online > 0 ? online : 1;
}

unsigned workerCountFor(const config::Config& config) {
  return config.workers > 0 ? config.workers : defaultWorkerCount();
}

unsigned acceptorCountFor(const config::Config& config) {
  constexpr unsigned kWorkersPerAcceptor = 4;
  return config.acceptors > 0 ? config.acceptors
                              : (workerCountFor(config) + kWorkersPerAcceptor - 1) / kWorkersPerAcceptor;
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

Server::Server(const config::Config& config, InheritedSockets& inherited, ProtocolFactory protocols, Stats& stats,
               ListenerEvents events)
    : config_(config), make_protocol_(std::move(protocols)), stats_(stats), events_(std::move(events)) {
  std::vector<SharedListener> listeners;
  for (const config::Listener& listener : config_.listeners) {
    std::string error;
    listeners.push_back(open(listener, inherited, error));
    if (!listeners.back().socket) throw StartError(error);  // what was opened so far closes with `listeners`
  }
  listeners_ = announce(listeners);
  publishListeners();
  std::vector<Worker*> workers;
  for (unsigned id = 0; id < stats_.workerCount(); ++id) {
    workers_.push_back(std::make_unique<Worker>(id, settingsOf(config_), open_connections_, stats_.worker(id)));
    workers.push_back(workers_.back().get());
  }
  const unsigned acceptors = stats_.acceptorCount();
  for (unsigned index = 0; index < acceptors; ++index) {
    acceptors_.push_back(std::make_unique<Acceptor>(index, acceptors, listeners, workers, config_.max_connections,
                                                    open_connections_));
  }
}

Server::~Server() { stop(); }

// Opens `listener` with a fresh id and makes its protocol; without a socket
// on failure, with `error` and errno set as openListenSocket sets them
// (EINVAL when the protocol cannot start).
SharedListener Server::open(const config::Listener& listener, InheritedSockets& inherited, std::string& error) {
  std::shared_ptr<const Protocol> protocol = makeProtocol(listener, error);
  if (!protocol) {
    errno = EINVAL;
    return {};
  }
  ListenSocket socket = openListenSocket(listener, *protocol, inherited, error);
  if (!socket.fd) return {};
  socket.id = ++last_listener_id_;
  socket.stats = stats_.statsFor(socket.address.toString());
  return {std::make_shared<const ListenSocket>(std::move(socket)), std::move(protocol)};
}

// The protocol's own start-up may fail (an http root that cannot be opened):
// then null, with `error` naming the listener.
std::shared_ptr<const Protocol> Server::makeProtocol(const config::Listener& listener, std::string& error) const {
  try {
    return make_protocol_(listener);
  } catch (const std::exception& e) {
    error = "listener " + describe(listener) + ": " + e.what();
    return nullptr;
  }
}

void Server::start() {
  for (auto& worker : workers_) worker->start();
  for (auto& acceptor : acceptors_) acceptor->start();
  running_ = true;
}

std::vector<HandedConnection> Server::stop(bool hand_over) {
  if (!running_) return {};
  running_ = false;
  for (auto& acceptor : acceptors_) acceptor->stop();
  // The acceptors have let go: the listening sockets close (or wait in
  // systemd's fd store), and new connections are refused.
  for (ListenerRecord& record : listeners_) record.socket.reset();
  const auto deadline = std::chrono::steady_clock::now() + config_.shutdown_timeout;
  HandoverList handover;
  for (unsigned id = 0; id < workers_.size(); ++id) {
    post(id, BeginShutdown{deadline, hand_over ? &handover : nullptr});
  }
  for (auto& worker : workers_) worker->join();
  std::vector<HandedConnection> handed;
  for (HandoverList::Entry& entry : handover.take()) {
    const auto record = std::ranges::find(listeners_, entry.listener_id, &ListenerRecord::id);
    // A connection of a listener a reload removed has nowhere to go back to.
    if (record == listeners_.end()) continue;
    handed.push_back({std::move(entry.fd), record->bound, record->protocol});
  }
  return handed;
}

std::size_t Server::adopt(std::vector<HandedConnection> connections) {
  AdoptConnections adopted;
  for (HandedConnection& connection : connections) {
    const auto record = std::ranges::find_if(listeners_, [&](const ListenerRecord& listener) {
      return listener.bound == connection.listener && listener.protocol == connection.protocol;
    });
    SocketAddress peer;
    const std::string problem = record == listeners_.end()
                                    ? "no " + connection.protocol + " listener is configured on it any more"
                                    : whyNotAdoptable(connection.fd.get(), connection.listener, peer);
    if (!problem.empty()) {
      spdlog::warn("a connection handed over for {}: {}; closing it",
                   listenerName(connection.listener, connection.protocol), problem);
      continue;  // closed with `connections`
    }
    // The fd store keeps the file status flags, but trust nothing passed in.
    const int flags = fcntl(connection.fd.get(), F_GETFL);
    if (flags < 0 || fcntl(connection.fd.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
      spdlog::warn("fcntl(O_NONBLOCK) on a connection handed over: {}; closing it", std::strerror(errno));
      continue;
    }
    adopted.connections.push_back({std::move(connection.fd), peer, record->id});
  }
  const std::size_t count = adopted.connections.size();
  if (count > 0) acceptors_.front()->adopt(std::move(adopted));
  return count;
}

void Server::reconfigure(const config::Config& next, InheritedSockets& inherited) {
  ReplaceListeners change;
  std::vector<ListenerRecord> records;
  std::vector<const config::Listener*> unmatched;
  matchListeners(next, change, records, unmatched);

  // A new listener may need a port that a listener being removed still
  // holds (127.0.0.1:P becoming 0.0.0.0:P): it is bound once that is closed.
  std::vector<const config::Listener*> after_removal;
  for (const config::Listener* listener : unmatched) {
    std::string error;
    SharedListener opened = open(*listener, inherited, error);
    if (opened.socket) {
      change.added.push_back(std::move(opened));
    } else if (errno == EADDRINUSE && portFreedByRemoval(*listener, change.removed)) {
      after_removal.push_back(listener);
    } else {
      throw StartError(error);  // nothing has changed yet; what was opened closes with `change`
    }
  }

  // No failure can keep the running configuration from here on. A kept
  // listener's protocol may have changed: the kernel's holding of new
  // connections follows it.
  for (const ReplaceListeners::Kept& kept : change.kept) {
    const auto record = std::ranges::find(records, kept.new_id, &ListenerRecord::id);
    if (!deferAcceptIfClientSpeaksFirst(record->socket->fd.get(), *kept.protocol)) {
      spdlog::error("setsockopt(TCP_DEFER_ACCEPT) on {}: {}", record->name, std::strerror(errno));
    }
  }
  std::vector<SocketAddress> removed;
  for (const ListenerRecord& record : listeners_) {
    if (std::ranges::find(change.removed, record.id) != change.removed.end()) {
      spdlog::info("stopped listening on {}", record.name);
      removed.push_back(record.bound);
    }
  }
  ReplaceProtocols replace;
  for (const ReplaceListeners::Kept& kept : change.kept) {
    // A listener whose protocol changed has a new id: its open connections
    // keep the protocol they were accepted with.
    if (kept.new_id == kept.id) replace.by_listener.emplace_back(kept.id, kept.protocol);
  }
  std::vector<ListenerRecord> added = announce(change.added);
  records.insert(records.end(), added.begin(), added.end());
  change.max_connections = next.max_connections;
  replaceListeners(change);
  for (unsigned id = 0; id < workers_.size(); ++id) post(id, replace);
  // The removed listeners' sockets close here, the acceptors having let go.
  listeners_ = std::move(records);
  for (const SocketAddress& address : removed) {
    if (events_.removed) events_.removed(address);
  }

  config::Config applied = next;
  if (next.workers != config_.workers) {
    spdlog::warn("workers: changing it needs a restart; keeping {}", config_.workers);
    applied.workers = config_.workers;
  }
  if (next.acceptors != config_.acceptors) {
    spdlog::warn("acceptors: changing it needs a restart; keeping {}", config_.acceptors);
    applied.acceptors = config_.acceptors;
  }
  if (next.trigger != config_.trigger) {
    spdlog::warn("trigger: changing it needs a restart; keeping {}", config::toString(config_.trigger));
    applied.trigger = config_.trigger;
  }
  for (unsigned id = 0; id < workers_.size(); ++id) post(id, UpdateSettings{settingsOf(applied)});
  config_ = std::move(applied);
  if (!after_removal.empty()) openAfterRemoval(after_removal, inherited);
  publishListeners();
}

// Tells the readers of Stats which listeners there are now.
void Server::publishListeners() {
  std::vector<Stats::Listener> listeners;
  for (const ListenerRecord& record : listeners_) {
    listeners.push_back({record.bound.toString(), record.protocol, record.answers_requests, record.stats});
  }
  stats_.setListeners(std::move(listeners));
}

// Pairs each listener of `next` with an open one of the same configured
// address and port, each open one at most once and in order, so that several
// `port: 0` listeners on one address each keep their own socket. Paired ones
// go to change.kept (and `records`), open ones left over to change.removed,
// listeners of `next` left over to `unmatched`. Throws StartError, having
// changed nothing, when a kept listener's new protocol options cannot be used.
void Server::matchListeners(const config::Config& next, ReplaceListeners& change,
                            std::vector<ListenerRecord>& records, std::vector<const config::Listener*>& unmatched) {
  std::vector<bool> kept(listeners_.size(), false);
  for (const config::Listener& listener : next.listeners) {
    const SocketAddress configured = configuredAddress(listener);
    std::size_t i = 0;
    while (i < listeners_.size() && (kept[i] || !(listeners_[i].configured == configured))) ++i;
    if (i == listeners_.size()) {
      unmatched.push_back(&listener);
      continue;
    }
    kept[i] = true;
    ListenerRecord record = listeners_[i];
    std::string error;
    std::shared_ptr<const Protocol> protocol = makeProtocol(listener, error);
    if (!protocol) throw StartError(error);
    const std::uint32_t new_id = listener.protocol == record.protocol ? record.id : ++last_listener_id_;
    record.answers_requests = protocol->answersRequests();
    change.kept.push_back({record.id, new_id, listener, std::move(protocol)});
    record.id = new_id;
    record.protocol = listener.protocol;
    record.name = listenerName(record.bound, listener.protocol);
    records.push_back(std::move(record));
  }
  for (std::size_t i = 0; i < listeners_.size(); ++i) {
    if (!kept[i]) change.removed.push_back(listeners_[i].id);
  }
}

bool Server::portFreedByRemoval(const config::Listener& listener, const std::vector<std::uint32_t>& removed) const {
  const SocketAddress wanted = configuredAddress(listener);
  return wanted.port() != 0 && std::ranges::any_of(listeners_, [&](const ListenerRecord& record) {
           return record.bound.port() == wanted.port() && record.bound.family() == wanted.family() &&
                  std::ranges::find(removed, record.id) != removed.end();
         });
}

// Binds listeners whose port a removed listener held, now that it is closed.
// Under systemd the fd store's copy of the old socket is released when
// systemd has read our FDSTOREREMOVE, a moment later: EADDRINUSE is retried
// for a while. A listener that still cannot be bound is reported; the rest of
// the reload stands (the listener it replaces is gone already).
void Server::openAfterRemoval(const std::vector<const config::Listener*>& listeners, InheritedSockets& inherited) {
  constexpr auto kRetryFor = std::chrono::seconds(2);
  constexpr auto kRetryEvery = std::chrono::milliseconds(20);
  ReplaceListeners change;
  for (const config::Listener* listener : listeners) {
    const auto give_up = std::chrono::steady_clock::now() + kRetryFor;
    std::string error;
    SharedListener opened = open(*listener, inherited, error);
    while (!opened.socket && errno == EADDRINUSE && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(kRetryEvery);
      opened = open(*listener, inherited, error);
    }
    if (opened.socket) {
      change.added.push_back(std::move(opened));
    } else {
      spdlog::error("reload: {}", error);
    }
  }
  std::vector<ListenerRecord> added = announce(change.added);
  change.max_connections = config_.max_connections;
  replaceListeners(change);
  listeners_.insert(listeners_.end(), added.begin(), added.end());
}

std::vector<Server::ListenerRecord> Server::announce(const std::vector<SharedListener>& opened) {
  std::vector<ListenerRecord> records;
  for (const auto& [socket, protocol] : opened) {
    spdlog::info("listening on {}", socket->name());
    if (events_.opened) events_.opened(*socket);
    records.push_back({socket, configuredAddress(socket->config), socket->address, socket->name(),
                       socket->config.protocol, socket->id, socket->stats, protocol->answersRequests()});
  }
  return records;
}

// Every acceptor takes up the change, one after the other; each has let go
// of the removed listeners once this returns.
void Server::replaceListeners(const ReplaceListeners& change) {
  for (auto& acceptor : acceptors_) acceptor->replaceListeners(change);
}

void Server::stallWorker() { post(0, Stall{}); }

void Server::post(unsigned worker, WorkerMessage message) {
  std::vector<WorkerMessage> batch;
  batch.push_back(std::move(message));
  workers_[worker]->post(batch);
}

}  // namespace epolld
