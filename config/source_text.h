// The bytes of a configuration before YAML sees them: read with a bound, whatever the
// path names (a FIFO, /dev/zero, a huge file), and checked to be text, so that the YAML
// parser only ever sees a small UTF-8 file and no message echoes binary bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace epolld::config {

// Far above any real configuration, far below what would strain memory.
inline constexpr std::size_t kMaxConfigBytes = 1024 * 1024;

// The whole file, or ConfigError "PATH: what" when it cannot be read, is not a regular
// file, or is larger than kMaxConfigBytes. Never blocks: a FIFO is refused, not read.
std::string readConfigFile(const std::string& path);

// Throws ConfigError unless `text` is at most kMaxConfigBytes of UTF-8 without control
// characters other than tab, line feed and carriage return; the message gives the
// first offending byte's line and column.
void checkText(std::string_view text, const std::string& source);

}  // namespace epolld::config
