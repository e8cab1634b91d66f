// The pieces of HTTP's grammar (RFC 9110 §5.6, RFC 9112) the request parser is
// built from; each is a pure function of its text.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace epolld::http {

// RFC 9110 §5.6.2: 1*tchar.
bool isToken(std::string_view text);

// RFC 9110 §5.5: field-content octets. CTLs other than HTAB are not, so a
// value with CR, LF or NUL in it is rejected rather than repaired.
bool isFieldValue(std::string_view text);

// RFC 3986 §3.2: the octets of a host (reg-name, IP-literal) with an optional
// ":" port. No "@": RFC 9110 §4.2.4 has userinfo in an http URI treated as an error.
bool isAuthority(std::string_view text);

// RFC 3986 §3.3, §3.4: what a path and query may hold; no whitespace, no CTL,
// no "#" (a request-target has no fragment), nothing outside ASCII.
bool isPathAndQuery(std::string_view text);

bool equalsIgnoreCase(std::string_view a, std::string_view b);  // ASCII only

// Without leading and trailing OWS (SP, HTAB).
std::string_view trimWhitespace(std::string_view text);

// 1*DIGIT that fits in 64 bits.
std::optional<std::uint64_t> parseDecimal(std::string_view text);

// RFC 9112 §7.1: chunk-size [chunk-ext], a chunk line without its CRLF; the
// size, or nothing when the line is malformed or the size overflows 64 bits.
std::optional<std::uint64_t> parseChunkLine(std::string_view line);

// Calls `visit` with each element of a comma-separated list, OWS trimmed.
// Empty elements are skipped, as RFC 9110 §5.6.1 asks of recipients.
template <typename Visit>
void forEachListElement(std::string_view list, Visit visit) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view element = trimWhitespace(list.substr(0, comma));
    if (!element.empty()) {
      visit(element);
    }
    list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
  }
}

}  // namespace epolld::http
