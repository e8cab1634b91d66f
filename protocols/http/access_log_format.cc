#include "protocols/http/access_log_format.h"

#include <array>
#include <charconv>
#include <ctime>

namespace epolld::http {
namespace {

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr char kUpperHex[] = "0123456789ABCDEF";
constexpr char kLowerHex[] = "0123456789abcdef";

template <typename Integer>
void appendNumber(std::string& out, Integer value) {
  std::array<char, 24> digits;
  const auto result = std::to_chars(digits.data(), digits.data() + digits.size(), value);
  out.append(digits.data(), result.ptr);
}

// `value` in exactly `width` digits, zero-padded (value < 10^width).
void appendPadded(std::string& out, unsigned value, int width) {
  std::array<char, 10> digits;
  for (int i = width - 1; i >= 0; --i) {
    digits[static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(digits.data(), static_cast<std::size_t>(width));
}

// The entry's time as its local calendar fields.
struct LocalTime {
  int year;
  unsigned month;  // 1 to 12
  unsigned day;
  unsigned hour;
  unsigned minute;
  unsigned second;
  unsigned millisecond;
};

LocalTime toLocalTime(const AccessLogEntry& entry) {
  using namespace std::chrono;
  const auto local = floor<milliseconds>(entry.time) + entry.utc_offset;
  const auto day = floor<days>(local);
  const year_month_day date(day);
  const hh_mm_ss since_midnight(local - day);
  return {static_cast<int>(date.year()),
          static_cast<unsigned>(date.month()),
          static_cast<unsigned>(date.day()),
          static_cast<unsigned>(since_midnight.hours().count()),
          static_cast<unsigned>(since_midnight.minutes().count()),
          static_cast<unsigned>(since_midnight.seconds().count()),
          static_cast<unsigned>(since_midnight.subseconds().count())};
}

// +HHMM (combined) or +HH:MM (ISO 8601).
void appendOffset(std::string& out, std::chrono::minutes offset, bool colon) {
  const long minutes = offset.count();
  out += minutes < 0 ? '-' : '+';
  const auto magnitude = static_cast<unsigned>(minutes < 0 ? -minutes : minutes);
  appendPadded(out, magnitude / 60 % 100, 2);
  if (colon) {
    out += ':';
  }
  appendPadded(out, magnitude % 60, 2);
}

// Four digits, as both formats want, for any year a clock can show; a sign
// and more digits only for the absurd ones, rather than wrong digits.
void appendYear(std::string& out, int year) {
  if (year < 0 || year > 9999) {
    appendNumber(out, year);
  } else {
    appendPadded(out, static_cast<unsigned>(year), 4);
  }
}

// HH:MM:SS, in both formats.
void appendTimeOfDay(std::string& out, const LocalTime& t) {
  appendPadded(out, t.hour, 2);
  out += ':';
  appendPadded(out, t.minute, 2);
  out += ':';
  appendPadded(out, t.second, 2);
}

// nginx's $time_local: 06/Dec/2026:17:34:15 +0000
void appendTimeLocal(std::string& out, const AccessLogEntry& entry) {
  const LocalTime t = toLocalTime(entry);
  appendPadded(out, t.day, 2);
  out += '/';
  out += kMonths[t.month - 1];
  out += '/';
  appendYear(out, t.year);
  out += ':';
  appendTimeOfDay(out, t);
  out += ' ';
  appendOffset(out, entry.utc_offset, /*colon=*/false);
}

// ISO 8601 with milliseconds: 2026-12-06T17:34:15.123+00:00
void appendIso8601(std::string& out, const AccessLogEntry& entry) {
  const LocalTime t = toLocalTime(entry);
  appendYear(out, t.year);
  out += '-';
  appendPadded(out, t.month, 2);
  out += '-';
  appendPadded(out, t.day, 2);
  out += 'T';
  appendTimeOfDay(out, t);
  out += '.';
  appendPadded(out, t.millisecond, 3);
  appendOffset(out, entry.utc_offset, /*colon=*/true);
}

// A field inside the combined line: see appendCombinedLine().
void appendLogEscaped(std::string& out, std::string_view bytes) {
  const char* run = bytes.data();  // bytes to copy as they are start here
  const char* const end = bytes.data() + bytes.size();
  for (const char* p = run; p != end; ++p) {
    const auto byte = static_cast<unsigned char>(*p);
    const bool letter = byte == '"' || byte == '\\';
    if (!letter && byte >= 0x20 && byte < 0x7f) {
      continue;
    }
    out.append(run, p);
    run = p + 1;
    if (letter) {
      out += '\\';
      out += static_cast<char>(byte);
    } else {
      const char escape[] = {'\\', 'x', kUpperHex[byte >> 4], kUpperHex[byte & 0xf]};
      out.append(escape, sizeof escape);
    }
  }
  out.append(run, end);
}

// The length of the valid UTF-8 sequence (RFC 3629: no overlongs, no
// surrogates, nothing past U+10FFFF) starting at p, whose first byte is not
// ASCII; 0 if there is none.
std::size_t utf8SequenceLength(const unsigned char* p, const unsigned char* end) {
  const unsigned char lead = p[0];
  if (lead < 0xc2 || lead > 0xf4) {
    return 0;  // a continuation byte, an overlong lead (C0, C1), or past U+10FFFF
  }
  const std::size_t length = lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
  if (static_cast<std::size_t>(end - p) < length) {
    return 0;
  }
  unsigned char low = 0x80;  // the second byte's range narrows after some leads
  unsigned char high = 0xbf;
  switch (lead) {
    case 0xe0: low = 0xa0; break;   // overlong below U+0800
    case 0xed: high = 0x9f; break;  // surrogates U+D800-U+DFFF
    case 0xf0: low = 0x90; break;   // overlong below U+10000
    case 0xf4: high = 0x8f; break;  // past U+10FFFF
    default: break;
  }
  if (p[1] < low || p[1] > high) {
    return 0;
  }
  for (std::size_t i = 2; i < length; ++i) {
    if ((p[i] & 0xc0) != 0x80) {
      return 0;
    }
  }
  return length;
}

void appendUnicodeEscape(std::string& out, unsigned code_point) {
  const char escape[] = {'\\',
                         'u',
                         kLowerHex[(code_point >> 12) & 0xf],
                         kLowerHex[(code_point >> 8) & 0xf],
                         kLowerHex[(code_point >> 4) & 0xf],
                         kLowerHex[code_point & 0xf]};
  out.append(escape, sizeof escape);
}

// A JSON string's contents: see appendJsonLine().
void appendJsonEscaped(std::string& out, std::string_view text) {
  const auto* const begin = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = begin + text.size();
  const auto* run = begin;
  const auto flush = [&](const unsigned char* upto) {
    out.append(reinterpret_cast<const char*>(run), reinterpret_cast<const char*>(upto));
  };
  for (const unsigned char* p = begin; p < end;) {
    const unsigned char byte = *p;
    if (byte >= 0x20 && byte < 0x7f && byte != '"' && byte != '\\') {
      ++p;
      continue;
    }
    if (byte >= 0x80) {
      const std::size_t length = utf8SequenceLength(p, end);
      const bool c1_control = length == 2 && byte == 0xc2 && p[1] < 0xa0;
      const bool separator = length == 3 && byte == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9);
      if (length != 0 && !c1_control && !separator) {
        p += length;
        continue;
      }
      flush(p);
      if (c1_control) {
        appendUnicodeEscape(out, p[1]);
      } else if (separator) {
        appendUnicodeEscape(out, 0x2000u | (p[2] - 0x80u));
      } else {
        appendUnicodeEscape(out, byte);  // not UTF-8: the byte's value
      }
      p += length != 0 ? length : 1;
      run = p;
      continue;
    }
    flush(p);
    switch (byte) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: appendUnicodeEscape(out, byte);  // other controls, DEL
    }
    run = ++p;
  }
  flush(end);
}

// A quoted combined-format header field: "-" when absent.
void appendQuotedHeader(std::string& out, const std::optional<std::string_view>& value) {
  out += '"';
  if (value) {
    appendLogEscaped(out, *value);
  } else {
    out += '-';
  }
  out += '"';
}

}  // namespace

namespace {

void appendCombinedHead(std::string& out, const AccessLogEntry& entry) {
  appendLogEscaped(out, entry.remote_addr);
  out += " - - [";
  appendTimeLocal(out, entry);
  out += "] \"";
  if (!entry.method.empty()) {
    appendLogEscaped(out, entry.method);
    out += ' ';
    appendLogEscaped(out, entry.target);
    if (!entry.protocol.empty()) {
      out += ' ';
      appendLogEscaped(out, entry.protocol);
    }
  } else if (!entry.raw_request_line.empty()) {
    appendLogEscaped(out, entry.raw_request_line);
  } else {
    out += '-';
  }
  out += "\" ";
  appendNumber(out, entry.status);
  out += ' ';
  appendNumber(out, entry.body_bytes_sent);
  out += ' ';
  appendQuotedHeader(out, entry.referer);
  out += ' ';
  appendQuotedHeader(out, entry.user_agent);
  out += ' ';
}

void appendCombinedTail(std::string& out, std::uint64_t duration_us) {
  appendNumber(out, duration_us / 1'000'000);
  out += '.';
  appendPadded(out, static_cast<unsigned>(duration_us % 1'000'000), 6);
  out += '\n';
}

void appendJsonHead(std::string& out, const AccessLogEntry& entry) {
  const bool parsed = !entry.method.empty();
  const auto appendRequestPart = [&](std::string_view part) {
    if (parsed) {
      appendJsonString(out, part);
    } else {
      out += "null";
    }
  };
  out += "{\"time\":\"";
  appendIso8601(out, entry);
  out += "\",\"remote_addr\":";
  appendJsonString(out, entry.remote_addr);
  out += ",\"remote_port\":";
  appendNumber(out, entry.remote_port);
  out += ",\"method\":";
  appendRequestPart(entry.method);
  out += ",\"target\":";
  appendRequestPart(entry.target);
  out += ",\"protocol\":";
  appendRequestPart(entry.protocol);
  out += ",\"status\":";
  appendNumber(out, entry.status);
  out += ",\"bytes_sent\":";
  appendNumber(out, entry.body_bytes_sent);
  out += ",\"user_agent\":";
  if (entry.user_agent) {
    appendJsonString(out, *entry.user_agent);
  } else {
    out += "null";
  }
  out += ",\"duration_us\":";
}

void appendJsonTail(std::string& out, std::uint64_t duration_us) {
  appendNumber(out, duration_us);
  out += "}\n";
}

}  // namespace

void appendCombinedLine(std::string& out, const AccessLogEntry& entry) {
  appendCombinedHead(out, entry);
  appendCombinedTail(out, entry.duration_us);
}

void appendJsonLine(std::string& out, const AccessLogEntry& entry) {
  appendJsonHead(out, entry);
  appendJsonTail(out, entry.duration_us);
}

void appendAccessLogLine(std::string& out, AccessLogFormat format, const AccessLogEntry& entry) {
  appendLineHead(out, format, entry);
  appendLineTail(out, format, entry.duration_us);
}

void appendLineHead(std::string& out, AccessLogFormat format, const AccessLogEntry& entry) {
  if (format == AccessLogFormat::kJson) {
    appendJsonHead(out, entry);
  } else {
    appendCombinedHead(out, entry);
  }
}

void appendLineTail(std::string& out, AccessLogFormat format, std::uint64_t duration_us) {
  if (format == AccessLogFormat::kJson) {
    appendJsonTail(out, duration_us);
  } else {
    appendCombinedTail(out, duration_us);
  }
}

std::chrono::minutes localUtcOffset(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm local{};
  if (localtime_r(&seconds, &local) == nullptr) {
    return std::chrono::minutes(0);
  }
  return std::chrono::minutes(local.tm_gmtoff / 60);
}

void appendJsonString(std::string& out, std::string_view text) {
  out += '"';
  appendJsonEscaped(out, text);
  out += '"';
}

}  // namespace epolld::http
