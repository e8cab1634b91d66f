#include "core/listen_socket.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <gtest/gtest.h>

#include "config/protocol_schema.h"
#include "protocols/http/http_options.h"
#include "protocols/registry.h"

namespace epolld {
namespace {

config::Listener listenerOn(const std::string& address, const std::string& protocol = "echo") {
  config::Listener listener;
  listener.address = address;
  listener.port = 0;
  listener.protocol = protocol;
  // As the loader reads a listener without a section: the defaults.
  if (protocol == "http") listener.options = std::make_shared<config::OptionsOf<http::HttpOptions>>(http::HttpOptions{});
  return listener;
}

std::shared_ptr<const Protocol> protocolFor(const config::Listener& listener) {
  static const Stats stats(1, 1, "test");
  return makeProtocol(listener, ProtocolContext{stats});
}

// As the server opens one: with the protocol the registry makes for it.
ListenSocket open(const config::Listener& listener, InheritedSockets& inherited, std::string& error) {
  return openListenSocket(listener, *protocolFor(listener), inherited, error);
}

int optionOf(int fd, int level, int name) {
  int value = -1;
  socklen_t length = sizeof value;
  EXPECT_EQ(getsockopt(fd, level, name, &value, &length), 0);
  return value;
}

// Connects to the listener and accepts, as the acceptor does.
UniqueFd acceptOne(const ListenSocket& listener) {
  UniqueFd client(socket(listener.address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_EQ(connect(client.get(), listener.address.data(), listener.address.length()), 0);
  UniqueFd accepted(accept4(listener.fd.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
  EXPECT_TRUE(accepted) << std::strerror(errno);
  return accepted;
}

TEST(ListenSocket, BindsAnEphemeralPortNonBlocking) {
  InheritedSockets none;
  std::string error;
  const ListenSocket listener = open(listenerOn("127.0.0.1"), none, error);
  ASSERT_TRUE(listener.fd) << error;
  EXPECT_NE(listener.address.port(), 0);
  EXPECT_TRUE(fcntl(listener.fd.get(), F_GETFL) & O_NONBLOCK);
  EXPECT_EQ(listener.name(), "127.0.0.1:" + std::to_string(listener.address.port()) + " (echo)");
}

// The acceptor relies on this instead of a setsockopt per connection.
TEST(ListenSocket, AcceptedSocketsInheritTcpNoDelay) {
  for (const std::string address : {"127.0.0.1", "::1"}) {
    InheritedSockets none;
    std::string error;
    const ListenSocket listener = open(listenerOn(address), none, error);
    ASSERT_TRUE(listener.fd) << error;
    const UniqueFd accepted = acceptOne(listener);
    ASSERT_TRUE(accepted);
    EXPECT_NE(optionOf(accepted.get(), IPPROTO_TCP, TCP_NODELAY), 0) << address;
  }
}

TEST(ListenSocket, DefersAcceptOnlyWhereTheClientSpeaksFirst) {
  InheritedSockets none;
  std::string error;
  const ListenSocket http = open(listenerOn("127.0.0.1", "http"), none, error);
  ASSERT_TRUE(http.fd) << error;
  EXPECT_GT(optionOf(http.fd.get(), IPPROTO_TCP, TCP_DEFER_ACCEPT), 0);
  const ListenSocket echo = open(listenerOn("127.0.0.1"), none, error);
  ASSERT_TRUE(echo.fd) << error;
  EXPECT_EQ(optionOf(echo.fd.get(), IPPROTO_TCP, TCP_DEFER_ACCEPT), 0);
}

// A reload may give a kept listener another protocol (the server applies it).
TEST(ListenSocket, DeferralFollowsAChangeOfProtocol) {
  InheritedSockets none;
  std::string error;
  ListenSocket listener = open(listenerOn("127.0.0.1", "http"), none, error);
  ASSERT_TRUE(listener.fd) << error;
  ASSERT_TRUE(deferAcceptIfClientSpeaksFirst(listener.fd.get(), *protocolFor(listenerOn("127.0.0.1", "echo"))));
  EXPECT_EQ(optionOf(listener.fd.get(), IPPROTO_TCP, TCP_DEFER_ACCEPT), 0);
  ASSERT_TRUE(deferAcceptIfClientSpeaksFirst(listener.fd.get(), *protocolFor(listenerOn("127.0.0.1", "http"))));
  EXPECT_GT(optionOf(listener.fd.get(), IPPROTO_TCP, TCP_DEFER_ACCEPT), 0);
}

TEST(ListenSocket, TakesAnInheritedSocketAndMakesItNonBlocking) {
  InheritedSockets none;
  std::string error;
  const ListenSocket first = open(listenerOn("127.0.0.1"), none, error);
  ASSERT_TRUE(first.fd) << error;
  // As systemd passes it: blocking, no TCP_NODELAY.
  UniqueFd passed(fcntl(first.fd.get(), F_DUPFD_CLOEXEC, 3));
  ASSERT_TRUE(passed);
  ASSERT_EQ(fcntl(passed.get(), F_SETFL, 0), 0);
  const int off = 0;
  ASSERT_EQ(setsockopt(passed.get(), IPPROTO_TCP, TCP_NODELAY, &off, sizeof off), 0);
  InheritedSockets inherited;
  inherited.add(std::move(passed), true);
  config::Listener same = listenerOn("127.0.0.1");
  same.port = first.address.port();
  const ListenSocket taken = open(same, inherited, error);
  ASSERT_TRUE(taken.fd) << error;
  EXPECT_TRUE(taken.from_socket_unit);
  EXPECT_TRUE(fcntl(taken.fd.get(), F_GETFL) & O_NONBLOCK);
  EXPECT_NE(optionOf(taken.fd.get(), IPPROTO_TCP, TCP_NODELAY), 0);
  EXPECT_TRUE(inherited.takeRest().empty());
}

}  // namespace
}  // namespace epolld
