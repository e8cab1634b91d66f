// A bound, listening socket for one configured listener.
#pragma once

#include <memory>
#include <string>

#include "config/config.h"
#include "core/protocols/protocol.h"
#include "core/socket_address.h"
#include "core/unique_fd.h"

namespace epolld {

struct ListenSocket {
  UniqueFd fd;
  SocketAddress address;  // as bound: an ephemeral port (port: 0) is filled in
  config::Listener config;
  std::shared_ptr<const Protocol> protocol;

  // "0.0.0.0:2003 (echo)", as log lines and errors name a listener.
  std::string name() const;
};

// Opens, binds and listens. On failure returns a socket without an fd and
// sets `error` to one line naming the listener and the call that failed:
// "listener 0.0.0.0:2003 (echo): bind: Address already in use".
ListenSocket openListenSocket(const config::Listener& listener, std::string& error);

}  // namespace epolld
