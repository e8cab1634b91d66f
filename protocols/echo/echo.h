// echo: every byte a client sends comes back to it, in order.
#pragma once

#include "protocols/plugin.h"

namespace epolld {

extern const ProtocolPlugin kEchoPlugin;

}  // namespace epolld
