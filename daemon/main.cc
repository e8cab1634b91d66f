// epolld's entry point: the command line and the configuration; then the
// supervisor runs the main thread while the engine's threads serve.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "config/dump.h"
#include "config/loader.h"
#include "core/log/journal.h"
#include "core/log/log.h"
#include "protocols/registry.h"
#include "core/server.h"
#include "daemon/command_line.h"
#include "daemon/signals.h"
#include "daemon/supervisor.h"

namespace epolld {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;  // bad configuration, failure to start
constexpr int kExitUsage = 2;

int serve(const config::Config& config, const ConfigSource& source, bool using_defaults) {
  // Before any thread exists (the log thread included), so all inherit the mask.
  SignalFd signals({SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2});
  try {
    log::start(config.log);
  } catch (const std::exception& e) {
    log::printErrorLine(std::string("epolld: ") + e.what());
    return kExitFailure;
  }
  if (using_defaults) {
    spdlog::info("no configuration file {}, running on built-in defaults", source.path);
  }
  const unsigned workers = workerCountFor(config);
  spdlog::info("epolld {} starting: configuration {}, {} workers, trigger {}", EPOLLD_VERSION, config.source,
               workers, config::toString(config.trigger));
  const int status = Supervisor(source, signals).run(config);
  log::stop();
  return status;
}

// -T: the configuration as it was validated, alone on stdout, so that it can go straight
// into a file. A short write (a full disk) is a failure, not a truncated file and exit 0.
int printConfig(const config::Config& config) {
  const std::string text = config::dumpConfig(config);
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    log::printErrorLine(std::string("epolld: cannot write the configuration to standard output: ") +
                        std::strerror(errno));
    return kExitFailure;
  }
  return kExitOk;
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
  const ConfigSource source{line->config_path, !line->config_given};
  const bool using_defaults = source.optional && access(source.path.c_str(), F_OK) != 0;
  config::Config config;
  try {
    config = using_defaults ? config::builtInDefaults(protocolSchemas()) : config::loadFile(source.path, protocolSchemas());
  } catch (const config::ConfigError& e) {
    log::printErrorLine(e.what());
    return kExitFailure;
  }
  if (line->dump_config) return printConfig(config);
  if (line->check_config) {
    std::printf("configuration %s is ok\n", config.source.c_str());
    return kExitOk;
  }
  return serve(config, source, using_defaults);
}

}  // namespace
}  // namespace epolld

// Nothing may end epolld with a crash: whatever escapes (std::bad_alloc, an error no one
// foresaw) becomes one line and exit status 1, like any other failure to start.
int main(int argc, char** argv) {
  try {
    return epolld::run(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    epolld::log::printErrorLine(std::string("epolld: ") + e.what());
  } catch (...) {
    epolld::log::printErrorLine("epolld: unexpected error of unknown type");
  }
  return epolld::kExitFailure;
}
