// Reads a YAML configuration into a Config, validating everything a user can get wrong,
// so that the daemon never starts (or reloads) with a half-understood file.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "config/config.h"
#include "config/protocol_schema.h"
#include "config/units.h"

namespace epolld::config {

// Every configuration problem. what() is the whole one-line message, like a compiler's:
// "FILE:LINE:COLUMN: what" (1-based), or "FILE: what" when there is no position.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Reads at most kMaxConfigBytes (config/source_text.h) from a regular file, then parses
// with Checks::kHost.
Config loadFile(const std::string& path, ProtocolSchemas protocols);

// `source_name` names the text in messages and becomes Config::source. `protocols` are
// the names a listener's `protocol:` may take, each reading its own section.
Config parse(std::string_view yaml_text, const std::string& source_name, ProtocolSchemas protocols,
             Checks checks = Checks::kTextOnly);

// The settings of the repository's config/epolld.yaml, compiled in, with Checks::kHost
// (the log file network-server.log must be creatable in the working directory); source
// is "built-in defaults".
Config builtInDefaults(ProtocolSchemas protocols);

// The names the configuration file uses: "edge", "warning".
std::string_view toString(LogLevel level);
std::string_view toString(Trigger trigger);

}  // namespace epolld::config
