// http: an HTTP/1.1 origin server (RFC 9110, RFC 9112) answering every
// request with the configured body, or with files under `root`.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "protocols/http/http_options.h"
#include "protocols/plugin.h"

namespace epolld {

extern const ProtocolPlugin kHttpPlugin;

namespace http {

// A response made by code rather than by the configuration: what another
// protocol built on HTTP (admin) answers.
struct Reply {
  int status = 200;
  std::string content_type;
  std::string body;
};

// Answers a GET or HEAD for `path` (the target's path and query). Called
// from any worker, as requests arrive.
using Responder = std::function<Reply(std::string_view path)>;

// An HTTP protocol whose GET and HEAD requests `responder` answers, instead
// of the configured body or files; other methods get 405, as with `root`.
// Everything else (parsing, limits, timeouts, persistence) is http's.
std::shared_ptr<const Protocol> makeHttpProtocol(const HttpOptions& options, Responder responder);

}  // namespace http

}  // namespace epolld
