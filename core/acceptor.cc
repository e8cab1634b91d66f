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

Acceptor::Acceptor(std::vector<ListenSocket> listeners, std::vector<Worker*> workers, std::size_t max_connections,
                   std::atomic<std::size_t>& open_connections)
    : workers_(std::move(workers)),
      max_connections_(max_connections),
      open_connections_(open_connections),
      // Level-triggered: the acceptor drains each listener until EAGAIN anyway,
      // and no other thread ever waits on its loop.
      loop_(config::Trigger::kLevel, queue_.eventFd()),
      batches_(workers_.size()),
      accept_error_log_(5, std::chrono::seconds(10)),
      limit_log_(5, std::chrono::seconds(10)) {
  assert(!workers_.empty());
  for (ListenSocket& listener : listeners) {
    listeners_.push_back(std::make_unique<ListenSocket>(std::move(listener)));
    watch(*listeners_.back());
  }
}

void Acceptor::watch(ListenSocket& listener) {
  // While paused it is registered without events; resume() enables it with the others.
  listener.registered_events = paused_ ? 0u : static_cast<std::uint32_t>(EPOLLIN);
  if (!loop_.watch(listener.fd.get(), listener.registered_events, &listener)) {
    throw std::system_error(errno, std::generic_category(), "epoll_ctl(ADD) on " + listener.name());
  }
}

Acceptor::~Acceptor() { stop(); }

void Acceptor::start() { loop_.start(*this, "acceptor"); }

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
  auto& listener = *static_cast<ListenSocket*>(tag);
  if (listener.fd && !paused_ && !stopping_) acceptFrom(listener);
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
      // Closed now: new connections are refused from here on.
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

// Stops watching the listener and closes it; it is freed after the batch.
void Acceptor::retire(std::vector<std::unique_ptr<ListenSocket>>::iterator listener) {
  // EPOLL_CTL_DEL, then close: new connections are refused from here on;
  // those already accepted belong to workers and finish normally. The port
  // is free again once this returns (a reload may bind it anew).
  loop_.forget((*listener)->fd.get());
  (*listener)->fd.reset();
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
    spdlog::info("stopped listening on {}", (*removed)->name());
    retire(removed);
  }
  for (ReplaceListeners::Kept& kept : change.kept) {
    const auto found = find(kept.id);
    if (found == listeners_.end()) continue;
    ListenSocket& listener = **found;
    listener.config = std::move(kept.config);
    listener.protocol = std::move(kept.protocol);
    listener.id = kept.new_id;
    if (!deferAcceptIfClientSpeaksFirst(listener)) {  // its protocol may have changed
      spdlog::error("setsockopt(TCP_DEFER_ACCEPT) on {}: {}", listener.name(), std::strerror(errno));
    }
  }
  for (ListenSocket& added : change.added) {
    listeners_.push_back(std::make_unique<ListenSocket>(std::move(added)));
    watch(*listeners_.back());
  }
  max_connections_ = change.max_connections;
}

void Acceptor::acceptFrom(ListenSocket& listener) {
  loop_.assertOwnThread();
  std::size_t accepted = 0;
  for (;;) {
    SocketAddress peer;
    socklen_t length = SocketAddress::capacity();
    UniqueFd client(accept4(listener.fd.get(), peer.data(), &length, SOCK_NONBLOCK | SOCK_CLOEXEC));
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
          spdlog::error("accept4 on {}: {}", listener.name(), std::strerror(errno));
          return;
      }
    }
    // Counted before the hand-off, so that the worker's count of its close
    // comes after it (metrics::ListenerSnapshot::open()).
    metrics::ListenerCounters& counters = listener.stats->acceptor(0);
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
    metrics::ListenerCounters& counters = (*listener)->stats->acceptor(0);
    if (!admit(connection.fd, connection.peer, "adopt")) {
      counters.refused.increment();
      continue;
    }
    counters.adopted.increment();
    assign(**listener, std::move(connection.fd), connection.peer);
  }
}

// Queues the connection for the next worker, round-robin.
void Acceptor::assign(ListenSocket& listener, UniqueFd client, const SocketAddress& peer) {
  batches_[next_worker_].push_back(
      NewConnection{std::move(client), peer, listener.protocol, listener.id, listener.stats});
  next_worker_ = (next_worker_ + 1) % workers_.size();
}

// Counts the connection in, or refuses it (closing it at once) past
// max_connections. `how` is the log's verb: accept, adopt.
bool Acceptor::admit(UniqueFd& client, const SocketAddress& peer, std::string_view how) {
  if (open_connections_.load(std::memory_order_relaxed) >= max_connections_) {
    if (const auto suppressed = limit_log_.allow(Clock::now())) {
      spdlog::warn("max_connections ({}) reached: refusing {}, {}{}", max_connections_, peer.ip(), peer.port(),
                   log::suppressedNote(*suppressed));
    }
    return false;
  }
  open_connections_.fetch_add(1, std::memory_order_relaxed);
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
  for (auto& listener : listeners_) loop_.rearm(listener->fd.get(), 0, listener->registered_events, listener.get());
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
    if (!loop_.rearm(listener->fd.get(), EPOLLIN, listener->registered_events, listener.get())) {
      spdlog::error("epoll_ctl(MOD) on {}: {}", listener->name(), std::strerror(errno));
    }
  }
}

}  // namespace epolld
