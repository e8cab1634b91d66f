#include "core/log/escape.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <string>
#include <utility>

namespace epolld::log {
namespace {

enum class ByteKind : std::uint8_t {
  kPlain,     // printable ASCII
  kLetter,    // escaped as a backslash and a letter
  kHex,       // escaped as \xNN
  kUtf8Lead,  // may start a multi-byte sequence
};

// No default member initializers: with them, GCC 12 at -O2 emits a table that
// differs from the constant it evaluated (checked: 0x7f came out as kPlain).
struct ByteClass {
  ByteKind kind;
  char letter;
};

constexpr std::array<ByteClass, 256> kByteClasses = [] {
  std::array<ByteClass, 256> classes{};
  classes.fill({ByteKind::kHex, 0});
  for (int b = 0x20; b < 0x7f; ++b) {
    classes[b] = {ByteKind::kPlain, 0};
  }
  for (auto [byte, letter] : {std::pair{'\n', 'n'}, std::pair{'\r', 'r'}, std::pair{'\t', 't'},
                              std::pair{'\\', '\\'}, std::pair{'"', '"'}, std::pair{'\'', '\''}}) {
    classes[static_cast<unsigned char>(byte)] = {ByteKind::kLetter, letter};
  }
  // C0 and C1 are overlong leads; F5-FF would pass U+10FFFF.
  for (int b = 0xc2; b <= 0xf4; ++b) {
    classes[b] = {ByteKind::kUtf8Lead, 0};
  }
  return classes;
}();

bool isContinuation(unsigned char b) { return (b & 0xc0) == 0x80; }

struct Utf8Sequence {
  std::size_t length;  // 0: not valid UTF-8
  bool printable;      // valid, and neither a C1 control nor a line separator
};

// The sequence at p by RFC 3629: no overlongs, no surrogates, nothing past
// U+10FFFF. *p is a lead byte (C2-F4).
Utf8Sequence readUtf8(const unsigned char* p, const unsigned char* end) {
  constexpr Utf8Sequence kInvalid = {0, false};
  const unsigned char lead = p[0];
  const std::size_t length = lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
  if (static_cast<std::size_t>(end - p) < length) {
    return kInvalid;
  }
  // The second byte's range is narrower after some leads.
  unsigned char low = 0x80;
  unsigned char high = 0xbf;
  switch (lead) {
    case 0xe0: low = 0xa0; break;   // overlong below U+0800
    case 0xed: high = 0x9f; break;  // U+D800-U+DFFF: surrogates
    case 0xf0: low = 0x90; break;   // overlong below U+10000
    case 0xf4: high = 0x8f; break;  // above U+10FFFF
    default: break;
  }
  if (p[1] < low || p[1] > high) {
    return kInvalid;
  }
  for (std::size_t i = 2; i < length; ++i) {
    if (!isContinuation(p[i])) {
      return kInvalid;
    }
  }
  const bool c1_control = lead == 0xc2 && p[1] < 0xa0;  // U+0080-U+009F
  // U+2028 LINE SEPARATOR and U+2029 PARAGRAPH SEPARATOR end lines in some viewers.
  const bool separator = lead == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9);
  return {length, !c1_control && !separator};
}

// Writes the escaped text to `out`, which has append(const char*, const char*).
template <typename Out>
void escapeTo(std::string_view bytes, std::size_t max_bytes, Out& out) {
  const auto* const begin = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* const end = begin + bytes.size();
  const auto* const limit = begin + std::min(bytes.size(), max_bytes);
  const auto* p = begin;
  const auto* run = begin;  // start of the bytes to copy as they are
  const auto flushRun = [&] {
    if (run != p) {
      out.append(reinterpret_cast<const char*>(run), reinterpret_cast<const char*>(p));
    }
  };

  while (p < limit) {
    const ByteClass byte = kByteClasses[*p];
    if (byte.kind == ByteKind::kPlain) {
      ++p;
      continue;
    }
    std::size_t escaped_bytes = 1;
    if (byte.kind == ByteKind::kUtf8Lead) {
      // Read against the whole input: a sequence that crosses the limit is cut
      // before, whole, not taken for an invalid one.
      const Utf8Sequence sequence = readUtf8(p, end);
      if (p + sequence.length > limit) {
        break;
      }
      if (sequence.printable) {
        p += sequence.length;
        continue;
      }
      escaped_bytes = std::max<std::size_t>(sequence.length, 1);
    }
    flushRun();
    if (byte.kind == ByteKind::kLetter) {
      const char escape[] = {'\\', byte.letter};
      out.append(escape, escape + 2);
      ++p;
    } else {
      for (const auto* const stop = p + escaped_bytes; p < stop; ++p) {
        static constexpr char kHexDigits[] = "0123456789abcdef";
        const char escape[] = {'\\', 'x', kHexDigits[*p >> 4], kHexDigits[*p & 0xf]};
        out.append(escape, escape + 4);
      }
    }
    run = p;
  }
  flushRun();

  if (p != end) {
    static constexpr std::string_view kOpen = "...[+";
    static constexpr std::string_view kClose = " bytes]";
    char digits[20];
    const char* const digits_end =
        std::to_chars(digits, digits + sizeof digits, static_cast<std::uint64_t>(end - p)).ptr;
    out.append(kOpen.data(), kOpen.data() + kOpen.size());
    out.append(digits, digits_end);
    out.append(kClose.data(), kClose.data() + kClose.size());
  }
}

struct StringOut {
  std::string& text;
  void append(const char* first, const char* last) {
    text.append(first, static_cast<std::size_t>(last - first));
  }
};

struct FormatOut {
  fmt::format_context::iterator it;
  void append(const char* first, const char* last) {
    // std::copy pushes byte by byte, fine for an escape; fmt copies a long run
    // in bulk into the buffer behind `it`, but costs more per call.
    constexpr std::ptrdiff_t kBulk = 16;
    if (last - first < kBulk) {
      it = std::copy(first, last, it);
    } else {
      it = fmt::format_to(it, "{}", fmt::string_view(first, static_cast<std::size_t>(last - first)));
    }
  }
};

// "...[+" + 20 digits + " bytes]"
constexpr std::size_t kMarkerBytes = 32;

}  // namespace

std::string escapeForLog(std::string_view bytes, std::size_t max_bytes) {
  std::string text;
  // The most it can take (4 bytes per byte kept), so it never grows; it is a
  // short-lived argument of one log line.
  const std::size_t kept = std::min(bytes.size(), max_bytes);
  text.reserve(4 * kept + (kept < bytes.size() ? kMarkerBytes : 0));
  StringOut out{text};
  escapeTo(bytes, max_bytes, out);
  return text;
}

}  // namespace epolld::log

fmt::format_context::iterator fmt::formatter<epolld::log::Escaped>::format(
    const epolld::log::Escaped& escaped, fmt::format_context& ctx) const {
  epolld::log::FormatOut out{ctx.out()};
  epolld::log::escapeTo(escaped.bytes, escaped.max_bytes, out);
  return out.it;
}
