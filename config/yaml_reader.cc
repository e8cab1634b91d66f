#include "config/yaml_reader.h"

#include <algorithm>
#include <charconv>
#include <optional>

#include "config/loader.h"
#include "config/units.h"

namespace epolld::config {
namespace {

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return quote(node.Scalar());
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    default:
      return "nothing";
  }
}

std::string join(std::span<const std::string_view> names, std::string_view separator) {
  std::string joined;
  for (const std::string_view name : names) {
    if (!joined.empty()) joined += separator;
    joined += name;
  }
  return joined;
}

std::optional<std::uint64_t> parseUnsigned(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::string quote(std::string_view text, std::size_t max_shown) {
  std::string quoted = "'";
  for (const char c : text.substr(0, max_shown)) {
    const auto byte = static_cast<unsigned char>(c);
    // Above 0x7f too: a C1 control or a broken UTF-8 sequence can drive a terminal.
    if (byte < 0x20 || byte >= 0x7f) {
      constexpr std::string_view kHex = "0123456789abcdef";
      quoted += "\\x";
      quoted += kHex[byte >> 4];
      quoted += kHex[byte & 0xf];
    } else {
      quoted += c;
    }
  }
  quoted += text.size() > max_shown ? "'..." : "'";
  return quoted;
}

void failAt(const std::string& source, const YAML::Mark& mark, std::string_view what) {
  std::string message = source + ":";
  if (!mark.is_null()) message += std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) + ":";
  message += " ";
  message += what;
  throw ConfigError(message);
}

Field::Field(YAML::Node value, std::string path, const YAML::Mark& key_mark, const std::string& source)
    : value_(std::move(value)), path_(std::move(path)), key_mark_(key_mark), source_(&source) {}

void Field::failAt(const YAML::Mark& mark, std::string_view what) const {
  config::failAt(*source_, mark, path_.empty() ? std::string(what) : path_ + ": " + std::string(what));
}

const std::string& Field::scalar(std::string_view expected) const {
  if (!value_.IsScalar()) fail("expected " + std::string(expected) + ", got " + describe(value_));
  return value_.Scalar();
}

std::string Field::string(bool allow_empty) const {
  const std::string& text = scalar(allow_empty ? "a string" : "a non-empty string");
  if (text.empty() && !allow_empty) fail("expected a non-empty string, got ''");
  return text;
}

// Parse failures and out-of-range values get the same message: it says what would do.
template <typename T, typename Parse, typename Format>
T Field::parsedIn(Parse parse, T min, T max, Format format, std::string_view kind, std::string_view hint) const {
  const std::string expected = std::string(kind) + " from " + format(min) + " to " + format(max) + std::string(hint);
  const std::optional<T> value = parse(scalar(expected));
  if (!value || *value < min || *value > max) fail("expected " + expected + ", got " + describe(value_));
  return *value;
}

std::uint64_t Field::unsignedIn(std::uint64_t min, std::uint64_t max) const {
  return parsedIn(parseUnsigned, min, max, [](std::uint64_t n) { return std::to_string(n); }, "an integer", "");
}

std::string Field::printable() const {
  std::string text = string(false);
  if (std::ranges::any_of(text, [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
    fail("must not contain control characters, got " + quote(text));
  }
  return text;
}

std::size_t Field::size(std::size_t min, std::size_t max) const {
  return parsedIn(parseSize, min, max, formatSize, "a size", " (bytes, or with a unit: 64KiB, 1MiB)");
}

Duration Field::duration(Duration min, Duration max) const {
  return parsedIn(parseDuration, min, max, formatDuration, "a duration", " (seconds, or with a unit: 250ms, 60s, 5m)");
}

std::size_t Field::choice(std::span<const std::string_view> names) const {
  const std::string expected = "one of " + join(names, "|");
  const std::string& text = scalar(expected);
  const auto found = std::ranges::find(names, text);
  if (found == names.end()) fail("expected " + expected + ", got " + describe(value_));
  return static_cast<std::size_t>(found - names.begin());
}

std::vector<Field> Field::items(std::string_view what) const {
  if (!value_.IsSequence()) fail("expected a list of " + std::string(what) + ", got " + describe(value_));
  std::vector<Field> items;
  for (const YAML::Node& item : value_) {
    // An empty item ("-" alone) has no mark of its own worth showing: point at our key.
    items.emplace_back(item, path_ + "[" + std::to_string(items.size()) + "]", key_mark_, *source_);
  }
  return items;
}

MapReader::MapReader(const Field& map, std::span<const std::string_view> keys) : map_(map) {
  const std::string valid = join(keys, ", ");
  if (!map.node().IsMap()) map.fail("expected a map with keys " + valid + ", got " + describe(map.node()));
  for (const auto& entry : map.node()) {
    const YAML::Mark key_mark = entry.first.Mark();
    if (!entry.first.IsScalar()) map.failAt(key_mark, "expected a key name, got " + describe(entry.first));
    const std::string& key = entry.first.Scalar();
    if (std::ranges::find(keys, key) == keys.end()) {
      map.failAt(key_mark, "unknown key " + quote(key) + " (valid keys: " + valid + ")");
    }
    // yaml-cpp keeps both copies of a repeated key and a lookup silently takes the first.
    if (const Field* earlier = find(key)) {
      map.failAt(key_mark, "duplicate key " + quote(key) + " (first given on line " +
                               std::to_string(earlier->keyMark().line + 1) + ")");
    }
    const std::string path = map.path().empty() ? key : map.path() + "." + key;
    entries_.push_back({key, Field(entry.second, path, key_mark, map.source())});
  }
}

const Field* MapReader::find(std::string_view key) const {
  const auto found = std::ranges::find(entries_, key, &Entry::key);
  return found == entries_.end() ? nullptr : &found->field;
}

const Field& MapReader::require(std::string_view key) const {
  const Field* field = find(key);
  if (!field) map_.fail("missing key '" + std::string(key) + "'");
  return *field;
}

}  // namespace epolld::config
