// http: an HTTP/1.1 origin server (RFC 9110, RFC 9112) answering every
// request with the configured body, or with files under `root`.
#pragma once

#include "core/protocols/plugin.h"

namespace epolld {

extern const ProtocolPlugin kHttpPlugin;

}  // namespace epolld
