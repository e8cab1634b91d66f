#include "core/connection.h"

#include <sys/sendfile.h>
#include <sys/socket.h>

#include <algorithm>
#include <iterator>
#include <cerrno>
#include <cstring>
#include <variant>

#include <spdlog/spdlog.h>

namespace epolld {
namespace {

// Reads into a connection's own input buffer get at least this much room.
constexpr std::size_t kMinReadRoom = 16 * 1024;

// How long a lingering close waits for the client to close its side.
constexpr std::chrono::seconds kLingerTime{2};

// The most of a queued body sent per event.
constexpr std::size_t kSliceBytes = 1024 * 1024;

}  // namespace

Connection::Connection(UniqueFd fd, const SocketAddress& peer, std::shared_ptr<const Protocol> protocol,
                       std::uint32_t listener_id, std::shared_ptr<metrics::ListenerStats> stats, unsigned worker)
    : fd_(std::move(fd)),
      peer_(peer),
      protocol_(std::move(protocol)),
      session_(protocol_->newSession()),
      listener_id_(listener_id),
      stats_(std::move(stats)),
      counters_(stats_->worker(worker)) {}

bool Connection::handle(std::uint32_t events, IoContext& io) {
  const bool open = handleEvents(events, io);
  settleAnswers(io, !open);
  return open;
}

metrics::CloseReason Connection::closeReason() const {
  using metrics::CloseReason;
  if (failed_) return CloseReason::kError;
  if (lingering_ || closing_) return CloseReason::kDone;
  if (shutting_down_) return CloseReason::kShutdown;
  if (input_closed_) return CloseReason::kPeer;
  return CloseReason::kError;  // it broke the input limit
}

void Connection::onClosed(metrics::CloseReason reason) {
  if (!unsent_answers_.empty()) countAnswers(unsent_answers_, std::chrono::steady_clock::now());
  unsent_answers_.clear();
  counters_.closed_by_reason[static_cast<std::size_t>(reason)].increment();
  counters_.closed.increment();  // last: a reader that sees it sees the rest (ListenerStats::sum)
}

// An answer counts once its response has been handed to the kernel whole:
// now if nothing is pending, else once the output drains (or the connection
// closes, sent or not). Most answers go out at once, without being copied.
void Connection::settleAnswers(IoContext& io, bool closing) {
  if (io.answers.empty() && unsent_answers_.empty()) return;
  if (hasPendingOutput() && !closing) {
    std::move(io.answers.begin(), io.answers.end(), std::back_inserter(unsent_answers_));
  } else {
    const auto now = std::chrono::steady_clock::now();
    countAnswers(unsent_answers_, now);  // the older ones first
    countAnswers(io.answers, now);
    unsent_answers_.clear();
  }
  io.answers.clear();
}

void Connection::countAnswers(std::span<Answer> answers, std::chrono::steady_clock::time_point now) {
  for (Answer& answer : answers) {
    const auto duration = std::chrono::duration_cast<std::chrono::nanoseconds>(now - answer.started);
    const auto ns = static_cast<std::uint64_t>(std::max<std::int64_t>(duration.count(), 0));
    counters_.countRequest(answer.status, ns);
    if (answer.log) answer.log->finish(answer.line, ns / 1000);
  }
}

bool Connection::handleEvents(std::uint32_t events, IoContext& io) {
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
  // Output waits for the socket: by the time it has gone, what the last
  // read found is stale (the client may have pipelined more meanwhile).
  if (hasPendingOutput()) drained_ = false;
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
  if (waiting == 0) return;  // EOF: nothing more can come
  if (waiting > 0) counters_.bytes_received.add(static_cast<std::uint64_t>(waiting));
  if (waiting < 0) {
    // Nothing waiting yet, but a client cut off mid-request (a rejected
    // body) is most likely still sending: closing now would answer its next
    // segment with a reset that destroys our reply. Otherwise EAGAIN or an
    // error: close now.
    const bool look_again = errno == EINTR || (errno == EAGAIN && peer_may_be_sending_);
    if (!look_again) return;
  }
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
  return !body_ && output_.size() < io.buffer_limit && input_.size() < inputLimit(io);
}

std::size_t Connection::inputLimit(const IoContext& io) const {
  return std::max(io.buffer_limit, protocol_->unconsumedInputLimit());
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
      failed_ = true;
      return false;
    }
    if (received == 0) {
      input_closed_ = true;
      break;
    }
    const auto count = static_cast<std::size_t>(received);
    counters_.bytes_received.add(count);
    drained_ = count < wanted;
    received_any_ = true;
    budget -= count;
    // Lingering, the bytes are discarded; that is no progress, so the linger
    // deadline holds. The budget counts them all the same.
    if (!lingering_ && !deliver(room.first(count), into_scratch, io)) return false;
    if (budget == 0) break;  // fair to the others; the re-arm fires again at once
    // A short read drained the socket (epoll(7)), unless the peer's FIN is
    // also pending: then read on to see the end, or the tail would wait.
    if (count < wanted && !(events & EPOLLRDHUP)) break;
  }
  return true;
}

// Hands bytes just received (into the worker's scratch, or appended to
// input_) to the session. Returns false when the connection must close.
bool Connection::deliver(std::span<char> received, bool into_scratch, IoContext& io) {
  made_progress_ = true;
  if (into_scratch) {
    const std::string_view fresh(received.data(), received.size());
    input_.append(fresh.substr(offer(fresh, io)));
  } else {
    input_.commit(received.size());
    input_.consume(offer(input_.view(), io));
  }
  if (failed_) return false;
  if (input_.size() >= inputLimit(io) && !hasPendingOutput()) {
    // The session neither consumes its input nor owes output: it never will.
    spdlog::debug("{} input buffer limit reached", fd());
    return false;
  }
  return true;
}

// Gives `input` to the session, and again for as long as it held back only
// because its output was full or a body was queued and the socket has taken
// all of that meanwhile: no event would come for input already buffered.
std::size_t Connection::offer(std::string_view input, IoContext& io) {
  std::size_t consumed = 0;
  bool held_back = false;
  do {
    consumed += offerOnce(input.substr(consumed), io, held_back);
  } while (held_back && consumed < input.size() && !hasPendingOutput() && !closing_ && !failed_);
  return consumed;
}

// Replies go to the worker's scratch buffer when nothing is pending, and
// straight to the socket from there: only what the socket does not take is
// copied into output_.
std::size_t Connection::offerOnce(std::string_view input, IoContext& io, bool& held_back) {
  if (next_protocol_ && session_->idle()) {
    protocol_ = std::move(next_protocol_);
    session_ = protocol_->newSession();
  }
  const bool direct = !hasPendingOutput();
  Exchange exchange(fd(), peer_, direct ? io.output_scratch : output_, body_, io.buffer_limit, io.answers);
  const std::size_t consumed = session_->onInput(input, exchange);
  held_back = exchange.outputFull() || exchange.bodyQueued();
  closing_ = closing_ || exchange.closing();
  if (exchange.clientMayBeSending()) {
    drained_ = false;
    peer_may_be_sending_ = true;
  }
  if (direct) {
    std::size_t sent = 0;
    const std::string_view reply = io.output_scratch.view();
    if (!reply.empty() && !sendNow(reply, sent)) failed_ = true;
    if (!failed_ && sent < reply.size()) output_.append(reply.substr(sent));
    io.output_scratch.clear();
    if (!failed_ && output_.empty() && body_ && !sendBodySlice()) failed_ = true;
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
  return !output_.empty() || !body_ || sendBodySlice();
}

// Sends the next slice of the queued body. A slice is bounded so that one big
// download does not hold up the worker's other connections; the re-arm with
// EPOLLOUT brings it back while the socket still has room.
bool Connection::sendBodySlice() {
  bool ok;
  bool done;
  if (auto* file = std::get_if<FileBody>(&*body_)) {
    ok = sendFileSlice(*file);
    done = file->remaining == 0;
  } else {
    auto& shared = std::get<SharedBytes>(*body_);
    ok = sendSharedSlice(shared);
    done = shared.offset == shared.bytes->size();
  }
  if (ok && done) body_.reset();  // a file is closed as soon as it is sent
  return ok;
}

bool Connection::sendSharedSlice(SharedBytes& shared) {
  std::size_t sent = 0;
  const bool ok = sendNow(std::string_view(*shared.bytes).substr(shared.offset, kSliceBytes), sent);
  shared.offset += sent;
  return ok;
}

bool Connection::sendFileSlice(FileBody& file) {
  std::uint64_t budget = kSliceBytes;
  while (file.remaining > 0 && budget > 0) {
    const std::size_t chunk = static_cast<std::size_t>(std::min(file.remaining, budget));
    const ssize_t n = sendfile(fd_.get(), file.file.get(), &file.offset, chunk);
    if (n > 0) {
      counters_.bytes_sent.add(static_cast<std::uint64_t>(n));
      file.remaining -= static_cast<std::uint64_t>(n);
      budget -= static_cast<std::uint64_t>(n);
      made_progress_ = true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n == 0) {
      // The file shrank under us: the promised Content-Length cannot be kept,
      // and only closing tells the client the response is cut short.
      spdlog::warn("{} sendfile: file ended {} bytes early", fd(), file.remaining);
      return false;
    }
    spdlog::debug("{} sendfile: {}", fd(), std::strerror(errno));  // EPIPE, ECONNRESET, EIO…
    return false;
  }
  return true;
}

// Sends as much of `bytes` as the socket takes now. False if the peer is gone.
bool Connection::sendNow(std::string_view bytes, std::size_t& sent) {
  while (sent < bytes.size()) {
    // MSG_NOSIGNAL: a vanished peer gives EPIPE here instead of SIGPIPE.
    const ssize_t n = send(fd_.get(), bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n >= 0) {
      counters_.bytes_sent.add(static_cast<std::uint64_t>(n));
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
