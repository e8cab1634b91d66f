// Every configuration mistake is reported as FILE:LINE:COLUMN: what, at the offending key
// or value, like a compiler error.
#include <gtest/gtest.h>

#include <string>

#include "config/loader.h"
#include "config/yaml_syntax.h"
#include "protocols/registry.h"

namespace epolld::config {
namespace {

using std::string_literals::operator""s;

constexpr std::string_view kOneListener = R"(listeners:
  - address: 127.0.0.1
    port: 0
    protocol: echo
)";

std::string errorOf(std::string_view yaml) {
  try {
    parse(yaml, "test.yaml", protocolSchemas());
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

// `lines` come first, so their line numbers are as written.
std::string withListener(std::string_view lines) { return std::string(lines) + std::string(kOneListener); }

// One listener with an http block holding `line`, which is line 6.
std::string withHttp(std::string_view line) {
  return "listeners:\n  - address: 127.0.0.1\n    port: 0\n    protocol: http\n    http:\n      " + std::string(line) +
         "\n";
}

TEST(ConfigErrors, UnknownKeyReportsLineAndColumn) {
  EXPECT_EQ(errorOf(withListener("workers: 2\nwrkers: 3\n")),
            "test.yaml:2:1: unknown key 'wrkers' (valid keys: workers, acceptors, trigger, max_connections, idle_timeout, "
            "shutdown_timeout, output_buffer_limit, log, listeners)");
  EXPECT_EQ(errorOf(withListener("log:\n  file: x.log\n  colour: true\n")),
            "test.yaml:3:3: log: unknown key 'colour' (valid keys: name, file, file_level, console_level)");
  EXPECT_EQ(errorOf(std::string(kOneListener) + "    backlog: 5\n"),
            "test.yaml:5:5: listeners[0]: unknown key 'backlog' (valid keys: address, port, protocol, http, admin)");
  EXPECT_EQ(errorOf(withHttp("bodyy: x")),
            "test.yaml:6:7: listeners[0].http: unknown key 'bodyy' (valid keys: body, content_type, root, "
            "max_request_line, max_header_count, max_header_bytes, max_body_bytes, header_timeout, access_log, "
            "access_log_format)");
}

TEST(ConfigErrors, DuplicateKeyPointsAtTheSecond) {
  EXPECT_EQ(errorOf(withListener("workers: 1\ntrigger: edge\nworkers: 2\n")),
            "test.yaml:3:1: duplicate key 'workers' (first given on line 1)");
  EXPECT_EQ(errorOf(std::string(kOneListener) + "    port: 1\n"),
            "test.yaml:5:5: listeners[0]: duplicate key 'port' (first given on line 3)");
}

TEST(ConfigErrors, NonScalarKeyIsRejected) {
  EXPECT_EQ(errorOf(withListener("? [a, b]\n: 1\n")), "test.yaml:1:3: expected a key name, got a list");
}

TEST(ConfigErrors, WrongTypePointsAtTheValue) {
  EXPECT_EQ(errorOf("listeners:\n  - address: 127.0.0.1\n    port: abc\n    protocol: echo\n"),
            "test.yaml:3:11: listeners[0].port: expected an integer from 0 to 65535, got 'abc'");
  EXPECT_EQ(errorOf("listeners:\n  - address: 127.0.0.1\n    port: [80]\n    protocol: echo\n"),
            "test.yaml:3:11: listeners[0].port: expected an integer from 0 to 65535, got a list");
  EXPECT_EQ(errorOf(withListener("log: {name: {a: 1}}\n")), "test.yaml:1:13: log.name: expected a non-empty string, got a map");
  EXPECT_EQ(errorOf(withListener("log: debug\n")),
            "test.yaml:1:6: log: expected a map with keys name, file, file_level, console_level, got 'debug'");
  EXPECT_EQ(errorOf("listeners:\n  address: 127.0.0.1\n"),
            "test.yaml:2:3: listeners: expected a list of listeners, got a map");
}

// "workers:" with nothing after it: yaml-cpp marks the empty value on the next line.
TEST(ConfigErrors, EmptyValuePointsAtItsKey) {
  EXPECT_EQ(errorOf(withListener("trigger: edge\nworkers:\n")),
            "test.yaml:2:1: workers: expected an integer from 0 to 1024, got nothing");
  EXPECT_EQ(errorOf("listeners:\n  - address: 127.0.0.1\n    port:\n    protocol: echo\n"),
            "test.yaml:3:5: listeners[0].port: expected an integer from 0 to 65535, got nothing");
}

TEST(ConfigErrors, IntegersOutOfRangeAreRejected) {
  EXPECT_EQ(errorOf(withListener("workers: 1025\n")),
            "test.yaml:1:10: workers: expected an integer from 0 to 1024, got '1025'");
  EXPECT_EQ(errorOf(withListener("workers: -1\n")),
            "test.yaml:1:10: workers: expected an integer from 0 to 1024, got '-1'");
  EXPECT_EQ(errorOf(withListener("workers: 2.0\n")),
            "test.yaml:1:10: workers: expected an integer from 0 to 1024, got '2.0'");
  EXPECT_EQ(errorOf(withListener("max_connections: 0\n")),
            "test.yaml:1:18: max_connections: expected an integer from 1 to 10000000, got '0'");
  EXPECT_EQ(errorOf(withListener("max_connections: 99999999999999999999999\n")),
            "test.yaml:1:18: max_connections: expected an integer from 1 to 10000000, got '99999999999999999999999'");
  EXPECT_EQ(errorOf("listeners:\n  - address: 127.0.0.1\n    port: 65536\n    protocol: echo\n"),
            "test.yaml:3:11: listeners[0].port: expected an integer from 0 to 65535, got '65536'");
}

TEST(ConfigErrors, DurationsMustBePositiveAndBounded) {
  constexpr std::string_view kExpected = "expected a duration from 1ms to 365d (seconds, or with a unit: 250ms, 60s, 5m)";
  EXPECT_EQ(errorOf(withListener("idle_timeout: 0\n")),
            "test.yaml:1:15: idle_timeout: " + std::string(kExpected) + ", got '0'");
  EXPECT_EQ(errorOf(withListener("shutdown_timeout: -1s\n")),
            "test.yaml:1:19: shutdown_timeout: " + std::string(kExpected) + ", got '-1s'");
  EXPECT_EQ(errorOf(withListener("idle_timeout: 366d\n")),
            "test.yaml:1:15: idle_timeout: " + std::string(kExpected) + ", got '366d'");
  EXPECT_EQ(errorOf(withListener("idle_timeout: 10 s\n")),
            "test.yaml:1:15: idle_timeout: " + std::string(kExpected) + ", got '10 s'");
  EXPECT_EQ(errorOf(withHttp("header_timeout: 0ms")),
            "test.yaml:6:23: listeners[0].http.header_timeout: " + std::string(kExpected) + ", got '0ms'");
}

TEST(ConfigErrors, SizesOutOfRangeAreRejected) {
  constexpr std::string_view kUnits = " (bytes, or with a unit: 64KiB, 1MiB)";
  EXPECT_EQ(errorOf(withListener("output_buffer_limit: 4095\n")),
            "test.yaml:1:22: output_buffer_limit: expected a size from 4KiB to 1GiB" + std::string(kUnits) +
                ", got '4095'");
  EXPECT_EQ(errorOf(withListener("output_buffer_limit: 2GiB\n")),
            "test.yaml:1:22: output_buffer_limit: expected a size from 4KiB to 1GiB" + std::string(kUnits) +
                ", got '2GiB'");
  EXPECT_EQ(errorOf(withHttp("max_request_line: 63")),
            "test.yaml:6:25: listeners[0].http.max_request_line: expected a size from 64B to 1MiB" +
                std::string(kUnits) + ", got '63'");
  EXPECT_EQ(errorOf(withHttp("max_header_bytes: 17MiB")),
            "test.yaml:6:25: listeners[0].http.max_header_bytes: expected a size from 256B to 16MiB" +
                std::string(kUnits) + ", got '17MiB'");
  EXPECT_EQ(errorOf(withHttp("max_body_bytes: 2TiB")),
            "test.yaml:6:23: listeners[0].http.max_body_bytes: expected a size from 0 to 1TiB" + std::string(kUnits) +
                ", got '2TiB'");
  EXPECT_EQ(errorOf(withHttp("max_header_count: 0")),
            "test.yaml:6:25: listeners[0].http.max_header_count: expected an integer from 1 to 10000, got '0'");
}

TEST(ConfigErrors, UnknownNamesListTheChoices) {
  EXPECT_EQ(errorOf(withListener("trigger: both\n")), "test.yaml:1:10: trigger: expected one of edge|level, got 'both'");
  EXPECT_EQ(errorOf(withListener("log:\n  console_level: warn\n")),
            "test.yaml:2:18: log.console_level: expected one of debug|info|warning|error|critical|off, got 'warn'");
  EXPECT_EQ(errorOf("listeners:\n  - {address: 127.0.0.1, port: 0, protocol: htp}\n"),
            "test.yaml:2:45: listeners[0].protocol: expected one of echo|http|admin, got 'htp'");
}

TEST(ConfigErrors, ProtocolMustBeOneTheCallerKnows) {
  const std::array kOnlyEcho{ProtocolSchema{.name = "echo"}};
  try {
    parse("listeners: [{address: 127.0.0.1, port: 0, protocol: http}]", "test.yaml", kOnlyEcho);
    FAIL() << "http accepted";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "test.yaml:1:53: listeners[0].protocol: expected one of echo, got 'http'");
  }
}

TEST(ConfigErrors, LongOrControlValuesAreQuotedOnOneLine) {
  EXPECT_EQ(errorOf(withListener("trigger: \"edge\\nlevel\"\n")),
            "test.yaml:1:10: trigger: expected one of edge|level, got 'edge\\x0alevel'");
  EXPECT_EQ(errorOf(withListener("trigger: " + std::string(50, 'x') + "\n")),
            "test.yaml:1:10: trigger: expected one of edge|level, got '" + std::string(40, 'x') + "'...");
}

TEST(ConfigErrors, HttpBlockOnlyForHttpListeners) {
  EXPECT_EQ(errorOf(std::string(kOneListener) + "    http:\n      body: x\n"),
            "test.yaml:5:5: listeners[0].http: allowed only with protocol http, this listener's is echo");
}

TEST(ConfigErrors, HttpStringsAreChecked) {
  EXPECT_EQ(errorOf(withHttp("root: \"\"")), "test.yaml:6:13: listeners[0].http.root: expected a non-empty string, got ''");
  EXPECT_EQ(errorOf(withHttp("content_type: \"text/plain\\r\\nX-Evil: 1\"")),
            "test.yaml:6:21: listeners[0].http.content_type: must not contain control characters, got "
            "'text/plain\\x0d\\x0aX-Evil: 1'");
}

TEST(ConfigErrors, AddressMustBeAnIpLiteral) {
  EXPECT_EQ(errorOf(std::string(kOneListener) + "  - address: 1.2.3\n    port: 0\n    protocol: echo\n"),
            "test.yaml:5:14: listeners[1].address: '1.2.3' is not an IPv4 or IPv6 address");
  EXPECT_EQ(errorOf("listeners:\n  - {address: localhost, port: 0, protocol: echo}\n"),
            "test.yaml:2:15: listeners[0].address: 'localhost' is not an IPv4 or IPv6 address");
  EXPECT_EQ(errorOf("listeners:\n  - {address: '', port: 0, protocol: echo}\n"),
            "test.yaml:2:15: listeners[0].address: '' is not an IPv4 or IPv6 address");
}

TEST(ConfigErrors, DuplicateListenerPointsAtTheSecond) {
  EXPECT_EQ(errorOf("listeners:\n"
                    "  - address: 0.0.0.0\n    port: 2003\n    protocol: echo\n"
                    "  - address: 0.0.0.0\n    port: 2003\n    protocol: http\n"),
            "test.yaml:5:5: listeners[1]: 0.0.0.0:2003 is already used by listeners[0]");
}

TEST(ConfigErrors, DuplicateListenerComparesNormalizedAddresses) {
  EXPECT_EQ(errorOf("listeners:\n"
                    "  - {address: '::', port: 80, protocol: echo}\n"
                    "  - {address: 127.0.0.1, port: 80, protocol: echo}\n"
                    "  - {address: '0:0::0', port: 80, protocol: http}\n"),
            "test.yaml:4:5: listeners[2]: [::]:80 is already used by listeners[0]");
}

// bind(2) refuses 127.0.0.1:P once 0.0.0.0:P listens (and the reverse); -t said ok.
TEST(ConfigErrors, WildcardBesideAnotherAddressOnItsPortCollides) {
  constexpr std::string_view kWhy = ": a wildcard address already takes the port on every address of its family";
  EXPECT_EQ(errorOf("listeners:\n"
                    "  - {address: 0.0.0.0, port: 80, protocol: echo}\n"
                    "  - {address: 127.0.0.1, port: 80, protocol: http}\n"),
            "test.yaml:3:5: listeners[1]: 127.0.0.1:80 cannot be bound beside 0.0.0.0:80 of listeners[0]" +
                std::string(kWhy));
  EXPECT_EQ(errorOf("listeners:\n"
                    "  - {address: 127.0.0.1, port: 80, protocol: echo}\n"
                    "  - {address: 10.0.0.1, port: 80, protocol: echo}\n"
                    "  - {address: 0.0.0.0, port: 80, protocol: http}\n"),
            "test.yaml:4:5: listeners[2]: 0.0.0.0:80 cannot be bound beside 127.0.0.1:80 of listeners[0]" +
                std::string(kWhy));
  EXPECT_EQ(errorOf("listeners:\n"
                    "  - {address: '::1', port: 80, protocol: echo}\n"
                    "  - {address: '::', port: 80, protocol: http}\n"),
            "test.yaml:3:5: listeners[1]: [::]:80 cannot be bound beside [::1]:80 of listeners[0]" + std::string(kWhy));
}

// IPv6 listeners are IPV6_V6ONLY, so each family's wildcard is its own; port 0 is a
// fresh port each time.
TEST(ConfigErrors, WildcardsOfBothFamiliesAndPortZeroDoNotCollide) {
  EXPECT_EQ(errorOf("listeners:\n"
                    "  - {address: 0.0.0.0, port: 80, protocol: echo}\n"
                    "  - {address: '::', port: 80, protocol: echo}\n"
                    "  - {address: 0.0.0.0, port: 81, protocol: echo}\n"
                    "  - {address: '::1', port: 81, protocol: echo}\n"
                    "  - {address: 0.0.0.0, port: 0, protocol: echo}\n"
                    "  - {address: 127.0.0.1, port: 0, protocol: echo}\n"
                    "workers: x\n"),
            "test.yaml:8:10: workers: expected an integer from 0 to 1024, got 'x'");
}

TEST(ConfigErrors, ListenerNeedsAddressPortAndProtocol) {
  EXPECT_EQ(errorOf("listeners:\n  - address: 127.0.0.1\n    protocol: echo\n"),
            "test.yaml:2:5: listeners[0]: missing key 'port'");
  EXPECT_EQ(errorOf("listeners:\n  - port: 1\n    protocol: echo\n"),
            "test.yaml:2:5: listeners[0]: missing key 'address'");
  EXPECT_EQ(errorOf("listeners:\n  - address: 127.0.0.1\n    port: 1\n"),
            "test.yaml:2:5: listeners[0]: missing key 'protocol'");
  EXPECT_EQ(errorOf("listeners:\n  - echo\n"),
            "test.yaml:2:5: listeners[0]: expected a map with keys address, port, protocol, http, admin, got 'echo'");
  EXPECT_EQ(errorOf("listeners:\n  -\n"),
            "test.yaml:1:1: listeners[0]: expected a map with keys address, port, protocol, http, admin, got nothing");
}

TEST(ConfigErrors, ListenersAreRequired) {
  EXPECT_EQ(errorOf("workers: 2\n"), "test.yaml:1:1: missing key 'listeners'");
  EXPECT_EQ(errorOf("workers: 2\nlisteners: []\n"), "test.yaml:2:12: listeners: expected at least one listener");
}

TEST(ConfigErrors, EmptyOrNonMapDocumentIsRejected) {
  EXPECT_EQ(errorOf(""), "test.yaml:1:1: the configuration is empty; expected a map of settings");
  EXPECT_EQ(errorOf("# only a comment\n"), "test.yaml:1:1: the configuration is empty; expected a map of settings");
  EXPECT_EQ(errorOf("just text\n"),
            "test.yaml:1:1: expected a map with keys workers, acceptors, trigger, max_connections, idle_timeout, "
            "shutdown_timeout, output_buffer_limit, log, listeners, got 'just text'");
}

// yaml-cpp's own words ("end of sequence flow not found") name its grammar, not the mistake.
TEST(ConfigErrors, SyntaxErrorIsExplainedAtYamlCppPosition) {
  EXPECT_EQ(errorOf("listeners: [a, b\n"), "test.yaml:2:1: a '[' is not closed: expected ',' or ']' here");
  EXPECT_EQ(errorOf("log: {name: x\n"), "test.yaml:2:1: a '{' is not closed: expected ',' or '}' here");
  EXPECT_EQ(errorOf("listeners: [a]]\n"), "test.yaml:1:15: a ']' or '}' that closes nothing");
  EXPECT_EQ(errorOf("log: \"x"), "test.yaml:1:8: a quoted string is not closed before the end of the file");
  EXPECT_EQ(errorOf("trigger: edge: level\n"),
            "test.yaml:1:14: 'key: value' cannot start here: check the indentation, or quote a value that holds ': '");
}

// The usual result of an editor inserting tabs: yaml-cpp's complaint varies with what
// follows the tab ("illegal block entry", "illegal map value"); the cause does not.
TEST(ConfigErrors, TabIndentationIsNamed) {
  constexpr std::string_view kTabs = "tabs cannot indent YAML; use spaces";
  EXPECT_EQ(errorOf("workers: 1\n\tlog: x\n"), "test.yaml:2:1: " + std::string(kTabs));
  EXPECT_EQ(errorOf("listeners:\n\t- address: 127.0.0.1\n"), "test.yaml:2:2: " + std::string(kTabs));
  EXPECT_EQ(errorOf("log:\n\tfile: x.log\n"), "test.yaml:2:6: " + std::string(kTabs));
  // A tab inside a value is no indentation.
  EXPECT_EQ(errorOf(withListener("log: {name: \"a\tb\"}\n")),
            "test.yaml:1:13: log.name: must not contain control characters, got 'a\\x09b'");
}

TEST(ConfigErrors, EscapesInMessagesAreEscapedAgain) {
  EXPECT_EQ(errorOf("workers: \"\\q\"\n"),
            "test.yaml:1:13: unknown escape in a double-quoted string: write \\\\ for a backslash, or use single "
            "quotes, got 'q'");
  EXPECT_EQ(errorOf("workers: \"\\\xc3\xa9\"\n"),
            "test.yaml:1:13: unknown escape in a double-quoted string: write \\\\ for a backslash, or use single "
            "quotes, got '\\xc3'");
  EXPECT_EQ(errorOf(withListener("trigger: \"\\x9b\\xff\"\n")),
            "test.yaml:1:10: trigger: expected one of edge|level, got '\\xc2\\x9b\\xc3\\xbf'");
}

// 100,000 '[' made yaml-cpp recurse 2,000 deep and say "1:200004: bad file".
TEST(ConfigErrors, DeepNestingIsRefusedBeforeYamlCppRecurses) {
  constexpr std::string_view kDeep = ": not a configuration (a '[' or '{' left open?)";
  EXPECT_EQ(errorOf(std::string(100'000, '[')),
            "test.yaml:1:33: lists and maps nested deeper than 32 levels" + std::string(kDeep));
  EXPECT_EQ(errorOf(std::string(100'000, '{')),
            "test.yaml:1:33: lists and maps nested deeper than 32 levels" + std::string(kDeep));
  // yaml-cpp's scanner would queue a token per opener first: 250 MB for 1 MiB of "[{".
  std::string mixed;
  while (mixed.size() < 1024 * 1024 - 2) mixed += "[{";
  EXPECT_EQ(errorOf(mixed), "test.yaml:1:33: lists and maps nested deeper than 32 levels" + std::string(kDeep));
  EXPECT_EQ(errorOf("log:\n  name: " + std::string(20, '[') + "\n" + std::string(20, '{')),
            "test.yaml:3:13: lists and maps nested deeper than 32 levels" + std::string(kDeep));
  std::string dashes;
  for (int i = 0; i < 50'000; ++i) dashes += "- ";
  EXPECT_EQ(errorOf(dashes + "x\n"), "test.yaml:1:65: lists and maps nested deeper than 32 levels" + std::string(kDeep));
  // 32 levels are still parsed (and then refused for what they hold).
  EXPECT_EQ(errorOf(std::string(32, '[') + std::string(32, ']')),
            "test.yaml:1:1: expected a map with keys workers, acceptors, trigger, max_connections, idle_timeout, "
            "shutdown_timeout, output_buffer_limit, log, listeners, got a list");
}

// The text scan counts only brackets that open a collection.
TEST(ConfigErrors, BracketsInScalarsAndCommentsAreNotNesting) {
  const std::string many(40, '[');
  EXPECT_EQ(errorOf(withListener("log: {name: \"" + many + "\\\"" + many + "\"}\ntrigger: x\n")),
            "test.yaml:2:10: trigger: expected one of edge|level, got 'x'");
  EXPECT_EQ(errorOf(withListener("log: {name: '" + many + "''" + many + "'}\ntrigger: x\n")),
            "test.yaml:2:10: trigger: expected one of edge|level, got 'x'");
  EXPECT_EQ(errorOf(withListener("log:\n  name: a" + many + "\n  file: x.log # " + many + "\ntrigger: x\n")),
            "test.yaml:4:10: trigger: expected one of edge|level, got 'x'");
}

TEST(ConfigErrors, BinaryBytesAreRefusedWithTheirPosition) {
  EXPECT_EQ(errorOf("workers: 1\nlog:\0\xff\n"s),
            "test.yaml:2:5: byte '\\x00' is not text: is this a configuration file?");
  EXPECT_EQ(errorOf("workers: 1\n\x7f"s), "test.yaml:2:1: byte '\\x7f' is not text: is this a configuration file?");
  EXPECT_EQ(errorOf("log: {name: \xc3\xa9\xff}\n"s),
            "test.yaml:1:14: byte '\\xff' is not UTF-8 text: is this a configuration file?");
  EXPECT_EQ(errorOf("\xed\xa0\x80"s), "test.yaml:1:1: byte '\\xed' is not UTF-8 text: is this a configuration file?");
  // UTF-8 text is fine, and shown escaped.
  EXPECT_EQ(errorOf(withListener("trigger: \xc3\xa9\n")), "test.yaml:1:10: trigger: expected one of edge|level, got '\\xc3\\xa9'");
}

TEST(ConfigErrors, OverOneMebibyteIsRefused) {
  EXPECT_EQ(errorOf(std::string(1024 * 1024 + 1, '#')),
            "test.yaml: larger than 1 MiB: not a configuration (is it the right file?)");
  EXPECT_EQ(errorOf(std::string(1024 * 1024, '#')), "test.yaml:1:1: the configuration is empty; expected a map of settings");
}

TEST(ConfigErrors, LogNameMustBeOneLine) {
  EXPECT_EQ(errorOf(withListener("log: {name: \"a\\nb\"}\n")),
            "test.yaml:1:13: log.name: must not contain control characters, got 'a\\x0ab'");
  EXPECT_EQ(errorOf(withListener("log: {file: \"a\\0b\"}\n")),
            "test.yaml:1:13: log.file: must not contain control characters, got 'a\\x00b'");
}

TEST(ConfigErrors, SecondDocumentIsRejected) {
  EXPECT_EQ(errorOf(withListener("---\nworkers: 1\n---\nworkers: 2\n")),
            "test.yaml:4:1: expected one YAML document, found a second");
}

// Every message yaml-cpp's parser can throw has its own sentence; none reaches the
// operator as yaml-cpp wrote it ("bad file", "illegal block entry").
TEST(ConfigErrors, EveryYamlCppParserMessageIsExplained) {
  namespace msg = YAML::ErrorMsg;
  for (const std::string message :
       {msg::YAML_DIRECTIVE_ARGS, msg::YAML_VERSION, msg::YAML_MAJOR_VERSION, msg::REPEATED_YAML_DIRECTIVE,
        msg::TAG_DIRECTIVE_ARGS, msg::REPEATED_TAG_DIRECTIVE, msg::CHAR_IN_TAG_HANDLE, msg::TAG_WITH_NO_SUFFIX,
        msg::END_OF_VERBATIM_TAG, msg::END_OF_MAP, msg::END_OF_MAP_FLOW, msg::END_OF_SEQ, msg::END_OF_SEQ_FLOW,
        msg::MULTIPLE_TAGS, msg::MULTIPLE_ANCHORS, msg::MULTIPLE_ALIASES, msg::ALIAS_CONTENT, msg::INVALID_HEX,
        msg::INVALID_UNICODE, msg::INVALID_ESCAPE, msg::UNKNOWN_TOKEN, msg::DOC_IN_SCALAR, msg::EOF_IN_SCALAR,
        msg::CHAR_IN_SCALAR, msg::TAB_IN_INDENTATION, msg::FLOW_END, msg::BLOCK_ENTRY, msg::MAP_KEY, msg::MAP_VALUE,
        msg::ALIAS_NOT_FOUND, msg::ANCHOR_NOT_FOUND, msg::CHAR_IN_ALIAS, msg::CHAR_IN_ANCHOR, msg::ZERO_INDENT_IN_BLOCK,
        msg::CHAR_IN_BLOCK, msg::AMBIGUOUS_ANCHOR, msg::UNKNOWN_ANCHOR, msg::UNMATCHED_GROUP_TAG,
        msg::UNEXPECTED_END_SEQ, msg::UNEXPECTED_END_MAP, msg::SINGLE_QUOTED_CHAR, msg::BAD_FILE}) {
    const std::string explained = explainSyntaxError(message, "", YAML::Mark::null_mark());
    EXPECT_FALSE(explained.starts_with("not valid YAML")) << message;
    EXPECT_EQ(explained.find(message), std::string::npos) << message;
  }
  EXPECT_EQ(explainSyntaxError("invalid unicode: 55296", "", YAML::Mark::null_mark()),
            "an escape names no Unicode character, got '55296'");
  EXPECT_EQ(explainSyntaxError("something new\x1b", "", YAML::Mark::null_mark()), "not valid YAML: 'something new\\x1b'");
}

// Found by fuzz-config: yaml-cpp 0.7's LoadAll never returned on "[a], b" (a new empty
// document at the ',' on every turn, memory growing); -t hung.
TEST(ConfigErrors, CommaAfterACompleteValueIsRefused) {
  constexpr std::string_view kComma = "a ',' after a complete value: write several values as a list, [a, b]";
  EXPECT_EQ(errorOf("[a], b"), "test.yaml:1:4: " + std::string(kComma));
  EXPECT_EQ(errorOf("{ max_body_e_he@vlel: in}, liste"), "test.yaml:1:26: " + std::string(kComma));
}

}  // namespace
}  // namespace epolld::config
