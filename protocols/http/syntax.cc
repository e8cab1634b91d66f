#include "protocols/http/syntax.h"

#include <algorithm>
#include <array>
#include <charconv>

namespace epolld::http {
namespace {

using CharClass = std::array<bool, 256>;

constexpr CharClass alphanumericAnd(std::string_view others) {
  CharClass members{};
  for (char c = '0'; c <= '9'; ++c) {
    members[static_cast<unsigned char>(c)] = true;
  }
  for (char c = 'a'; c <= 'z'; ++c) {
    members[static_cast<unsigned char>(c)] = true;
    members[static_cast<unsigned char>(c - 'a' + 'A')] = true;
  }
  for (char c : others) {
    members[static_cast<unsigned char>(c)] = true;
  }
  return members;
}

constexpr CharClass kTokenChars = alphanumericAnd("!#$%&'*+-.^_`|~");
// unreserved, pct-encoded, sub-delims; ":" before a port, "[]" around an IP-literal.
constexpr CharClass kAuthorityChars = alphanumericAnd("-._~%!$&'()*+,;=:[]");

constexpr CharClass kDigits = [] {
  CharClass members{};
  for (char c = '0'; c <= '9'; ++c) {
    members[static_cast<unsigned char>(c)] = true;
  }
  return members;
}();

constexpr CharClass kPathChars = [] {
  CharClass members{};
  for (int c = 0x21; c < 0x7f; ++c) {
    members[c] = c != '#';
  }
  return members;
}();

// field-vchar = VCHAR / obs-text, with SP and HTAB between them.
constexpr CharClass kFieldValueChars = [] {
  CharClass members{};
  members['\t'] = true;
  for (int c = 0x20; c < 0x100; ++c) {
    members[c] = c != 0x7f;
  }
  return members;
}();

// RFC 9110 §5.6.4: qdtext, and what may follow a "\" in a quoted-pair.
constexpr CharClass kQuotedTextChars = [] {
  CharClass members = kFieldValueChars;
  members['"'] = members['\\'] = false;
  return members;
}();

bool allIn(const CharClass& members, std::string_view text) {
  for (char c : text) {
    if (!members[static_cast<unsigned char>(c)]) {
      return false;
    }
  }
  return true;
}

bool isWhitespace(char c) { return c == ' ' || c == '\t'; }

std::string_view trimFront(std::string_view text) {
  while (!text.empty() && isWhitespace(text.front())) {
    text.remove_prefix(1);
  }
  return text;
}

// Each take*() consumes what it names from the front of `text` and says whether
// it was there.
bool takeChar(std::string_view& text, char c) {
  if (text.empty() || text.front() != c) {
    return false;
  }
  text.remove_prefix(1);
  return true;
}

bool takeToken(std::string_view& text) {
  std::size_t length = 0;
  while (length < text.size() && kTokenChars[static_cast<unsigned char>(text[length])]) {
    ++length;
  }
  text.remove_prefix(length);
  return length > 0;
}

// RFC 9110 §5.6.4: DQUOTE *( qdtext / quoted-pair ) DQUOTE.
bool takeQuotedString(std::string_view& text) {
  std::string_view rest = text;
  if (!takeChar(rest, '"')) {
    return false;
  }
  while (!rest.empty()) {
    const char c = rest.front();
    rest.remove_prefix(1);
    if (c == '"') {
      text = rest;
      return true;
    }
    if (c == '\\') {
      if (rest.empty() || !kFieldValueChars[static_cast<unsigned char>(rest.front())]) {
        return false;
      }
      rest.remove_prefix(1);
    } else if (!kQuotedTextChars[static_cast<unsigned char>(c)]) {
      return false;
    }
  }
  return false;
}

// RFC 9112 §7.1.1: *( BWS ";" BWS ext-name [ BWS "=" BWS ext-value ] ), where
// ext-value = token / quoted-string. Whitespace with nothing after it is not
// in the grammar and is rejected.
bool isChunkExtensions(std::string_view text) {
  while (!text.empty()) {
    text = trimFront(text);
    if (!takeChar(text, ';')) {
      return false;
    }
    text = trimFront(text);
    if (!takeToken(text)) {
      return false;
    }
    std::string_view value = trimFront(text);
    if (takeChar(value, '=')) {
      value = trimFront(value);
      if (!takeToken(value) && !takeQuotedString(value)) {
        return false;
      }
      text = value;
    }
  }
  return true;
}

char toLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

}  // namespace

bool isToken(std::string_view text) { return !text.empty() && allIn(kTokenChars, text); }

bool isFieldValue(std::string_view text) { return allIn(kFieldValueChars, text); }

bool isAuthority(std::string_view text) { return allIn(kAuthorityChars, text); }

bool isHostAndPort(std::string_view text) {
  if (!isAuthority(text)) {
    return false;
  }
  // The host ends at the IP-literal's "]", or else at the first ":".
  std::size_t host_end = text.find(':');
  if (text.starts_with('[')) {
    host_end = text.find(']');
    if (host_end == std::string_view::npos) {
      return false;
    }
    ++host_end;
  }
  std::string_view host = text.substr(0, host_end);
  const std::string_view port = text.substr(std::min(host_end, text.size()));
  const std::string_view inside = host.starts_with('[') ? host.substr(1, host.size() - 2) : host;
  if (inside.find_first_of("[]") != std::string_view::npos) {
    return false;
  }
  if (!port.empty() && (port.front() != ':' || !allIn(kDigits, port.substr(1)))) {
    return false;
  }
  if (host.find("..") != std::string_view::npos) {
    return false;
  }
  if (host.ends_with('.')) {
    host.remove_suffix(1);
  }
  return !host.empty();
}

bool isPathAndQuery(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!kPathChars[static_cast<unsigned char>(text[i])]) {
      return false;
    }
    if (text[i] == '%') {
      if (text.size() - i < 3) {
        return false;
      }
      const int high = hexDigitValue(text[i + 1]);
      const int low = hexDigitValue(text[i + 2]);
      if (high < 0 || low < 0 || high + low == 0) {
        return false;
      }
      i += 2;
    }
  }
  return true;
}

bool staysBelowRoot(std::string_view path_and_query) {
  const std::string_view path = path_and_query.substr(0, path_and_query.find('?'));
  std::size_t depth = 0;  // segments kept so far
  std::size_t length = 0;  // of the current segment, decoded
  std::size_t dots = 0;    // of its octets, how many are "."
  for (std::size_t i = 0; i <= path.size(); ++i) {
    char c = i < path.size() ? path[i] : '/';
    if (c == '%' && path.size() - i >= 3 && hexDigitValue(path[i + 1]) >= 0 && hexDigitValue(path[i + 2]) >= 0) {
      c = static_cast<char>(hexDigitValue(path[i + 1]) * 16 + hexDigitValue(path[i + 2]));
      i += 2;
    }
    if (c != '/') {
      ++length;
      dots += c == '.' ? 1 : 0;
      continue;
    }
    if (length == 2 && dots == 2) {
      if (depth == 0) {
        return false;
      }
      --depth;
    } else if (length > 0 && !(length == 1 && dots == 1)) {
      ++depth;  // not an empty segment ("a//b"), not "."
    }
    length = dots = 0;
  }
  return true;
}

int hexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (toLower(a[i]) != toLower(b[i])) {
      return false;
    }
  }
  return true;
}

std::string_view trimWhitespace(std::string_view text) {
  text = trimFront(text);
  while (!text.empty() && isWhitespace(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

std::optional<std::uint64_t> parseDecimal(std::string_view text) {
  std::uint64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, value, 10);
  if (error != std::errc{} || stop != end) {
    return std::nullopt;
  }
  return value;
}

std::optional<std::uint64_t> parseChunkLine(std::string_view line) {
  // from_chars takes no sign and no "0x" for an unsigned base-16 number, and
  // reports a numeral too long for 64 bits as out of range (RFC 9112 §7.1
  // asks recipients to guard against exactly that overflow).
  std::uint64_t size = 0;
  const char* end = line.data() + line.size();
  const auto [extensions, error] = std::from_chars(line.data(), end, size, 16);
  if (error != std::errc{} || !isChunkExtensions({extensions, end})) {
    return std::nullopt;
  }
  return size;
}

}  // namespace epolld::http
