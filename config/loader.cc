#include "config/loader.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/host_checks.h"
#include "config/source_text.h"
#include "config/yaml_reader.h"
#include "config/yaml_syntax.h"

namespace epolld::config {
namespace {

// The settings of config/epolld.yaml, compiled in because the binary must run where the
// repository is not. A unit test keeps the two equal.
constexpr std::string_view kDefaultYaml = R"(workers: 0
acceptors: 1
trigger: edge
max_connections: 65536
idle_timeout: 60s
shutdown_timeout: 10s
output_buffer_limit: 1MiB
log:
  name: network-server
  file: network-server.log
  file_level: debug
  console_level: error
listeners:
  - address: 0.0.0.0
    port: 2003
    protocol: echo
  - address: 0.0.0.0
    port: 8080
    protocol: http
    http:
      body: "Hello, World!"
      content_type: text/plain
)";

// Indexed by the enums' values.
constexpr std::array<std::string_view, 2> kTriggerNames{"edge", "level"};
constexpr std::array<std::string_view, 6> kLevelNames{"debug", "info", "warning", "error", "critical", "off"};

constexpr std::array<std::string_view, 9> kTopKeys{
    "workers", "acceptors", "trigger", "max_connections", "idle_timeout", "shutdown_timeout", "output_buffer_limit",
    "log", "listeners"};
constexpr std::array<std::string_view, 4> kLogKeys{"name", "file", "file_level", "console_level"};
constexpr std::array<std::string_view, 3> kCommonListenerKeys{"address", "port", "protocol"};


constexpr unsigned kMaxWorkers = 1024;
constexpr unsigned kMaxAcceptors = 64;
constexpr std::size_t kMaxConnections = 10'000'000;

LogLevel readLevel(const Field& field) { return static_cast<LogLevel>(field.choice(kLevelNames)); }

// Start-up opens the log file for appending (creating it) unless file_level is off.
// `file` is the log.file value; without one the default is checked, pointing at `at`.
void checkLogFile(const LogOptions& log, const Field* file, const Field& at) {
  if (log.file_level == LogLevel::kOff) return;
  if (const std::optional<std::string> problem = appendProblem(log.file)) {
    if (file) file->fail(*problem);
    at.fail("log.file (default " + quote(log.file) + "): " + *problem);
  }
}

LogOptions readLog(const Field& field, Checks checks) {
  const MapReader map(field, kLogKeys);
  LogOptions log;
  if (const Field* f = map.find("name")) log.name = f->printable();
  if (const Field* f = map.find("file")) log.file = f->printable();
  if (const Field* f = map.find("file_level")) log.file_level = readLevel(*f);
  if (const Field* f = map.find("console_level")) log.console_level = readLevel(*f);
  if (checks == Checks::kHost) checkLogFile(log, map.find("file"), field);
  return log;
}

// The address in one spelling per address ("::0" and "::" are the same), bracketed for
// IPv6 so that a port can follow.
// `field` is where an error points: the address, or the listener that has none.
std::string canonicalAddress(const Field& field, const std::string& text) {
  in6_addr binary{};
  char canonical[INET6_ADDRSTRLEN] = {};
  for (const int family : {AF_INET, AF_INET6}) {
    if (inet_pton(family, text.c_str(), &binary) == 1) {
      inet_ntop(family, &binary, canonical, sizeof canonical);
      return family == AF_INET6 ? "[" + std::string(canonical) + "]" : canonical;
    }
  }
  field.fail(quote(text) + " is not an IPv4 or IPv6 address");
}

// Finds listeners that cannot all be bound: the same address and port twice, or a
// wildcard (0.0.0.0, [::]) beside another address of its family on the same port, which
// bind(2) refuses once either listens. IPv6 listeners are bound IPV6_V6ONLY, so
// 0.0.0.0:P and [::]:P do not collide. Port 0 gets a fresh port at each bind: never.
class EndpointClaims {
 public:
  void claim(const Field& item, const std::string& host, std::uint16_t port) {
    if (port == 0) return;
    const Claim mine{host + ":" + std::to_string(port), item.path()};
    const auto [previous, added] = exact_.emplace(mine.endpoint, mine.path);
    if (!added) item.fail(mine.endpoint + " is already used by " + previous->second);
    const bool wildcard = host == "0.0.0.0" || host == "[::]";
    PortClaims& port_claims = ports_[{host.starts_with('['), port}];
    if (const std::optional<Claim>& other = wildcard ? port_claims.first : port_claims.wildcard) {
      item.fail(mine.endpoint + " cannot be bound beside " + other->endpoint + " of " + other->path +
                ": a wildcard address already takes the port on every address of its family");
    }
    if (!port_claims.first) port_claims.first = mine;
    if (wildcard) port_claims.wildcard = mine;
  }

 private:
  struct Claim {
    std::string endpoint;  // "127.0.0.1:80", "[::1]:80"
    std::string path;      // "listeners[0]"
  };
  struct PortClaims {
    std::optional<Claim> first;
    std::optional<Claim> wildcard;
  };

  std::map<std::string, std::string> exact_;                    // endpoint -> path
  std::map<std::pair<bool, std::uint16_t>, PortClaims> ports_;  // (IPv6?, port)
};

// The keys of a listener: the common ones, then each protocol's section.
std::vector<std::string_view> listenerKeys(ProtocolSchemas protocols) {
  std::vector<std::string_view> keys(kCommonListenerKeys.begin(), kCommonListenerKeys.end());
  for (const ProtocolSchema& protocol : protocols) {
    if (protocol.read) keys.push_back(protocol.name);
  }
  return keys;
}

Listener readListener(const Field& item, ProtocolSchemas protocols, std::span<const std::string_view> keys,
                      Checks checks, EndpointClaims& claims) {
  const MapReader map(item, keys);
  std::vector<std::string_view> names;
  for (const ProtocolSchema& protocol : protocols) names.push_back(protocol.name);
  const ProtocolSchema& schema = protocols[map.require("protocol").choice(names)];
  Listener listener;
  listener.protocol = schema.name;
  const Field* address = schema.default_address.empty() ? &map.require("address") : map.find("address");
  listener.address = address ? address->string(true) : std::string(schema.default_address);
  const std::string host = canonicalAddress(address ? *address : item, listener.address);
  listener.port = map.require("port").integer<std::uint16_t>(0, 65535);
  for (const ProtocolSchema& other : protocols) {
    const Field* section = other.read ? map.find(other.name) : nullptr;
    if (section && other.name != schema.name) {
      section->failAt(section->keyMark(),
                      "allowed only with protocol " + std::string(other.name) + ", this listener's is " + listener.protocol);
    }
  }
  if (schema.read) listener.options = schema.read(Section{map.find(schema.name), item, address, host, checks});
  claims.claim(item, host, listener.port);
  return listener;
}

std::vector<Listener> readListeners(const Field& field, ProtocolSchemas protocols, Checks checks) {
  const std::vector<Field> items = field.items("listeners");
  if (items.empty()) field.fail("expected at least one listener");
  const std::vector<std::string_view> keys = listenerKeys(protocols);
  std::vector<Listener> listeners;
  EndpointClaims claims;
  for (const Field& item : items) listeners.push_back(readListener(item, protocols, keys, checks, claims));
  return listeners;
}

Config readConfig(const Field& root, ProtocolSchemas protocols, Checks checks) {
  const MapReader top(root, kTopKeys);
  Config config;
  config.source = root.source();
  if (const Field* f = top.find("workers")) config.workers = f->integer<unsigned>(0, kMaxWorkers);
  if (const Field* f = top.find("acceptors")) config.acceptors = f->integer<unsigned>(0, kMaxAcceptors);
  if (const Field* f = top.find("trigger")) config.trigger = static_cast<Trigger>(f->choice(kTriggerNames));
  if (const Field* f = top.find("max_connections")) {
    config.max_connections = f->integer<std::size_t>(1, kMaxConnections);
  }
  if (const Field* f = top.find("idle_timeout")) config.idle_timeout = f->duration(kMinTimeout, kMaxTimeout);
  if (const Field* f = top.find("shutdown_timeout")) config.shutdown_timeout = f->duration(kMinTimeout, kMaxTimeout);
  if (const Field* f = top.find("output_buffer_limit")) config.output_buffer_limit = f->size(4 * kKiB, kGiB);
  if (const Field* f = top.find("log")) {
    config.log = readLog(*f, checks);
  } else if (checks == Checks::kHost) {
    checkLogFile(config.log, nullptr, root);
  }
  config.listeners = readListeners(top.require("listeners"), protocols, checks);
  return config;
}

}  // namespace

Config parse(std::string_view yaml_text, const std::string& source_name, ProtocolSchemas protocols, Checks checks) {
  checkText(yaml_text, source_name);
  const YAML::Node root = loadDocument(yaml_text, source_name);
  if (root.IsNull()) {
    // SPEC.md wants FILE:LINE:COLUMN for every error: an empty file is wrong from its start.
    YAML::Mark start;
    start.pos = start.line = start.column = 0;
    failAt(source_name, start, "the configuration is empty; expected a map of settings");
  }
  return readConfig(Field(root, "", root.Mark(), source_name), protocols, checks);
}

Config loadFile(const std::string& path, ProtocolSchemas protocols) {
  return parse(readConfigFile(path), path, protocols, Checks::kHost);
}

Config builtInDefaults(ProtocolSchemas protocols) {
  return parse(kDefaultYaml, "built-in defaults", protocols, Checks::kHost);
}

std::string_view toString(LogLevel level) { return kLevelNames[static_cast<std::size_t>(level)]; }

std::string_view toString(Trigger trigger) { return kTriggerNames[static_cast<std::size_t>(trigger)]; }

}  // namespace epolld::config
