// Protocol names, as the configuration's `protocol:` key spells them, and
// their factories. A new protocol is a folder under core/protocols/ plus one
// line in registry.cc.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/protocols/protocol.h"

namespace epolld {

// The protocol for one listener; nullptr if its name is not registered.
std::shared_ptr<const Protocol> makeProtocol(const config::Listener& listener);

std::vector<std::string_view> protocolNames();

}  // namespace epolld
