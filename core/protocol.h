// The engine's only view of a protocol. A Protocol is made once per listener
// from its configuration and is immutable, so sessions on every worker share
// it; a Session holds one connection's protocol state and is only ever used by
// the worker that owns that connection.
#pragma once

#include <chrono>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/buffer.h"
#include "core/socket_address.h"
#include "core/unique_fd.h"

namespace epolld {

// A byte range of an open file, sent with sendfile(2) after the bytes before it.
struct FileBody {
  UniqueFd file;
  off_t offset = 0;
  std::uint64_t remaining = 0;
};

// Bytes sent in place rather than copied into the output: a large configured
// body, which a pipelining client would otherwise multiply in memory. Owning a
// reference keeps them alive until sent, even across a reload.
struct SharedBytes {
  std::shared_ptr<const std::string> bytes;
  std::size_t offset = 0;  // what has been sent so far
};

// A body that goes out after the bytes written before it.
using QueuedBody = std::variant<FileBody, SharedBytes>;

// Where a protocol's per-request log lines go (an access log). A line needs
// the request's duration, known only once its response has been sent: the
// session writes the rest of it, the connection has it finished then.
class AnswerLog {
 public:
  virtual ~AnswerLog() = default;
  // Appends the duration to `line` and writes it. Called from the worker.
  virtual void finish(std::string& line, std::uint64_t duration_us) const = 0;
};

// One request answered. The connection counts it (status, duration) once the
// response's last byte has been handed to the kernel, and finishes its line.
struct Answer {
  int status = 0;
  std::chrono::steady_clock::time_point started;  // when its first byte was read
  std::shared_ptr<const AnswerLog> log;  // null: no line for it
  std::string line;                      // all of the line but the duration
};

// What a session sees of its connection while it handles input.
class Exchange {
 public:
  Exchange(int fd, const SocketAddress& peer, Buffer& output, std::optional<QueuedBody>& body,
           std::size_t output_limit, std::vector<Answer>& answers)
      : fd_(fd), peer_(peer), output_(output), body_(body), output_limit_(output_limit), answers_(answers) {}

  int fd() const { return fd_; }  // names the connection in log lines
  const SocketAddress& peer() const { return peer_; }
  void send(std::string_view bytes) { output_.append(bytes); }
  Buffer& output() { return output_; }  // for replies built in place
  // Queues a file range, or shared bytes, after the bytes sent so far. Until
  // it has gone out, nothing more can be queued: the session stops consuming
  // (bodyQueued()) and is offered the rest of its input again once it is sent.
  void sendFile(FileBody file) { body_ = std::move(file); }
  void sendShared(std::shared_ptr<const std::string> bytes) { body_ = SharedBytes{std::move(bytes), 0}; }
  bool bodyQueued() const { return body_.has_value(); }
  // The connection's pending output has reached output_buffer_limit: a session
  // stops producing (and consuming) until it drains and the rest of its input
  // is offered again. However many requests one read holds, a connection then
  // holds about the limit, plus one response, of output.
  bool outputFull() const { return output_.size() >= output_limit_; }
  // Nothing more will be read; the connection closes once its output is sent.
  // `client_may_be_sending`: the client was cut off mid-request, so look for
  // unread input before closing, and linger while it drains.
  void closeAfterSending(bool client_may_be_sending = false) {
    close_after_sending_ = true;
    client_may_be_sending_ = client_may_be_sending;
  }
  bool clientMayBeSending() const { return client_may_be_sending_; }
  bool closing() const { return close_after_sending_; }
  // A request has been answered (its head is in the output).
  void answered(Answer answer) { answers_.push_back(std::move(answer)); }
  // The time now, read once per exchange: a session that stamps several
  // requests of one read pays for one clock read.
  std::chrono::steady_clock::time_point now() {
    if (!now_) now_ = std::chrono::steady_clock::now();
    return *now_;
  }

 private:
  int fd_;
  const SocketAddress& peer_;
  Buffer& output_;
  std::optional<QueuedBody>& body_;
  std::size_t output_limit_;
  std::vector<Answer>& answers_;
  std::optional<std::chrono::steady_clock::time_point> now_;
  bool close_after_sending_ = false;
  bool client_may_be_sending_ = false;
};

class Session {
 public:
  virtual ~Session() = default;

  // Handles bytes from the client and returns how many it consumed; the rest
  // is offered again, with whatever arrives after it, on the next call. It is
  // called again with unconsumed bytes after the output drains, so a session
  // may stop consuming to apply back-pressure.
  virtual std::size_t onInput(std::string_view input, Exchange& exchange) = 0;

  // True when closing now loses nothing the client asked for (no request
  // half-read, nothing owed): graceful shutdown closes idle sessions at once.
  virtual bool idle() const = 0;

  // A deadline of the session's own, besides the engine's idle timeout: for
  // example, the whole request head must have arrived by then (slowloris).
  virtual std::optional<std::chrono::steady_clock::time_point> deadline() const { return std::nullopt; }
};

class Protocol {
 public:
  virtual ~Protocol() = default;
  virtual std::unique_ptr<Session> newSession() const = 0;
  // True when a client always speaks first and a connection is of no use
  // until it has (HTTP). Its listener then lets the kernel hold a new
  // connection until its first bytes arrive (TCP_DEFER_ACCEPT), so the
  // acceptor wakes once per request rather than once per handshake, and the
  // worker finds the request already there.
  virtual bool clientSpeaksFirst() const { return false; }
  // The most input a session may hold unconsumed before it can answer (a
  // whole HTTP request head): the connection's input limit is never below
  // it, so the protocol's own limit (431, 414) answers first rather than the
  // connection being dropped without a word.
  virtual std::size_t unconsumedInputLimit() const { return 0; }
  // True when its sessions answer requests (Exchange::answered): its
  // listener's request counts and durations are worth reporting.
  virtual bool answersRequests() const { return false; }
};

}  // namespace epolld
