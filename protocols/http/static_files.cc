#include "protocols/http/static_files.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/log/escape.h"
#include "core/log/rate_limiter.h"
#include "protocols/http/byte_range.h"
#include "protocols/http/mime_types.h"
#include "protocols/http/preconditions.h"
#include "protocols/http/response.h"
#include "protocols/http/target_path.h"

namespace epolld::http {
namespace {

constexpr std::string_view kIndexFile = "index.html";
// openat2 fails with EAGAIN when a rename under the root races a ".." in a
// symlink being resolved, and says to retry; EINTR is retried as for open.
constexpr int kOpenAttempts = 4;

// O_NONBLOCK, as nginx opens files, so that opening a FIFO does not wait for
// a writer; it changes nothing for the regular files that are served.
constexpr std::uint64_t kReadFlags = O_RDONLY | O_NONBLOCK | O_NOCTTY;

// glibc 2.36 has no openat2() wrapper. RESOLVE_BENEATH refuses any step
// outside `directory` (a "..", an absolute path, a symlink that leaves: EXDEV);
// RESOLVE_NO_MAGICLINKS refuses /proc/*/fd style links (ELOOP).
int openBeneath(int directory, const std::string& path, std::uint64_t flags) {
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  int fd = -1;
  for (int attempt = 0; attempt < kOpenAttempts; ++attempt) {
    fd = static_cast<int>(::syscall(SYS_openat2, directory, path.c_str(), &how, sizeof how));
    if (fd >= 0 || (errno != EINTR && errno != EAGAIN)) {
      break;
    }
  }
  return fd;
}

// The status for a failed open, as nginx's static module answers: a name that
// does not exist is 404, one that exists but is not served is 403; anything
// else is the server's trouble (500) and logged.
int statusForOpenError(int error) {
  switch (error) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
      return 404;
    case EACCES:
    case EPERM:
    case ELOOP:   // too many symlinks, or a magic link
    case EXDEV:   // a symlink leaving the root (RESOLVE_BENEATH)
    case ENXIO:   // a UNIX socket
    case ENODEV:  // a device file without a driver
      return 403;
    default:
      return 500;
  }
}

void logServerError(std::string_view call, std::string_view root, std::string_view path, int error) {
  static log::RateLimiter limiter(10, std::chrono::seconds(10));
  if (const auto suppressed = limiter.allow()) {
    spdlog::error("static file {} '{}' under '{}': {}{}", call, log::Escaped{path}, root, std::strerror(error),
                  log::suppressedNote(*suppressed));
  }
}

FileResponse statusOnly(int status, std::string fields = {}) {
  FileResponse response;
  response.status = status;
  response.fields = std::move(fields);
  return response;
}

// Strong (RFC 9110 §8.8.3): the inode, size and nanosecond mtime change with
// any rewrite or replacement of the file that a client could observe.
std::string entityTag(const struct stat& info) {
  const auto mtime_ns = static_cast<std::uint64_t>(info.st_mtim.tv_sec) * 1'000'000'000U +
                        static_cast<std::uint64_t>(info.st_mtim.tv_nsec);
  return fmt::format("\"{:x}-{:x}-{:x}\"", static_cast<std::uint64_t>(info.st_ino),
                     static_cast<std::uint64_t>(info.st_size), mtime_ns);
}

}  // namespace

StaticFiles::StaticFiles(const std::string& root) : root_path_(root) {
  root_.reset(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root_) {
    throw std::runtime_error(fmt::format("root '{}': {}", root, std::strerror(errno)));
  }
  // Fail at startup, not at the first request, where openat2 is missing or
  // filtered (Linux before 5.6, or a seccomp profile that does not know it).
  const UniqueFd probe(openBeneath(root_.get(), ".", O_PATH));
  if (!probe) {
    throw std::runtime_error(fmt::format("root '{}': openat2: {}", root, std::strerror(errno)));
  }
}

FileResponse StaticFiles::respond(const Request& request, bool head_only) const {
  // Only origin-form and absolute-form targets name a file (RFC 9112 §3.2).
  if (request.form != TargetForm::kOrigin && request.form != TargetForm::kAbsolute) {
    return statusOnly(400);
  }
  const std::optional<TargetPath> target = parseTargetPath(request.path);
  if (!target) {
    return statusOnly(400);
  }
  Lookup found = open(target->relative);
  // Anything but a directory, named as one ("/a.txt/", "/a.txt/."), is not
  // there, as open(2) says of "a.txt/" (ENOTDIR) and nginx answers: 404.
  if (found.file && found.status != 500 && target->trailing_slash && !S_ISDIR(found.info.st_mode)) {
    return statusOnly(404);
  }
  std::string_view name = target->relative;
  if (found.status == 0 && S_ISDIR(found.info.st_mode)) {
    // As nginx does: a directory named without its trailing "/" is redirected
    // there, so that relative links in its index resolve inside it.
    if (!target->trailing_slash) {
      std::string location = "/" + percentEncodePath(target->relative) + "/";
      if (!target->query.empty()) {
        location += "?";
        location += target->query;
      }
      return statusOnly(301, "Location: " + location + "\r\n");
    }
    found = openIndex(target->relative);
    name = kIndexFile;
  }
  if (found.status != 0) {
    return statusOnly(found.status);
  }
  return serve(request, std::move(found), contentTypeFor(name), head_only);
}

StaticFiles::Lookup StaticFiles::open(const std::string& relative) const {
  Lookup found;
  found.file.reset(openBeneath(root_.get(), relative, kReadFlags));
  if (!found.file) {
    const int error = errno;
    found.status = statusForOpenError(error);
    if (found.status == 500) {
      logServerError("openat2", root_path_, relative, error);
    }
    return found;
  }
  if (::fstat(found.file.get(), &found.info) != 0) {
    logServerError("fstat", root_path_, relative, errno);
    found.status = 500;
    return found;
  }
  // FIFOs, sockets and devices are not files to send (nginx: 403).
  if (!S_ISREG(found.info.st_mode) && !S_ISDIR(found.info.st_mode)) {
    found.status = 403;
  }
  return found;
}

// The index of a directory, opened by its path from the root (not from the
// directory's fd), so that a symlinked index.html may point anywhere under
// the root. Without one, nginx answers 403 (its directory listing is off).
StaticFiles::Lookup StaticFiles::openIndex(const std::string& directory) const {
  Lookup index = open(directory == "." ? std::string(kIndexFile) : directory + "/" + std::string(kIndexFile));
  if (index.status == 404 || (index.status == 0 && S_ISDIR(index.info.st_mode))) {
    index.status = 403;
  }
  return index;
}

FileResponse StaticFiles::serve(const Request& request, Lookup found, std::string_view content_type,
                                bool head_only) const {
  const auto size = static_cast<std::uint64_t>(found.info.st_size);
  const std::string etag = entityTag(found.info);
  // RFC 9110 §8.8.2.1: a Last-Modified later than the response's Date is
  // not sent; the current time is.
  const std::int64_t last_modified = std::min<std::int64_t>(found.info.st_mtim.tv_sec, ::time(nullptr));
  const Validators validators{etag, last_modified};
  char date[29];
  std::string fields = fmt::format("Last-Modified: {}\r\nETag: {}\r\n", formatHttpDate(last_modified, date), etag);

  switch (evaluatePreconditions(request, validators)) {
    case Precondition::kFailed:
      return statusOnly(412);
    case Precondition::kNotModified: {
      FileResponse response = statusOnly(304, std::move(fields));
      response.content_length = size;
      return response;
    }
    case Precondition::kProceed:
      break;
  }

  // RFC 9110 §14.2: Range is defined for GET only, and must be ignored for
  // any other method, HEAD included.
  RangeSelection selection;
  const std::optional<std::string_view> range = request.findHeader("Range");
  if (!head_only && range && ifRangeHolds(request, validators)) {
    selection = selectRange(*range, size);
  }
  FileResponse response;
  switch (selection.kind) {
    case RangeSelection::Kind::kUnsatisfiable:
      // §15.5.17: the current length goes in Content-Range.
      return statusOnly(416, fmt::format("Content-Range: bytes */{}\r\n", size));
    case RangeSelection::Kind::kPart:
      response.status = 206;
      fields += fmt::format("Content-Range: bytes {}-{}/{}\r\n", selection.first,
                            selection.first + selection.length - 1, size);
      break;
    case RangeSelection::Kind::kWhole:
      selection.first = 0;
      selection.length = size;
      break;
  }
  fields += "Accept-Ranges: bytes\r\n";  // §14.3
  response.content_type = content_type;
  response.content_length = selection.length;
  response.fields = std::move(fields);
  if (!head_only && selection.length > 0) {
    response.body = FileBody{std::move(found.file), static_cast<off_t>(selection.first), selection.length};
  }
  return response;
}

}  // namespace epolld::http
