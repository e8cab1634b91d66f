// An IPv4 or IPv6 socket address, small enough to keep one per connection.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace epolld {

class SocketAddress {
 public:
  SocketAddress() = default;

  // Parses an IPv4 or IPv6 literal ("0.0.0.0", "::1"); nullopt if it is neither.
  static std::optional<SocketAddress> parse(std::string_view ip, std::uint16_t port);
  // The address a socket is bound to (getsockname).
  static std::optional<SocketAddress> ofLocalEnd(int fd);
  // The address a socket is connected to (getpeername); nullopt when it is not.
  static std::optional<SocketAddress> ofRemoteEnd(int fd);

  sockaddr* data() { return &storage_.any; }
  const sockaddr* data() const { return &storage_.any; }
  socklen_t length() const;
  static constexpr socklen_t capacity() { return sizeof(Storage); }

  int family() const { return storage_.any.sa_family; }
  std::string ip() const;       // "127.0.0.1", "::1"
  std::uint16_t port() const;
  std::string toString() const;  // "127.0.0.1:2003", "[::1]:2003"
  bool isWildcard() const;        // 0.0.0.0 or ::, any port

  bool operator==(const SocketAddress& other) const;

 private:
  static std::optional<SocketAddress> ofEnd(int fd, int (*get)(int, sockaddr*, socklen_t*));

  union Storage {
    sockaddr any;
    sockaddr_in v4;
    sockaddr_in6 v6;
  };
  Storage storage_{};
};

}  // namespace epolld
