#include "core/connection.h"

#include <sys/sendfile.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

namespace epolld {
namespace {

// Reads into a connection's own input buffer get at least this much room.
constexpr std::size_t kMinReadRoom = 16 * 1024;

// How long a lingering close waits for the client to close its side.
constexpr std::chrono::seconds kLingerTime{2};

}  // namespace

Connection::Connection(UniqueFd fd, const SocketAddress& peer, std::shared_ptr<const Protocol> protocol,
                       std::uint32_t listener_id)
    : fd_(std::move(fd)),
      peer_(peer),
      protocol_(std::move(protocol)),
      session_(protocol_->newSession()),
      listener_id_(listener_id) {}

bool Connection::handle(std::uint32_t events, IoContext& io) {
  made_progress_ = false;
  // EPOLLERR and EPOLLHUP count as readable and writable: the call that
  // follows reports the error where it is handled anyway.
  if (hasPendingOutput() && !sendPending()) return false;
  if (!hasPendingOutput() && !input_.empty() && !closing_) {
    // Output drained: offer what the session held back while it was full.
    input_.consume(offer(input_.view(), io));
    if (failed_) return false;
  }
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) && !readInput(events, io)) return false;
  if (input_closed_ && !input_.empty() && !hasPendingOutput() && !closing_) {
    // No more input will come: give the session its last chance at the tail.
    input_.consume(offer(input_.view(), io));
    if (failed_) return false;
  }
  input_.releaseIfEmpty();
  if (closing_ && !lingering_ && !input_closed_ && !hasPendingOutput() && !failed_) startLingering(io);
  return !finished();
}

// Closing a socket with unread input makes the kernel send RST, which can
// destroy the reply we just sent before the client reads it (a rejected
// request's body, pipelined requests after "Connection: close"). So when
// input is waiting, shut down our side and read and discard until the client
// closes too, or the linger deadline passes (nginx's lingering close).
void Connection::startLingering(IoContext& io) {
  // The last read found the socket empty: like nginx, trust that instead of
  // paying a syscall on every close to look again.
  if (drained_) return;
  const ssize_t waiting = recv(fd_.get(), io.input_scratch.data(), io.input_scratch.size(), MSG_DONTWAIT);
  if (waiting == 0 || (waiting < 0 && errno != EINTR)) return;  // EOF, EAGAIN or an error: close now
  if (shutdown(fd_.get(), SHUT_WR) != 0) return;  // ENOTCONN: the peer is gone already
  lingering_ = true;
  linger_deadline_ = std::chrono::steady_clock::now() + kLingerTime;
}

bool Connection::beginShutdown() {
  shutting_down_ = true;
  return !finished();
}

std::uint32_t Connection::interest(const IoContext& io) const {
  std::uint32_t events = 0;
  if (wantsInput(io)) events |= EPOLLIN | EPOLLRDHUP;
  if (hasPendingOutput()) events |= EPOLLOUT;
  return events;
}

bool Connection::wantsInput(const IoContext& io) const {
  if (lingering_) return !input_closed_;
  if (input_closed_ || closing_ || failed_) return false;
  if (shutting_down_ && session_->idle()) return false;
  // Back-pressure: a client that does not read its replies is not read either.
  return !file_ && output_.size() < io.buffer_limit && input_.size() < io.buffer_limit;
}

bool Connection::finished() const {
  if (failed_) return true;
  if (hasPendingOutput()) return false;
  if (lingering_) return input_closed_;
  return input_closed_ || closing_ || (shutting_down_ && session_->idle());
}

bool Connection::readInput(std::uint32_t events, IoContext& io) {
  std::size_t budget = io.read_budget;
  while (wantsInput(io)) {
    const bool into_scratch = input_.empty();
    std::span<char> room = into_scratch ? io.input_scratch : input_.reserve(kMinReadRoom);
    const std::size_t wanted = std::min(room.size(), budget);
    const ssize_t received = recv(fd_.get(), room.data(), wanted, 0);
    if (received < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        drained_ = true;
        break;
      }
      // ECONNRESET, ETIMEDOUT, EHOSTUNREACH…: the peer is gone.
      spdlog::debug("{} recv: {}", fd(), std::strerror(errno));
      return false;
    }
    if (received == 0) {
      input_closed_ = true;
      break;
    }
    const auto count = static_cast<std::size_t>(received);
    drained_ = count < wanted;
    received_any_ = true;
    budget -= count;
    if (lingering_) continue;  // discarded; and no progress, so the deadline holds
    made_progress_ = true;
    if (into_scratch) {
      const std::string_view fresh(room.data(), count);
      input_.append(fresh.substr(offer(fresh, io)));
    } else {
      input_.commit(count);
      input_.consume(offer(input_.view(), io));
    }
    if (failed_) return false;
    if (input_.size() >= io.buffer_limit && !hasPendingOutput()) {
      // The session neither consumes its input nor owes output: it never will.
      spdlog::debug("{} input buffer limit reached", fd());
      return false;
    }
    if (budget == 0) break;  // fair to the others; the re-arm fires again at once
    // A short read drained the socket (epoll(7)), unless the peer's FIN is
    // also pending: then read on to see the end, or the tail would wait.
    if (count < wanted && !(events & EPOLLRDHUP)) break;
  }
  return true;
}

// Gives `input` to the session and sends what it replies. Replies go to the
// worker's scratch buffer when nothing is pending, and straight to the socket
// from there: only what the socket does not take is copied into output_.
std::size_t Connection::offer(std::string_view input, IoContext& io) {
  if (next_protocol_ && session_->idle()) {
    protocol_ = std::move(next_protocol_);
    session_ = protocol_->newSession();
  }
  const bool direct = !hasPendingOutput();
  Exchange exchange(fd(), direct ? io.output_scratch : output_, file_);
  const std::size_t consumed = session_->onInput(input, exchange);
  closing_ = closing_ || exchange.closing();
  if (exchange.clientMayBeSending()) drained_ = false;
  io.requests_served += exchange.requestsServed();
  if (direct) {
    std::size_t sent = 0;
    const std::string_view reply = io.output_scratch.view();
    if (!reply.empty() && !sendNow(reply, sent)) failed_ = true;
    if (!failed_ && sent < reply.size()) output_.append(reply.substr(sent));
    io.output_scratch.clear();
    if (!failed_ && output_.empty() && file_ && !sendFileSlice()) failed_ = true;
  } else if (!sendPending()) {
    failed_ = true;
  }
  return consumed;
}

bool Connection::sendPending() {
  std::size_t sent = 0;
  const bool ok = sendNow(output_.view(), sent);
  output_.consume(sent);
  output_.releaseIfEmpty();
  if (!ok) return false;
  return !output_.empty() || !file_ || sendFileSlice();
}

// Sends the next slice of the queued file. The slice is bounded so that one
// big download does not hold up the worker's other connections; the re-arm
// with EPOLLOUT brings it back while the socket still has room.
bool Connection::sendFileSlice() {
  constexpr std::uint64_t kSliceBytes = 1024 * 1024;
  std::uint64_t budget = kSliceBytes;
  while (file_->remaining > 0 && budget > 0) {
    const std::size_t chunk = static_cast<std::size_t>(std::min(file_->remaining, budget));
    const ssize_t n = sendfile(fd_.get(), file_->file.get(), &file_->offset, chunk);
    if (n > 0) {
      file_->remaining -= static_cast<std::uint64_t>(n);
      budget -= static_cast<std::uint64_t>(n);
      made_progress_ = true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n == 0) {
      // The file shrank under us: the promised Content-Length cannot be kept,
      // and only closing tells the client the response is cut short.
      spdlog::warn("{} sendfile: file ended {} bytes early", fd(), file_->remaining);
      return false;
    }
    spdlog::debug("{} sendfile: {}", fd(), std::strerror(errno));  // EPIPE, ECONNRESET, EIO…
    return false;
  }
  if (file_->remaining == 0) file_.reset();  // closes the file as soon as it is sent
  return true;
}

// Sends as much of `bytes` as the socket takes now. False if the peer is gone.
bool Connection::sendNow(std::string_view bytes, std::size_t& sent) {
  while (sent < bytes.size()) {
    // MSG_NOSIGNAL: a vanished peer gives EPIPE here instead of SIGPIPE.
    const ssize_t n = send(fd_.get(), bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n >= 0) {
      sent += static_cast<std::size_t>(n);
      made_progress_ = made_progress_ || n > 0;
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;  // the rest waits for EPOLLOUT
    spdlog::debug("{} send: {}", fd(), std::strerror(errno));  // EPIPE, ECONNRESET…
    return false;
  }
  return true;
}

}  // namespace epolld
