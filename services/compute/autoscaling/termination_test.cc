#include "services/compute/autoscaling/termination.h"

#include <gtest/gtest.h>

namespace thingtank::compute {
namespace {

absl::Time T(int minutes) { return absl::FromUnixSeconds(1'700'000'000) + absl::Minutes(minutes); }

TEST(TerminationTest, TheZoneWithTheMostInstancesFirst) {
  std::vector<TerminationCandidate> c = {
      {"i-1", "us-east-1a", "lc", T(0)}, {"i-2", "us-east-1b", "lc", T(1)},
      {"i-3", "us-east-1b", "lc", T(2)}};
  EXPECT_EQ(PickForTermination(c, {"OldestInstance"}, {}, T(10)), "i-2");
  EXPECT_EQ(PickForTermination(c, {"NewestInstance"}, {}, T(10)), "i-3");
}

TEST(TerminationTest, OldestLaunchConfigurationThenClosestToTheHour) {
  std::map<std::string, absl::Time> created = {{"old", T(0)}, {"new", T(5)}};
  std::vector<TerminationCandidate> c = {{"i-1", "z", "new", T(6)},
                                         {"i-2", "z", "old", T(7)},
                                         {"i-3", "z", "old", T(20)}};
  EXPECT_EQ(PickForTermination(c, {"OldestLaunchConfiguration"}, created, T(30)), "i-2");
  // Default: oldest configuration (i-2, i-3), then the closest to its next hour:
  // at T(65), i-2 is 58 min old (2 min to go), i-3 45 min (15 to go).
  EXPECT_EQ(PickForTermination(c, {}, created, T(65)), "i-2");
  EXPECT_EQ(PickForTermination(c, {"Default"}, created, T(78)), "i-3");
  // A configuration that no longer exists counts as the oldest.
  c.push_back({"i-4", "z", "deleted", T(40)});
  EXPECT_EQ(PickForTermination(c, {"OldestLaunchConfiguration"}, created, T(50)), "i-4");
  EXPECT_EQ(PickForTermination(c, {"ClosestToNextInstanceHour"}, created, T(66)), "i-2");
}

TEST(TerminationTest, PoliciesNarrowInOrderAndTiesGoToTheSmallestId) {
  std::vector<TerminationCandidate> c = {{"i-b", "z", "lc", T(0)}, {"i-a", "z", "lc", T(0)},
                                         {"i-c", "z", "lc", T(3)}};
  EXPECT_EQ(PickForTermination(c, {"OldestInstance"}, {}, T(9)), "i-a");
  EXPECT_EQ(PickForTermination(c, {"NewestInstance", "OldestInstance"}, {}, T(9)), "i-c");
  EXPECT_TRUE(IsTerminationPolicy("ClosestToNextInstanceHour"));
  EXPECT_FALSE(IsTerminationPolicy("Random"));
}

}  // namespace
}  // namespace thingtank::compute
