// http: the settings of a listener's `http:` section.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "config/config.h"
#include "protocols/http/access_log_format.h"

namespace epolld::config {
struct Section;
}

namespace epolld::http {

struct HttpOptions {
  std::string body = "Hello, World!";
  std::string content_type = "text/plain";
  std::optional<std::string> root;  // serve static files from here instead of body
  std::size_t max_request_line = 8 * 1024;
  std::size_t max_header_count = 100;
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 1024 * 1024;
  config::Duration header_timeout = std::chrono::seconds(10);
  std::optional<std::string> access_log{};  // one line per answered request, appended here
  AccessLogFormat access_log_format = AccessLogFormat::kCombined;

  bool operator==(const HttpOptions&) const = default;
};

// Reads and validates the section (the defaults when there is none) into
// config::OptionsOf<HttpOptions>.
std::shared_ptr<const config::ProtocolOptions> readHttpOptions(const config::Section& section);

YAML::Node yamlOf(const HttpOptions& options);

}  // namespace epolld::http
