#include "services/compute/instance_state.h"

#include <gtest/gtest.h>

#include <map>
#include <tuple>

#include "services/common/testing/status_matchers.h"

namespace thingtank::compute {
namespace {

using A = InstanceAction;
constexpr auto kPending = v1::INSTANCE_STATE_NAME_PENDING;
constexpr auto kRunning = v1::INSTANCE_STATE_NAME_RUNNING;
constexpr auto kShuttingDown = v1::INSTANCE_STATE_NAME_SHUTTING_DOWN;
constexpr auto kTerminated = v1::INSTANCE_STATE_NAME_TERMINATED;
constexpr auto kStopping = v1::INSTANCE_STATE_NAME_STOPPING;
constexpr auto kStopped = v1::INSTANCE_STATE_NAME_STOPPED;
constexpr auto kIllegal = v1::INSTANCE_STATE_NAME_UNSPECIFIED;

TEST(InstanceStateTest, CodesAndTextAreEc2s) {
  EXPECT_EQ(StateCode(kPending), 0);
  EXPECT_EQ(StateCode(kRunning), 16);
  EXPECT_EQ(StateCode(kShuttingDown), 32);
  EXPECT_EQ(StateCode(kTerminated), 48);
  EXPECT_EQ(StateCode(kStopping), 64);
  EXPECT_EQ(StateCode(kStopped), 80);
  EXPECT_STREQ(StateText(kShuttingDown), "shutting-down");
  EXPECT_EQ(StateFromText("shutting-down"), kShuttingDown);
  EXPECT_EQ(StateFromText("exploded"), kIllegal);
  v1::InstanceState s = MakeState(kStopped);
  EXPECT_EQ(s.code(), 80);
  EXPECT_EQ(s.text(), "stopped");
}

// Every (action, state) pair: the next state, or kIllegal for IncorrectInstanceState.
TEST(InstanceStateTest, EveryTransition) {
  const std::map<std::pair<A, v1::InstanceStateName>, v1::InstanceStateName> table = {
      {{A::kStart, kPending}, kPending},         {{A::kStart, kRunning}, kRunning},
      {{A::kStart, kShuttingDown}, kIllegal},    {{A::kStart, kTerminated}, kIllegal},
      {{A::kStart, kStopping}, kIllegal},        {{A::kStart, kStopped}, kPending},
      {{A::kStop, kPending}, kIllegal},          {{A::kStop, kRunning}, kStopping},
      {{A::kStop, kShuttingDown}, kIllegal},     {{A::kStop, kTerminated}, kIllegal},
      {{A::kStop, kStopping}, kStopping},        {{A::kStop, kStopped}, kStopped},
      {{A::kReboot, kPending}, kIllegal},        {{A::kReboot, kRunning}, kRunning},
      {{A::kReboot, kShuttingDown}, kIllegal},   {{A::kReboot, kTerminated}, kIllegal},
      {{A::kReboot, kStopping}, kIllegal},       {{A::kReboot, kStopped}, kIllegal},
      {{A::kTerminate, kPending}, kShuttingDown}, {{A::kTerminate, kRunning}, kShuttingDown},
      {{A::kTerminate, kShuttingDown}, kShuttingDown},
      {{A::kTerminate, kTerminated}, kTerminated},
      {{A::kTerminate, kStopping}, kShuttingDown}, {{A::kTerminate, kStopped}, kShuttingDown},
  };
  EXPECT_EQ(table.size(), 24u);
  for (const auto& [key, want] : table) {
    const auto& [action, from] = key;
    auto got = NextState(action, from, "i-0123456789abcdef0");
    SCOPED_TRACE(std::string(ActionName(action)) + " from " + StateText(from));
    if (want == kIllegal) {
      EXPECT_THAT(got, IsStatus(absl::StatusCode::kFailedPrecondition, "IncorrectInstanceState"));
      EXPECT_NE(got.status().message().find("i-0123456789abcdef0"), std::string::npos);
    } else {
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(*got, want);
    }
  }
}

TEST(InstanceStateTest, TimedTransitionsSettle) {
  EXPECT_EQ(SettledState(kPending), kRunning);
  EXPECT_EQ(SettledState(kStopping), kStopped);
  EXPECT_EQ(SettledState(kShuttingDown), kTerminated);
  EXPECT_EQ(SettledState(kRunning), kIllegal);
  EXPECT_EQ(SettledState(kStopped), kIllegal);
  EXPECT_EQ(SettledState(kTerminated), kIllegal);
}

}  // namespace
}  // namespace thingtank::compute
