// echo: every byte a client sends comes back to it, in order.
#pragma once

#include <memory>

#include "config/config.h"
#include "core/protocols/protocol.h"

namespace epolld {

std::shared_ptr<const Protocol> makeEchoProtocol(const config::Listener& listener);

}  // namespace epolld
