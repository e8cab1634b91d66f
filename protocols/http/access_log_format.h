// One access-log line per answered request, in nginx's `combined` format (plus
// the request time) or as one JSON object. Pure formatting: the caller gathers
// the facts, these functions append text to a string the caller keeps, so the
// hot path allocates nothing beyond that string's growth.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace epolld::http {

enum class AccessLogFormat { kCombined, kJson };

// What one line says. The views must stay valid for the call only.
struct AccessLogEntry {
  std::string_view remote_addr;  // "127.0.0.1", "::1": no brackets, no port
  std::uint16_t remote_port = 0;
  // When the request was answered, and the local time's offset from UTC at
  // that moment (localUtcOffset()); lines print local time, as nginx does.
  std::chrono::system_clock::time_point time;
  std::chrono::minutes utc_offset{0};
  // The request line as parsed. A request whose line could not be parsed (a
  // 400 for garbage, a 414) has an empty method, and raw_request_line holds
  // what was received of its line, up to the first CR or LF (empty if
  // nothing): combined prints that, escaped, as nginx prints $request for
  // such a request ("-" when empty); JSON prints method, target and protocol
  // as null. protocol is empty for a line without a version.
  std::string_view method;
  std::string_view target;
  std::string_view protocol;  // "HTTP/1.1"
  std::string_view raw_request_line;
  int status = 0;
  // Response body bytes handed to the kernel, as nginx's $body_bytes_sent
  // (the head not included). JSON's bytes_sent is the same number.
  std::uint64_t body_bytes_sent = 0;
  std::optional<std::string_view> referer;     // absent: "-" in combined
  std::optional<std::string_view> user_agent;  // absent: "-" in combined, null in JSON
  std::uint64_t duration_us = 0;               // first request byte to last response byte
};

// nginx's combined format and the request time in seconds, then '\n':
//   127.0.0.1 - - [06/Dec/2026:17:34:15 +0000] "GET / HTTP/1.1" 200 13 "-" "curl/8.1" 0.000042
// Inside the request, referer and user agent (and the address, though it
// never needs it): '"' as \" and '\' as \\ (the SPEC's spelling; nginx itself
// writes \x22 and \x5C), other bytes below 0x20 and from 0x7F up as \xNN in
// upper-case hex, as nginx does. The line is then ASCII, one line, and each
// field can be read back exactly.
void appendCombinedLine(std::string& out, const AccessLogEntry& entry);

// One JSON object and '\n', keys in this order:
//   {"time":"2026-12-06T17:34:15.123+00:00","remote_addr":"127.0.0.1","remote_port":53422,
//    "method":"GET","target":"/","protocol":"HTTP/1.1","status":200,"bytes_sent":13,
//    "user_agent":"curl/8.1","duration_us":42}
// Strings are escaped as RFC 8259 says (\" \\ \b \f \n \r \t, \u00XX for other
// controls and DEL); valid UTF-8 is kept, except U+0080-U+009F and U+2028/9,
// written as \uXXXX so no viewer breaks the line. A byte that is not part of
// valid UTF-8 is written as \u00XX of its value, so the line is always valid
// JSON; a reader cannot tell it from the character U+00XX sent as UTF-8.
void appendJsonLine(std::string& out, const AccessLogEntry& entry);

// The one the configuration names.
void appendAccessLogLine(std::string& out, AccessLogFormat format, const AccessLogEntry& entry);

// The same line in two parts, for a caller that learns the duration only
// later (once the response has been handed to the kernel): the head is
// everything before the duration (entry.duration_us is not read), the tail
// the duration and the line's end.
void appendLineHead(std::string& out, AccessLogFormat format, const AccessLogEntry& entry);
void appendLineTail(std::string& out, AccessLogFormat format, std::uint64_t duration_us);

// `text` as a JSON string, quotes included, escaped as appendJsonLine()
// escapes its strings: always valid JSON, whatever the bytes.
void appendJsonString(std::string& out, std::string_view text);

// The local time zone's offset from UTC at `time` (localtime_r, which takes
// glibc's time-zone lock: compute it once a second, not per request).
std::chrono::minutes localUtcOffset(std::chrono::system_clock::time_point time);

}  // namespace epolld::http
