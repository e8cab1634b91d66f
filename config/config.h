// The loaded configuration: a plain, immutable value. The loader builds it once
// from YAML; a reload builds a whole new one and swaps it in, so no reader ever
// sees a half-applied configuration.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace YAML {
class Node;
}

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

// A protocol's own settings: the listener's section named after its protocol
// (`http:`), read and checked by the protocol itself (see ProtocolSchema in
// config/protocol_schema.h), so that config/ knows no protocol.
class ProtocolOptions {
 public:
  virtual ~ProtocolOptions() = default;
  virtual bool operator==(const ProtocolOptions& other) const = 0;
  // The section, every key with its value, defaults filled in (--dump-config).
  virtual YAML::Node toYaml() const = 0;
};

struct Listener {
  std::string address;  // IPv4 or IPv6 literal
  std::uint16_t port = 0;  // 0 = an ephemeral port, logged once bound
  std::string protocol;  // a name from the protocol registry: echo, http, admin
  // Null for a protocol that has no section.
  std::shared_ptr<const ProtocolOptions> options{};

  bool operator==(const Listener& other) const {
    const bool same_options =
        options && other.options ? *options == *other.options : !options && !other.options;
    return address == other.address && port == other.port && protocol == other.protocol && same_options;
  }
};

struct Config {
  std::string source;  // the file it came from, or "built-in defaults"
  unsigned workers = 0;  // 0 = one per CPU
  unsigned acceptors = 1;  // accepting threads; 0 = one per 4 workers
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
