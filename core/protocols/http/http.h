// http: an HTTP/1.1 origin server (RFC 9110, RFC 9112) answering every
// request with the configured body, or with files under `root`.
#pragma once

#include <memory>

#include "config/config.h"
#include "core/protocols/protocol.h"

namespace epolld {

std::shared_ptr<const Protocol> makeHttpProtocol(const config::Listener& listener);

}  // namespace epolld
