#include "core/timer_wheel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace epolld {
namespace {

struct Timer : TimerWheel::Entry {
  int id = 0;
};

std::vector<int> advanceTo(TimerWheel& wheel, TimerWheel::Tick now) {
  std::vector<int> expired;
  wheel.advance(now, [&](TimerWheel::Entry& entry) { expired.push_back(static_cast<Timer&>(entry).id); });
  std::sort(expired.begin(), expired.end());
  return expired;
}

TEST(TimerWheel, ExpiresAtDeadlineNotBefore) {
  TimerWheel wheel(8, 100);
  Timer timer;
  timer.id = 1;
  wheel.schedule(timer, 103);
  EXPECT_TRUE(advanceTo(wheel, 102).empty());
  EXPECT_TRUE(timer.scheduled());
  EXPECT_EQ(advanceTo(wheel, 103), std::vector<int>{1});
  EXPECT_FALSE(timer.scheduled());
}

TEST(TimerWheel, DeadlinesBeyondOneTurnWaitForTheirTurn) {
  TimerWheel wheel(4, 0);
  Timer timer;
  timer.id = 7;
  wheel.schedule(timer, 10);  // 2.5 turns of a 4-slot wheel
  for (TimerWheel::Tick tick = 1; tick < 10; ++tick) EXPECT_TRUE(advanceTo(wheel, tick).empty()) << tick;
  EXPECT_EQ(advanceTo(wheel, 10), std::vector<int>{7});
}

TEST(TimerWheel, PushingADeadlineLaterIsHonoured) {
  TimerWheel wheel(16, 0);
  Timer timer;
  timer.id = 3;
  wheel.schedule(timer, 2);
  wheel.schedule(timer, 9);  // lazily left in slot 2
  EXPECT_TRUE(advanceTo(wheel, 8).empty());
  EXPECT_EQ(advanceTo(wheel, 9), std::vector<int>{3});
}

TEST(TimerWheel, PullingADeadlineEarlierIsHonoured) {
  TimerWheel wheel(16, 0);
  Timer timer;
  timer.id = 4;
  wheel.schedule(timer, 12);
  wheel.schedule(timer, 3);
  EXPECT_EQ(advanceTo(wheel, 3), std::vector<int>{4});
}

TEST(TimerWheel, CancelledAndDestroyedEntriesNeverFire) {
  TimerWheel wheel(8, 0);
  Timer kept, cancelled;
  kept.id = 1;
  cancelled.id = 2;
  wheel.schedule(kept, 5);
  wheel.schedule(cancelled, 5);
  {
    Timer destroyed;
    destroyed.id = 3;
    wheel.schedule(destroyed, 5);
  }
  wheel.cancel(cancelled);
  EXPECT_EQ(advanceTo(wheel, 6), std::vector<int>{1});
}

TEST(TimerWheel, LargeJumpExpiresEverythingDueOnce) {
  TimerWheel wheel(8, 0);
  std::vector<Timer> timers(50);
  for (int i = 0; i < 50; ++i) {
    timers[static_cast<std::size_t>(i)].id = i;
    wheel.schedule(timers[static_cast<std::size_t>(i)], static_cast<TimerWheel::Tick>(1 + i));
  }
  const std::vector<int> expired = advanceTo(wheel, 1000);
  ASSERT_EQ(expired.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(expired[static_cast<std::size_t>(i)], i);
}

TEST(TimerWheel, CallbackMayRescheduleTheEntry) {
  TimerWheel wheel(8, 0);
  Timer timer;
  timer.id = 5;
  wheel.schedule(timer, 2);
  int fired = 0;
  wheel.advance(2, [&](TimerWheel::Entry& entry) {
    ++fired;
    wheel.schedule(entry, 4);
  });
  EXPECT_EQ(fired, 1);
  EXPECT_TRUE(timer.scheduled());
  EXPECT_EQ(advanceTo(wheel, 4), std::vector<int>{5});
}

TEST(TimerWheel, PastDeadlineIsClampedToNextTick) {
  TimerWheel wheel(8, 10);
  Timer timer;
  timer.id = 6;
  wheel.schedule(timer, 3);
  EXPECT_EQ(timer.deadline(), 11u);
  EXPECT_EQ(advanceTo(wheel, 11), std::vector<int>{6});
}

}  // namespace
}  // namespace epolld
