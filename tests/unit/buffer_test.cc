#include "core/buffer.h"

#include <gtest/gtest.h>

#include <string>

namespace epolld {
namespace {

TEST(Buffer, AppendThenConsumeKeepsOrder) {
  Buffer buffer;
  buffer.append("hello ");
  buffer.append("world");
  EXPECT_EQ(buffer.view(), "hello world");
  buffer.consume(6);
  EXPECT_EQ(buffer.view(), "world");
  buffer.consume(5);
  EXPECT_TRUE(buffer.empty());
}

TEST(Buffer, GrowsPastInitialCapacityByteExact) {
  Buffer buffer;
  std::string expected;
  for (int i = 0; i < 10000; ++i) {
    std::string chunk(static_cast<std::size_t>(i % 97), static_cast<char>('a' + i % 26));
    buffer.append(chunk);
    expected += chunk;
    if (i % 3 == 0 && buffer.size() > 10) {
      buffer.consume(10);
      expected.erase(0, 10);
    }
  }
  EXPECT_EQ(buffer.view(), expected);
}

TEST(Buffer, ReserveSlidesInsteadOfGrowingWhenFrontIsFree) {
  Buffer buffer;
  buffer.append(std::string(200, 'x'));
  const std::size_t capacity = buffer.capacity();
  buffer.consume(150);
  auto room = buffer.reserve(capacity - 60);
  EXPECT_GE(room.size(), capacity - 60);
  EXPECT_EQ(buffer.capacity(), capacity);
  EXPECT_EQ(buffer.view(), std::string(50, 'x'));
}

TEST(Buffer, ReserveAndCommitAppend) {
  Buffer buffer;
  auto room = buffer.reserve(3);
  ASSERT_GE(room.size(), 3u);
  room[0] = 'a';
  room[1] = 'b';
  buffer.commit(2);
  EXPECT_EQ(buffer.view(), "ab");
}

TEST(Buffer, ReleaseIfEmptyFreesOnlyEmptyBuffers) {
  Buffer buffer;
  buffer.append("abc");
  buffer.releaseIfEmpty();
  EXPECT_EQ(buffer.view(), "abc");
  buffer.consume(3);
  buffer.releaseIfEmpty();
  EXPECT_EQ(buffer.capacity(), 0u);
  buffer.append("d");
  EXPECT_EQ(buffer.view(), "d");
}

}  // namespace
}  // namespace epolld
