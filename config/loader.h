// Reads a YAML configuration into a Config, validating everything a user can get wrong,
// so that the daemon never starts (or reloads) with a half-understood file.
#pragma once

#include <array>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "config/config.h"
#include "config/units.h"

namespace epolld::config {

// Every configuration problem. what() is the whole one-line message, like a compiler's:
// "FILE:LINE:COLUMN: what" (1-based), or "FILE: what" when there is no position.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The protocols this build knows. The engine's registry is the real list; config does
// not depend on the engine, so callers that have the registry pass its names instead.
inline constexpr std::array<std::string_view, 2> kKnownProtocols{"echo", "http"};

// What parse() checks besides the text. kHost adds what this machine must provide: a log
// file epolld can append to, http roots that are readable directories. It only looks
// (stat, access), so --check-config, start-up and a reload refuse the same files, at the
// value's position, without creating anything. kTextOnly lets tests name paths that
// exist nowhere.
enum class Checks { kTextOnly, kHost };

// Reads at most kMaxConfigBytes (config/source_text.h) from a regular file, then parses
// with Checks::kHost.
Config loadFile(const std::string& path, std::span<const std::string_view> protocols = kKnownProtocols);

// `source_name` names the text in messages and becomes Config::source.
Config parse(std::string_view yaml_text, const std::string& source_name,
             std::span<const std::string_view> protocols = kKnownProtocols, Checks checks = Checks::kTextOnly);

// The settings of the repository's config/epolld.yaml, compiled in, with Checks::kHost
// (the log file network-server.log must be creatable in the working directory); source
// is "built-in defaults".
Config builtInDefaults();

// The names the configuration file uses: "edge", "warning".
std::string_view toString(LogLevel level);
std::string_view toString(Trigger trigger);

}  // namespace epolld::config
