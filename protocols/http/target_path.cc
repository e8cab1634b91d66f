#include "protocols/http/target_path.h"

#include <optional>
#include <vector>

#include "protocols/http/syntax.h"

namespace epolld::http {
namespace {

// RFC 3986 §2.1: every "%" must start two hex digits. A NUL cannot be part of
// a file name and would cut the name short in a syscall, so it is refused too.
std::optional<std::string> percentDecode(std::string_view text) {
  std::string decoded;
  decoded.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      decoded += text[i];
      continue;
    }
    const int high = i + 1 < text.size() ? hexDigitValue(text[i + 1]) : -1;
    const int low = i + 2 < text.size() ? hexDigitValue(text[i + 2]) : -1;
    if (high < 0 || low < 0 || (high == 0 && low == 0)) {
      return std::nullopt;
    }
    decoded += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return decoded;
}

// RFC 3986 §3.3 pchar without pct-encoded: unreserved, sub-delims, ":", "@".
bool isPathChar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  return std::string_view("-._~!$&'()*+,;=:@").find(static_cast<char>(c)) != std::string_view::npos;
}

}  // namespace

std::optional<TargetPath> parseTargetPath(std::string_view path_and_query) {
  TargetPath target;
  std::string_view path = path_and_query;
  if (const std::size_t question = path.find('?'); question != std::string_view::npos) {
    target.query = path.substr(question + 1);
    path = path.substr(0, question);
  }
  // RFC 9112 §3.2.2: an absolute-form target with an empty path ("http://a?q")
  // names "/".
  if (path.empty()) {
    path = "/";
  }
  if (path.front() != '/') {
    return std::nullopt;
  }
  const std::optional<std::string> decoded = percentDecode(path);
  if (!decoded) {
    return std::nullopt;
  }
  // RFC 3986 §5.2.4 on the decoded path, so "%2e%2e" and "%2f" count as the
  // ".." and "/" they decode to, as in nginx. Empty segments ("a//b") are
  // dropped as nginx's merge_slashes does; ".." above the top is an error,
  // not clamped as §5.2.4 would: nginx answers 400 there too.
  std::vector<std::string_view> segments;
  std::string_view rest = std::string_view(*decoded).substr(1);
  for (;;) {
    const std::size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    const bool dot_segment = segment == "." || segment == "..";
    if (segment == "..") {
      if (segments.empty()) {
        return std::nullopt;
      }
      segments.pop_back();
    } else if (!segment.empty() && !dot_segment) {
      segments.push_back(segment);
    }
    if (slash == std::string_view::npos) {
      // A path ending in a dot-segment names a directory, as §5.2.4's output
      // buffer shows ("/a/b/.." becomes "/a/").
      target.trailing_slash = segment.empty() || dot_segment;
      break;
    }
    rest.remove_prefix(slash + 1);
  }
  for (const std::string_view segment : segments) {
    if (!target.relative.empty()) {
      target.relative += '/';
    }
    target.relative += segment;
  }
  if (target.relative.empty()) {
    target.relative.push_back('.');  // not `= "."`: GCC 12 warns falsely there (-Wrestrict, PR 105329)
  }
  return target;
}

std::string percentEncodePath(std::string_view relative) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  encoded.reserve(relative.size());
  for (const char c : relative) {
    const auto octet = static_cast<unsigned char>(c);
    if (c == '/' || isPathChar(octet)) {
      encoded += c;
    } else {
      encoded += '%';
      encoded += kHex[octet >> 4];
      encoded += kHex[octet & 0xf];
    }
  }
  return encoded;
}

}  // namespace epolld::http
