#include "config/loader.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "config/yaml_reader.h"

namespace epolld::config {
namespace {

// The settings of config/epolld.yaml, compiled in because the binary must run where the
// repository is not. A unit test keeps the two equal.
constexpr std::string_view kDefaultYaml = R"(workers: 0
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

constexpr std::array<std::string_view, 8> kTopKeys{
    "workers", "trigger", "max_connections", "idle_timeout", "shutdown_timeout", "output_buffer_limit",
    "log", "listeners"};
constexpr std::array<std::string_view, 4> kLogKeys{"name", "file", "file_level", "console_level"};
constexpr std::array<std::string_view, 4> kListenerKeys{"address", "port", "protocol", "http"};
constexpr std::array<std::string_view, 8> kHttpKeys{
    "body", "content_type", "root", "max_request_line", "max_header_count", "max_header_bytes",
    "max_body_bytes", "header_timeout"};

constexpr std::size_t kKiB = 1024;
constexpr std::size_t kMiB = 1024 * kKiB;
constexpr std::size_t kGiB = 1024 * kMiB;

constexpr unsigned kMaxWorkers = 1024;
constexpr std::size_t kMaxConnections = 10'000'000;
// Long enough for any real timeout, short enough that deadline arithmetic in
// nanoseconds cannot overflow.
constexpr Duration kMinTimeout{1};
constexpr Duration kMaxTimeout = std::chrono::hours(24 * 365);

LogLevel readLevel(const Field& field) { return static_cast<LogLevel>(field.choice(kLevelNames)); }

LogOptions readLog(const Field& field) {
  const MapReader map(field, kLogKeys);
  LogOptions log;
  if (const Field* f = map.find("name")) log.name = f->string(false);
  if (const Field* f = map.find("file")) log.file = f->string(false);
  if (const Field* f = map.find("file_level")) log.file_level = readLevel(*f);
  if (const Field* f = map.find("console_level")) log.console_level = readLevel(*f);
  return log;
}

HttpOptions readHttp(const Field& field) {
  const MapReader map(field, kHttpKeys);
  HttpOptions http;
  if (const Field* f = map.find("body")) http.body = f->string(true);
  if (const Field* f = map.find("content_type")) {
    http.content_type = f->string(false);
    // It goes out as a header line: a line break in it would corrupt every response.
    if (std::ranges::any_of(http.content_type, [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
      f->fail("must not contain control characters, got " + quote(http.content_type));
    }
  }
  if (const Field* f = map.find("root")) http.root = f->string(false);
  if (const Field* f = map.find("max_request_line")) http.max_request_line = f->size(64, kMiB);
  if (const Field* f = map.find("max_header_count")) http.max_header_count = f->integer<std::size_t>(1, 10'000);
  if (const Field* f = map.find("max_header_bytes")) http.max_header_bytes = f->size(256, 16 * kMiB);
  if (const Field* f = map.find("max_body_bytes")) http.max_body_bytes = f->size(0, std::size_t{1} << 40);
  if (const Field* f = map.find("header_timeout")) http.header_timeout = f->duration(kMinTimeout, kMaxTimeout);
  return http;
}

// The address in one spelling per address ("::0" and "::" are the same), bracketed for
// IPv6 so that a port can follow.
std::string canonicalAddress(const Field& field) {
  const std::string text = field.string(true);
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

std::vector<Listener> readListeners(const Field& field, std::span<const std::string_view> protocols) {
  const std::vector<Field> items = field.items("listeners");
  if (items.empty()) field.fail("expected at least one listener");
  std::vector<Listener> listeners;
  std::map<std::string, std::string> used;  // "address:port" -> the listener's path
  for (const Field& item : items) {
    const MapReader map(item, kListenerKeys);
    Listener listener;
    const Field& address = map.require("address");
    listener.address = address.string(true);
    const std::string host = canonicalAddress(address);
    listener.port = map.require("port").integer<std::uint16_t>(0, 65535);
    listener.protocol = protocols[map.require("protocol").choice(protocols)];
    if (const Field* http = map.find("http")) {
      if (listener.protocol != "http") {
        http->failAt(http->keyMark(), "allowed only with protocol http, this listener's is " + listener.protocol);
      }
      listener.http = readHttp(*http);
    }
    // Port 0 gets a fresh ephemeral port at each bind, so those never collide.
    if (listener.port != 0) {
      const std::string endpoint = host + ":" + std::to_string(listener.port);
      const auto [previous, added] = used.emplace(endpoint, item.path());
      if (!added) item.fail(endpoint + " is already used by " + previous->second);
    }
    listeners.push_back(std::move(listener));
  }
  return listeners;
}

Config readConfig(const Field& root, std::span<const std::string_view> protocols) {
  const MapReader top(root, kTopKeys);
  Config config;
  config.source = root.source();
  if (const Field* f = top.find("workers")) config.workers = f->integer<unsigned>(0, kMaxWorkers);
  if (const Field* f = top.find("trigger")) config.trigger = static_cast<Trigger>(f->choice(kTriggerNames));
  if (const Field* f = top.find("max_connections")) {
    config.max_connections = f->integer<std::size_t>(1, kMaxConnections);
  }
  if (const Field* f = top.find("idle_timeout")) config.idle_timeout = f->duration(kMinTimeout, kMaxTimeout);
  if (const Field* f = top.find("shutdown_timeout")) config.shutdown_timeout = f->duration(kMinTimeout, kMaxTimeout);
  if (const Field* f = top.find("output_buffer_limit")) config.output_buffer_limit = f->size(4 * kKiB, kGiB);
  if (const Field* f = top.find("log")) config.log = readLog(*f);
  config.listeners = readListeners(top.require("listeners"), protocols);
  return config;
}

}  // namespace

Config parse(std::string_view yaml_text, const std::string& source_name, std::span<const std::string_view> protocols) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    failAt(source_name, e.mark, e.msg);
  }
  if (documents.empty() || documents.front().IsNull()) {
    // SPEC.md wants FILE:LINE:COLUMN for every error: an empty file is wrong from its start.
    YAML::Mark start;
    start.pos = start.line = start.column = 0;
    failAt(source_name, start, "the configuration is empty; expected a map of settings");
  }
  if (documents.size() > 1) failAt(source_name, documents[1].Mark(), "expected one YAML document, found a second");
  const YAML::Node& root = documents.front();
  return readConfig(Field(root, "", root.Mark(), source_name), protocols);
}

Config loadFile(const std::string& path, std::span<const std::string_view> protocols) {
  std::ifstream in(path, std::ios::binary);
  if (!in) failAt(path, YAML::Mark::null_mark(), std::string("cannot open: ") + std::strerror(errno));
  std::string text;
  try {
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } catch (const std::ios_base::failure&) {  // libstdc++'s way to report read(2) failing, a directory say
    failAt(path, YAML::Mark::null_mark(), std::string("cannot read: ") + std::strerror(errno));
  }
  return parse(text, path, protocols);
}

Config builtInDefaults() { return parse(kDefaultYaml, "built-in defaults"); }

std::string_view toString(LogLevel level) { return kLevelNames[static_cast<std::size_t>(level)]; }

std::string_view toString(Trigger trigger) { return kTriggerNames[static_cast<std::size_t>(trigger)]; }

}  // namespace epolld::config
