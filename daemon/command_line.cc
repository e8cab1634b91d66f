#include "daemon/command_line.h"

namespace epolld {

std::optional<CommandLine> parseCommandLine(const std::vector<std::string>& args, std::string& error) {
  CommandLine line;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-c" || arg == "--config") {
      if (i + 1 == args.size()) {
        error = "option " + arg + " needs a FILE";
        return std::nullopt;
      }
      line.config_path = args[++i];
      line.config_given = true;
    } else if (arg.starts_with("--config=")) {
      line.config_path = arg.substr(std::string_view("--config=").size());
      line.config_given = true;
    } else if (arg == "-t" || arg == "--check-config" || arg == "--test-config") {
      line.check_config = true;
    } else if (arg == "-T" || arg == "--dump-config") {
      line.dump_config = true;
    } else if (arg == "-V" || arg == "--version") {
      line.version = true;
    } else if (arg == "-h" || arg == "--help") {
      line.help = true;
    } else {
      error = "unknown option '" + arg + "'";
      return std::nullopt;
    }
  }
  if (line.config_given && line.config_path.empty()) {
    error = "option --config needs a FILE";
    return std::nullopt;
  }
  return line;
}

std::string usage() {
  return "usage: epolld [-c FILE | --config FILE] [-t | --check-config] [-T | --dump-config]\n"
         "              [-V | --version] [-h | --help]\n"
         "\n"
         "  -c, --config FILE    the YAML configuration (default /etc/epolld.yaml; without it,\n"
         "                       built-in defaults are used when that file does not exist)\n"
         "  -t, --check-config   parse and validate the configuration, bind nothing, and exit\n"
         "  -T, --dump-config    validate as -t does, then print the effective configuration\n"
         "                       (every key, defaults filled in) as YAML and exit; wins over -t\n"
         "  -V, --version        print the version and exit\n"
         "  -h, --help           print this help and exit\n"
         "\n"
         "Signals: TERM/INT stop gracefully, HUP reloads the configuration, USR1 reopens the log file.\n";
}

}  // namespace epolld
