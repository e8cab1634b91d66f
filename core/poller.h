// One epoll instance. It only translates interest into epoll_ctl calls; what
// an event means is up to its owner. Not thread-safe: one owning thread each.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <span>

#include "core/unique_fd.h"

namespace epolld {

class Poller {
 public:
  Poller();  // throws std::system_error if epoll_create1 fails

  // Each returns false with errno set; the caller decides what failing means
  // for that fd (a connection is closed, a listener is reported).
  bool add(int fd, std::uint32_t events, std::uint64_t tag);
  bool modify(int fd, std::uint32_t events, std::uint64_t tag);
  bool remove(int fd);

  // Waits up to timeout_ms (-1 = forever) and returns the ready events; an
  // interrupted wait returns none.
  std::span<epoll_event> wait(std::span<epoll_event> events, int timeout_ms);

 private:
  UniqueFd epoll_fd_;
};

}  // namespace epolld
