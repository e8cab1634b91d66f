// The main thread's job once the configuration is loaded: start the engine,
// then take signals (TERM/INT stop, HUP reload, USR1 reopen the log), keep
// systemd informed (READY, RELOADING, STOPPING, STATUS, WATCHDOG) and report
// dropped log lines, until it is time to stop.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/listen_socket.h"
#include "core/server.h"
#include "core/stats.h"
#include "daemon/signals.h"
#include "daemon/systemd.h"

namespace epolld {

struct ConfigSource {
  std::string path;     // what SIGHUP reads again
  bool optional = false;  // the default path: when it is missing, built-in defaults apply
};

class Supervisor {
 public:
  Supervisor(ConfigSource source, SignalFd& signals);

  // Serves `config` until SIGTERM/SIGINT; returns the exit status.
  int run(const config::Config& config);

 private:
  using Clock = std::chrono::steady_clock;

  bool handleSignal(int signal);
  void reload();
  void housekeeping(Clock::time_point now);
  std::string statusLine(double requests_per_second) const;

  const ConfigSource source_;
  SignalFd& signals_;
  const bool test_hooks_;
  InheritedSockets inherited_;
  std::optional<Systemd> systemd_;
  std::unique_ptr<Stats> stats_;  // before server_, which counts into it
  std::unique_ptr<Server> server_;
  // Housekeeping state.
  Clock::time_point next_status_{};
  Clock::time_point next_watchdog_{};
  Clock::time_point last_status_{};
  std::uint64_t requests_at_last_status_ = 0;
  bool stuck_reported_ = false;
  std::uint64_t dropped_lines_reported_ = 0;
};

}  // namespace epolld
