// Parses a whole request head in one pass: the request line (RFC 9112 §3),
// the field lines (§5), and the fields that frame the body (§6.3) or steer the
// connection. Finding where a head ends, and bounding it on the way, is
// RequestParser's job.
#pragma once

#include <optional>
#include <string_view>

#include "protocols/http/request.h"

namespace epolld::http {

// The statuses the parser answers with (RFC 9110 §15.5, §15.6).
inline constexpr int kBadRequest = 400;
inline constexpr int kContentTooLarge = 413;
inline constexpr int kUriTooLong = 414;
inline constexpr int kFieldsTooLarge = 431;
inline constexpr int kNotImplemented = 501;
inline constexpr int kVersionNotSupported = 505;

// `head` ends in an empty line, and every line in CRLF. The views in `request`
// point into `head`.
std::optional<Error> parseHead(std::string_view head, Request& request);

// RFC 9110 §9.1: the method is a token. `line` is the request line without
// its line end, or as much of it as has arrived (then without a trailing CR):
// a method that has begun and is not a token is refused before the line ends.
std::optional<Error> checkMethod(std::string_view line);

// RFC 9112 §5: one field line, without its CRLF; trailer lines alike (§7.1.2).
std::optional<Error> parseFieldLine(std::string_view line, Header& field);

}  // namespace epolld::http
