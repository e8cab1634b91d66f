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

// RFC 3986 §3.2.2, §3.2.3: host [":" port], as a Host field or the authority
// of an absolute-form target holds it. Stricter than the grammar where nginx
// is too: an empty host ("", ":80") is refused, as RFC 9112 §3.3 allows for
// http and https, and so is an empty DNS label ("a..b", "."), which RFC 1034
// §3.5 has none of; one trailing dot (the root) is fine.
bool isHostAndPort(std::string_view text);

// RFC 3986 §3.3, §3.4: what a path and query may hold; no whitespace, no CTL,
// no "#" (a request-target has no fragment), nothing outside ASCII, and every
// "%" followed by two hex digits (§2.1). "%00" is refused too: §7.3 asks an
// application that does not expect raw data to reject an encoded NUL, and a
// NUL would cut a file name short in a syscall.
bool isPathAndQuery(std::string_view text);

// Whether a path (up to its "?"), percent-decoded, stays at or below "/"
// when its dot-segments are removed (RFC 3986 §5.2.4). "%2e%2e" and "%2f"
// count as the ".." and "/" they decode to, as in nginx, which answers 400
// to a path climbing above the root; RFC 3986 would clamp it, but a path that
// tries is no path a client of this server means.
bool staysBelowRoot(std::string_view path_and_query);

// A hex digit's value, or -1.
int hexDigitValue(char c);

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
