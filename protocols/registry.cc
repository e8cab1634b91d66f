#include "protocols/registry.h"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>

#include "protocols/admin/admin.h"
#include "protocols/echo/echo.h"
#include "protocols/http/http.h"
#include "protocols/plugin.h"

namespace epolld {
namespace {

const std::array<const ProtocolPlugin*, 3> kPlugins{
    &kEchoPlugin,
    &kHttpPlugin,
    &kAdminPlugin,
};

}  // namespace

config::ProtocolSchemas protocolSchemas() {
  static const std::vector<config::ProtocolSchema> schemas = [] {
    std::vector<config::ProtocolSchema> all;
    for (const ProtocolPlugin* plugin : kPlugins) all.push_back(plugin->schema);
    return all;
  }();
  return schemas;
}

std::shared_ptr<const Protocol> makeProtocol(const config::Listener& listener, const ProtocolContext& context) {
  const auto found = std::ranges::find(kPlugins, listener.protocol,
                                       [](const ProtocolPlugin* plugin) { return plugin->schema.name; });
  if (found == kPlugins.end()) throw std::runtime_error("unknown protocol " + listener.protocol);
  return (*found)->make(listener, context);
}

}  // namespace epolld
