// Durations and sizes as a configuration file writes them: "250ms", "60s", "64KiB".
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"

namespace epolld::config {

inline constexpr std::size_t kKiB = 1024;
inline constexpr std::size_t kMiB = 1024 * kKiB;
inline constexpr std::size_t kGiB = 1024 * kMiB;

// Long enough for any real timeout, short enough that deadline arithmetic in
// nanoseconds cannot overflow.
inline constexpr Duration kMinTimeout{1};
inline constexpr Duration kMaxTimeout = std::chrono::hours(24 * 365);

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
