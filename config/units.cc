#include "config/units.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <limits>

namespace epolld::config {
namespace {

struct Unit {
  std::string_view suffix;
  std::uint64_t factor;
};

// Largest first, so that formatting picks the biggest unit that divides exactly.
constexpr std::array<Unit, 5> kDurationUnits{{
    {"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1000}, {"ms", 1}}};

constexpr std::array<Unit, 5> kSizeUnits{{
    {"TiB", std::uint64_t{1} << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}};

// Spellings accepted besides the canonical ones above.
constexpr std::array<Unit, 8> kSizeAliases{{
    {"t", std::uint64_t{1} << 40}, {"T", std::uint64_t{1} << 40},
    {"g", 1 << 30}, {"G", 1 << 30}, {"m", 1 << 20}, {"M", 1 << 20}, {"k", 1 << 10}, {"K", 1 << 10}}};

template <std::size_t N>
std::optional<std::uint64_t> factorOf(std::string_view suffix, const std::array<Unit, N>& units) {
  for (const Unit& unit : units) {
    if (unit.suffix == suffix) return unit.factor;
  }
  return std::nullopt;
}

// Reads the leading run of decimal digits; `digits` tells how many there were.
std::optional<std::uint64_t> leadingNumber(std::string_view text, std::size_t& digits) {
  std::uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  digits = static_cast<std::size_t>(end - text.data());
  if (error != std::errc() || digits == 0) return std::nullopt;
  return value;
}

// whole * factor + add, or nullopt when it does not fit in `limit`.
std::optional<std::uint64_t> scaled(std::uint64_t whole, std::uint64_t factor, std::uint64_t add,
                                    std::uint64_t limit) {
  if (whole > (limit - add) / factor) return std::nullopt;
  return whole * factor + add;
}

template <std::size_t N>
std::string format(std::uint64_t value, const std::array<Unit, N>& units, std::string_view zero) {
  if (value == 0) return std::string(zero);
  // Always found: the last unit's factor is 1.
  const Unit& unit = *std::ranges::find_if(units, [value](const Unit& u) { return value % u.factor == 0; });
  return std::to_string(value / unit.factor) + std::string(unit.suffix);
}

}  // namespace

std::optional<Duration> parseDuration(std::string_view text) {
  std::size_t digits = 0;
  const std::optional<std::uint64_t> whole = leadingNumber(text, digits);
  if (!whole) return std::nullopt;
  text.remove_prefix(digits);

  // The fraction is kept as numerator / 10^places so that "1.5s" is exactly 1500ms.
  std::uint64_t fraction = 0;
  std::uint64_t denominator = 1;
  if (text.starts_with('.')) {
    text.remove_prefix(1);
    const std::optional<std::uint64_t> numerator = leadingNumber(text, digits);
    constexpr std::size_t kMaxPlaces = 9;  // keeps numerator * factor within 64 bits
    if (!numerator || digits > kMaxPlaces) return std::nullopt;
    fraction = *numerator;
    for (std::size_t i = 0; i < digits; ++i) denominator *= 10;
    text.remove_prefix(digits);
  }

  const std::optional<std::uint64_t> factor = text.empty() ? 1000 : factorOf(text, kDurationUnits);
  if (!factor || fraction * *factor % denominator != 0) return std::nullopt;
  const auto limit = static_cast<std::uint64_t>(std::numeric_limits<Duration::rep>::max());
  const std::optional<std::uint64_t> millis = scaled(*whole, *factor, fraction * *factor / denominator, limit);
  if (!millis) return std::nullopt;
  return Duration(static_cast<Duration::rep>(*millis));
}

std::optional<std::size_t> parseSize(std::string_view text) {
  std::size_t digits = 0;
  const std::optional<std::uint64_t> count = leadingNumber(text, digits);
  if (!count) return std::nullopt;
  text.remove_prefix(digits);

  std::optional<std::uint64_t> factor = text.empty() ? 1 : factorOf(text, kSizeUnits);
  if (!factor) factor = factorOf(text, kSizeAliases);
  if (!factor) return std::nullopt;
  const std::optional<std::uint64_t> bytes = scaled(*count, *factor, 0, std::numeric_limits<std::size_t>::max());
  if (!bytes) return std::nullopt;
  return static_cast<std::size_t>(*bytes);
}

std::string formatDuration(Duration duration) {
  return format(static_cast<std::uint64_t>(duration.count()), kDurationUnits, "0s");
}

std::string formatSize(std::size_t bytes) { return format(bytes, kSizeUnits, "0"); }

}  // namespace epolld::config
