#include "protocols/http/http_options.h"

#include <array>
#include <string_view>

#include "config/host_checks.h"
#include "config/protocol_schema.h"
#include "config/units.h"

namespace epolld::http {
namespace {

using config::kKiB;
using config::kMiB;

constexpr std::array<std::string_view, 10> kKeys{
    "body", "content_type", "root", "max_request_line", "max_header_count", "max_header_bytes",
    "max_body_bytes", "header_timeout", "access_log", "access_log_format"};
// Indexed by AccessLogFormat.
constexpr std::array<std::string_view, 2> kFormats{"combined", "json"};

}  // namespace

std::shared_ptr<const config::ProtocolOptions> readHttpOptions(const config::Section& section) {
  HttpOptions http;
  if (!section.field) return std::make_shared<config::OptionsOf<HttpOptions>>(std::move(http));
  const config::MapReader map(*section.field, kKeys);
  using config::Field;
  if (const Field* f = map.find("body")) http.body = f->string(true);
  // It goes out as a header line: a line break in it would corrupt every response.
  if (const Field* f = map.find("content_type")) http.content_type = f->printable();
  if (const Field* f = map.find("root")) {
    http.root = f->printable();
    if (section.checks == config::Checks::kHost) {
      if (const std::optional<std::string> problem = config::readableDirectoryProblem(*http.root)) f->fail(*problem);
    }
  }
  if (const Field* f = map.find("max_request_line")) http.max_request_line = f->size(64, kMiB);
  if (const Field* f = map.find("max_header_count")) http.max_header_count = f->integer<std::size_t>(1, 10'000);
  if (const Field* f = map.find("max_header_bytes")) http.max_header_bytes = f->size(256, 16 * kMiB);
  if (const Field* f = map.find("max_body_bytes")) http.max_body_bytes = f->size(0, std::size_t{1} << 40);
  if (const Field* f = map.find("header_timeout")) {
    http.header_timeout = f->duration(config::kMinTimeout, config::kMaxTimeout);
  }
  if (const Field* f = map.find("access_log")) {
    http.access_log = f->printable();
    if (section.checks == config::Checks::kHost) {
      if (const std::optional<std::string> problem = config::appendProblem(*http.access_log)) f->fail(*problem);
    }
  }
  if (const Field* f = map.find("access_log_format")) {
    http.access_log_format = static_cast<AccessLogFormat>(f->choice(kFormats));
  }
  return std::make_shared<config::OptionsOf<HttpOptions>>(std::move(http));
}

YAML::Node yamlOf(const HttpOptions& options) {
  YAML::Node node;
  node["body"] = options.body;
  node["content_type"] = options.content_type;
  if (options.root) node["root"] = *options.root;
  node["max_request_line"] = config::formatSize(options.max_request_line);
  node["max_header_count"] = options.max_header_count;
  node["max_header_bytes"] = config::formatSize(options.max_header_bytes);
  node["max_body_bytes"] = config::formatSize(options.max_body_bytes);
  node["header_timeout"] = config::formatDuration(options.header_timeout);
  if (options.access_log) node["access_log"] = *options.access_log;
  node["access_log_format"] = std::string(kFormats[static_cast<std::size_t>(options.access_log_format)]);
  return node;
}

}  // namespace epolld::http
