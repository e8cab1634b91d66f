// Reading HTTP-date (RFC 9110 §5.6.7), for If-Modified-Since,
// If-Unmodified-Since and If-Range. Writing one is formatHttpDate (response.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace epolld::http {

// Seconds since the epoch, from any of the three formats a recipient must
// accept: IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT", the obsolete RFC 850
// "Sunday, 06-Nov-94 08:49:37 GMT" and asctime "Sun Nov  6 08:49:37 1994".
// Nothing when `text` is none of them, or names no real day or time.
std::optional<std::int64_t> parseHttpDate(std::string_view text);

}  // namespace epolld::http
