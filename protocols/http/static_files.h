// Static files under one root directory (`http.root`): the response to a GET
// or HEAD, with the file range the engine sends after the head.
//
// Every file is opened relative to the root's directory fd with openat2(2)
// and RESOLVE_BENEATH, so no request reaches outside the root, whatever its
// path says and wherever a symlink under the root points.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocols/http/request.h"
#include "core/protocol.h"
#include "core/unique_fd.h"

namespace epolld::http {

// What to answer. How the session writes it:
//
//   200, 206: a head with content_type, content_length and fields, then
//             `body` when present (absent for HEAD and empty files).
//   304:      the same head without Content-Type; content_length is the
//             file's size, the only value RFC 9110 §8.6 allows there, and no
//             body follows (RFC 9112 §6.3).
//   other:    an error or redirect (301, 400, 403, 404, 412, 416, 500): only
//             `status` and `fields` (Location, Content-Range) are set; the
//             session writes its own small text body, as for its own errors.
struct FileResponse {
  int status = 200;
  std::string_view content_type;     // a static string
  std::uint64_t content_length = 0;  // what Content-Length says, also for HEAD
  std::string fields;                // whole field lines, each ending in CRLF
  std::optional<FileBody> body;      // owns the open file until it is sent
};

// Immutable once made: every worker may call respond() at once.
class StaticFiles {
 public:
  // Opens `root`; throws std::runtime_error("root '/x': No such file or
  // directory") when it is not a directory that can be opened, or when the
  // kernel lacks openat2 (Linux 5.6).
  explicit StaticFiles(const std::string& root);

  // The response to a GET (head_only false) or HEAD (true) of `request`.
  // Another method is the caller's to answer (405).
  FileResponse respond(const Request& request, bool head_only) const;

 private:
  // An open regular file or directory, or the status to answer instead.
  struct Lookup {
    int status = 0;  // 0: `file` is open
    UniqueFd file;
    struct stat info {};
  };

  Lookup open(const std::string& relative) const;
  Lookup openIndex(const std::string& directory) const;
  FileResponse serve(const Request& request, Lookup found, std::string_view content_type, bool head_only) const;

  std::string root_path_;  // for log lines
  UniqueFd root_;
};

}  // namespace epolld::http
