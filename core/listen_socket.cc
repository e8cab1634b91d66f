#include "core/listen_socket.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace epolld {

InheritedSockets::Socket InheritedSockets::take(const SocketAddress& address) {
  Socket chosen;
  std::vector<Socket> rest;
  for (Socket& socket : sockets_) {
    const auto bound = SocketAddress::ofLocalEnd(socket.fd.get());
    if (!bound || !(*bound == address)) {
      rest.push_back(std::move(socket));
    } else if (!chosen.fd || (socket.from_socket_unit && !chosen.from_socket_unit)) {
      chosen = std::move(socket);  // a copy it replaces is closed here
    }
  }
  sockets_ = std::move(rest);
  return chosen;
}

std::string describe(const config::Listener& listener) {
  const bool v6 = listener.address.find(':') != std::string::npos;
  const std::string host = v6 ? "[" + listener.address + "]" : listener.address;
  return host + ":" + std::to_string(listener.port) + " (" + listener.protocol + ")";
}

std::string listenerName(const SocketAddress& address, std::string_view protocol) {
  return address.toString() + " (" + std::string(protocol) + ")";
}

std::string ListenSocket::name() const { return listenerName(address, config.protocol); }

ListenSocket openListenSocket(const config::Listener& listener, const Protocol& protocol,
                              InheritedSockets& inherited, std::string& error) {
  ListenSocket result;
  result.config = listener;
  const auto fail = [&](const char* what) {
    const int cause = errno;
    error = "listener " + describe(listener) + ": " + what + ": " + std::strerror(cause);
    result.fd.reset();
    errno = cause;  // for the caller, whatever closing did
    return std::move(result);
  };
  const auto address = SocketAddress::parse(listener.address, listener.port);
  if (!address) {
    errno = EINVAL;
    return fail("address");
  }
  if (address->port() != 0) {
    InheritedSockets::Socket taken = inherited.take(*address);
    result.fd = std::move(taken.fd);
    result.from_socket_unit = taken.from_socket_unit;
  }
  if (result.fd) {
    // systemd sets only FD_CLOEXEC on what it passes; the acceptor needs
    // O_NONBLOCK to accept until EAGAIN.
    const int flags = fcntl(result.fd.get(), F_GETFL);
    if (flags < 0 || fcntl(result.fd.get(), F_SETFL, flags | O_NONBLOCK) != 0) return fail("fcntl(O_NONBLOCK)");
    result.address = *address;
  } else {
    result.fd.reset(socket(address->family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!result.fd) return fail("socket");
    const int on = 1;
    // SO_REUSEADDR: a restart must not wait for the old connections' TIME_WAIT.
    if (setsockopt(result.fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0) {
      return fail("setsockopt(SO_REUSEADDR)");
    }
    // "::" means all IPv6 addresses only, so "0.0.0.0" can share the port.
    if (address->family() == AF_INET6 &&
        setsockopt(result.fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on) != 0) {
      return fail("setsockopt(IPV6_V6ONLY)");
    }
    if (bind(result.fd.get(), address->data(), address->length()) != 0) return fail("bind");
    if (listen(result.fd.get(), SOMAXCONN) != 0) return fail("listen");
    const auto bound = SocketAddress::ofLocalEnd(result.fd.get());
    if (!bound) return fail("getsockname");
    result.address = *bound;
  }
  // Replies are written whole, so Nagle would only delay them. Set on the
  // listener, TCP_NODELAY is copied into every socket accepted from it (Linux
  // clones the listener's options), which saves a setsockopt per connection.
  const int on = 1;
  if (setsockopt(result.fd.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) != 0) {
    return fail("setsockopt(TCP_NODELAY)");
  }
  if (!deferAcceptIfClientSpeaksFirst(result.fd.get(), protocol)) return fail("setsockopt(TCP_DEFER_ACCEPT)");
  return result;
}

bool deferAcceptIfClientSpeaksFirst(int listening_fd, const Protocol& protocol) {
  // In seconds, which the kernel turns into SYN-ACK retransmissions: 1 is
  // the first of them, at one second. 0 accepts at the handshake.
  const int seconds = protocol.clientSpeaksFirst() ? 1 : 0;
  return setsockopt(listening_fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &seconds, sizeof seconds) == 0;
}

}  // namespace epolld
