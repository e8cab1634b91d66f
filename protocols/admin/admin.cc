#include "protocols/admin/admin.h"

#include <arpa/inet.h>

#include <array>
#include <string>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "config/protocol_schema.h"
#include "protocols/admin/admin_pages.h"
#include "protocols/http/http.h"

namespace epolld {
namespace {

struct AdminOptions {
  bool allow_remote = false;

  bool operator==(const AdminOptions&) const = default;
};

YAML::Node yamlOf(const AdminOptions& options) {
  YAML::Node node;
  node["allow_remote"] = options.allow_remote;
  return node;
}

constexpr std::array<std::string_view, 1> kKeys{"allow_remote"};
constexpr std::array<std::string_view, 2> kBooleans{"false", "true"};

// 127.0.0.0/8 and ::1: what only this machine can reach.
bool isLoopback(std::string_view host) {
  const std::string bare(host.starts_with('[') ? host.substr(1, host.size() - 2) : host);
  in_addr v4{};
  if (inet_pton(AF_INET, bare.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  return inet_pton(AF_INET6, bare.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

std::shared_ptr<const config::ProtocolOptions> readAdminOptions(const config::Section& section) {
  AdminOptions admin;
  if (section.field) {
    const config::MapReader map(*section.field, kKeys);
    if (const config::Field* f = map.find("allow_remote")) admin.allow_remote = f->choice(kBooleans) == 1;
  }
  // Counters and the configuration's path are nobody else's business.
  if (!admin.allow_remote && !isLoopback(section.host)) {
    const config::Field& at = section.address ? *section.address : section.listener;
    at.fail("an admin listener on a non-loopback address needs admin: {allow_remote: true}");
  }
  return std::make_shared<config::OptionsOf<AdminOptions>>(admin);
}

std::shared_ptr<const Protocol> makeAdminProtocol(const config::Listener&, const ProtocolContext& context) {
  const Stats& stats = context.stats;  // outlives every protocol object
  return http::makeHttpProtocol(http::HttpOptions{}, [&stats](std::string_view path) { return admin::page(path, stats); });
}

}  // namespace

const ProtocolPlugin kAdminPlugin{
    {.name = "admin", .default_address = "127.0.0.1", .read = &readAdminOptions}, &makeAdminProtocol};

}  // namespace epolld
