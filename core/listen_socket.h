// A bound, listening socket for one configured listener.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "core/metrics/listener_stats.h"
#include "core/protocol.h"
#include "core/socket_address.h"
#include "core/unique_fd.h"

namespace epolld {

// Once opened, shared read-only by the acceptors (see Acceptor), which keep
// their own view of its protocol and id as reloads change them: the socket
// holds no protocol, whose options (an open static-file root) a reload may
// replace.
struct ListenSocket {
  UniqueFd fd;
  SocketAddress address;  // as bound: an ephemeral port (port: 0) is filled in
  config::Listener config;
  std::shared_ptr<metrics::ListenerStats> stats;  // kept by name across reloads (Stats)
  // Names the listener across reloads; its connections carry it, so a reload
  // can hand them the listener's new protocol options.
  std::uint32_t id = 0;
  // Passed by a systemd socket unit, which keeps it across restarts itself.
  bool from_socket_unit = false;

  // "0.0.0.0:2003 (echo)", as log lines and errors name a listener.
  std::string name() const;
};

// "0.0.0.0:2003 (echo)", "[::1]:8080 (http)".
std::string listenerName(const SocketAddress& address, std::string_view protocol);

// Listening sockets handed over by systemd (socket activation, the fd
// store), waiting to be claimed by the configured listener they are bound to.
class InheritedSockets {
 public:
  struct Socket {
    UniqueFd fd;
    bool from_socket_unit = false;  // else from the fd store
  };

  void add(UniqueFd fd, bool from_socket_unit) { sockets_.push_back({std::move(fd), from_socket_unit}); }
  // The socket bound to `address`, removed from the pool; invalid if none. A
  // socket unit's copy wins over the fd store's; the other copies are closed.
  Socket take(const SocketAddress& address);
  // What no listener has claimed.
  std::vector<Socket> takeRest() { return std::exchange(sockets_, {}); }

 private:
  std::vector<Socket> sockets_;
};

// Lets the kernel hold new connections until their first bytes arrive when
// the listener's protocol has the client speak first, or stops it. Holding is
// bounded to about a second (nginx's `listen … deferred` takes the same): a
// silent client is then accepted like any other and meets the protocol's own
// timeouts. Returns false with errno set when setsockopt fails.
bool deferAcceptIfClientSpeaksFirst(int listening_fd, const Protocol& protocol);

// Takes the listener's socket from `inherited`, or opens, binds and listens,
// for `protocol` to serve. On failure returns a socket without an fd, sets
// `error` to one line naming the listener and the call that failed:
// "listener 0.0.0.0:2003 (echo): bind: Address already in use", and leaves
// errno as that call set it.
ListenSocket openListenSocket(const config::Listener& listener, const Protocol& protocol,
                              InheritedSockets& inherited, std::string& error);

// "0.0.0.0:2003 (echo)" for a listener not yet bound, as errors name it.
std::string describe(const config::Listener& listener);

}  // namespace epolld
