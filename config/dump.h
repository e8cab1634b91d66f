// --dump-config: a Config written back as the YAML the loader reads, so that an operator
// sees every setting in force, defaults included, and can keep the output as a file.
#pragma once

#include <string>

#include "config/config.h"

namespace epolld::config {

// The configuration as YAML, every key present, in the order of config/epolld.yaml:
// workers, acceptors, trigger, max_connections, idle_timeout, shutdown_timeout, output_buffer_limit,
// log (name, file, file_level, console_level), listeners (address, port, protocol, then
// the protocol's own section as ProtocolOptions::toYaml() gives it). Values as the file
// spells them: durations and sizes in their shortest exact form ("60s", "1MiB"), levels
// and the trigger by name, workers as configured (0, not the CPU count). A string is
// written plain only when plain YAML reads it back byte for byte, else double-quoted with
// escapes. Config::source is not written, so that parse(dumpConfig(c)) equals c but for
// its source, and dumping that again gives the same text.
std::string dumpConfig(const Config& config);

}  // namespace epolld::config
