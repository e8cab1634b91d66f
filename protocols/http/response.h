// Writing HTTP/1.1 response heads (RFC 9110 §15, RFC 9112 §4).
#pragma once

#include <cstdint>
#include <string_view>

#include "core/buffer.h"

namespace epolld::http {

struct ResponseHead {
  int status = 200;
  std::string_view content_type;  // omitted when empty
  std::uint64_t content_length = 0;
  // Whether the connection stays open after this response, and whether the
  // client needs to be told so (an HTTP/1.0 client asked for keep-alive).
  bool keep_alive = true;
  bool announce_keep_alive = false;
  std::string_view extra_fields;  // whole field lines, each ending in CRLF
};

// Appends the status line and fields, up to and including the empty line.
void writeHead(Buffer& out, const ResponseHead& head);

std::string_view reasonPhrase(int status);

// The current time as an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"),
// formatted at most once per second per thread.
std::string_view currentHttpDate();

// Formats `time` (seconds since the epoch) as an IMF-fixdate into `out`, which
// must hold 29 bytes; returns the text.
std::string_view formatHttpDate(std::int64_t time, char (&out)[29]);

}  // namespace epolld::http
