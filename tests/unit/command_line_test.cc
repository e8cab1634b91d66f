#include "daemon/command_line.h"

#include <gtest/gtest.h>

namespace epolld {
namespace {

std::optional<CommandLine> parse(std::vector<std::string> args, std::string* error_out = nullptr) {
  std::string error;
  auto line = parseCommandLine(args, error);
  if (error_out) *error_out = error;
  return line;
}

TEST(CommandLine, DefaultsToEtcConfigNotGiven) {
  const auto line = parse({});
  ASSERT_TRUE(line);
  EXPECT_EQ(line->config_path, "/etc/epolld.yaml");
  EXPECT_FALSE(line->config_given);
  EXPECT_FALSE(line->check_config);
  EXPECT_FALSE(line->dump_config);
}

TEST(CommandLine, ShortAndLongFormsAgree) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"-c", "x.yaml", "-t"}, {"--config", "x.yaml", "--check-config"}, {"--config=x.yaml", "-t"}}) {
    const auto line = parse(args);
    ASSERT_TRUE(line);
    EXPECT_EQ(line->config_path, "x.yaml");
    EXPECT_TRUE(line->config_given);
    EXPECT_TRUE(line->check_config);
  }
}

TEST(CommandLine, DumpConfigShortAndLong) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"-T"}, {"--dump-config"}}) {
    const auto line = parse(args);
    ASSERT_TRUE(line);
    EXPECT_TRUE(line->dump_config);
    EXPECT_FALSE(line->check_config);
    EXPECT_FALSE(line->config_given) << "-T alone dumps what the daemon would run: the default file or built-ins";
  }
  const auto line = parse({"--config=x.yaml", "-T"});
  ASSERT_TRUE(line);
  EXPECT_TRUE(line->dump_config);
  EXPECT_EQ(line->config_path, "x.yaml");
  EXPECT_TRUE(line->config_given);
}

// -T validates exactly as -t does, so both together are -T: nginx's -T is likewise -t
// plus the dump. main() looks at dump_config first.
TEST(CommandLine, DumpConfigWithCheckConfigIsAccepted) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"-t", "-T"}, {"-T", "--check-config"}}) {
    const auto line = parse(args);
    ASSERT_TRUE(line);
    EXPECT_TRUE(line->dump_config);
  }
}

TEST(CommandLine, DumpConfigIsCaseSensitive) {
  std::string error;
  EXPECT_FALSE(parse({"--dump-Config"}, &error));
  EXPECT_EQ(error, "unknown option '--dump-Config'");
}

TEST(CommandLine, UsageNamesDumpConfig) {
  EXPECT_NE(usage().find("-T, --dump-config"), std::string::npos);
}

TEST(CommandLine, VersionAndHelp) {
  EXPECT_TRUE(parse({"-V"})->version);
  EXPECT_TRUE(parse({"--version"})->version);
  EXPECT_TRUE(parse({"-h"})->help);
  EXPECT_TRUE(parse({"--help"})->help);
}

TEST(CommandLine, MissingFileArgumentIsAnError) {
  std::string error;
  EXPECT_FALSE(parse({"--config"}, &error));
  EXPECT_NE(error.find("--config"), std::string::npos);
  EXPECT_FALSE(parse({"--config="}, &error));
}

TEST(CommandLine, UnknownOptionIsNamed) {
  std::string error;
  EXPECT_FALSE(parse({"--frobnicate"}, &error));
  EXPECT_EQ(error, "unknown option '--frobnicate'");
}

}  // namespace
}  // namespace epolld
