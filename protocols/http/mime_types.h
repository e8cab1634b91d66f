// Content-Type by file name extension (RFC 9110 §8.3): a small table of the
// types a static site serves.
#pragma once

#include <string_view>

namespace epolld::http {

// The media type for `file_name`'s extension, compared without regard to
// case; "application/octet-stream" for any other (RFC 9110 §8.3: the
// recipient may then treat it as data, not guess a type).
std::string_view contentTypeFor(std::string_view file_name);

}  // namespace epolld::http
