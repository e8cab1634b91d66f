// Loading that succeeds: defaults, every key, files. Errors are in config_errors_test.cc.
#include "config/loader.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "protocols/http/http_options.h"
#include "protocols/registry.h"

namespace epolld::config {
namespace {

using http::HttpOptions;

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::string_view kOneListener = R"(
listeners:
  - address: 127.0.0.1
    port: 0
    protocol: echo
)";

// A fresh directory, removed with everything in it at the end of the test.
class ConfigFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "epolld-config-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, std::string_view text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

  std::filesystem::path dir_;
};

std::string errorOf(const std::string& path) {
  try {
    loadFile(path, protocolSchemas());
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ConfigLoader, BuiltInDefaultsAreTheSpecExample) {
  const Config config = builtInDefaults(protocolSchemas());
  EXPECT_EQ(config.source, "built-in defaults");
  EXPECT_EQ(config.workers, 0u);
  EXPECT_EQ(config.trigger, Trigger::kEdge);
  EXPECT_EQ(config.max_connections, 65536u);
  EXPECT_EQ(config.idle_timeout, seconds(60));
  EXPECT_EQ(config.shutdown_timeout, seconds(10));
  EXPECT_EQ(config.output_buffer_limit, 1024u * 1024);
  EXPECT_EQ(config.log.name, "network-server");
  EXPECT_EQ(config.log.file, "network-server.log");
  EXPECT_EQ(config.log.file_level, LogLevel::kDebug);
  EXPECT_EQ(config.log.console_level, LogLevel::kError);
  ASSERT_EQ(config.listeners.size(), 2u);
  EXPECT_EQ(config.listeners[0].address, "0.0.0.0");
  EXPECT_EQ(config.listeners[0].port, 2003);
  EXPECT_EQ(config.listeners[0].protocol, "echo");
  EXPECT_EQ(config.listeners[1].address, "0.0.0.0");
  EXPECT_EQ(config.listeners[1].port, 8080);
  EXPECT_EQ(config.listeners[1].protocol, "http");
  EXPECT_EQ(optionsOf<HttpOptions>(config.listeners[1]).body, "Hello, World!");
  EXPECT_EQ(optionsOf<HttpOptions>(config.listeners[1]).content_type, "text/plain");
  EXPECT_EQ(optionsOf<HttpOptions>(config.listeners[1]).root, std::nullopt);
}

// The compiled-in defaults and the file the package installs must never drift apart.
TEST(ConfigLoader, RepositoryFileEqualsBuiltInDefaults) {
  const auto path = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "config/epolld.yaml";
  Config from_file = loadFile(path.string(), protocolSchemas());
  EXPECT_EQ(from_file.source, path.string());
  from_file.source = "built-in defaults";
  EXPECT_EQ(from_file, builtInDefaults(protocolSchemas()));
}

TEST(ConfigLoader, MissingKeysKeepTheStructDefaults) {
  Config expected;
  expected.source = "test.yaml";
  expected.listeners.push_back(Listener{.address = "127.0.0.1", .port = 0, .protocol = "echo"});
  EXPECT_EQ(parse(kOneListener, "test.yaml", protocolSchemas()), expected);
}

TEST(ConfigLoader, EveryKeyIsRead) {
  const Config config = parse(R"(
workers: 3
trigger: level
max_connections: 10
idle_timeout: 1.5
shutdown_timeout: 250ms
output_buffer_limit: 64KiB
log:
  name: epolld
  file: /var/log/epolld/epolld.log
  file_level: off
  console_level: warning
listeners:
  - address: "::1"
    port: 65535
    protocol: http
    http:
      body: ""
      content_type: text/html; charset=utf-8
      root: /srv/www
      max_request_line: 1k
      max_header_count: 7
      max_header_bytes: 2KiB
      max_body_bytes: 0
      header_timeout: 2m
)",
                              "full.yaml", protocolSchemas());
  Config expected;
  expected.source = "full.yaml";
  expected.workers = 3;
  expected.trigger = Trigger::kLevel;
  expected.max_connections = 10;
  expected.idle_timeout = milliseconds(1500);
  expected.shutdown_timeout = milliseconds(250);
  expected.output_buffer_limit = 64 * 1024;
  expected.log = {.name = "epolld", .file = "/var/log/epolld/epolld.log", .file_level = LogLevel::kOff,
                  .console_level = LogLevel::kWarning};
  expected.listeners.push_back(Listener{.address = "::1",
                                        .port = 65535,
                                        .protocol = "http",
                                        .options = std::make_shared<OptionsOf<HttpOptions>>(HttpOptions{
                                                 .body = "",
                                                 .content_type = "text/html; charset=utf-8",
                                                 .root = "/srv/www",
                                                 .max_request_line = 1024,
                                                 .max_header_count = 7,
                                                 .max_header_bytes = 2048,
                                                 .max_body_bytes = 0,
                                                 .header_timeout = seconds(120)})});
  EXPECT_EQ(config, expected);
}

TEST(ConfigLoader, Ipv6AddressesAreAccepted) {
  const Config config = parse(R"(
listeners:
  - {address: "::", port: 80, protocol: echo}
  - {address: "fe80::1", port: 81, protocol: echo}
  - {address: "::ffff:10.0.0.1", port: 82, protocol: echo}
  - {address: 0.0.0.0, port: 80, protocol: echo}
)",
                              "test.yaml", protocolSchemas());
  ASSERT_EQ(config.listeners.size(), 4u);
  EXPECT_EQ(config.listeners[0].address, "::");
  EXPECT_EQ(config.listeners[1].address, "fe80::1");
}

TEST(ConfigLoader, SameAddressOnOtherPortOrEphemeralPortIsAccepted) {
  const Config config = parse(R"(
listeners:
  - {address: 127.0.0.1, port: 2003, protocol: echo}
  - {address: 127.0.0.1, port: 2004, protocol: echo}
  - {address: 127.0.0.1, port: 0, protocol: echo}
  - {address: 127.0.0.1, port: 0, protocol: http}
)",
                              "test.yaml", protocolSchemas());
  EXPECT_EQ(config.listeners.size(), 4u);
}

TEST(ConfigLoader, ProtocolNamesComeFromTheCaller) {
  const std::array kProtocols{ProtocolSchema{.name = "echo"}, ProtocolSchema{.name = "redis"}};
  const Config config = parse("listeners: [{address: 127.0.0.1, port: 0, protocol: redis}]", "t", kProtocols);
  EXPECT_EQ(config.listeners.at(0).protocol, "redis");
}

TEST(ConfigLoader, NamesReadBackAsTheSameValues) {
  for (const LogLevel level : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarning, LogLevel::kError,
                               LogLevel::kCritical, LogLevel::kOff}) {
    const std::string yaml = "log: {console_level: \"" + std::string(toString(level)) + "\"}" + std::string(kOneListener);
    EXPECT_EQ(parse(yaml, "t", protocolSchemas()).log.console_level, level) << toString(level);
  }
  for (const Trigger trigger : {Trigger::kEdge, Trigger::kLevel}) {
    const std::string yaml = "trigger: " + std::string(toString(trigger)) + std::string(kOneListener);
    EXPECT_EQ(parse(yaml, "t", protocolSchemas()).trigger, trigger) << toString(trigger);
  }
}

TEST_F(ConfigFiles, LoadFileRecordsThePathAsSource) {
  const std::string path = write("epolld.yaml", "workers: 2" + std::string(kOneListener));
  const Config config = loadFile(path, protocolSchemas());
  EXPECT_EQ(config.source, path);
  EXPECT_EQ(config.workers, 2u);
}

TEST_F(ConfigFiles, ErrorsNameTheFile) {
  const std::string path = write("bad.yaml", "workers: many\n");
  EXPECT_EQ(errorOf(path), path + ":1:10: workers: expected an integer from 0 to 1024, got 'many'");
}

TEST_F(ConfigFiles, MissingFileReportsStrerror) {
  const std::string path = (dir_ / "absent.yaml").string();
  EXPECT_EQ(errorOf(path), path + ": cannot open: No such file or directory");
}

TEST_F(ConfigFiles, DirectoryReportsStrerror) {
  EXPECT_EQ(errorOf(dir_.string()), dir_.string() + ": cannot read: Is a directory");
}

TEST_F(ConfigFiles, UnreadableFileReportsStrerror) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads files whatever their mode";
  const std::string path = write("secret.yaml", kOneListener);
  std::filesystem::permissions(path, std::filesystem::perms::none);
  EXPECT_EQ(errorOf(path), path + ": cannot open: Permission denied");
}

// /dev/zero read forever and ended in std::bad_alloc; a FIFO would block -t for good.
TEST_F(ConfigFiles, OnlyRegularFilesAreRead) {
  EXPECT_EQ(errorOf("/dev/zero"), "/dev/zero: cannot read: a character device, not a regular file");
  const std::string fifo = (dir_ / "fifo.yaml").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(errorOf(fifo), fifo + ": cannot read: a FIFO, not a regular file");
}

TEST_F(ConfigFiles, FileOverOneMebibyteIsRefusedUnread) {
  const std::string path = write("huge.yaml", std::string(kOneListener) + std::string(1024 * 1024, '#'));
  EXPECT_EQ(errorOf(path), path + ": larger than 1 MiB: not a configuration (is it the right file?)");
}

// A file in /proc says it has 0 bytes: the read loop, not st_size, bounds the read.
TEST_F(ConfigFiles, FileThatUnderstatesItsSizeIsStillRead) {
  EXPECT_EQ(errorOf("/proc/self/status").rfind("/proc/self/status:1:1: unknown key 'Name'", 0), 0u);
}

// What start-up opens besides the sockets is checked where its value is written, so
// that -t, start-up and a reload refuse it alike (they all call loadFile).
class ConfigHostChecks : public ConfigFiles {
 protected:
  // One http listener whose root is `root` (line 6, column 13).
  std::string withRoot(const std::string& root) {
    return write("root.yaml", "listeners:\n  - address: 127.0.0.1\n    port: 0\n    protocol: http\n    http:\n"
                              "      root: " + root + "\n");
  }
  // The log file is `file` (line 2, column 9).
  std::string withLogFile(const std::string& file, std::string_view level = "debug") {
    return write("log.yaml", "log:\n  file: " + file + "\n  file_level: " + std::string(level) + std::string(kOneListener));
  }
};

TEST_F(ConfigHostChecks, RootMustBeAnExistingDirectory) {
  const std::string missing = (dir_ / "missing").string();
  std::string path = withRoot(missing);
  EXPECT_EQ(errorOf(path), path + ":6:13: listeners[0].http.root: '" + missing + "': No such file or directory");
  const std::string file = write("index.html", "hello");
  path = withRoot(file);
  EXPECT_EQ(errorOf(path), path + ":6:13: listeners[0].http.root: '" + file + "' is not a directory");
  path = withRoot(dir_.string());
  EXPECT_EQ(optionsOf<HttpOptions>(loadFile(path, protocolSchemas()).listeners.at(0)).root, dir_.string());
}

TEST_F(ConfigHostChecks, UnreadableRootIsRefused) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads directories whatever their mode";
  const std::filesystem::path www = dir_ / "www";
  std::filesystem::create_directory(www);
  std::filesystem::permissions(www, std::filesystem::perms::owner_write);
  const std::string path = withRoot(www.string());
  EXPECT_EQ(errorOf(path), path + ":6:13: listeners[0].http.root: '" + www.string() +
                               "' is not readable: Permission denied");
}

TEST_F(ConfigHostChecks, LogFileMustBeCreatableWithoutBeingCreated) {
  const std::string missing_dir = (dir_ / "no-such-dir").string();
  std::string path = withLogFile(missing_dir + "/epolld.log");
  EXPECT_EQ(errorOf(path), path + ":2:9: log.file: cannot create '" + missing_dir + "/epolld.log': directory '" +
                               missing_dir + "': No such file or directory");
  const std::string log = (dir_ / "new.log").string();
  path = withLogFile(log);
  EXPECT_EQ(loadFile(path, protocolSchemas()).log.file, log);
  EXPECT_FALSE(std::filesystem::exists(log)) << "the check created the log file";
}

TEST_F(ConfigHostChecks, LogFileThatIsNotAWritableFileIsRefused) {
  std::string path = withLogFile(dir_.string());
  EXPECT_EQ(errorOf(path), path + ":2:9: log.file: cannot append to '" + dir_.string() + "': Is a directory");
  const std::string below_file = write("plain", "") + "/epolld.log";
  path = withLogFile(below_file);
  EXPECT_EQ(errorOf(path), path + ":2:9: log.file: cannot append to '" + below_file + "': Not a directory");
  if (geteuid() == 0) return;  // root writes files whatever their mode
  const std::string read_only = write("read-only.log", "");
  std::filesystem::permissions(read_only, std::filesystem::perms::owner_read);
  path = withLogFile(read_only);
  EXPECT_EQ(errorOf(path), path + ":2:9: log.file: cannot append to '" + read_only + "': Permission denied");
}

TEST_F(ConfigHostChecks, LogFileIsNotCheckedWhenFileLevelIsOff) {
  const std::string path = withLogFile((dir_ / "no-such-dir/epolld.log").string(), "off");
  EXPECT_EQ(loadFile(path, protocolSchemas()).log.file_level, LogLevel::kOff);
}

// parse() alone checks only the text, so tests (and the fuzzer's first stage) can name
// paths that exist nowhere.
TEST(ConfigLoader, ParseChecksTheHostOnlyWhenAsked) {
  const std::string yaml = "log: {file: /no/such/dir/x.log}\n"
                           "listeners: [{address: 127.0.0.1, port: 0, protocol: http, http: {root: /no/such/dir}}]\n";
  EXPECT_EQ(optionsOf<HttpOptions>(parse(yaml, "t", protocolSchemas()).listeners.at(0)).root, "/no/such/dir");
  try {
    parse(yaml, "t", protocolSchemas(), Checks::kHost);
    FAIL() << "a log file in a missing directory was accepted";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "t:1:13: log.file: cannot create '/no/such/dir/x.log': directory '/no/such/dir': No such "
                           "file or directory");
  }
}

}  // namespace
}  // namespace epolld::config
