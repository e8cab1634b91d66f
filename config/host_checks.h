// What a configuration needs from the machine besides the ports: files and directories
// that start-up would otherwise find missing only when it opens them. Each check only
// looks (stat, access): --check-config must not create the log file it checks.
#pragma once

#include <optional>
#include <string>

namespace epolld::config {

// Why the log file at `path` could not be opened for appending (created if missing),
// or nullopt when it could.
std::optional<std::string> appendProblem(const std::string& path);

// Why `path` is not a directory whose files can be read, or nullopt when it is.
std::optional<std::string> readableDirectoryProblem(const std::string& path);

}  // namespace epolld::config
