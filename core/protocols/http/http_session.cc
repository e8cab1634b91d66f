// One HTTP connection's requests, parsed as they arrive and answered in order.
#include <chrono>
#include <optional>
#include <string>

#include <spdlog/spdlog.h>

#include "core/log/escape.h"
#include "core/log/rate_limiter.h"
#include "core/protocols/http/http.h"
#include "core/protocols/http/request_parser.h"
#include "core/protocols/http/response.h"

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

class HttpProtocol final : public Protocol {
 public:
  explicit HttpProtocol(const config::HttpOptions& options)
      : options_(options), limits_(http::ParserLimits::from(options)), error_log_(10, std::chrono::seconds(10)) {}

  std::unique_ptr<Session> newSession() const override;

  const config::HttpOptions& options() const { return options_; }
  const http::ParserLimits& limits() const { return limits_; }
  log::RateLimiter& errorLog() const { return error_log_; }

 private:
  const config::HttpOptions options_;
  const http::ParserLimits limits_;
  mutable log::RateLimiter error_log_;  // shared by every worker: it is lock-free
};

class HttpSession final : public Session {
 public:
  explicit HttpSession(const HttpProtocol& protocol) : protocol_(protocol), parser_(protocol.limits()) {}

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
  };

  void onHead(Exchange& exchange);
  void respond(Exchange& exchange);
  void reject(Exchange& exchange);
  void sendSimple(Exchange& exchange, int status, bool keep_alive, std::string_view extra_fields = {});

  const HttpProtocol& protocol_;  // the connection holds it alive
  RequestParser parser_;
  Answer answer_;
  std::optional<Clock::time_point> head_deadline_;
};

std::unique_ptr<Session> HttpProtocol::newSession() const { return std::make_unique<HttpSession>(*this); }

std::size_t HttpSession::onInput(std::string_view input, Exchange& exchange) {
  std::size_t used = 0;
  while (!exchange.closing()) {
    if (parser_.idle() && used < input.size() && !head_deadline_) {
      head_deadline_ = Clock::now() + protocol_.options().header_timeout;
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
        exchange.countRequest();
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
  answer_ = Answer{classify(request.method), request.keep_alive, request.minor_version == 0};
  // RFC 9110 §10.1.1: a client waiting for 100 (Continue) gets it before
  // the body is read.
  if (request.expect_continue && request.framing != http::Framing::kNone) {
    exchange.send("HTTP/1.1 100 Continue\r\n\r\n");
  }
}

void HttpSession::respond(Exchange& exchange) {
  const config::HttpOptions& options = protocol_.options();
  if (answer_.method == Method::kNotImplemented) {
    sendSimple(exchange, 501, answer_.keep_alive);
    return;
  }
  http::ResponseHead head;
  head.status = 200;
  head.content_type = options.content_type;
  head.content_length = options.body.size();
  head.keep_alive = answer_.keep_alive;
  head.announce_keep_alive = answer_.keep_alive && answer_.http10;
  http::writeHead(exchange.output(), head);
  if (answer_.method != Method::kHead) exchange.send(options.body);
  if (!answer_.keep_alive) exchange.closeAfterSending();
}

void HttpSession::reject(Exchange& exchange) {
  const http::Error& error = parser_.error();
  if (const auto suppressed = protocol_.errorLog().allow()) {
    spdlog::info("{} {} {}: {}{}", exchange.fd(), error.status, http::reasonPhrase(error.status), error.reason,
                 log::suppressedNote(*suppressed));
  }
  sendSimple(exchange, error.status, false);
}

// A response whose body is its own status line, for errors.
void HttpSession::sendSimple(Exchange& exchange, int status, bool keep_alive, std::string_view extra_fields) {
  const std::string body = std::to_string(status) + " " + std::string(http::reasonPhrase(status)) + "\n";
  http::ResponseHead head;
  head.status = status;
  head.content_type = "text/plain";
  head.content_length = body.size();
  head.keep_alive = keep_alive;
  head.extra_fields = extra_fields;
  http::writeHead(exchange.output(), head);
  exchange.send(body);
  if (!keep_alive) exchange.closeAfterSending();
}

}  // namespace

std::shared_ptr<const Protocol> makeHttpProtocol(const config::Listener& listener) {
  return std::make_shared<HttpProtocol>(listener.http);
}

}  // namespace epolld
