// systemd's side of the daemon, through libsystemd's sd-daemon API: the
// notify protocol (READY, RELOADING, STOPPING, STATUS, WATCHDOG), socket
// activation and the file descriptor store, which keeps the listening sockets
// and, across a restart, the established connections. Every call is a no-op
// when epolld does not run under systemd (no NOTIFY_SOCKET, no LISTEN_FDS).
//
// Main thread only.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/handover.h"
#include "core/listen_socket.h"
#include "core/socket_address.h"

namespace epolld {

class Systemd {
 public:
  // Takes the listening sockets systemd passed (LISTEN_FDS: socket units and
  // the fd store) into `inherited`, keeps the bundle of connections the
  // previous process stored for handedConnections(), and reads the watchdog
  // period.
  explicit Systemd(InheritedSockets& inherited);

  void ready(std::string_view status);
  void reloading();
  void stopping();
  void status(std::string_view status);

  // How often to send WATCHDOG=1 (half of WatchdogSec=), if the unit sets it.
  std::optional<std::chrono::milliseconds> watchdogPeriod() const { return watchdog_period_; }
  void watchdogPing();

  // Keeps a listening socket in systemd's fd store, so the next start after a
  // restart gets it back through LISTEN_FDS and no connection is refused.
  void storeListener(const ListenSocket& listener);
  void forgetListener(const SocketAddress& address);

  // Whether a stopping daemon can pass its connections on: it runs under
  // systemd, whose fd store keeps them for the next start (a restart), or
  // closes them (a stop).
  bool canStoreConnections() const;
  // Puts `connections` in the fd store, in one bundle (packConnections),
  // and closes what could not go in; returns how many went in. Returns once
  // systemd has taken them, so the daemon may exit.
  std::size_t storeConnections(std::vector<HandedConnection> connections);
  // The connections the previous process stored, for the server to take in.
  std::vector<HandedConnection> handedConnections();
  // Takes them out of the store (FDSTOREREMOVE), once taken in or closed,
  // so that the next stop does not pass a socket twice and a closed one is
  // not kept open by the store's copy.
  void forgetHandedConnections();

 private:
  void notify(const std::string& state);
  std::optional<std::size_t> storeRoom() const;

  std::optional<std::chrono::milliseconds> watchdog_period_;
  bool store_warned_ = false;
  std::size_t listeners_stored_ = 0;
  UniqueFd connections_;  // the previous process's bundle (packConnections), until taken out of the store
};

}  // namespace epolld
