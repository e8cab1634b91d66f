#include "protocols/http/response.h"

#include <time.h>

#include <cstring>

#include <fmt/format.h>

namespace epolld::http {

std::string_view reasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 416: return "Range Not Satisfiable";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

std::string_view formatHttpDate(std::int64_t time, char (&out)[29]) {
  const time_t seconds = static_cast<time_t>(time);
  tm parts;
  gmtime_r(&seconds, &parts);
  // strftime's %a and %b follow the locale; HTTP's names are fixed.
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto end = fmt::format_to_n(out, sizeof out, "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", kDays[parts.tm_wday],
                                    parts.tm_mday, kMonths[parts.tm_mon], parts.tm_year + 1900, parts.tm_hour,
                                    parts.tm_min, parts.tm_sec);
  return {out, end.size};
}

std::string_view currentHttpDate() {
  thread_local std::int64_t formatted_second = -1;
  thread_local char text[29];
  thread_local std::string_view date;
  timespec now;
  // The coarse clock costs no syscall and is exact enough for a 1 s field.
  clock_gettime(CLOCK_REALTIME_COARSE, &now);
  if (now.tv_sec != formatted_second) {
    formatted_second = now.tv_sec;
    date = formatHttpDate(now.tv_sec, text);
  }
  return date;
}

void writeHead(Buffer& out, const ResponseHead& head) {
  auto append = [&out](std::string_view text) { out.append(text); };
  char number[24];
  append("HTTP/1.1 ");
  append({number, static_cast<std::size_t>(fmt::format_to(number, "{} ", head.status) - number)});
  append(reasonPhrase(head.status));
  append("\r\nServer: epolld\r\nDate: ");
  append(currentHttpDate());
  if (!head.content_type.empty()) {
    append("\r\nContent-Type: ");
    append(head.content_type);
  }
  append("\r\nContent-Length: ");
  append({number, static_cast<std::size_t>(fmt::format_to(number, "{}", head.content_length) - number)});
  append("\r\n");
  if (!head.keep_alive) {
    append("Connection: close\r\n");
  } else if (head.announce_keep_alive) {
    append("Connection: keep-alive\r\n");
  }
  append(head.extra_fields);
  append("\r\n");
}

}  // namespace epolld::http
