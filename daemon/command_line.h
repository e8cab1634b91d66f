// epolld [-c FILE | --config FILE] [-t | --check-config] [-T | --dump-config]
//        [-V | --version] [-h | --help]
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace epolld {

inline constexpr const char* kDefaultConfigPath = "/etc/epolld.yaml";

struct CommandLine {
  std::string config_path = kDefaultConfigPath;
  bool config_given = false;  // a named file must exist; the default may not
  bool check_config = false;
  // Validates as check_config does, then prints the configuration; wins over -t.
  bool dump_config = false;
  bool version = false;
  bool help = false;
};

// nullopt, with `error` set to one line, for anything it does not understand.
std::optional<CommandLine> parseCommandLine(const std::vector<std::string>& args, std::string& error);

std::string usage();

}  // namespace epolld
