#include "core/handover.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace epolld {
namespace {

ino_t inodeOf(int fd) {
  struct stat status {};
  EXPECT_EQ(fstat(fd, &status), 0);
  return status.st_ino;
}

SocketAddress address(const char* ip, std::uint16_t port) { return SocketAddress::parse(ip, port).value(); }

TEST(HandoverBundle, CarriesEveryDescriptorWithItsListenerAcrossMessages) {
  // More than one message's worth (253) for one listener, an IPv6 one too.
  const SocketAddress http = address("0.0.0.0", 8080);
  const SocketAddress echo = address("::1", 2003);
  std::vector<HandedConnection> connections;
  std::vector<ino_t> inodes;
  for (int i = 0; i < 300; ++i) {
    int ends[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, ends), 0);
    close(ends[1]);
    inodes.push_back(inodeOf(ends[0]));
    connections.push_back({UniqueFd(ends[0]), i < 260 ? http : echo, i < 260 ? "http" : "echo"});
  }
  PackedConnections packed = packConnections(connections);
  ASSERT_TRUE(packed.bundle) << packed.error;
  EXPECT_EQ(packed.packed, connections.size()) << packed.error;
  connections.clear();  // the bundle's queue holds them now

  std::vector<std::string> problems;
  const std::vector<HandedConnection> unpacked = unpackConnections(packed.bundle.get(), problems);
  EXPECT_TRUE(problems.empty()) << problems.front();
  ASSERT_EQ(unpacked.size(), 300u);
  for (std::size_t i = 0; i < unpacked.size(); ++i) {
    EXPECT_EQ(inodeOf(unpacked[i].fd.get()), inodes[i]) << i;
    EXPECT_EQ(unpacked[i].listener, i < 260 ? http : echo) << i;
    EXPECT_EQ(unpacked[i].protocol, i < 260 ? "http" : "echo") << i;
  }
  // Drained: a second look finds nothing.
  EXPECT_TRUE(unpackConnections(packed.bundle.get(), problems).empty());
}

TEST(HandoverBundle, AMessageThatNamesNoListenerIsReportedAndItsDescriptorsClosed) {
  int ends[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, ends), 0);
  const UniqueFd sender(ends[0]);
  const UniqueFd bundle(ends[1]);
  int carried[2];
  ASSERT_EQ(pipe(carried), 0);
  const UniqueFd write_end(carried[1]);
  for (const std::string key : {"http 127.0.0.1", "http 127.0.0.1:0", ":80", "http [::1:80"}) {
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    iovec payload{const_cast<char*>(key.data()), key.size()};
    msghdr message{};
    message.msg_iov = &payload;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(header), &carried[0], sizeof(int));
    ASSERT_EQ(sendmsg(sender.get(), &message, 0), static_cast<ssize_t>(key.size())) << key;
  }
  close(carried[0]);
  std::vector<std::string> problems;
  EXPECT_TRUE(unpackConnections(bundle.get(), problems).empty());
  ASSERT_EQ(problems.size(), 4u);
  EXPECT_EQ(problems[0], "1 connections under 'http 127.0.0.1', which names no listener");
  // Every copy of the pipe's read end is closed: its write end reports an error.
  pollfd writable{write_end.get(), POLLOUT, 0};
  ASSERT_EQ(poll(&writable, 1, 0), 1);
  EXPECT_TRUE(writable.revents & POLLERR);
}

TEST(HandoverChecks, OnlyALiveConnectionOfTheListenerIsAdoptable) {
  const UniqueFd listening(socket(AF_INET, SOCK_STREAM, 0));
  SocketAddress bound = address("127.0.0.1", 0);
  ASSERT_EQ(bind(listening.get(), bound.data(), bound.length()), 0);
  ASSERT_EQ(listen(listening.get(), 4), 0);
  bound = SocketAddress::ofLocalEnd(listening.get()).value();
  const UniqueFd client(socket(AF_INET, SOCK_STREAM, 0));
  ASSERT_EQ(connect(client.get(), bound.data(), bound.length()), 0);
  const UniqueFd server(accept(listening.get(), nullptr, nullptr));
  ASSERT_TRUE(server);

  SocketAddress peer;
  EXPECT_EQ(whyNotAdoptable(server.get(), bound, peer), "");
  EXPECT_EQ(peer, SocketAddress::ofLocalEnd(client.get()).value());
  // The listener as configured on the wildcard address matches it too.
  EXPECT_EQ(whyNotAdoptable(server.get(), address("0.0.0.0", bound.port()), peer), "");
  EXPECT_EQ(whyNotAdoptable(server.get(), address("127.0.0.1", bound.port() + 1), peer),
            "bound to " + bound.toString() + ", not to 127.0.0.1:" + std::to_string(bound.port() + 1));
  EXPECT_EQ(whyNotAdoptable(listening.get(), bound, peer), "a listening socket, not a connection");
  const UniqueFd udp(socket(AF_INET, SOCK_DGRAM, 0));
  EXPECT_EQ(whyNotAdoptable(udp.get(), bound, peer), "not a TCP socket");
  int ends[2];
  ASSERT_EQ(pipe(ends), 0);
  const UniqueFd read_end(ends[0]), write_end(ends[1]);
  EXPECT_EQ(whyNotAdoptable(read_end.get(), bound, peer), "not a socket");
  shutdown(client.get(), SHUT_WR);  // the client closes while it waits
  char byte;
  ASSERT_EQ(recv(server.get(), &byte, 1, 0), 0);
  EXPECT_EQ(whyNotAdoptable(server.get(), bound, peer), "the client has closed it");
}

}  // namespace
}  // namespace epolld
