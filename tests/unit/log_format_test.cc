#include "core/log/python_formatter.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

#include <spdlog/details/log_msg.h>

namespace epolld::log {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// 2026-11-22 16:03:47 UTC.
constexpr std::time_t kSeconds = 1795363427;

std::string formatLine(spdlog::level::level_enum level, milliseconds millis,
                       std::string_view text) {
  const spdlog::log_clock::time_point time{seconds(kSeconds) + millis};
  const spdlog::details::log_msg msg(time, spdlog::source_loc{}, "network-server", level,
                                     spdlog::string_view_t(text.data(), text.size()));
  spdlog::memory_buf_t line;
  makePythonFormatter()->format(msg, line);
  return fmt::to_string(line);
}

// Python's asctime, computed without spdlog: local time, comma, 3-digit millis.
std::string asctime(int millis) {
  std::tm local{};
  const std::time_t seconds = kSeconds;
  localtime_r(&seconds, &local);
  char text[64];
  const std::size_t length = std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
  char millis_text[8];
  std::snprintf(millis_text, sizeof millis_text, ",%03d", millis);
  return std::string(text, length) + millis_text;
}

TEST(LogFormat, MatchesPythonByteForByteForEveryLevel) {
  const struct {
    spdlog::level::level_enum level;
    const char* python_name;
  } cases[] = {
      {spdlog::level::trace, "DEBUG"},   {spdlog::level::debug, "DEBUG"},
      {spdlog::level::info, "INFO"},     {spdlog::level::warn, "WARNING"},
      {spdlog::level::err, "ERROR"},     {spdlog::level::critical, "CRITICAL"},
  };
  for (const auto& c : cases) {
    const std::string message = "accept connection from 127.0.0.1, 53422, fd = 7";
    EXPECT_EQ(formatLine(c.level, milliseconds(123), message),
              asctime(123) + " - network-server - " + c.python_name + " - " + message + "\n");
  }
}

TEST(LogFormat, PadsMillisecondsToThreeDigits) {
  for (const int millis : {0, 7, 45, 999}) {
    EXPECT_EQ(formatLine(spdlog::level::info, milliseconds(millis), "x"),
              asctime(millis) + " - network-server - INFO - x\n");
  }
}

// Sets TZ for one test, and puts it back.
class LogFormatInTimeZone : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* tz = std::getenv("TZ")) {
      saved_tz_ = tz;
    }
    // POSIX TZ syntax, no tzdata needed: UTC+05:30, so a formatter printing
    // UTC, or rounding the offset to hours, shows.
    ::setenv("TZ", "EPO-05:30", 1);
    ::tzset();
  }
  void TearDown() override {
    if (saved_tz_) {
      ::setenv("TZ", saved_tz_->c_str(), 1);
    } else {
      ::unsetenv("TZ");
    }
    ::tzset();
  }

 private:
  std::optional<std::string> saved_tz_;
};

TEST_F(LogFormatInTimeZone, PrintsLocalTimeAsPythonDoes) {
  const std::string line = formatLine(spdlog::level::info, milliseconds(5), "x");
  EXPECT_EQ(line, asctime(5) + " - network-server - INFO - x\n");
  EXPECT_EQ(line.substr(0, 23), "2026-11-22 21:33:47,005");
}

}  // namespace
}  // namespace epolld::log
