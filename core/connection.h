// One client connection: its socket, its buffers and its protocol session.
//
// A connection belongs to exactly one worker, which alone calls into it; it
// never touches the poller or other connections. It reads into the worker's
// scratch space and keeps bytes of its own only when they cannot be handed on
// at once (unconsumed input, unsent output), so an idle connection holds no
// buffer memory and the common round trip copies nothing into it.
#pragma once

#include <sys/epoll.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/buffer.h"
#include "core/metrics/listener_stats.h"
#include "core/protocol.h"
#include "core/socket_address.h"
#include "core/timer_wheel.h"
#include "core/unique_fd.h"

namespace epolld {

// What the worker lends a connection for the duration of one event.
struct IoContext {
  std::span<char> input_scratch;
  Buffer& output_scratch;
  std::size_t buffer_limit;  // per-connection cap on buffered input and on pending output
  std::size_t read_budget;   // bytes read per event before yielding to other connections
  std::vector<Answer>& answers;  // what the session answered during this event; empty between events
};

// A connection is its own idle-timer entry, so the worker's wheel finds it
// without a lookup.
class Connection : public TimerWheel::Entry {
 public:
  // Counts into `stats`' block for `worker`, the worker that owns it.
  Connection(UniqueFd fd, const SocketAddress& peer, std::shared_ptr<const Protocol> protocol,
             std::uint32_t listener_id, std::shared_ptr<metrics::ListenerStats> stats, unsigned worker);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  int fd() const { return fd_.get(); }
  const SocketAddress& peer() const { return peer_; }
  std::uint32_t listenerId() const { return listener_id_; }

  // A reload changed the listener's options: the next request is served with
  // `next`. The session is replaced when it is idle, between requests, so no
  // request is answered half with the old options and half with the new.
  void replaceProtocol(std::shared_ptr<const Protocol> next) { next_protocol_ = std::move(next); }

  // Handles the ready `events`. Returns false when it must be closed now.
  bool handle(std::uint32_t events, IoContext& io);
  // Why it is being closed, once handle() has said it must be.
  metrics::CloseReason closeReason() const;
  // Its deadline passed: a timeout, or the end of a lingering close.
  metrics::CloseReason timeoutReason() const {
    return lingering_ ? metrics::CloseReason::kDone : metrics::CloseReason::kTimeout;
  }
  // The worker has closed it: what it answered is counted, sent or not.
  void onClosed(metrics::CloseReason reason);

  // Graceful shutdown: no new requests. Returns false when it can close now.
  bool beginShutdown();
  bool shuttingDown() const { return shutting_down_; }
  bool receivedAny() const { return received_any_; }

  // Between requests with nothing held in either direction: its socket is
  // all there is of it, so another process can carry on serving it.
  bool atRequestBoundary() const {
    return !failed_ && !input_closed_ && !closing_ && !lingering_ && input_.empty() && !hasPendingOutput() &&
           session_->idle();
  }
  // Gives up the socket (to pass it on): the connection is closed then.
  UniqueFd releaseSocket() { return std::move(fd_); }

  // The events it waits for now: EPOLLIN while it wants input, EPOLLOUT while
  // output is pending. Never empty for a connection that is still open.
  std::uint32_t interest(const IoContext& io) const;

  // A deadline of its own besides the idle timeout: the session's (see
  // Session::deadline), or the end of a lingering close.
  std::optional<std::chrono::steady_clock::time_point> deadline() const {
    return lingering_ ? std::optional(linger_deadline_) : session_->deadline();
  }

  // Whether the last handle() moved any bytes (for the idle timer).
  bool madeProgress() const { return made_progress_; }

  // Bookkeeping that belongs to the owning worker, not to the connection.
  std::size_t slot = 0;                // index in the worker's list, for O(1) removal
  std::uint32_t registered_events = 0;  // what epoll has now (level-triggered mode)
  bool closed = false;                 // events for it later in the same batch are stale

 private:
  bool handleEvents(std::uint32_t events, IoContext& io);
  void settleAnswers(IoContext& io, bool closing);
  void countAnswers(std::span<Answer> answers, std::chrono::steady_clock::time_point now);
  bool wantsInput(const IoContext& io) const;
  bool finished() const;
  bool readInput(std::uint32_t events, IoContext& io);
  bool deliver(std::span<char> received, bool into_scratch, IoContext& io);
  void startLingering(IoContext& io);
  std::size_t offer(std::string_view input, IoContext& io);
  std::size_t offerOnce(std::string_view input, IoContext& io, bool& held_back);
  std::size_t inputLimit(const IoContext& io) const;
  bool hasPendingOutput() const { return !output_.empty() || body_.has_value(); }
  bool sendPending();
  bool sendNow(std::string_view bytes, std::size_t& sent);
  bool sendBodySlice();
  bool sendFileSlice(FileBody& file);
  bool sendSharedSlice(SharedBytes& shared);

  UniqueFd fd_;
  SocketAddress peer_;
  std::shared_ptr<const Protocol> protocol_;  // keeps the session's options alive
  std::shared_ptr<const Protocol> next_protocol_;  // from a reload, until the session is idle
  std::unique_ptr<Session> session_;
  std::uint32_t listener_id_;
  std::shared_ptr<metrics::ListenerStats> stats_;  // keeps counters_ alive
  metrics::ListenerCounters& counters_;
  // Answers whose responses are still in output_ or body_: counted once sent.
  std::vector<Answer> unsent_answers_;
  Buffer input_;   // bytes the session has not consumed yet
  Buffer output_;  // bytes the socket has not taken yet
  std::optional<QueuedBody> body_;  // goes out after output_
  bool input_closed_ = false;    // the peer shut down its sending side
  bool closing_ = false;         // the session asked to close once output is sent
  bool shutting_down_ = false;   // the daemon is stopping
  bool failed_ = false;          // the socket reported an error: close at once
  bool made_progress_ = false;
  bool drained_ = false;         // the last read found the socket empty
  bool peer_may_be_sending_ = false;  // the session stopped reading mid-request
  bool received_any_ = false;
  bool lingering_ = false;       // our side is shut down; input is read and dropped
  std::chrono::steady_clock::time_point linger_deadline_{};
};

}  // namespace epolld
