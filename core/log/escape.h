// Received bytes made safe for one log line: no client can end the line, start
// a forged one, or write bytes that are not UTF-8 into the file.
//
//   \n \r \t \\ \" \'          for those bytes
//   \xNN                        other C0 controls, DEL, and every byte not part of
//                               valid, printable UTF-8: overlongs, surrogates,
//                               C1 controls (U+0080-U+009F), U+2028, U+2029
//   as is                       printable ASCII and the rest of valid UTF-8
//
// Input longer than `max_bytes` is cut before the first byte, escape or UTF-8
// sequence that would cross the limit, and "...[+N bytes]" says how many input
// bytes were left out. The output is at most 4 * max_bytes + 32 bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace epolld::log {

inline constexpr std::size_t kMaxLoggedBytes = 200;

std::string escapeForLog(std::string_view bytes, std::size_t max_bytes = kMaxLoggedBytes);

// The same, escaped straight into the log line, and only if the line is
// logged: spdlog::debug("{} receive {}", fd, log::Escaped{data});
struct Escaped {
  std::string_view bytes;
  std::size_t max_bytes = kMaxLoggedBytes;
};

}  // namespace epolld::log

template <>
struct fmt::formatter<epolld::log::Escaped> {
  constexpr auto parse(fmt::format_parse_context& ctx) { return ctx.begin(); }
  fmt::format_context::iterator format(const epolld::log::Escaped& escaped,
                                       fmt::format_context& ctx) const;
};
