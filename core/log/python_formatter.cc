#include "core/log/python_formatter.h"

#include <algorithm>
#include <array>
#include <string_view>

#include <spdlog/pattern_formatter.h>

namespace epolld::log {
namespace {

// Not a letter spdlog uses for a flag of its own.
constexpr char kLevelFlag = '*';

// Indexed by spdlog's level; Python has no TRACE, so trace prints as DEBUG.
// Padding in the pattern (`%-8*`) is not supported; the pattern has none.
class PythonLevelName final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    static constexpr std::array<std::string_view, 6> kNames = {
        "DEBUG", "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"};
    // level::off is a filter setting, but spdlog still writes a line logged at
    // it; the most severe name is the honest one.
    const std::string_view name =
        kNames[std::min<std::size_t>(static_cast<std::size_t>(msg.level), kNames.size() - 1)];
    dest.append(name.data(), name.data() + name.size());
  }

  std::unique_ptr<spdlog::custom_flag_formatter> clone() const override {
    return std::make_unique<PythonLevelName>();
  }
};

}  // namespace

std::unique_ptr<spdlog::formatter> makePythonFormatter() {
  auto formatter =
      std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::local, "\n");
  // The flag must be known before the pattern that uses it is compiled.
  formatter->add_flag<PythonLevelName>(kLevelFlag);
  formatter->set_pattern("%Y-%m-%d %H:%M:%S,%e - %n - %* - %v");
  return formatter;
}

}  // namespace epolld::log
