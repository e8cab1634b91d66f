// Python logging's line format, `%(asctime)s - %(name)s - %(levelname)s - %(message)s`:
//
//   2026-11-22 16:03:47,123 - network-server - DEBUG - 7 receive hello
//
// Local time, a comma before the milliseconds, Python's level names. The level
// names come from a custom flag: Debian's spdlog is a compiled library, so
// SPDLOG_LEVEL_NAMES cannot rename its levels.
#pragma once

#include <memory>

#include <spdlog/formatter.h>

namespace epolld::log {

// A new formatter; give every sink its own, since formatters cache state.
std::unique_ptr<spdlog::formatter> makePythonFormatter();

}  // namespace epolld::log
