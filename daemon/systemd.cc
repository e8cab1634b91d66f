#include "daemon/systemd.h"

#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <cstring>
#include <string_view>

#include <spdlog/spdlog.h>

namespace epolld {
namespace {

constexpr std::string_view kStoredPrefix = "listen-";

// FDNAME= allows printable ASCII without ':', so "[::1]:2003" is spelled "listen-__1-2003".
std::string fdName(const SocketAddress& address) {
  std::string name = std::string(kStoredPrefix) + address.ip() + "-" + std::to_string(address.port());
  for (char& c : name) {
    if (c == ':') c = '_';
  }
  return name;
}

}  // namespace

Systemd::Systemd(InheritedSockets& inherited) {
  // unset_environment=1: the variables are ours alone, not for child processes.
  char** names = nullptr;
  const int count = sd_listen_fds_with_names(1, &names);
  if (count < 0) {
    spdlog::error("sd_listen_fds_with_names: {}", std::strerror(-count));
  }
  for (int i = 0; i < count; ++i) {
    // What we stored ourselves carries our FDNAME; anything else comes from
    // a socket unit (named after it, or by its FileDescriptorName=).
    const bool stored = names != nullptr && std::string_view(names[i]).starts_with(kStoredPrefix);
    inherited.add(UniqueFd(SD_LISTEN_FDS_START + i), !stored);
  }
  if (names != nullptr) {
    for (int i = 0; i < count; ++i) free(names[i]);
    free(names);
  }
  if (count > 0) spdlog::info("systemd passed {} listening sockets", count);

  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(1, &usec) > 0 && usec > 0) {
    watchdog_period_ = std::chrono::milliseconds(std::max<std::uint64_t>(usec / 2000, 1));
  }
}

void Systemd::notify(const std::string& state) {
  const int result = sd_notify(0, state.c_str());
  if (result < 0) spdlog::warn("sd_notify: {}", std::strerror(-result));
}

void Systemd::ready(std::string_view status) { notify("READY=1\nSTATUS=" + std::string(status)); }

void Systemd::reloading() { notify("RELOADING=1\nSTATUS=reloading the configuration"); }

void Systemd::stopping() { notify("STOPPING=1\nSTATUS=shutting down"); }

void Systemd::status(std::string_view status) { notify("STATUS=" + std::string(status)); }

void Systemd::watchdogPing() { notify("WATCHDOG=1"); }

void Systemd::storeListener(const ListenSocket& listener) {
  if (getenv("NOTIFY_SOCKET") == nullptr) return;
  if (listener.from_socket_unit) {
    // The socket unit keeps it across restarts; a stored copy would only be
    // a duplicate (closed above if one came back).
    forgetListener(listener.address);
    return;
  }
  const int fd = listener.fd.get();
  const int result = sd_pid_notify_with_fds(0, 0, ("FDSTORE=1\nFDNAME=" + fdName(listener.address)).c_str(), &fd, 1);
  // Without FileDescriptorStoreMax= systemd drops the fd; a restart then
  // refuses connections for a moment, which is all that is lost.
  if (result < 0 && !store_warned_) {
    spdlog::warn("sd_pid_notify_with_fds(FDSTORE): {}", std::strerror(-result));
    store_warned_ = true;
  }
}

void Systemd::forgetListener(const SocketAddress& address) {
  if (getenv("NOTIFY_SOCKET") == nullptr) return;
  notify("FDSTOREREMOVE=1\nFDNAME=" + fdName(address));
}

}  // namespace epolld
