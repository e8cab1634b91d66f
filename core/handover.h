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

// Connections in flight between the two processes: each message of the
// bundle's AF_UNIX socket names a listener ("http 0.0.0.0:8080", as
// listenerKey() spells it) and carries its connections' descriptors
// (SCM_RIGHTS, at most 253 a message). The kernel keeps queued descriptors
// open, so holding the socket's receiving end keeps every connection: systemd
// stores one descriptor instead of one per connection, whose duplicate check
// costs it time quadratic in their number.
struct PackedConnections {
  UniqueFd bundle;        // the receiving end; invalid if none could be made
  std::size_t packed = 0;  // how many are in it; the others were not taken
  std::string error;       // why the rest were not, if they were not
};
PackedConnections packConnections(const std::vector<HandedConnection>& connections);
// Everything queued in `bundle`. A message that names no listener, or whose
// descriptors were cut short, is reported in `problems`, its descriptors closed.
std::vector<HandedConnection> unpackConnections(int bundle, std::vector<std::string>& problems);

// Why `fd` cannot be taken in as a connection of the listener bound to
// `listener` (a stored fd is checked, never trusted): not a TCP socket, a
// listening one, bound elsewhere, not connected, or its peer has closed it
// already. Empty when it can; `peer` is then filled in.
std::string whyNotAdoptable(int fd, const SocketAddress& listener, SocketAddress& peer);

}  // namespace epolld
