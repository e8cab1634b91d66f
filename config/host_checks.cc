#include "config/host_checks.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "config/yaml_reader.h"

namespace epolld::config {
namespace {

std::string because(int error) { return std::strerror(error); }

// Paths are shown whole (up to PATH_MAX-like lengths): a cut path does not say which file.
std::string quotePath(const std::string& path) { return quote(path, 4096); }

// The directory a new file at `path` would be created in.
std::string parentOf(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

std::optional<std::string> appendProblem(const std::string& path) {
  const std::string named = quotePath(path);
  struct stat status {};
  if (::stat(path.c_str(), &status) == 0) {
    if (S_ISDIR(status.st_mode)) return "cannot append to " + named + ": " + because(EISDIR);
    if (::access(path.c_str(), W_OK) != 0) return "cannot append to " + named + ": " + because(errno);
    return std::nullopt;
  }
  if (errno != ENOENT) return "cannot append to " + named + ": " + because(errno);
  // It does not exist yet: start-up creates it, so its directory must allow that.
  const std::string directory = parentOf(path);
  if (::stat(directory.c_str(), &status) != 0) {
    return "cannot create " + named + ": directory " + quotePath(directory) + ": " + because(errno);
  }
  if (!S_ISDIR(status.st_mode)) return "cannot create " + named + ": " + quotePath(directory) + " is not a directory";
  if (::access(directory.c_str(), W_OK | X_OK) != 0) {
    return "cannot create " + named + " in " + quotePath(directory) + ": " + because(errno);
  }
  return std::nullopt;
}

std::optional<std::string> readableDirectoryProblem(const std::string& path) {
  const std::string named = quotePath(path);
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) return named + ": " + because(errno);
  if (!S_ISDIR(status.st_mode)) return named + " is not a directory";
  if (::access(path.c_str(), R_OK | X_OK) != 0) return named + " is not readable: " + because(errno);
  return std::nullopt;
}

}  // namespace epolld::config
