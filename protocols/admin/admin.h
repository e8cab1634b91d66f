// admin: what an operator asks the daemon over HTTP. GET /metrics (the
// Prometheus text format), /status (JSON) and /healthz, on a listener of its
// own, loopback only unless `admin: {allow_remote: true}`. It is the http
// protocol with these pages for content: the same parser, limits and timeouts.
#pragma once

#include "protocols/plugin.h"

namespace epolld {

extern const ProtocolPlugin kAdminPlugin;

}  // namespace epolld
