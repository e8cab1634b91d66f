#include "daemon/systemd.h"

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-login.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

#include <spdlog/spdlog.h>

namespace epolld {
namespace {

constexpr std::string_view kListenerPrefix = "listen-";
// The one stored descriptor that holds the connections handed over (see
// packConnections).
constexpr std::string_view kConnectionsName = "connections";
constexpr std::uint64_t kBarrierTimeoutUsec = 10'000'000;
constexpr std::uint64_t kBusTimeoutUsec = 2'000'000;

// FDNAME= allows printable ASCII without ':', so "[::1]:2003" is spelled "listen-__1-2003".
std::string fdName(const SocketAddress& address) {
  std::string name = std::string(kListenerPrefix) + address.ip() + "-" + std::to_string(address.port());
  std::ranges::replace(name, ':', '_');
  return name;
}

// FileDescriptorStoreMax= minus what the store holds, asked of systemd over
// D-Bus (systemd 252 does not tell a service its store's size otherwise);
// nullopt when that cannot be asked.
std::optional<std::size_t> storeRoomFromBus() {
  char* unit_name = nullptr;
  if (sd_pid_get_unit(0, &unit_name) < 0) return std::nullopt;
  const std::unique_ptr<char, decltype(&free)> unit(unit_name, free);
  char* object_path = nullptr;
  if (sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit.get(), &object_path) < 0) return std::nullopt;
  const std::unique_ptr<char, decltype(&free)> path(object_path, free);
  sd_bus* connection = nullptr;
  if (const int result = sd_bus_open_system(&connection); result < 0) {
    spdlog::warn("cannot ask systemd for the fd store's size: sd_bus_open_system: {}", std::strerror(-result));
    return std::nullopt;
  }
  const std::unique_ptr<sd_bus, decltype(&sd_bus_flush_close_unref)> bus(connection, sd_bus_flush_close_unref);
  sd_bus_set_method_call_timeout(bus.get(), kBusTimeoutUsec);
  const auto property = [&](const char* name) -> std::optional<std::uint32_t> {
    sd_bus_error error = SD_BUS_ERROR_NULL;
    std::uint32_t value = 0;
    const int result = sd_bus_get_property_trivial(bus.get(), "org.freedesktop.systemd1", path.get(),
                                                   "org.freedesktop.systemd1.Service", name, &error, 'u', &value);
    if (result < 0) {
      spdlog::warn("cannot ask systemd for the fd store's size: {}: {}", name,
                   error.message != nullptr ? error.message : std::strerror(-result));
    }
    sd_bus_error_free(&error);
    return result < 0 ? std::nullopt : std::optional(value);
  };
  const auto max = property("FileDescriptorStoreMax");
  const auto held = property("NFileDescriptorStore");
  if (!max || !held) return std::nullopt;
  return *max > *held ? *max - *held : 0;
}

}  // namespace

Systemd::Systemd(InheritedSockets& inherited) {
  // unset_environment=1: the variables are ours alone, not for child processes.
  char** names = nullptr;
  const int count = sd_listen_fds_with_names(1, &names);
  if (count < 0) {
    spdlog::error("sd_listen_fds_with_names: {}", std::strerror(-count));
  }
  std::size_t listeners = 0;
  for (int i = 0; i < count; ++i) {
    // What we stored ourselves carries our FDNAME; anything else comes from
    // a socket unit (named after it, or by its FileDescriptorName=).
    UniqueFd fd(SD_LISTEN_FDS_START + i);
    const std::string_view name = names != nullptr ? names[i] : "";
    if (name == kConnectionsName) {
      // Read only once the server runs: a start that fails before leaves
      // the bundle whole in the store, for the next start.
      connections_ = std::move(fd);
      continue;
    }
    inherited.add(std::move(fd), !name.starts_with(kListenerPrefix));
    ++listeners;
  }
  if (names != nullptr) {
    for (int i = 0; i < count; ++i) free(names[i]);
    free(names);
  }
  if (listeners > 0) spdlog::info("systemd passed {} listening sockets", listeners);

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
  if (result > 0) ++listeners_stored_;
}

void Systemd::forgetListener(const SocketAddress& address) {
  if (getenv("NOTIFY_SOCKET") == nullptr) return;
  notify("FDSTOREREMOVE=1\nFDNAME=" + fdName(address));
  if (listeners_stored_ > 0) --listeners_stored_;
}

bool Systemd::canStoreConnections() const { return getenv("NOTIFY_SOCKET") != nullptr; }

// The store's room: $FDSTORE (FileDescriptorStoreMax=, as systemd 254 and
// later pass it) less the listeners kept there, else asked over D-Bus.
std::optional<std::size_t> Systemd::storeRoom() const {
  if (const char* max = getenv("FDSTORE")) {
    std::size_t value = 0;
    const std::string_view text(max);
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error == std::errc() && end == text.data() + text.size()) {
      return value > listeners_stored_ ? value - listeners_stored_ : 0;
    }
  }
  return storeRoomFromBus();
}

std::size_t Systemd::storeConnections(std::vector<HandedConnection> connections) {
  if (connections.empty()) return 0;
  const std::size_t offered = connections.size();
  const auto closing = [&](std::size_t kept, const std::string& why) {
    spdlog::warn("{}: closing {} of the {} connections to hand over", why, offered - kept, offered);
  };
  if (const std::optional<std::size_t> room = storeRoom(); room && *room == 0) {
    closing(0, "the fd store has no room left (FileDescriptorStoreMax=)");
    return 0;
  }
  PackedConnections packed = packConnections(connections);
  if (packed.packed < offered) closing(packed.packed, packed.error);
  if (packed.packed == 0) return 0;
  const int bundle = packed.bundle.get();
  // FDPOLL=0: the sending end closes when this process exits, which systemd
  // would otherwise take for a hang-up and drop the bundle.
  const std::string state = "FDSTORE=1\nFDPOLL=0\nFDNAME=" + std::string(kConnectionsName);
  if (const int result = sd_pid_notify_with_fds(0, 0, state.c_str(), &bundle, 1); result <= 0) {
    spdlog::error("sd_pid_notify_with_fds(FDSTORE) of the {} connections: {}; closing them", packed.packed,
                  result < 0 ? std::strerror(-result) : "no NOTIFY_SOCKET");
    return 0;
  }
  // systemd reads the message in its own time: once the barrier returns, it
  // has it, and closing ours (and exiting) loses nothing.
  if (const int result = sd_notify_barrier(0, kBarrierTimeoutUsec); result < 0) {
    spdlog::error("sd_notify_barrier: {}; the connections handed over may be lost", std::strerror(-result));
  }
  spdlog::info("handed {} connections over to the next process (systemd's fd store)", packed.packed);
  return packed.packed;
}

std::vector<HandedConnection> Systemd::handedConnections() {
  if (!connections_) return {};
  std::vector<std::string> problems;
  std::vector<HandedConnection> handed = unpackConnections(connections_.get(), problems);
  for (const std::string& problem : problems) spdlog::warn("the connections handed over: {}; closing them", problem);
  spdlog::info("systemd passed {} connections from the previous process", handed.size());
  return handed;
}

void Systemd::forgetHandedConnections() {
  if (!connections_) return;
  notify("FDSTOREREMOVE=1\nFDNAME=" + std::string(kConnectionsName));
  connections_.reset();
}

}  // namespace epolld
