#include "core/socket_address.h"

#include <arpa/inet.h>

#include <cstring>

namespace epolld {

std::optional<SocketAddress> SocketAddress::parse(std::string_view ip, std::uint16_t port) {
  const std::string text(ip);  // inet_pton needs a terminated string
  SocketAddress address;
  if (inet_pton(AF_INET, text.c_str(), &address.storage_.v4.sin_addr) == 1) {
    address.storage_.v4.sin_family = AF_INET;
    address.storage_.v4.sin_port = htons(port);
    return address;
  }
  if (inet_pton(AF_INET6, text.c_str(), &address.storage_.v6.sin6_addr) == 1) {
    address.storage_.v6.sin6_family = AF_INET6;
    address.storage_.v6.sin6_port = htons(port);
    return address;
  }
  return std::nullopt;
}

// `get` is getsockname or getpeername.
std::optional<SocketAddress> SocketAddress::ofEnd(int fd, int (*get)(int, sockaddr*, socklen_t*)) {
  SocketAddress address;
  socklen_t length = capacity();
  if (get(fd, address.data(), &length) != 0) return std::nullopt;
  return address;
}

std::optional<SocketAddress> SocketAddress::ofLocalEnd(int fd) { return ofEnd(fd, getsockname); }

std::optional<SocketAddress> SocketAddress::ofRemoteEnd(int fd) { return ofEnd(fd, getpeername); }

bool SocketAddress::isWildcard() const {
  if (family() == AF_INET6) return IN6_IS_ADDR_UNSPECIFIED(&storage_.v6.sin6_addr);
  return storage_.v4.sin_addr.s_addr == htonl(INADDR_ANY);
}

socklen_t SocketAddress::length() const {
  return family() == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
}

std::string SocketAddress::ip() const {
  char text[INET6_ADDRSTRLEN] = "?";
  if (family() == AF_INET6) {
    inet_ntop(AF_INET6, &storage_.v6.sin6_addr, text, sizeof text);
  } else if (family() == AF_INET) {
    inet_ntop(AF_INET, &storage_.v4.sin_addr, text, sizeof text);
  }
  return text;
}

std::uint16_t SocketAddress::port() const {
  return ntohs(family() == AF_INET6 ? storage_.v6.sin6_port : storage_.v4.sin_port);
}

std::string SocketAddress::toString() const {
  std::string text;
  if (family() == AF_INET6) text += '[';
  text += ip();
  if (family() == AF_INET6) text += ']';
  text += ':';
  text += std::to_string(port());
  return text;
}

bool SocketAddress::operator==(const SocketAddress& other) const {
  if (family() != other.family()) return false;
  if (family() == AF_INET6) {
    return storage_.v6.sin6_port == other.storage_.v6.sin6_port &&
           std::memcmp(&storage_.v6.sin6_addr, &other.storage_.v6.sin6_addr, sizeof(in6_addr)) == 0;
  }
  return storage_.v4.sin_port == other.storage_.v4.sin_port &&
         storage_.v4.sin_addr.s_addr == other.storage_.v4.sin_addr.s_addr;
}

}  // namespace epolld
