// What the request parser produces: a request head as views into the bytes
// it was parsed from, or the error to answer.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace epolld::http {

// What to answer a request the parser rejects; `reason` is a static string.
struct Error {
  int status = 0;
  std::string_view reason;
};

struct Header {
  std::string_view name;
  std::string_view value;  // without the optional whitespace around it
};

enum class TargetForm { kOrigin, kAbsolute, kAuthority, kAsterisk };  // RFC 9112 §3.2
enum class Framing { kNone, kContentLength, kChunked };             // RFC 9112 §6.3

// A request head. The views point into the bytes it was parsed from: the
// input of the RequestParser::feed() that returned kHead. They dangle once the
// caller drops or moves those bytes (a connection's buffer may compact them
// away as soon as its input handler returns), so take what a later event
// needs (the method, say, to answer at kComplete) while handling kHead.
struct Request {
  std::string_view method;  // a token; which methods exist is the server's business
  std::string_view target;  // as sent
  TargetForm form = TargetForm::kOrigin;
  // The target's path and query: an absolute-form target without its scheme
  // and authority ("/" when it has no path); other forms as sent.
  std::string_view path;
  // Where the request goes: the authority of an absolute-form target, which
  // overrides the Host field (RFC 9112 §3.2.2); else the Host field, never
  // empty when present; empty when an HTTP/1.0 request has none.
  std::string_view host;
  int minor_version = 1;  // 0 or 1: HTTP/1.2 and above are read as 1.1 (RFC 9110 §2.5)
  std::vector<Header> headers;
  Framing framing = Framing::kNone;
  std::uint64_t content_length = 0;  // with Framing::kContentLength
  // RFC 9112 §9.3: HTTP/1.1 persists unless "Connection: close"; HTTP/1.0
  // only with "Connection: keep-alive".
  bool keep_alive = true;
  // "Expect: 100-continue" in an HTTP/1.1 request; HTTP/1.0 ones are ignored
  // (RFC 9110 §10.1.1).
  bool expect_continue = false;

  // The value of the first field with this name (ASCII case-insensitive).
  std::optional<std::string_view> findHeader(std::string_view name) const;
};

}  // namespace epolld::http
