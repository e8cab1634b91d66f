// systemd's side of the daemon, through libsystemd's sd-daemon API: the
// notify protocol (READY, RELOADING, STOPPING, STATUS, WATCHDOG), socket
// activation and the file descriptor store. Every call is a no-op when epolld
// does not run under systemd (no NOTIFY_SOCKET, no LISTEN_FDS).
//
// Main thread only.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/listen_socket.h"
#include "core/socket_address.h"

namespace epolld {

class Systemd {
 public:
  // Takes the sockets systemd passed (LISTEN_FDS: socket units and the fd
  // store) into `inherited`, and reads the watchdog period.
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

 private:
  void notify(const std::string& state);

  std::optional<std::chrono::milliseconds> watchdog_period_;
  bool store_warned_ = false;
};

}  // namespace epolld
