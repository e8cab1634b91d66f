#include "daemon/supervisor.h"

#include <poll.h>
#include <sys/resource.h>
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include <spdlog/spdlog.h>

#include "config/loader.h"
#include "core/log/journal.h"
#include "core/log/log.h"
#include "protocols/registry.h"

namespace epolld {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;

constexpr std::chrono::seconds kStatusPeriod{5};
constexpr std::chrono::seconds kHousekeepingPeriod{1};
// Worker loops turn every 100 ms at least, later under a burst of events.
constexpr std::chrono::milliseconds kLoopSlack{250};

// Descriptors besides client connections: listeners, each thread's epoll,
// eventfd and timerfd, the log file, files being sent.
constexpr rlim_t kReservedDescriptors = 64;

// Raises the soft descriptor limit to the hard one, and says so when
// max_connections cannot be reached under it: accept4 would then fail with
// EMFILE first (handled, but every connection past the limit waits).
void checkDescriptorLimit(std::size_t max_connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised{limit.rlim_max, limit.rlim_max};
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  if (limit.rlim_cur != RLIM_INFINITY && max_connections + kReservedDescriptors > limit.rlim_cur) {
    spdlog::warn("max_connections is {} but the open-files limit is {}: raise LimitNOFILE= (ulimit -n) or lower "
                 "max_connections",
                 max_connections, limit.rlim_cur);
  }
}

}  // namespace

Supervisor::Supervisor(ConfigSource source, SignalFd& signals)
    : source_(std::move(source)), signals_(signals), test_hooks_(getenv("EPOLLD_TEST_HOOKS") != nullptr) {}

int Supervisor::run(const config::Config& config) {
  systemd_.emplace(inherited_);
  checkDescriptorLimit(config.max_connections);
  stats_ = std::make_unique<Stats>(workerCountFor(config), acceptorCountFor(config), config.source);
  try {
    ListenerEvents events;
    events.opened = [this](const ListenSocket& listener) { systemd_->storeListener(listener); };
    events.removed = [this](const SocketAddress& address) { systemd_->forgetListener(address); };
    const auto protocols = [this](const config::Listener& listener) {
      return makeProtocol(listener, ProtocolContext{*stats_});
    };
    server_ = std::make_unique<Server>(config, inherited_, protocols, *stats_, std::move(events));
  } catch (const StartError& e) {
    spdlog::error("{}", e.what());
    // One line on stderr even when console_level hides errors: a daemon that
    // fails to start must say why where its operator looks first.
    if (config.log.console_level > config::LogLevel::kError) log::printErrorLine(std::string("epolld: ") + e.what());
    return kExitFailure;
  }
  for (InheritedSockets::Socket& unclaimed : inherited_.takeRest()) {
    const auto address = SocketAddress::ofLocalEnd(unclaimed.fd.get());
    spdlog::warn("systemd passed a socket on {} that no listener is configured for; closing it",
                 address ? address->toString() : "an unknown address");
    if (address && !unclaimed.from_socket_unit) systemd_->forgetListener(*address);
  }
  server_->start();
  if (std::vector<HandedConnection> handed = systemd_->handedConnections(); !handed.empty()) {
    const std::size_t offered = handed.size();
    const std::size_t adopted = server_->adopt(std::move(handed));
    spdlog::info("took in {} of the {} connections the previous process handed over", adopted, offered);
  }
  // Ours now (or closed): the store's copies must go, or a connection closed
  // here would stay open there.
  systemd_->forgetHandedConnections();
  last_status_ = Clock::now();
  spdlog::info("ready: {}", statusLine(0));
  systemd_->ready(statusLine(0));

  for (bool running = true; running;) {
    const Clock::time_point now = Clock::now();
    housekeeping(now);
    Clock::time_point wake = std::min(now + kHousekeepingPeriod, next_status_);
    if (systemd_->watchdogPeriod()) wake = std::min(wake, next_watchdog_);
    const auto timeout = std::chrono::ceil<std::chrono::milliseconds>(std::max(wake - now, Clock::duration::zero()));
    pollfd wait{.fd = signals_.fd(), .events = POLLIN, .revents = 0};
    poll(&wait, 1, static_cast<int>(timeout.count()));  // EINTR: just look again
    while (const auto signal = signals_.next()) running = handleSignal(*signal) && running;
  }

  systemd_->stopping();
  // Under systemd, connections between requests go to its fd store: a
  // restart's next process takes them in, a stop's are closed by systemd.
  std::vector<HandedConnection> handed = server_->stop(systemd_->canStoreConnections());
  systemd_->storeConnections(std::move(handed));
  spdlog::info("shutdown complete");
  return kExitOk;
}

// Returns false once it is time to stop.
bool Supervisor::handleSignal(int signal) {
  switch (signal) {
    case SIGTERM:
    case SIGINT:
      spdlog::info("received SIG{}, shutting down", sigabbrev_np(signal));
      return false;
    case SIGHUP:
      reload();
      return true;
    case SIGUSR1:
      try {
        log::reopenFile();
        spdlog::info("received SIGUSR1, log file reopened");
      } catch (const std::exception& e) {
        spdlog::error("received SIGUSR1, but {}; that file keeps its old one", e.what());
      }
      return true;
    case SIGUSR2:
      if (test_hooks_) {
        server_->stallWorker();
      } else {
        spdlog::info("received SIGUSR2: ignored");
      }
      return true;
    default:
      return true;
  }
}

void Supervisor::reload() {
  spdlog::info("received SIGHUP, reloading the configuration");
  systemd_->reloading();
  const config::Config previous = server_->config();
  config::Config next;
  try {
    const bool use_defaults = source_.optional && access(source_.path.c_str(), F_OK) != 0;
    next = use_defaults ? config::builtInDefaults(protocolSchemas()) : config::loadFile(source_.path, protocolSchemas());
    log::reconfigure(next.log);
    try {
      server_->reconfigure(next, inherited_);
    } catch (...) {
      log::reconfigure(previous.log);
      throw;
    }
    spdlog::info("configuration {} reloaded: {} listeners", next.source, server_->listenerCount());
    stats_->countReload(true);
  } catch (const std::exception& e) {  // ConfigError, StartError, a log file that cannot be opened
    spdlog::error("reload failed, keeping the running configuration: {}", e.what());
    stats_->countReload(false);
  }
  systemd_->ready(statusLine(0));
}

void Supervisor::housekeeping(Clock::time_point now) {
  const std::uint64_t dropped = log::droppedLines();
  if (dropped != dropped_lines_reported_) {
    spdlog::warn("{} log lines dropped: the log queue was full", dropped - dropped_lines_reported_);
    dropped_lines_reported_ = dropped;
  }
  if (now >= next_status_) {
    // A reload that removes a listener takes its count away: no negative rate.
    const std::uint64_t requests = stats_->requestsAnswered();
    const double seconds = std::chrono::duration<double>(now - last_status_).count();
    const std::uint64_t answered = requests > requests_at_last_status_ ? requests - requests_at_last_status_ : 0;
    const double rate = seconds > 0 ? static_cast<double>(answered) / seconds : 0;
    systemd_->status(statusLine(rate));
    requests_at_last_status_ = requests;
    last_status_ = now;
    next_status_ = now + kStatusPeriod;
  }
  if (const auto period = systemd_->watchdogPeriod(); period && now >= next_watchdog_) {
    // Ping only while every worker's loop still turns: a stuck worker must
    // get the daemon restarted, even though this thread is fine. A loop
    // turns at least every 100 ms (its tick); one that has not turned since
    // about the last ping is stuck, before systemd's own deadline passes.
    const auto allowed = std::max<Clock::duration>(*period, kLoopSlack);
    if (const std::optional<unsigned> stalled = stats_->stalledWorker(now, allowed); !stalled) {
      systemd_->watchdogPing();
      stuck_reported_ = false;
    } else if (!stuck_reported_) {
      spdlog::critical("worker {}'s loop has stopped turning; withholding watchdog pings", *stalled);
      stuck_reported_ = true;
    }
    next_watchdog_ = now + *period;
  }
}

std::string Supervisor::statusLine(double requests_per_second) const {
  return fmt::format("{} listeners, {} connections, {:.0f} requests/s", server_->listenerCount(),
                     server_->openConnections(), requests_per_second);
}

}  // namespace epolld
