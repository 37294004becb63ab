#include "services/common/clock.h"

#include <atomic>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace thingtank {
namespace {

TEST(ManualClockTest, AdvanceRunsDueTimersInOrderAtTheirTime) {
  ManualClock clock;
  const absl::Time start = clock.Now();
  std::vector<std::pair<int, absl::Time>> fired;
  clock.RunAfter(absl::Seconds(2), [&] { fired.push_back({2, clock.Now()}); });
  clock.RunAfter(absl::Seconds(1), [&] { fired.push_back({1, clock.Now()}); });
  clock.RunAfter(absl::Seconds(5), [&] { fired.push_back({5, clock.Now()}); });
  clock.Advance(absl::Seconds(3));
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[0], std::make_pair(1, start + absl::Seconds(1)));
  EXPECT_EQ(fired[1], std::make_pair(2, start + absl::Seconds(2)));
  EXPECT_EQ(clock.Now(), start + absl::Seconds(3));
  EXPECT_EQ(clock.pending_timers(), 1u);
}

TEST(ManualClockTest, CancelledTimerNeverRuns) {
  ManualClock clock;
  bool ran = false;
  auto id = clock.RunAfter(absl::Seconds(1), [&] { ran = true; });
  EXPECT_TRUE(clock.Cancel(id));
  EXPECT_FALSE(clock.Cancel(id));
  clock.Advance(absl::Seconds(10));
  EXPECT_FALSE(ran);
}

TEST(ManualClockTest, TimerAddedByTimerRunsInSameAdvance) {
  ManualClock clock;
  int runs = 0;
  clock.RunAfter(absl::Seconds(1), [&] {
    ++runs;
    clock.RunAfter(absl::Seconds(1), [&] { ++runs; });
  });
  clock.Advance(absl::Seconds(2));
  EXPECT_EQ(runs, 2);
}

TEST(RealClockTest, TimeScaleRunsTimersFaster) {
  RealClock clock(1000.0);  // 10 clock-seconds take 10 ms.
  absl::Notification done;
  const absl::Time real_start = absl::Now();
  clock.RunAfter(absl::Seconds(10), [&] { done.Notify(); });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_LT(absl::Now() - real_start, absl::Seconds(5));
}

TEST(RealClockTest, EarlierTimerAddedLaterFiresFirst) {
  RealClock clock;
  std::atomic<int> order{0};
  std::atomic<int> late_pos{0}, early_pos{0};
  absl::Notification done;
  clock.RunAfter(absl::Milliseconds(300), [&] {
    late_pos = ++order;
    done.Notify();
  });
  clock.RunAfter(absl::Milliseconds(10), [&] { early_pos = ++order; });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(5)));
  EXPECT_EQ(early_pos.load(), 1);
  EXPECT_EQ(late_pos.load(), 2);
}

}  // namespace
}  // namespace thingtank
