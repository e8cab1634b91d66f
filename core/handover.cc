#include "core/handover.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace epolld {
namespace {

int socketOption(int fd, int level, int name, int& value) {
  socklen_t length = sizeof value;
  return getsockopt(fd, level, name, &value, &length);
}

}  // namespace

std::string whyNotAdoptable(int fd, const SocketAddress& listener, SocketAddress& peer) {
  struct stat status {};
  if (fstat(fd, &status) != 0) return std::string("fstat: ") + std::strerror(errno);
  if (!S_ISSOCK(status.st_mode)) return "not a socket";
  int type = 0;
  int protocol = 0;
  int listening = 0;
  if (socketOption(fd, SOL_SOCKET, SO_TYPE, type) != 0 || socketOption(fd, SOL_SOCKET, SO_PROTOCOL, protocol) != 0 ||
      socketOption(fd, SOL_SOCKET, SO_ACCEPTCONN, listening) != 0) {
    return std::string("getsockopt: ") + std::strerror(errno);
  }
  if (type != SOCK_STREAM || protocol != IPPROTO_TCP) return "not a TCP socket";
  if (listening != 0) return "a listening socket, not a connection";
  const auto local = SocketAddress::ofLocalEnd(fd);
  if (!local || local->family() != listener.family() || local->port() != listener.port() ||
      (!listener.isWildcard() && !(*local == listener))) {
    return "bound to " + (local ? local->toString() : std::string("an unknown address")) + ", not to " +
           listener.toString();
  }
  const auto remote = SocketAddress::ofRemoteEnd(fd);
  if (!remote) return "not connected";
  tcp_info info{};
  socklen_t length = sizeof info;
  if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) {
    return std::string("getsockopt(TCP_INFO): ") + std::strerror(errno);
  }
  // CLOSE_WAIT: the client closed while the connection was in the store.
  if (info.tcpi_state != TCP_ESTABLISHED) {
    return info.tcpi_state == TCP_CLOSE_WAIT ? "the client has closed it" : "no longer established";
  }
  peer = *remote;
  return {};
}

}  // namespace epolld
