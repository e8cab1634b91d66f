#include "config/units.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace epolld::config {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(ConfigUnits, DurationUnitsScaleToMilliseconds) {
  EXPECT_EQ(parseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(parseDuration("60s"), seconds(60));
  EXPECT_EQ(parseDuration("5m"), minutes(5));
  EXPECT_EQ(parseDuration("1h"), hours(1));
  EXPECT_EQ(parseDuration("2d"), hours(48));
  EXPECT_EQ(parseDuration("0s"), milliseconds(0));
}

TEST(ConfigUnits, DurationWithoutUnitIsSeconds) {
  EXPECT_EQ(parseDuration("10"), seconds(10));
  EXPECT_EQ(parseDuration("0"), milliseconds(0));
}

TEST(ConfigUnits, DurationFractionIsExact) {
  EXPECT_EQ(parseDuration("1.5s"), milliseconds(1500));
  EXPECT_EQ(parseDuration("0.25"), milliseconds(250));
  EXPECT_EQ(parseDuration("0.001s"), milliseconds(1));
  EXPECT_EQ(parseDuration("1.5m"), seconds(90));
  EXPECT_EQ(parseDuration("2.000000000s"), seconds(2));
}

TEST(ConfigUnits, DurationBelowOneMillisecondIsRejected) {
  EXPECT_EQ(parseDuration("0.5ms"), std::nullopt);
  EXPECT_EQ(parseDuration("0.0001s"), std::nullopt);
}

TEST(ConfigUnits, MalformedDurationsAreRejected) {
  for (const char* text : {"", "s", "ms", "-1s", "+1s", " 1s", "1s ", "1 s", "1.s", ".5s", "1..5s", "1S", "1sec",
                           "1w", "1e3", "0x10", "1.0000000001s", "abc"}) {
    EXPECT_EQ(parseDuration(text), std::nullopt) << text;
  }
}

TEST(ConfigUnits, DurationOverflowIsRejected) {
  const auto max = std::numeric_limits<milliseconds::rep>::max();
  EXPECT_EQ(parseDuration(std::to_string(max) + "ms"), milliseconds(max));
  EXPECT_EQ(parseDuration(std::to_string(max) + "s"), std::nullopt);
  EXPECT_EQ(parseDuration("9223372036854775808ms"), std::nullopt);
  EXPECT_EQ(parseDuration("99999999999999999999999h"), std::nullopt);
}

TEST(ConfigUnits, SizeUnitsArePowersOf1024) {
  EXPECT_EQ(parseSize("65536"), 65536u);
  EXPECT_EQ(parseSize("0"), 0u);
  EXPECT_EQ(parseSize("512B"), 512u);
  for (const char* text : {"64k", "64K", "64KiB"}) EXPECT_EQ(parseSize(text), 64u * 1024) << text;
  for (const char* text : {"1m", "1M", "1MiB"}) EXPECT_EQ(parseSize(text), 1024u * 1024) << text;
  for (const char* text : {"1g", "1G", "1GiB"}) EXPECT_EQ(parseSize(text), 1024u * 1024 * 1024) << text;
  for (const char* text : {"1t", "1T", "1TiB"}) EXPECT_EQ(parseSize(text), std::size_t{1} << 40) << text;
}

TEST(ConfigUnits, MalformedSizesAreRejected) {
  for (const char* text : {"", "k", "-1", "+1", "1.5M", "1 M", " 1M", "1M ", "1KB", "1kb", "1kib", "1MB", "1x",
                           "0x10", "1e6"}) {
    EXPECT_EQ(parseSize(text), std::nullopt) << text;
  }
}

TEST(ConfigUnits, SizeOverflowIsRejected) {
  const std::size_t max = std::numeric_limits<std::size_t>::max();
  EXPECT_EQ(parseSize(std::to_string(max)), max);
  EXPECT_EQ(parseSize(std::to_string(max) + "0"), std::nullopt);
  EXPECT_EQ(parseSize("17179869184GiB"), std::nullopt);  // 2^34 GiB = 2^64 bytes
  EXPECT_EQ(parseSize("17179869183GiB"), std::size_t{17179869183} << 30);
}

TEST(ConfigUnits, FormatPicksTheLargestExactUnit) {
  EXPECT_EQ(formatSize(4096), "4KiB");
  EXPECT_EQ(formatSize(1 << 30), "1GiB");
  EXPECT_EQ(formatSize(1536), "1536B");
  EXPECT_EQ(formatSize(0), "0");
  EXPECT_EQ(formatDuration(milliseconds(1)), "1ms");
  EXPECT_EQ(formatDuration(milliseconds(1500)), "1500ms");
  EXPECT_EQ(formatDuration(minutes(90)), "90m");
  EXPECT_EQ(formatDuration(hours(24 * 365)), "365d");
  EXPECT_EQ(formatDuration(milliseconds(0)), "0s");
}

TEST(ConfigUnits, FormattedValuesParseBack) {
  for (const std::size_t bytes : {std::size_t{0}, std::size_t{1}, std::size_t{1536}, std::size_t{3} << 40}) {
    EXPECT_EQ(parseSize(formatSize(bytes)), bytes);
  }
  for (const milliseconds duration : {milliseconds(0), milliseconds(7), milliseconds(61'000), milliseconds(hours(49))}) {
    EXPECT_EQ(parseDuration(formatDuration(duration)), duration);
  }
}

}  // namespace
}  // namespace epolld::config
