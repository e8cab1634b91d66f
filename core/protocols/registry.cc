#include "core/protocols/registry.h"

#include <array>

#include "core/protocols/echo/echo.h"
#include "core/protocols/http/http.h"

namespace epolld {
namespace {

struct Registration {
  std::string_view name;
  std::shared_ptr<const Protocol> (*make)(const config::Listener&);
};

constexpr std::array kProtocols{
    Registration{"echo", &makeEchoProtocol},
    Registration{"http", &makeHttpProtocol},
};

}  // namespace

std::shared_ptr<const Protocol> makeProtocol(const config::Listener& listener) {
  for (const Registration& registration : kProtocols) {
    if (registration.name == listener.protocol) return registration.make(listener);
  }
  return nullptr;
}

std::vector<std::string_view> protocolNames() {
  std::vector<std::string_view> names;
  for (const Registration& registration : kProtocols) names.push_back(registration.name);
  return names;
}

}  // namespace epolld
