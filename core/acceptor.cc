#include "core/acceptor.h"

#include <sys/socket.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <system_error>

#include <spdlog/spdlog.h>

namespace epolld {
namespace {

using Clock = std::chrono::steady_clock;

// While accept4 fails for want of descriptors or memory, listeners rest this
// long: closing connections free fds meanwhile, and the backlog holds the rest.
constexpr std::chrono::milliseconds kAcceptPause{100};
// Hand a batch to the workers at least this often during a burst of accepts.
constexpr std::size_t kHandOffEvery = 64;

}  // namespace

Acceptor::Acceptor(unsigned index, unsigned count, const std::vector<SharedListener>& listeners,
                   std::vector<Worker*> workers, std::size_t max_connections,
                   std::atomic<std::size_t>& open_connections)
    : index_(index),
      workers_(std::move(workers)),
      max_connections_(max_connections),
      open_connections_(open_connections),
      // Level-triggered: the acceptor drains each listener until EAGAIN anyway,
      // and no other thread ever waits on its loop.
      loop_(config::Trigger::kLevel, queue_.eventFd()),
      batches_(workers_.size()),
      // Each acceptor's round starts at its own share of the workers.
      next_worker_(workers_.size() * index / std::max(count, 1u)),
      accept_error_log_(5, std::chrono::seconds(10)),
      limit_log_(5, std::chrono::seconds(10)) {
  assert(!workers_.empty());
  for (const auto& listener : listeners) add(listener);
}

void Acceptor::add(const SharedListener& shared) {
  auto listener = std::make_unique<Listening>();
  listener->socket = shared.socket;
  listener->protocol = shared.protocol;
  listener->id = shared.socket->id;
  listener->name = shared.socket->name();
  // While paused it waits unregistered; resume() registers it with the others.
  if (!paused_) watch(*listener);
  listeners_.push_back(std::move(listener));
}

// EPOLLEXCLUSIVE: of the acceptors waiting on this socket, the kernel wakes
// one per new connection, not all. Such a registration cannot be modified,
// only removed and added again (pause, resume).
void Acceptor::watch(Listening& listener) {
  if (!loop_.watch(listener.socket->fd.get(), EPOLLIN | EPOLLEXCLUSIVE, &listener)) {
    throw std::system_error(errno, std::generic_category(), "epoll_ctl(ADD) on " + listener.name);
  }
  listener.watched = true;
}

void Acceptor::unwatch(Listening& listener) {
  if (listener.watched && !loop_.forget(listener.socket->fd.get())) {
    spdlog::error("epoll_ctl(DEL) on {}: {}", listener.name, std::strerror(errno));
  }
  listener.watched = false;
}

Acceptor::~Acceptor() { stop(); }

void Acceptor::start() { loop_.start(*this, "acceptor-" + std::to_string(index_)); }

void Acceptor::stop() {
  std::vector<AcceptorMessage> stop;
  stop.emplace_back(StopAccepting{});
  queue_.push(stop);  // harmless when the loop has ended already, or never started
  loop_.join();
}

void Acceptor::replaceListeners(ReplaceListeners change) {
  auto applied = std::make_shared<std::promise<void>>();
  std::future<void> done = applied->get_future();
  change.applied = std::move(applied);
  std::vector<AcceptorMessage> message;
  message.emplace_back(std::move(change));
  queue_.push(message);
  done.get();  // rethrows what apply() failed with
}

void Acceptor::adopt(AdoptConnections connections) {
  std::vector<AcceptorMessage> message;
  message.emplace_back(std::move(connections));
  queue_.push(message);
}

void Acceptor::onReady(void* tag, std::uint32_t) {
  auto& listener = *static_cast<Listening*>(tag);
  if (listener.socket && !paused_ && !stopping_) acceptFrom(listener);
}

void Acceptor::afterBatch() {
  handOff();
  retired_.clear();  // no event of this batch refers to them any more
}

void Acceptor::onWakeUp() {
  queue_.takeAll(messages_);
  for (AcceptorMessage& message : messages_) {
    if (std::holds_alternative<StopAccepting>(message)) {
      stopping_ = true;
      // Let go of now: once every acceptor has, and the server too, the
      // sockets close and new connections are refused.
      while (!listeners_.empty()) retire(listeners_.begin());
    } else if (auto* adopted = std::get_if<AdoptConnections>(&message)) {
      adoptAll(*adopted);
    } else {
      ReplaceListeners& change = std::get<ReplaceListeners>(message);
      try {
        apply(change);
        change.applied->set_value();
      } catch (...) {
        change.applied->set_exception(std::current_exception());
      }
    }
  }
  messages_.clear();
}

// Stops watching the listener and lets go of its socket; the entry is freed
// after the batch. EPOLL_CTL_DEL first: the socket may close as soon as it is
// let go of. Connections already accepted belong to workers and finish normally.
void Acceptor::retire(ListeningList::iterator listener) {
  unwatch(**listener);
  (*listener)->socket.reset();
  retired_.push_back(std::move(*listener));
  listeners_.erase(listener);
}

void Acceptor::apply(ReplaceListeners& change) {
  loop_.assertOwnThread();
  const auto find = [&](std::uint32_t id) {
    return std::find_if(listeners_.begin(), listeners_.end(), [&](const auto& listener) { return listener->id == id; });
  };
  for (const std::uint32_t id : change.removed) {
    const auto removed = find(id);
    if (removed == listeners_.end()) continue;
    retire(removed);
  }
  for (const ReplaceListeners::Kept& kept : change.kept) {
    const auto found = find(kept.id);
    if (found == listeners_.end()) continue;
    Listening& listener = **found;
    listener.protocol = kept.protocol;
    listener.id = kept.new_id;
    listener.name = listenerName(listener.socket->address, kept.config.protocol);
  }
  for (const auto& added : change.added) add(added);
  max_connections_ = change.max_connections;
}

void Acceptor::acceptFrom(Listening& listener) {
  loop_.assertOwnThread();
  std::size_t accepted = 0;
  const int fd = listener.socket->fd.get();
  for (;;) {
    SocketAddress peer;
    socklen_t length = SocketAddress::capacity();
    UniqueFd client(accept4(fd, peer.data(), &length, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!client) {
      switch (errno) {
        case EAGAIN:
#if EAGAIN != EWOULDBLOCK
        case EWOULDBLOCK:
#endif
          return;
        case EINTR:
          continue;
        // The connection died in the backlog (accept(2) says to treat these
        // network errors like EAGAIN and retry): just take the next one.
        case ECONNABORTED:
        case EPROTO:
        case ENETDOWN:
        case ENOPROTOOPT:
        case EHOSTDOWN:
        case ENONET:
        case EHOSTUNREACH:
        case EOPNOTSUPP:
        case ENETUNREACH:
        case ETIMEDOUT:
          continue;
        case EMFILE:
        case ENFILE:
        case ENOBUFS:
        case ENOMEM:
          pause(errno);
          return;
        default:  // EBADF, EINVAL, ENOTSOCK…: a bug; don't spin on it
          spdlog::error("accept4 on {}: {}", listener.name, std::strerror(errno));
          return;
      }
    }
    // Counted before the hand-off, so that the worker's count of its close
    // comes after it (metrics::ListenerSnapshot::open()).
    metrics::ListenerCounters& counters = countersOf(listener);
    if (!admit(client, peer, "accept")) {
      counters.refused.increment();
      continue;
    }
    counters.accepted.increment();
    assign(listener, std::move(client), peer);
    if (++accepted % kHandOffEvery == 0) handOff();
  }
}

// Takes in what the previous process handed over, as if just accepted; a
// connection whose listener a reload has removed meanwhile is closed.
void Acceptor::adoptAll(AdoptConnections& adopted) {
  loop_.assertOwnThread();
  for (AdoptConnections::Connection& connection : adopted.connections) {
    const auto listener = std::find_if(listeners_.begin(), listeners_.end(),
                                       [&](const auto& open) { return open->id == connection.listener_id; });
    if (listener == listeners_.end()) continue;  // closed with `adopted`
    metrics::ListenerCounters& counters = countersOf(**listener);
    if (!admit(connection.fd, connection.peer, "adopt")) {
      counters.refused.increment();
      continue;
    }
    counters.adopted.increment();
    assign(**listener, std::move(connection.fd), connection.peer);
  }
}

metrics::ListenerCounters& Acceptor::countersOf(const Listening& listener) const {
  return listener.socket->stats->acceptor(index_);
}

// Queues the connection for the next worker, round-robin.
void Acceptor::assign(const Listening& listener, UniqueFd client, const SocketAddress& peer) {
  batches_[next_worker_].push_back(
      NewConnection{std::move(client), peer, listener.protocol, listener.id, listener.socket->stats});
  next_worker_ = (next_worker_ + 1) % workers_.size();
}

// Counts the connection in, or refuses it (closing it at once) past
// max_connections. `how` is the log's verb: accept, adopt.
bool Acceptor::admit(UniqueFd& client, const SocketAddress& peer, std::string_view how) {
  // A compare-and-swap, not a load and an add: acceptors admitting at the
  // same moment must not take the last place twice.
  std::size_t open = open_connections_.load(std::memory_order_relaxed);
  do {
    if (open >= max_connections_) {
      if (const auto suppressed = limit_log_.allow(Clock::now())) {
        spdlog::warn("max_connections ({}) reached: refusing {}, {}{}", max_connections_, peer.ip(), peer.port(),
                     log::suppressedNote(*suppressed));
      }
      return false;
    }
  } while (!open_connections_.compare_exchange_weak(open, open + 1, std::memory_order_relaxed));
  // ip() formats a string: only pay for it when the line is wanted.
  if (spdlog::should_log(spdlog::level::debug)) {
    spdlog::debug("{} connection from {}, {}, fd = {}", how, peer.ip(), peer.port(), client.get());
  }
  return true;
}

void Acceptor::handOff() {
  for (std::size_t i = 0; i < workers_.size(); ++i) workers_[i]->post(batches_[i]);
}

// Stops watching the listeners for kAcceptPause. Level-triggered listeners
// that cannot be accepted from would otherwise wake the loop in a busy spin.
void Acceptor::pause(int error) {
  if (const auto suppressed = accept_error_log_.allow(Clock::now())) {
    spdlog::error("accept4: {}; pausing accept for {}ms{}", std::strerror(error), kAcceptPause.count(),
                  log::suppressedNote(*suppressed));
  }
  for (auto& listener : listeners_) unwatch(*listener);
  if (!loop_.setTimer(kAcceptPause)) {
    spdlog::error("timerfd_settime: {}; accepting again at once", std::strerror(errno));
    resume();
    return;
  }
  paused_ = true;
}

void Acceptor::resume() {
  paused_ = false;
  for (auto& listener : listeners_) {
    try {
      watch(*listener);
    } catch (const std::system_error& e) {
      spdlog::error("{}", e.what());  // ENOMEM: that listener stays deaf until the next pause ends
    }
  }
}

}  // namespace epolld
