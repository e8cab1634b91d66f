// The loaded configuration: a plain, immutable value. The loader builds it once
// from YAML; a reload builds a whole new one and swaps it in, so no reader ever
// sees a half-applied configuration.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace epolld::config {

using Duration = std::chrono::milliseconds;

// edge = EPOLLET|EPOLLONESHOT (each fd re-armed after it is handled);
// level = plain level-triggered registration, kept to compare and to test.
enum class Trigger { kEdge, kLevel };

// Python logging's levels, plus off.
enum class LogLevel { kDebug, kInfo, kWarning, kError, kCritical, kOff };

struct LogOptions {
  std::string name = "network-server";
  std::string file = "network-server.log";  // relative to the working directory
  LogLevel file_level = LogLevel::kDebug;
  LogLevel console_level = LogLevel::kError;

  bool operator==(const LogOptions&) const = default;
};

struct HttpOptions {
  std::string body = "Hello, World!";
  std::string content_type = "text/plain";
  std::optional<std::string> root;  // serve static files from here instead of body
  std::size_t max_request_line = 8 * 1024;
  std::size_t max_header_count = 100;
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 1024 * 1024;
  Duration header_timeout = std::chrono::seconds(10);

  bool operator==(const HttpOptions&) const = default;
};

struct Listener {
  std::string address;  // IPv4 or IPv6 literal
  std::uint16_t port = 0;  // 0 = an ephemeral port, logged once bound
  std::string protocol;  // a name from the protocol registry: echo, http
  HttpOptions http;      // used when protocol == "http"

  bool operator==(const Listener&) const = default;
};

struct Config {
  std::string source;  // the file it came from, or "built-in defaults"
  unsigned workers = 0;  // 0 = one per CPU
  Trigger trigger = Trigger::kEdge;
  std::size_t max_connections = 65536;
  Duration idle_timeout = std::chrono::seconds(60);
  Duration shutdown_timeout = std::chrono::seconds(10);
  // Pending output per connection above which epolld stops reading from it.
  std::size_t output_buffer_limit = 1024 * 1024;
  LogOptions log;
  std::vector<Listener> listeners;

  // A reload compares old and new to apply only what changed.
  bool operator==(const Config&) const = default;
};

}  // namespace epolld::config
