// epolld's entry point: command line, configuration, logging, then the main
// thread's own loop, which takes signals while the engine's threads serve.
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>

#include <cstdio>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "config/loader.h"
#include "core/log/log.h"
#include "core/protocols/registry.h"
#include "core/server.h"
#include "daemon/command_line.h"
#include "daemon/signals.h"

namespace epolld {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;  // bad configuration, failure to start
constexpr int kExitUsage = 2;

// How often the main thread looks at the log's drop counter.
constexpr int kHousekeepingMs = 1000;

bool fileExists(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0;
}

// One line on stderr even when console_level hides errors: a daemon that
// fails to start must say why where its operator looks first.
void reportStartFailure(const config::Config& config, const std::string& message) {
  spdlog::error("{}", message);
  if (config.log.console_level > config::LogLevel::kError) std::fprintf(stderr, "epolld: %s\n", message.c_str());
}

void reportDroppedLines(std::uint64_t& reported) {
  const std::uint64_t dropped = log::droppedLines();
  if (dropped == reported) return;
  spdlog::warn("{} log lines dropped: the log queue was full", dropped - reported);
  reported = dropped;
}

void reopenLogFile() {
  try {
    log::reopenFile();
    spdlog::info("received SIGUSR1, log file reopened");
  } catch (const std::exception& e) {
    spdlog::error("received SIGUSR1, but {}; still writing to the old file", e.what());
  }
}

int serve(const config::Config& config, bool using_defaults) {
  // Before any thread exists (the log thread included), so all inherit the mask.
  SignalFd signals({SIGTERM, SIGINT, SIGHUP, SIGUSR1});
  try {
    log::start(config.log);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "epolld: %s\n", e.what());
    return kExitFailure;
  }
  if (using_defaults) {
    spdlog::info("no configuration file {}, running on built-in defaults", kDefaultConfigPath);
  }
  const unsigned workers = config.workers > 0 ? config.workers : defaultWorkerCount();
  spdlog::info("epolld {} starting: configuration {}, {} workers, trigger {}", EPOLLD_VERSION, config.source,
               workers, config::toString(config.trigger));
  int status = kExitOk;
  try {
    Server server(config);
    server.start();
    std::uint64_t dropped_reported = 0;
    for (bool running = true; running;) {
      pollfd wait{.fd = signals.fd(), .events = POLLIN, .revents = 0};
      poll(&wait, 1, kHousekeepingMs);  // EINTR: just look again
      reportDroppedLines(dropped_reported);
      while (const auto signal = signals.next()) {
        switch (*signal) {
          case SIGTERM:
          case SIGINT:
            spdlog::info("received SIG{}, shutting down", sigabbrev_np(*signal));
            running = false;
            break;
          case SIGHUP:
            spdlog::warn("received SIGHUP: reloading the configuration is not supported yet; keeping it");
            break;
          case SIGUSR1:
            reopenLogFile();
            break;
        }
      }
    }
    server.stop();
    spdlog::info("shutdown complete");
  } catch (const StartError& e) {
    reportStartFailure(config, e.what());
    status = kExitFailure;
  }
  log::stop();
  return status;
}

int run(const std::vector<std::string>& args) {
  std::string error;
  const auto line = parseCommandLine(args, error);
  if (!line) {
    std::fprintf(stderr, "epolld: %s\n%s", error.c_str(), usage().c_str());
    return kExitUsage;
  }
  if (line->help) {
    std::fputs(usage().c_str(), stdout);
    return kExitOk;
  }
  if (line->version) {
    std::printf("epolld %s\n", EPOLLD_VERSION);
    return kExitOk;
  }
  const bool using_defaults = !line->config_given && !fileExists(line->config_path);
  config::Config config;
  try {
    config = using_defaults ? config::builtInDefaults() : config::loadFile(line->config_path, protocolNames());
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return kExitFailure;
  }
  if (line->check_config) {
    std::printf("configuration %s is ok\n", config.source.c_str());
    return kExitOk;
  }
  return serve(config, using_defaults);
}

}  // namespace
}  // namespace epolld

int main(int argc, char** argv) { return epolld::run(std::vector<std::string>(argv + 1, argv + argc)); }
