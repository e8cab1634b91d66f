// One HTTP connection's requests, parsed as they arrive and answered in order.
#include <chrono>
#include <optional>
#include <string>

#include <spdlog/spdlog.h>

#include "core/log/access_log.h"
#include "core/log/escape.h"
#include "core/log/rate_limiter.h"
#include "protocols/http/access_log_format.h"
#include "protocols/http/http.h"
#include "protocols/http/http_options.h"
#include "protocols/http/request_parser.h"
#include "protocols/http/response.h"
#include "protocols/http/static_files.h"

namespace epolld {
namespace {

using Clock = std::chrono::steady_clock;
using http::RequestParser;

enum class Method { kGet, kHead, kOtherKnown, kNotImplemented };

// What epolld implements: GET and HEAD read, and the methods whose request
// bodies it reads and discards. Anything else is 501 (RFC 9110 §9.1).
Method classify(std::string_view method) {
  if (method == "GET") return Method::kGet;
  if (method == "HEAD") return Method::kHead;
  for (std::string_view known : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    if (method == known) return Method::kOtherKnown;
  }
  return Method::kNotImplemented;
}

// A listener's access log: the file and the line format. Lines are begun
// when a request is answered and finished by the connection, with the
// request's duration, once the response has gone out.
class AccessLogWriter final : public AnswerLog {
 public:
  // Throws std::runtime_error when the file cannot be opened.
  AccessLogWriter(const std::string& path, http::AccessLogFormat format)
      : file_(log::openAccessLog(path)), format_(format) {}

  void begin(std::string& line, const http::AccessLogEntry& entry) const { http::appendLineHead(line, format_, entry); }
  void finish(std::string& line, std::uint64_t duration_us) const override {
    http::appendLineTail(line, format_, duration_us);
    line.pop_back();  // the file ends each line itself
    file_->write(line);
  }

 private:
  const std::shared_ptr<log::AccessLogFile> file_;
  const http::AccessLogFormat format_;
};

// The local time's offset from UTC, looked up at most once a second per
// thread: localtime_r takes glibc's time-zone lock.
std::chrono::minutes utcOffsetAt(std::chrono::system_clock::time_point now) {
  thread_local std::chrono::sys_seconds looked_up{};
  thread_local std::chrono::minutes offset{};
  const auto second = std::chrono::floor<std::chrono::seconds>(now);
  if (second != looked_up) {
    offset = http::localUtcOffset(now);
    looked_up = second;
  }
  return offset;
}

class HttpProtocol final : public Protocol {
 public:
  // Throws std::runtime_error when `root` is set but cannot be opened.
  HttpProtocol(const http::HttpOptions& options, http::Responder responder)
      : options_(options),
        limits_(http::ParserLimits::from(options)),
        responder_(std::move(responder)),
        error_log_(10, std::chrono::seconds(10)) {
    if (options_.root) files_.emplace(*options_.root);
    if (options_.access_log) {
      access_log_ = std::make_shared<const AccessLogWriter>(*options_.access_log, options_.access_log_format);
    }
    if (options_.body.size() > kLargestCopiedBody) shared_body_ = std::make_shared<const std::string>(options_.body);
  }

  std::unique_ptr<Session> newSession() const override;
  bool clientSpeaksFirst() const override { return true; }
  bool answersRequests() const override { return true; }
  // A head is consumed only once it is whole: the request line, its CRLF,
  // and a header section one byte over its limit are the most held before
  // the parser answers 414 or 431.
  std::size_t unconsumedInputLimit() const override {
    return limits_.max_request_line + limits_.max_header_bytes + kHeadSlack;
  }

  const http::HttpOptions& options() const { return options_; }
  const http::ParserLimits& limits() const { return limits_; }
  log::RateLimiter& errorLog() const { return error_log_; }
  // The files under `root`, or nullptr when the configured body is served.
  const http::StaticFiles* files() const { return files_ ? &*files_ : nullptr; }
  // What answers GET and HEAD instead of body or files; empty when none does.
  const http::Responder& responder() const { return responder_; }
  // Null without `access_log`.
  const std::shared_ptr<const AccessLogWriter>& accessLog() const { return access_log_; }
  // The configured body when it is too large to copy into every response.
  const std::shared_ptr<const std::string>& sharedBody() const { return shared_body_; }

 private:
  // Bodies up to this size are copied after the head, to go out in one send;
  // larger ones are sent in place, so that pipelined requests cannot make the
  // output buffer hold many copies of one body.
  static constexpr std::size_t kLargestCopiedBody = 16 * 1024;
  static constexpr std::size_t kHeadSlack = 64;  // CRLFs and the byte over the limit

  const http::HttpOptions options_;
  const http::ParserLimits limits_;
  const http::Responder responder_;
  std::optional<http::StaticFiles> files_;
  std::shared_ptr<const std::string> shared_body_;
  std::shared_ptr<const AccessLogWriter> access_log_;
  mutable log::RateLimiter error_log_;  // shared by every worker: it is lock-free
};

class HttpSession final : public Session {
 public:
  // The head deadline starts at once: a client that connects and sends
  // nothing is closed after header_timeout, like one that sends too slowly.
  explicit HttpSession(const HttpProtocol& protocol)
      : protocol_(protocol),
        parser_(protocol.limits()),
        request_started_(Clock::now()),
        head_deadline_(request_started_ + protocol.options().header_timeout) {}

  std::size_t onInput(std::string_view input, Exchange& exchange) override;
  bool idle() const override { return parser_.idle(); }
  std::optional<Clock::time_point> deadline() const override { return head_deadline_; }

 private:
  // What the request being read will be answered with. It is decided from
  // its head, whose bytes are gone by the time its body has been read.
  struct Answer {
    Method method = Method::kGet;
    bool keep_alive = true;
    bool http10 = false;
    std::optional<http::FileResponse> file;  // with `root`: the file is opened at the head
    std::optional<http::Reply> reply;        // with a responder: made at the head
  };

  void onHead(Exchange& exchange);
  void respond(Exchange& exchange);
  void reject(Exchange& exchange);
  void sendFileResponse(Exchange& exchange, http::FileResponse& response);
  void sendReply(Exchange& exchange, const http::Reply& reply);
  void sendSimple(Exchange& exchange, int status, bool keep_alive, std::string_view extra_fields = {});
  http::ResponseHead headFor(int status, bool keep_alive) const;
  void sendHead(Exchange& exchange, const http::ResponseHead& head);
  void noteForAccessLog(const http::Request& request);
  void noteUnparsedForAccessLog(std::string_view input);

  const HttpProtocol& protocol_;  // the connection holds it alive
  RequestParser parser_;
  Answer answer_;
  Clock::time_point request_started_;  // the first byte of the request being read
  std::optional<Clock::time_point> head_deadline_;
  // With an access log: what its line says of the request being answered,
  // copied at its head (the head's bytes are gone by the time it is answered).
  struct Logged {
    std::string method;  // empty: the request line could not be parsed
    std::string target;
    std::string protocol;
    std::string raw_line;
    std::optional<std::string> referer;
    std::optional<std::string> user_agent;
  } logged_;
};

std::unique_ptr<Session> HttpProtocol::newSession() const { return std::make_unique<HttpSession>(*this); }

std::size_t HttpSession::onInput(std::string_view input, Exchange& exchange) {
  std::size_t used = 0;
  // A queued body must go out before the next response, and a full output
  // must drain first: stop consuming, and the connection offers the rest
  // again once it has.
  while (!exchange.closing() && !exchange.bodyQueued() && !exchange.outputFull()) {
    if (parser_.idle() && used < input.size()) {
      request_started_ = exchange.now();
      if (!head_deadline_) head_deadline_ = request_started_ + protocol_.options().header_timeout;
      if (protocol_.accessLog()) noteUnparsedForAccessLog(input.substr(used));
    }
    const RequestParser::Result result = parser_.feed(input.substr(used));
    used += result.consumed;
    switch (result.event) {
      case RequestParser::Event::kNeedMore:
        return used;
      case RequestParser::Event::kHead:
        head_deadline_.reset();
        onHead(exchange);
        break;
      case RequestParser::Event::kBody:
        break;  // read and discarded: the body only has to be framed
      case RequestParser::Event::kComplete:
        respond(exchange);
        break;
      case RequestParser::Event::kError:
        reject(exchange);
        return input.size();  // nothing after a framing error can be trusted
    }
  }
  return used;
}

void HttpSession::onHead(Exchange& exchange) {
  const http::Request& request = parser_.request();
  if (spdlog::should_log(spdlog::level::debug)) {
    const std::string line = std::string(request.method) + " " + std::string(request.target) + " HTTP/1." +
                             std::to_string(request.minor_version);
    spdlog::debug("{} receive {}", exchange.fd(), log::escapeForLog(line));
  }
  if (protocol_.accessLog()) noteForAccessLog(request);
  answer_ = Answer{classify(request.method), request.keep_alive, request.minor_version == 0, std::nullopt, std::nullopt};
  const bool reads = answer_.method == Method::kGet || answer_.method == Method::kHead;
  if (const http::StaticFiles* files = protocol_.files(); files && reads) {
    answer_.file = files->respond(request, answer_.method == Method::kHead);
  } else if (protocol_.responder() && reads) {
    answer_.reply = protocol_.responder()(request.path);
  }
  // RFC 9110 §10.1.1: a client waiting for 100 (Continue) gets it before
  // the body is read.
  if (request.expect_continue && request.framing != http::Framing::kNone) {
    exchange.send("HTTP/1.1 100 Continue\r\n\r\n");
  }
}

void HttpSession::respond(Exchange& exchange) {
  const http::HttpOptions& options = protocol_.options();
  if (answer_.method == Method::kNotImplemented) {
    sendSimple(exchange, 501, answer_.keep_alive);
    return;
  }
  if (answer_.file) {
    sendFileResponse(exchange, *answer_.file);
    answer_.file.reset();
    return;
  }
  if (answer_.reply) {
    sendReply(exchange, *answer_.reply);
    answer_.reply.reset();
    return;
  }
  if (protocol_.files() || protocol_.responder()) {
    sendSimple(exchange, 405, answer_.keep_alive, "Allow: GET, HEAD\r\n");  // RFC 9110 §15.5.6
    return;
  }
  http::ResponseHead head = headFor(200, answer_.keep_alive);
  head.content_type = options.content_type;
  head.content_length = options.body.size();
  sendHead(exchange, head);
  if (answer_.method != Method::kHead) {
    if (protocol_.sharedBody()) {
      exchange.sendShared(protocol_.sharedBody());
    } else {
      exchange.send(options.body);
    }
  }
  if (!answer_.keep_alive) exchange.closeAfterSending();
}

void HttpSession::sendFileResponse(Exchange& exchange, http::FileResponse& response) {
  if (response.status != 200 && response.status != 206 && response.status != 304) {
    sendSimple(exchange, response.status, answer_.keep_alive, response.fields);
    return;
  }
  http::ResponseHead head = headFor(response.status, answer_.keep_alive);
  head.content_type = response.content_type;
  head.content_length = response.content_length;
  head.extra_fields = response.fields;
  sendHead(exchange, head);
  if (response.body) exchange.sendFile(std::move(*response.body));
  if (!answer_.keep_alive) exchange.closeAfterSending();
}

void HttpSession::sendReply(Exchange& exchange, const http::Reply& reply) {
  http::ResponseHead head = headFor(reply.status, answer_.keep_alive);
  head.content_type = reply.content_type;
  head.content_length = reply.body.size();
  sendHead(exchange, head);
  if (answer_.method != Method::kHead) exchange.send(reply.body);
  if (!answer_.keep_alive) exchange.closeAfterSending();
}

void HttpSession::reject(Exchange& exchange) {
  const http::Error& error = parser_.error();
  answer_.method = Method::kGet;  // the request is not trusted, HEAD included: the error has a body
  if (const auto suppressed = protocol_.errorLog().allow()) {
    spdlog::info("{} {} {}: {}{}", exchange.fd(), error.status, http::reasonPhrase(error.status), error.reason,
                 log::suppressedNote(*suppressed));
  }
  sendSimple(exchange, error.status, false);
  exchange.closeAfterSending(/*client_may_be_sending=*/true);
}

// Every response's status and persistence. An HTTP/1.0 client closes unless
// it is told the connection stays open (RFC 9112 §9.3), whatever the status.
http::ResponseHead HttpSession::headFor(int status, bool keep_alive) const {
  http::ResponseHead head;
  head.status = status;
  head.keep_alive = keep_alive;
  head.announce_keep_alive = keep_alive && answer_.http10;
  return head;
}

// Every final response's head goes out here, so each answered request is
// counted once, whatever answered it.
void HttpSession::sendHead(Exchange& exchange, const http::ResponseHead& head) {
  http::writeHead(exchange.output(), head);
  epolld::Answer answered{head.status, request_started_, nullptr, {}};
  if (const auto& access_log = protocol_.accessLog()) {
    const auto now = std::chrono::system_clock::now();
    const std::string address = exchange.peer().ip();
    const bool parsed = !logged_.method.empty();
    access_log->begin(answered.line,
                      {.remote_addr = address,
                       .remote_port = exchange.peer().port(),
                       .time = now,
                       .utc_offset = utcOffsetAt(now),
                       .method = logged_.method,
                       .target = logged_.target,
                       .protocol = logged_.protocol,
                       .raw_request_line = parsed ? std::string_view() : std::string_view(logged_.raw_line),
                       .status = head.status,
                       .body_bytes_sent = answer_.method == Method::kHead ? 0 : head.content_length,
                       .referer = logged_.referer,
                       .user_agent = logged_.user_agent,
                       .duration_us = 0});
    answered.log = access_log;
  }
  exchange.answered(std::move(answered));
}

void HttpSession::noteForAccessLog(const http::Request& request) {
  logged_.method.assign(request.method);
  logged_.target.assign(request.target);
  logged_.protocol = request.minor_version == 0 ? "HTTP/1.0" : "HTTP/1.1";
  logged_.referer = request.findHeader("Referer");
  logged_.user_agent = request.findHeader("User-Agent");
}

// A request about to be parsed: until its head is, its line is what arrived
// up to the first CR or LF, for a request rejected before it parsed.
void HttpSession::noteUnparsedForAccessLog(std::string_view input) {
  logged_.method.clear();
  const std::string_view line = input.substr(0, input.find_first_of("\r\n"));
  logged_.raw_line.assign(line.substr(0, protocol_.limits().max_request_line));
  logged_.referer.reset();
  logged_.user_agent.reset();
}

// A response whose body is its own status line, for errors.
void HttpSession::sendSimple(Exchange& exchange, int status, bool keep_alive, std::string_view extra_fields) {
  const std::string body = std::to_string(status) + " " + std::string(http::reasonPhrase(status)) + "\n";
  http::ResponseHead head = headFor(status, keep_alive);
  head.content_type = "text/plain";
  head.content_length = body.size();
  head.extra_fields = extra_fields;
  sendHead(exchange, head);
  if (answer_.method != Method::kHead) exchange.send(body);  // RFC 9110 §9.3.2: same head, no content
  if (!keep_alive) exchange.closeAfterSending();
}

std::shared_ptr<const Protocol> makeHttpProtocol(const config::Listener& listener, const ProtocolContext&) {
  return std::make_shared<HttpProtocol>(config::optionsOf<http::HttpOptions>(listener), nullptr);
}

}  // namespace

std::shared_ptr<const Protocol> http::makeHttpProtocol(const HttpOptions& options, Responder responder) {
  return std::make_shared<HttpProtocol>(options, std::move(responder));
}

const ProtocolPlugin kHttpPlugin{{.name = "http", .read = &http::readHttpOptions}, &makeHttpProtocol};

}  // namespace epolld
