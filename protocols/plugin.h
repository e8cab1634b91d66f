// A protocol as the daemon composes it: its name and how the configuration
// reads its section (config::ProtocolSchema), and how a listener's Protocol
// object is made. Each protocol's folder defines one; protocols/registry.cc
// lists them. The engine sees none of this, only the Protocol objects made.
#pragma once

#include <memory>

#include "config/config.h"
#include "config/protocol_schema.h"
#include "core/protocol.h"
#include "core/stats.h"

namespace epolld {

// What a protocol may use of the daemon besides its own settings.
struct ProtocolContext {
  const Stats& stats;  // what the admin listener reports
};

struct ProtocolPlugin {
  config::ProtocolSchema schema;
  // Throws std::runtime_error when the protocol cannot start with these
  // settings (an http root that cannot be opened).
  std::shared_ptr<const Protocol> (*make)(const config::Listener& listener, const ProtocolContext& context);
};

}  // namespace epolld
