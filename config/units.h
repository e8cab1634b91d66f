// Durations and sizes as a configuration file writes them: "250ms", "60s", "64KiB".
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"

namespace epolld::config {

// A number with an optional unit: ms, s, m, h, d; no unit means seconds. The number may
// have a fraction ("1.5s", "0.25") as long as the result is a whole number of
// milliseconds. Negative values, spaces and overflow give nullopt.
std::optional<Duration> parseDuration(std::string_view text);

// Whole bytes with an optional binary unit: B; k, K, KiB; m, M, MiB; g, G, GiB;
// t, T, TiB (all powers of 1024: "KB" is refused rather than guessed at).
// Fractions, signs, spaces and overflow give nullopt.
std::optional<std::size_t> parseSize(std::string_view text);

// The shortest exact spelling that the parsers above read back: "4KiB", "1500ms", "10s".
std::string formatDuration(Duration duration);
std::string formatSize(std::size_t bytes);

}  // namespace epolld::config
