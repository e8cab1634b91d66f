#include "protocols/echo/echo.h"

#include <spdlog/spdlog.h>

#include "core/log/escape.h"

namespace epolld {
namespace {

// Echo keeps no state between calls: whatever it is given goes straight to the
// output, whose size the connection bounds by not reading while it is full.
class EchoSession final : public Session {
 public:
  std::size_t onInput(std::string_view input, Exchange& exchange) override {
    spdlog::debug("{} receive {}", exchange.fd(), log::Escaped{input});
    exchange.send(input);
    return input.size();
  }

  bool idle() const override { return true; }
};

class EchoProtocol final : public Protocol {
 public:
  std::unique_ptr<Session> newSession() const override { return std::make_unique<EchoSession>(); }
};

std::shared_ptr<const Protocol> makeEchoProtocol(const config::Listener&, const ProtocolContext&) { return std::make_shared<EchoProtocol>(); }

}  // namespace

// No settings: no `echo:` section.
const ProtocolPlugin kEchoPlugin{{.name = "echo"}, &makeEchoProtocol};

}  // namespace epolld
