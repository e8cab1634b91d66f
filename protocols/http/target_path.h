// From a request's path to a file name under the static root: the path is
// percent-decoded (RFC 3986 §2.1) first and its dot-segments removed (§5.2.4)
// after, so that no encoding of "/" or ".." can slip past the normalisation.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace epolld::http {

struct TargetPath {
  // Relative to the root: segments joined by "/", no empty, "." or ".."
  // segment; "." for the root itself.
  std::string relative;
  // The normalised path ends in "/": the client means a directory.
  bool trailing_slash = false;
  std::string_view query;  // after the "?", into the request's path; maybe empty
};

// `path_and_query` is Request::path. Nothing (answer 400) when it does not
// start with "/", has an invalid or NUL escape, or climbs above the root:
// nginx answers all three with 400.
std::optional<TargetPath> parseTargetPath(std::string_view path_and_query);

// `relative` as a URI path: every octet outside RFC 3986's pchar set and "/"
// percent-encoded, so it can go into a Location field.
std::string percentEncodePath(std::string_view relative);

}  // namespace epolld::http
