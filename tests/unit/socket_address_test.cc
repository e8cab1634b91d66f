#include "core/socket_address.h"

#include <gtest/gtest.h>

namespace epolld {
namespace {

TEST(SocketAddress, ParsesIpv4AndFormatsIt) {
  const auto address = SocketAddress::parse("127.0.0.1", 2003);
  ASSERT_TRUE(address);
  EXPECT_EQ(address->family(), AF_INET);
  EXPECT_EQ(address->ip(), "127.0.0.1");
  EXPECT_EQ(address->port(), 2003);
  EXPECT_EQ(address->toString(), "127.0.0.1:2003");
}

TEST(SocketAddress, ParsesIpv6AndBracketsIt) {
  const auto address = SocketAddress::parse("::1", 8080);
  ASSERT_TRUE(address);
  EXPECT_EQ(address->family(), AF_INET6);
  EXPECT_EQ(address->ip(), "::1");
  EXPECT_EQ(address->toString(), "[::1]:8080");
}

TEST(SocketAddress, RejectsWhatIsNotALiteral) {
  EXPECT_FALSE(SocketAddress::parse("1.2.3", 1));
  EXPECT_FALSE(SocketAddress::parse("localhost", 1));
  EXPECT_FALSE(SocketAddress::parse("", 1));
}

TEST(SocketAddress, EqualityComparesFamilyAddressAndPort) {
  EXPECT_EQ(*SocketAddress::parse("0.0.0.0", 1), *SocketAddress::parse("0.0.0.0", 1));
  EXPECT_FALSE(*SocketAddress::parse("0.0.0.0", 1) == *SocketAddress::parse("0.0.0.0", 2));
  EXPECT_FALSE(*SocketAddress::parse("::", 1) == *SocketAddress::parse("0.0.0.0", 1));
  EXPECT_EQ(*SocketAddress::parse("::0", 5), *SocketAddress::parse("::", 5));
}

}  // namespace
}  // namespace epolld
