// Established connections crossing a restart. A stopping server passes each
// connection that has reached a request boundary (nothing half-read, nothing
// owed) to its successor instead of closing it; under systemd the fd store
// keeps the sockets meanwhile, and the kernel keeps whatever the client sends.
// An idle connection has no state beyond its socket and its listener, so the
// successor takes it in as if it had just been accepted.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/socket_address.h"
#include "core/unique_fd.h"

namespace epolld {

// A connection between a stopped server and the next one, named by the
// listener it belongs to: its bound address and its protocol.
struct HandedConnection {
  UniqueFd fd;
  SocketAddress listener;
  std::string protocol;
};

// Where stopping workers put the connections they pass on. Any thread may
// add; the server takes them all once its workers have finished.
class HandoverList {
 public:
  struct Entry {
    UniqueFd fd;
    std::uint32_t listener_id = 0;
  };

  void add(UniqueFd fd, std::uint32_t listener_id) {
    const std::lock_guard lock(mutex_);
    entries_.push_back({std::move(fd), listener_id});
  }
  std::vector<Entry> take() {
    const std::lock_guard lock(mutex_);
    return std::exchange(entries_, {});
  }

 private:
  std::mutex mutex_;
  std::vector<Entry> entries_;
};

// Why `fd` cannot be taken in as a connection of the listener bound to
// `listener` (a stored fd is checked, never trusted): not a TCP socket, a
// listening one, bound elsewhere, not connected, or its peer has closed it
// already. Empty when it can; `peer` is then filled in.
std::string whyNotAdoptable(int fd, const SocketAddress& listener, SocketAddress& peer);

}  // namespace epolld
