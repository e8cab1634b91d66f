// --dump-config's text: every key in a fixed order, read back by the loader as the same
// Config, and dumped again to the same bytes, whatever the strings hold.
#include "config/dump.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "config/loader.h"
#include "protocols/http/http_options.h"
#include "protocols/registry.h"

namespace epolld::config {
namespace {

using http::HttpOptions;

constexpr std::string_view kHttpListener = R"(
listeners:
  - address: 127.0.0.1
    port: 8080
    protocol: http
)";

Config parseText(std::string_view text) { return parse(text, "test.yaml", protocolSchemas()); }

// The two promises of --dump-config: the loader reads the dump back as the same
// configuration, and dumping that gives the same text. Returns the dump.
std::string expectRoundTrip(const Config& config) {
  const std::string dumped = dumpConfig(config);
  SCOPED_TRACE("dump:\n" + dumped);
  Config back;
  try {
    back = parse(dumped, config.source, protocolSchemas());
  } catch (const ConfigError& e) {
    ADD_FAILURE() << "the dump does not load: " << e.what();
    return dumped;
  }
  EXPECT_TRUE(back == config) << "the dump loads as another configuration";
  EXPECT_EQ(dumpConfig(back), dumped) << "not a fixed point";
  return dumped;
}

Config withHttp(const HttpOptions& options) {
  Config config = parseText(kHttpListener);
  config.listeners[0].options = std::make_shared<OptionsOf<HttpOptions>>(options);
  return config;
}

TEST(ConfigDump, BuiltInDefaultsInTheOrderOfTheExampleConfig) {
  const Config defaults = builtInDefaults(protocolSchemas());
  EXPECT_EQ(expectRoundTrip(defaults), R"(workers: 0
acceptors: 1
trigger: edge
max_connections: 65536
idle_timeout: 1m
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
      max_request_line: 8KiB
      max_header_count: 100
      max_header_bytes: 16KiB
      max_body_bytes: 1MiB
      header_timeout: 10s
      access_log_format: combined
)");
}

TEST(ConfigDump, FillsInDefaultsAFileLeftOut) {
  const std::string dumped = expectRoundTrip(parseText(kHttpListener));
  for (const std::string_view line :
       {"workers: 0\n", "trigger: edge\n", "idle_timeout: 1m\n", "  console_level: error\n",
        "    http:\n      body: \"Hello, World!\"\n", "      header_timeout: 10s\n"}) {
    EXPECT_NE(dumped.find(line), std::string::npos) << line << " missing from\n" << dumped;
  }
  EXPECT_EQ(dumped.find("root"), std::string::npos) << "root has no default:\n" << dumped;
}

TEST(ConfigDump, EveryKeySetToSomethingElse) {
  const Config config = parseText(R"(
workers: 3
acceptors: 2
trigger: level
max_connections: 1000
idle_timeout: 1500ms
shutdown_timeout: 2m
output_buffer_limit: 65536
log:
  name: my server
  file: /var/log/epolld/x.log
  file_level: warning
  console_level: "off"
listeners:
  - address: "::1"
    port: 0
    protocol: echo
  - address: 127.0.0.1
    port: 65535
    protocol: http
    http:
      body: "ok\n"
      content_type: text/html; charset=utf-8
      root: /srv/www
      max_request_line: 1k
      max_header_count: 7
      max_header_bytes: 1048576
      max_body_bytes: 0
      header_timeout: 0.25
      access_log: /var/log/epolld/access.log
      access_log_format: json
)");
  // Each value differs from its default, so that a key the dump lost would show.
  const Config defaults = parseText(kHttpListener);
  EXPECT_NE(config.workers, defaults.workers);
  EXPECT_NE(config.trigger, defaults.trigger);
  EXPECT_NE(config.max_connections, defaults.max_connections);
  EXPECT_NE(config.idle_timeout, defaults.idle_timeout);
  EXPECT_NE(config.shutdown_timeout, defaults.shutdown_timeout);
  EXPECT_NE(config.output_buffer_limit, defaults.output_buffer_limit);
  EXPECT_NE(config.log.name, defaults.log.name);
  EXPECT_NE(config.log.file, defaults.log.file);
  EXPECT_NE(config.log.file_level, defaults.log.file_level);
  EXPECT_NE(config.log.console_level, defaults.log.console_level);
  const HttpOptions& set = optionsOf<HttpOptions>(config.listeners[1]);
  const HttpOptions unset;
  EXPECT_NE(set.body, unset.body);
  EXPECT_NE(set.content_type, unset.content_type);
  EXPECT_NE(set.root, unset.root);
  EXPECT_NE(set.max_request_line, unset.max_request_line);
  EXPECT_NE(set.max_header_count, unset.max_header_count);
  EXPECT_NE(set.max_header_bytes, unset.max_header_bytes);
  EXPECT_NE(set.max_body_bytes, unset.max_body_bytes);
  EXPECT_NE(set.header_timeout, unset.header_timeout);
  EXPECT_NE(set.access_log, unset.access_log);
  EXPECT_NE(set.access_log_format, unset.access_log_format);

  const std::string dumped = expectRoundTrip(config);
  // Spelled as the file would: units, names, the shortest exact form.
  for (const std::string_view line :
       {"workers: 3\n", "trigger: level\n", "idle_timeout: 1500ms\n", "shutdown_timeout: 2m\n",
        "output_buffer_limit: 64KiB\n", "  name: \"my server\"\n", "  console_level: off\n",
        "  - address: \"::1\"\n    port: 0\n    protocol: echo\n  - address", "      max_request_line: 1KiB\n",
        "      max_header_bytes: 1MiB\n", "      max_body_bytes: 0\n", "      header_timeout: 250ms\n",
        "      root: /srv/www\n", "      body: \"ok\\n\"\n", "      access_log: /var/log/epolld/access.log\n",
        "      access_log_format: json\n"}) {
    EXPECT_NE(dumped.find(line), std::string::npos) << line << " missing from\n" << dumped;
  }
}

// Strings that plain YAML would read as something else, or not at all.
const std::vector<std::string> kTrickyStrings{
    "Hello, World!", "", " leading space", "trailing space ", " ", "   ", "yes", "no", "on", "off", "true",
    "null", "Null", "NULL", "~", "123", "-1", "0x1F", "1e3", "0.5", ".inf", "a # not a comment", "#hash",
    "a#b", "key: value", "a:", ":a", "a:b", "- item", "-", "---", "...", "? x", "[x]", "{x: 1}", "*alias",
    "&anchor", "!tag", "| literal", "> folded", "'single'", "\"double\"", "x'", "back\\slash", "%TAG", "@at",
    "`tick", "line one\nline two\n", "\n", "\n\n", "\r\n", "no newline\r", "tab\there", "\t",
    "controls \x01\x08\x1b\x1f and DEL \x7f", std::string("nul\0byte", 8), "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93",
    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x98\x80", "\xc2\x85 next line", "\xc2\x9f",
    "\xc2\xa0no-break space", "\xe2\x80\xa8 line separator", "\xe2\x80\xa9 paragraph separator",
    "\xef\xbb\xbf byte order mark", "key: value\n- item\n# comment\n", std::string(10000, 'x') + " " +
    std::string(10000, 'y')};

TEST(ConfigDump, BodiesComeBackByteForByte) {
  for (const std::string& body : kTrickyStrings) {
    SCOPED_TRACE("body '" + body + "'");
    HttpOptions options;
    options.body = body;
    expectRoundTrip(withHttp(options));
  }
}

// Log names, files, content types and roots take no control characters; everything else
// a file can hold must come back as it was.
TEST(ConfigDump, PrintableStringsComeBackByteForByte) {
  for (const std::string& text : kTrickyStrings) {
    const bool printable = !text.empty() && std::ranges::none_of(text, [](unsigned char c) {
      return c < 0x20 || c == 0x7f;
    });
    if (!printable) continue;
    SCOPED_TRACE("string '" + text + "'");
    HttpOptions options;
    options.content_type = text;
    options.root = text;
    Config config = withHttp(options);
    config.log.name = text;
    config.log.file = text;
    expectRoundTrip(config);
  }
}

TEST(ConfigDump, AddressesAsConfigured) {
  for (const std::string_view address : {"::", "::1", "fe80::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "10.1.2.3"}) {
    SCOPED_TRACE(address);
    Config config = parseText(kHttpListener);
    config.listeners[0].address = address;
    expectRoundTrip(config);
  }
}

TEST(ConfigDump, ProtocolsWithoutSettingsHaveNoSection) {
  const std::string dumped = expectRoundTrip(parseText(R"(
listeners:
  - address: 127.0.0.1
    port: 2003
    protocol: echo
)"));
  EXPECT_TRUE(dumped.ends_with("listeners:\n  - address: 127.0.0.1\n    port: 2003\n    protocol: echo\n")) << dumped;
}

}  // namespace
}  // namespace epolld::config
