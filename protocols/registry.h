// The protocols this build has: the one list the configuration's `protocol:`
// names are taken from. A new protocol is a folder under protocols/
// defining its ProtocolPlugin, plus one line in registry.cc.
#pragma once

#include <memory>
#include <vector>

#include "config/config.h"
#include "config/protocol_schema.h"
#include "protocols/plugin.h"
#include "core/protocol.h"

namespace epolld {

// For config::parse() and loadFile().
config::ProtocolSchemas protocolSchemas();

// The protocol object for a listener the loader accepted. Throws
// std::runtime_error when the protocol cannot start.
std::shared_ptr<const Protocol> makeProtocol(const config::Listener& listener, const ProtocolContext& context);

}  // namespace epolld
