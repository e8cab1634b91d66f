#include "core/handoff_queue.h"

#include <poll.h>

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace epolld {
namespace {

bool readable(int fd) {
  pollfd wait{.fd = fd, .events = POLLIN, .revents = 0};
  return poll(&wait, 1, 0) == 1;
}

std::uint64_t counter(int fd) {
  std::uint64_t value = 0;
  EXPECT_EQ(read(fd, &value, sizeof value), static_cast<ssize_t>(sizeof value));
  return value;
}

TEST(HandoffQueue, PushWakesTheOwnerAndTakeAllKeepsOrder) {
  HandoffQueue<int> queue;
  EXPECT_FALSE(readable(queue.eventFd()));
  std::vector<int> batch{1, 2, 3};
  queue.push(batch);
  EXPECT_TRUE(batch.empty());
  EXPECT_TRUE(readable(queue.eventFd()));
  std::vector<int> taken;
  queue.takeAll(taken);
  EXPECT_EQ(taken, (std::vector<int>{1, 2, 3}));
  EXPECT_FALSE(readable(queue.eventFd())) << "takeAll consumes the wake-up";
}

TEST(HandoffQueue, BatchesPushedBeforeTheOwnerRunsCostOneWakeUp) {
  HandoffQueue<int> queue;
  for (int i = 0; i < 10; ++i) {
    std::vector<int> batch{i};
    queue.push(batch);
  }
  EXPECT_EQ(counter(queue.eventFd()), 1u) << "only the empty-to-non-empty push writes the eventfd";
  std::vector<int> taken;
  queue.takeAll(taken);
  EXPECT_EQ(taken.size(), 10u);
}

TEST(HandoffQueue, EmptyBatchDoesNotWake) {
  HandoffQueue<int> queue;
  std::vector<int> nothing;
  queue.push(nothing);
  EXPECT_FALSE(readable(queue.eventFd()));
}

TEST(HandoffQueue, NothingIsLostBetweenThreads) {
  HandoffQueue<int> queue;
  constexpr int kMessages = 20000;
  std::thread producer([&] {
    for (int i = 0; i < kMessages; ++i) {
      std::vector<int> batch{i};
      queue.push(batch);
    }
  });
  std::vector<int> received;
  std::vector<int> taken;
  while (static_cast<int>(received.size()) < kMessages) {
    pollfd wait{.fd = queue.eventFd(), .events = POLLIN, .revents = 0};
    ASSERT_GE(poll(&wait, 1, 5000), 1) << "a message was pushed without a wake-up";
    queue.takeAll(taken);
    received.insert(received.end(), taken.begin(), taken.end());
    taken.clear();
  }
  producer.join();
  for (int i = 0; i < kMessages; ++i) ASSERT_EQ(received[static_cast<std::size_t>(i)], i);
}

}  // namespace
}  // namespace epolld
