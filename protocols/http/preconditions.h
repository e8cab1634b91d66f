// Conditional requests (RFC 9110 §13) on a file, judged by its validators:
// which of the request's preconditions hold, in §13.2.2's order.
#pragma once

#include <cstdint>
#include <string_view>

#include "protocols/http/request.h"

namespace epolld::http {

// What the response to a GET or HEAD would carry in ETag and Last-Modified.
struct Validators {
  std::string_view etag;       // a strong entity-tag, quotes included
  std::int64_t last_modified;  // seconds since the epoch
};

enum class Precondition {
  kProceed,      // answer the request as if it had no preconditions
  kNotModified,  // 304 (If-None-Match, If-Modified-Since)
  kFailed,       // 412 (If-Match, If-Unmodified-Since)
};

// §13.2.2 steps 1 to 4 for a GET or HEAD.
Precondition evaluatePreconditions(const Request& request, const Validators& validators);

// §13.1.5: whether a Range in `request` may be served: it has no If-Range, or
// one that matches the current validators. Otherwise the whole file is sent.
bool ifRangeHolds(const Request& request, const Validators& validators);

}  // namespace epolld::http
