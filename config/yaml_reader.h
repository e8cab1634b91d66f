// Typed, position-aware reading of a yaml-cpp tree. yaml-cpp's own conversions lose the
// key and often the position; these keep both, so that every message reads
// "FILE:LINE:COLUMN: listeners[0].port: expected ..., got 'abc'".
#pragma once

#include <yaml-cpp/yaml.h>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace epolld::config {

// 'text' for a message: control characters and every byte above 0x7f escaped (\xNN), so
// that it stays one line of plain text whatever the file held, and long values cut.
std::string quote(std::string_view text, std::size_t max_shown = 40);

// Throws ConfigError "SOURCE:LINE:COLUMN: what", or "SOURCE: what" for a null mark.
[[noreturn]] void failAt(const std::string& source, const YAML::Mark& mark, std::string_view what);

// One value of the tree with the path that messages name it by ("log.file_level").
class Field {
 public:
  // `key_mark` is where to point when the value itself has no useful mark.
  Field(YAML::Node value, std::string path, const YAML::Mark& key_mark, const std::string& source);

  const YAML::Node& node() const { return value_; }
  const std::string& path() const { return path_; }
  const std::string& source() const { return *source_; }
  const YAML::Mark& keyMark() const { return key_mark_; }
  // Where errors about the value point: the value, or the key when the value is empty
  // ("port:"), because yaml-cpp marks an empty value at the start of the next line.
  YAML::Mark mark() const { return value_.IsNull() ? key_mark_ : value_.Mark(); }

  // Throws "PATH: what" at the value, or at `mark`.
  [[noreturn]] void fail(std::string_view what) const { failAt(mark(), what); }
  [[noreturn]] void failAt(const YAML::Mark& mark, std::string_view what) const;

  std::string string(bool allow_empty) const;
  // A non-empty string that goes into a header line, a log line or a path: a line break
  // would forge lines, and a NUL would cut a path short of what the message showed.
  std::string printable() const;
  std::size_t size(std::size_t min, std::size_t max) const;
  Duration duration(Duration min, Duration max) const;
  template <std::unsigned_integral T>
  T integer(T min, T max) const {
    return static_cast<T>(unsignedIn(min, max));
  }
  // The index in `names` of the value.
  std::size_t choice(std::span<const std::string_view> names) const;
  // The items of a sequence, named "path[i]"; `what` says what an item is, for the error.
  std::vector<Field> items(std::string_view what) const;

 private:
  std::uint64_t unsignedIn(std::uint64_t min, std::uint64_t max) const;
  const std::string& scalar(std::string_view expected) const;
  template <typename T, typename Parse, typename Format>
  T parsedIn(Parse parse, T min, T max, Format format, std::string_view kind, std::string_view hint) const;

  YAML::Node value_;
  std::string path_;
  YAML::Mark key_mark_;
  const std::string* source_;
};

// A map whose keys are checked up front: each must be one of `keys` and appear once,
// so that every lookup afterwards can trust what it finds.
class MapReader {
 public:
  MapReader(const Field& map, std::span<const std::string_view> keys);

  // The value under `key`, or nullptr when the key is absent (the default stands).
  const Field* find(std::string_view key) const;
  const Field& require(std::string_view key) const;

 private:
  struct Entry {
    std::string key;
    Field field;
  };

  Field map_;
  std::vector<Entry> entries_;
};

}  // namespace epolld::config
