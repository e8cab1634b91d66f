// libFuzzer target for the configuration loader and --check-config's host checks:
// whatever the bytes, parse() either returns a configuration that has every property
// the engine relies on, or throws ConfigError with one line of plain text that starts
// "fuzz.yaml:". Any other exception, a crash, a hang or unbounded memory is a finding.
#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <set>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>

#include "config/loader.h"
#include "protocols/http/http_options.h"

namespace {

using epolld::config::Config;
using epolld::config::ConfigError;
using epolld::config::Listener;

const std::string kSource = "fuzz.yaml";

// The daemon's protocols as its registry lists them, without the engine that
// the registry would pull in.
const std::array kProtocols{
    epolld::config::ProtocolSchema{.name = "echo"},
    epolld::config::ProtocolSchema{.name = "http", .read = &epolld::http::readHttpOptions},
};

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "config_fuzz: %s\n", what.c_str());
  std::abort();
}

void require(bool holds, const std::string& what) {
  if (!holds) finding("accepted a configuration where " + what);
}

bool printable(std::string_view text) {
  return std::ranges::none_of(text, [](unsigned char c) { return c < 0x20 || c >= 0x7f; });
}

bool hasControl(std::string_view text) {
  return std::ranges::any_of(text, [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

// The family (4 or 6) of an address literal, 0 when it is none.
int familyOf(const std::string& address) {
  unsigned char binary[16];
  if (inet_pton(AF_INET, address.c_str(), binary) == 1) return 4;
  if (inet_pton(AF_INET6, address.c_str(), binary) == 1) return 6;
  return 0;
}

bool isWildcard(const std::string& address) {
  unsigned char binary[16] = {};
  const unsigned char zero[16] = {};
  const int family = familyOf(address);
  if (family == 0) return false;
  inet_pton(family == 4 ? AF_INET : AF_INET6, address.c_str(), binary);
  return std::equal(binary, binary + (family == 4 ? 4 : 16), zero);
}

// The address in one spelling ("::0" and "::" are one address).
std::string canonical(const std::string& address) {
  unsigned char binary[16];
  char text[64];
  const int af = familyOf(address) == 4 ? AF_INET : AF_INET6;
  inet_pton(af, address.c_str(), binary);
  inet_ntop(af, binary, text, sizeof text);
  return text;
}

void checkHttp(const epolld::http::HttpOptions& http) {
  require(!hasControl(http.content_type), "content_type holds a control character");
  require(!http.root || (!http.root->empty() && !hasControl(*http.root)), "root is empty or holds a control byte");
  require(http.max_request_line >= 64 && http.max_request_line <= 1024 * 1024, "max_request_line is out of range");
  require(http.max_header_count >= 1 && http.max_header_count <= 10'000, "max_header_count is out of range");
  require(http.max_header_bytes >= 256 && http.max_header_bytes <= 16 * 1024 * 1024, "max_header_bytes is out of range");
  require(http.max_body_bytes <= (std::size_t{1} << 40), "max_body_bytes is out of range");
  require(http.header_timeout.count() >= 1, "header_timeout is not positive");
}

void checkListeners(const Config& config) {
  require(!config.listeners.empty(), "there is no listener");
  std::set<std::pair<std::string, std::uint16_t>> endpoints;
  std::set<std::pair<int, std::uint16_t>> wildcard_ports, other_ports;
  for (const Listener& listener : config.listeners) {
    const int family = familyOf(listener.address);
    require(family != 0, "address '" + listener.address + "' is no IP literal");
    require(listener.protocol == "echo" || listener.protocol == "http", "protocol is " + listener.protocol);
    require((listener.protocol == "http") == (listener.options != nullptr), "options without a section or vice versa");
    if (listener.options) checkHttp(epolld::config::optionsOf<epolld::http::HttpOptions>(listener));
    if (listener.port == 0) continue;
    require(endpoints.emplace(canonical(listener.address), listener.port).second,
            "two listeners share " + listener.address + " port " + std::to_string(listener.port));
    const std::pair family_port{family, listener.port};
    const bool wildcard = isWildcard(listener.address);
    require(!wildcard_ports.contains(family_port) && !(wildcard && other_ports.contains(family_port)),
            "a wildcard shares port " + std::to_string(listener.port) + " with another address of its family");
    (wildcard ? wildcard_ports : other_ports).insert(family_port);
  }
}

void checkConfig(const Config& config) {
  require(config.source == kSource, "source is " + config.source);
  require(config.workers <= 1024, "workers is over 1024");
  require(config.max_connections >= 1 && config.max_connections <= 10'000'000, "max_connections is out of range");
  const auto year = std::chrono::hours(24 * 365);
  for (const auto timeout : {config.idle_timeout, config.shutdown_timeout}) {
    require(timeout.count() >= 1 && timeout <= year, "a timeout is out of range");
  }
  require(config.output_buffer_limit >= 4096 && config.output_buffer_limit <= (std::size_t{1} << 30),
          "output_buffer_limit is out of range");
  require(!config.log.name.empty() && !hasControl(config.log.name), "log.name is empty or holds a control byte");
  require(!config.log.file.empty() && !hasControl(config.log.file), "log.file is empty or holds a control byte");
  checkListeners(config);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    // kHost as --check-config runs it: it only looks (stat, access), so fuzzing it is safe.
    checkConfig(epolld::config::parse(text, kSource, kProtocols, epolld::config::Checks::kHost));
  } catch (const ConfigError& e) {
    const std::string_view message = e.what();
    if (!message.starts_with(kSource + ":") || !printable(message)) {
      finding("a message that is not one line of plain text naming the file: " + std::string(message));
    }
  } catch (const std::exception& e) {
    finding(std::string("an exception other than ConfigError escaped: ") + typeid(e).name() + ": " + e.what());
  } catch (...) {
    finding("an exception of unknown type escaped");
  }
  return 0;
}
