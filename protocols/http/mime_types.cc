#include "protocols/http/mime_types.h"

#include <utility>

#include "protocols/http/syntax.h"

namespace epolld::http {
namespace {

// Text types name their charset: without one, a browser guesses it (RFC 9110
// §8.3.2), and files written today are UTF-8.
constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
    {"xml", "application/xml"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"ico", "image/vnd.microsoft.icon"},
    {"wasm", "application/wasm"},
    {"pdf", "application/pdf"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"mp3", "audio/mpeg"},
    {"ogg", "audio/ogg"},
    {"gz", "application/gzip"},
    {"zip", "application/zip"},
    {"tar", "application/x-tar"},
};

constexpr std::string_view kDefaultType = "application/octet-stream";

}  // namespace

std::string_view contentTypeFor(std::string_view file_name) {
  const std::size_t slash = file_name.rfind('/');
  const std::string_view base = slash == std::string_view::npos ? file_name : file_name.substr(slash + 1);
  const std::size_t dot = base.rfind('.');
  // No dot, or only a leading one (".profile"): the name has no extension.
  if (dot == std::string_view::npos || dot == 0) {
    return kDefaultType;
  }
  const std::string_view extension = base.substr(dot + 1);
  for (const auto& [known, type] : kTypes) {
    if (equalsIgnoreCase(extension, known)) {
      return type;
    }
  }
  return kDefaultType;
}

}  // namespace epolld::http
