#include "core/handover.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <span>
#include <utility>

namespace epolld {
namespace {

// The kernel's SCM_MAX_FD: the most descriptors one message may carry.
constexpr std::size_t kMaxFdsPerMessage = 253;
// Room for the queued messages (the kernel caps it at twice wmem_max): each
// costs its buffer overhead, about 1 KiB, whatever the descriptors it carries.
constexpr int kBundleBuffer = 4 * 1024 * 1024;

// "http 0.0.0.0:8080", "echo [::1]:2003"
std::string listenerKey(const HandedConnection& connection) {
  return connection.protocol + " " + connection.listener.toString();
}

std::optional<HandedConnection> parseListenerKey(std::string_view key) {
  const std::size_t space = key.find(' ');
  const std::size_t colon = key.rfind(':');
  if (space == std::string_view::npos || colon == std::string_view::npos || colon < space) return std::nullopt;
  std::string_view ip = key.substr(space + 1, colon - space - 1);
  if (ip.starts_with('[') && ip.ends_with(']')) ip = ip.substr(1, ip.size() - 2);
  const std::string_view port_text = key.substr(colon + 1);
  unsigned port = 0;
  const auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
    return std::nullopt;
  }
  const auto address = SocketAddress::parse(ip, static_cast<std::uint16_t>(port));
  if (!address || space == 0) return std::nullopt;
  return HandedConnection{UniqueFd(), *address, std::string(key.substr(0, space))};
}

int socketOption(int fd, int level, int name, int& value) {
  socklen_t length = sizeof value;
  return getsockopt(fd, level, name, &value, &length);
}

// One message: `key` as its payload, `fds` (at most kMaxFdsPerMessage) as SCM_RIGHTS.
bool sendConnections(int socket, const std::string& key, std::span<const int> fds) {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)] = {};
  iovec payload{const_cast<char*>(key.data()), key.size()};
  msghdr message{};
  message.msg_iov = &payload;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
  cmsghdr* header = CMSG_FIRSTHDR(&message);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
  std::memcpy(CMSG_DATA(header), fds.data(), sizeof(int) * fds.size());
  ssize_t sent;
  do {
    sent = sendmsg(socket, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  return sent >= 0;
}

}  // namespace

PackedConnections packConnections(const std::vector<HandedConnection>& connections) {
  PackedConnections result;
  int ends[2];
  // SEQPACKET: one message per send, and a socketpair's queue is bounded by
  // the buffer only, not by a datagram count.
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0) {
    result.error = std::string("socketpair: ") + std::strerror(errno);
    return result;
  }
  const UniqueFd sender(ends[0]);
  result.bundle.reset(ends[1]);
  // Best effort: without it the kernel's default holds fewer messages.
  setsockopt(sender.get(), SOL_SOCKET, SO_SNDBUF, &kBundleBuffer, sizeof kBundleBuffer);
  // Grouped by listener, in the order listeners first appear (there are few).
  std::vector<std::pair<std::string, std::vector<int>>> by_listener;
  for (const HandedConnection& connection : connections) {
    std::string key = listenerKey(connection);
    auto group = std::ranges::find(by_listener, key, &std::pair<std::string, std::vector<int>>::first);
    if (group == by_listener.end()) group = by_listener.insert(group, {std::move(key), {}});
    group->second.push_back(connection.fd.get());
  }
  // One message per listener and per kMaxFdsPerMessage connections. Nobody
  // reads until the next process starts: a full buffer (EAGAIN) or the limit
  // on descriptors in flight (ETOOMANYREFS) ends the packing.
  for (const auto& [key, fds] : by_listener) {
    for (std::size_t first = 0; first < fds.size(); first += kMaxFdsPerMessage) {
      const std::span<const int> chunk = std::span(fds).subspan(first, std::min(kMaxFdsPerMessage, fds.size() - first));
      if (!sendConnections(sender.get(), key, chunk)) {
        result.error = std::string("sendmsg: ") + std::strerror(errno);
        return result;
      }
      result.packed += chunk.size();
    }
  }
  return result;
}

std::vector<HandedConnection> unpackConnections(int bundle, std::vector<std::string>& problems) {
  std::vector<HandedConnection> connections;
  for (;;) {
    char key[256];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
    iovec payload{key, sizeof key};
    msghdr message{};
    message.msg_iov = &payload;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    const ssize_t received = recvmsg(bundle, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (received < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) problems.push_back(std::string("recvmsg: ") + std::strerror(errno));
      break;
    }
    std::vector<UniqueFd> fds;
    for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr; header = CMSG_NXTHDR(&message, header)) {
      if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
      const std::size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (std::size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(header) + i * sizeof(int), sizeof fd);
        fds.emplace_back(fd);
      }
    }
    if (received == 0 && fds.empty()) break;  // the sender is gone and the queue is empty
    const std::string_view name(key, static_cast<std::size_t>(received));
    std::optional<HandedConnection> listener = parseListenerKey(name);
    if (!listener || (message.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0) {
      problems.push_back(std::to_string(fds.size()) + " connections under '" + std::string(name.substr(0, 64)) +
                         "', " + (listener ? "cut short" : "which names no listener"));
      continue;  // their descriptors close with `fds`
    }
    for (UniqueFd& fd : fds) connections.push_back({std::move(fd), listener->listener, listener->protocol});
  }
  return connections;
}

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
