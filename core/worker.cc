#include "core/worker.h"

#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <system_error>

#include <spdlog/spdlog.h>

namespace epolld {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kTick{100};  // timer resolution; the loop turns at least this often
constexpr std::size_t kWheelSlots = 1024;        // one turn = 102.4 s
constexpr std::size_t kInputScratchBytes = 64 * 1024;
// The output scratch grows to what one event produced (up to about
// output_buffer_limit); past this it is given back rather than kept for good.
constexpr std::size_t kOutputScratchKept = 256 * 1024;
constexpr std::size_t kReadBudget = 256 * 1024;  // per event, then the others get a turn
// How long a graceful stop waits for a just-accepted connection's first byte.
constexpr std::chrono::milliseconds kFirstRequestGrace{1000};

TimerWheel::Tick tickOf(Clock::time_point time) {
  return static_cast<TimerWheel::Tick>(
      std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()) / kTick);
}

}  // namespace

Worker::Worker(unsigned id, const WorkerSettings& settings, std::atomic<std::size_t>& open_connections,
               metrics::WorkerCounters& counters)
    : id_(id),
      settings_(settings),
      open_connections_(open_connections),
      counters_(counters),
      loop_(settings.trigger, queue_.eventFd(), &counters),
      wheel_(kWheelSlots, tickOf(Clock::now())),
      input_scratch_(std::make_unique_for_overwrite<char[]>(kInputScratchBytes)) {
  if (!loop_.setTimer(kTick, kTick)) throw std::system_error(errno, std::generic_category(), "timerfd_settime");
}

Worker::~Worker() { join(); }

TimerWheel::Tick Worker::currentTick() const { return wheel_.now(); }

void Worker::onReady(void* tag, std::uint32_t events) {
  auto& connection = *static_cast<Connection*>(tag);
  if (!connection.closed) onConnectionEvent(connection, events);
}

void Worker::afterBatch() {
  closed_.clear();  // no event of this batch refers to them any more
  if (finished()) spdlog::debug("worker {} stopped", id_);
}

void Worker::onWakeUp() {
  queue_.takeAll(messages_);
  for (WorkerMessage& message : messages_) {
    if (auto* connection = std::get_if<NewConnection>(&message)) {
      adopt(*connection);
    } else if (auto* shutdown = std::get_if<BeginShutdown>(&message)) {
      beginShutdown(*shutdown);
    } else if (auto* update = std::get_if<UpdateSettings>(&message)) {
      settings_.idle_timeout = update->settings.idle_timeout;
      settings_.buffer_limit = update->settings.buffer_limit;
    } else if (auto* replace = std::get_if<ReplaceProtocols>(&message)) {
      replaceProtocols(*replace);
    } else {
      spdlog::warn("worker {}: stalling for good (test hook)", id_);
      for (;;) pause();
    }
  }
  messages_.clear();
}

void Worker::adopt(NewConnection& message) {
  loop_.assertOwnThread();
  auto owned = std::make_unique<Connection>(std::move(message.fd), message.peer, std::move(message.protocol),
                                            message.listener_id, std::move(message.stats), id_);
  Connection& connection = *owned;
  counters_.connections_adopted.increment();
  connection.slot = connections_.size();
  connections_.push_back(std::move(owned));
  if (shutting_down_) {
    close(connection, metrics::CloseReason::kShutdown);
    return;
  }
  // A client usually sends right after connecting, so its first bytes are
  // often here already: read them before registering. That saves an epoll
  // round, and a connection answered and closed at once (HTTP with
  // Connection: close) never enters epoll at all. Registering comes last, for
  // exactly what the connection now waits for, like every re-arm.
  if (!handleOrClose(connection, EPOLLIN)) return;
  const std::uint32_t wanted = connection.interest(ioContext());
  if (!loop_.watch(connection.fd(), wanted, &connection)) {
    spdlog::error("worker {}: epoll_ctl(ADD) fd {}: {}", id_, connection.fd(), std::strerror(errno));
    close(connection, metrics::CloseReason::kError);
    return;
  }
  connection.registered_events = wanted;
  scheduleTimeout(connection);
}

// The idle timeout counts from the last byte moved; a session's own deadline
// (a request head's) can only bring it closer.
void Worker::scheduleTimeout(Connection& connection) {
  TimerWheel::Tick deadline = currentTick() + 1 + settings_.idle_timeout / kTick;
  if (const auto session_deadline = connection.deadline()) {
    deadline = std::min(deadline, tickOf(*session_deadline) + 1);
  }
  wheel_.schedule(connection, deadline);
}

void Worker::replaceProtocols(const ReplaceProtocols& replace) {
  loop_.assertOwnThread();
  // Once per reload, not per request: a scan of this worker's connections.
  for (auto& connection : connections_) {
    for (const auto& [listener_id, protocol] : replace.by_listener) {
      if (connection->listenerId() == listener_id) connection->replaceProtocol(protocol);
    }
  }
}

void Worker::beginShutdown(const BeginShutdown& shutdown) {
  loop_.assertOwnThread();
  shutting_down_ = true;
  handover_ = shutdown.handover;
  shutdown_deadline_ = shutdown.deadline;
  grace_end_ = std::min(Clock::now() + kFirstRequestGrace, shutdown_deadline_);
  // Iterate over a copy: closing reorders the list. Closing, input already
  // waiting is read first: a request the client has sent is a request to
  // finish. Passing connections on, it stays in the kernel for the next
  // process to read.
  for (Connection* connection : openConnections()) {
    if (!handover_) {
      onConnectionEvent(*connection, EPOLLIN);
      if (connection->closed) continue;
    }
    windDown(*connection, false);
  }
}

// A connection that has not sent its first byte yet was accepted moments ago:
// its request is most likely on the way (a client connecting just as a restart
// begins), so it is not counted idle until the grace period ends. Passed on,
// it waits for the next process instead.
void Worker::windDown(Connection& connection, bool grace_over) {
  if (connection.shuttingDown() || (!connection.receivedAny() && !grace_over && !handover_)) return;
  if (connection.beginShutdown()) {
    rearm(connection);
  } else {
    close(connection, metrics::CloseReason::kShutdown);
  }
}

std::vector<Connection*> Worker::openConnections() const {
  std::vector<Connection*> open;
  open.reserve(connections_.size());
  for (const auto& connection : connections_) open.push_back(connection.get());
  return open;
}

void Worker::onTimer() {
  const Clock::time_point now = Clock::now();
  wheel_.advance(tickOf(now), [this](TimerWheel::Entry& entry) {
    auto& connection = static_cast<Connection&>(entry);
    spdlog::debug("{} timed out, closing", connection.fd());
    close(connection, connection.timeoutReason());
  });
  if (shutting_down_ && now >= grace_end_) {
    for (Connection* connection : openConnections()) windDown(*connection, true);
  }
  if (shutting_down_ && now >= shutdown_deadline_) {
    while (!connections_.empty()) close(*connections_.back(), metrics::CloseReason::kShutdown);
  }
}

IoContext Worker::ioContext() {
  return IoContext{{input_scratch_.get(), kInputScratchBytes}, output_scratch_, settings_.buffer_limit, kReadBudget,
                   answers_scratch_};
}

// Lets the connection handle `events`; closes it and returns false when it is done.
bool Worker::handleOrClose(Connection& connection, std::uint32_t events) {
  IoContext io = ioContext();
  const bool open = connection.handle(events, io);
  if (output_scratch_.capacity() > kOutputScratchKept) output_scratch_.releaseIfEmpty();
  if (!open) close(connection, connection.closeReason());
  return open;
}

void Worker::onConnectionEvent(Connection& connection, std::uint32_t events) {
  loop_.assertOwnThread();
  if (!handleOrClose(connection, events)) return;
  if (shutting_down_ && !connection.shuttingDown() && connection.receivedAny()) {
    if (!connection.beginShutdown()) {
      close(connection, metrics::CloseReason::kShutdown);
      return;
    }
  }
  if (connection.madeProgress() || connection.deadline()) scheduleTimeout(connection);
  rearm(connection);
}

// The last step of handling a connection: after this, its next event may fire.
void Worker::rearm(Connection& connection) {
  if (!loop_.rearm(connection.fd(), connection.interest(ioContext()), connection.registered_events, &connection)) {
    spdlog::error("worker {}: epoll_ctl(MOD) fd {}: {}", id_, connection.fd(), std::strerror(errno));
    close(connection, metrics::CloseReason::kError);
  }
}

void Worker::close(Connection& connection, metrics::CloseReason reason) {
  loop_.assertOwnThread();
  // Stopping with somewhere to pass them: a connection between requests goes
  // on to the next process instead.
  if (reason == metrics::CloseReason::kShutdown && handover_ != nullptr && connection.atRequestBoundary()) {
    reason = metrics::CloseReason::kHandover;
  }
  // EPOLL_CTL_DEL before close: the fd's interest lives with the open file,
  // and the fd number may be reused by the next accept at once.
  if (connection.registered_events != 0 && !loop_.forget(connection.fd())) {
    spdlog::error("worker {}: epoll_ctl(DEL) fd {}: {}", id_, connection.fd(), std::strerror(errno));
  }
  connection.closed = true;
  connection.onClosed(reason);
  counters_.connections_closed.increment();
  wheel_.cancel(connection);
  const bool handed_over = reason == metrics::CloseReason::kHandover;
  if (spdlog::should_log(spdlog::level::debug)) {
    spdlog::debug("{}, {} {}", connection.peer().ip(), connection.peer().port(),
                  handed_over ? "handed over to the next process" : "closed");
  }
  if (handed_over) handover_->add(connection.releaseSocket(), connection.listenerId());
  const std::size_t slot = connection.slot;
  std::swap(connections_[slot], connections_.back());
  connections_[slot]->slot = slot;
  closed_.push_back(std::move(connections_.back()));
  connections_.pop_back();
  open_connections_.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace epolld
