#include "services/compute/autoscaling/cron/cron.h"

#include <gtest/gtest.h>

namespace thingtank::compute {
namespace {

absl::Time At(const char* text) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, text, &t, &err)) << err;
  return t;
}

absl::Time NextOf(const char* cron, const char* after) {
  auto c = Cron::Parse(cron);
  EXPECT_TRUE(c.ok()) << c.status();
  auto next = c->Next(At(after));
  EXPECT_TRUE(next.has_value());
  return next.value_or(absl::InfinitePast());
}

TEST(CronTest, NextMatches) {
  EXPECT_EQ(NextOf("* * * * *", "2026-12-02T10:00:30Z"), At("2026-12-02T10:01:00Z"));
  EXPECT_EQ(NextOf("*/15 * * * *", "2026-12-02T10:01:00Z"), At("2026-12-02T10:15:00Z"));
  EXPECT_EQ(NextOf("0 9 * * 1-5", "2026-12-04T09:00:00Z"), At("2026-12-07T09:00:00Z"));  // Fri -> Mon
  EXPECT_EQ(NextOf("30 18 * * 0", "2026-12-02T00:00:00Z"), At("2026-12-06T18:30:00Z"));  // Sunday
  EXPECT_EQ(NextOf("30 18 * * 7", "2026-12-02T00:00:00Z"), At("2026-12-06T18:30:00Z"));
  EXPECT_EQ(NextOf("0 0 1 1 *", "2026-12-02T00:00:00Z"), At("2027-01-01T00:00:00Z"));
  EXPECT_EQ(NextOf("0 12 29 2 *", "2026-03-01T00:00:00Z"), At("2028-02-29T12:00:00Z"));
  EXPECT_EQ(NextOf("5,10 8-9 * * *", "2026-12-02T08:07:00Z"), At("2026-12-02T08:10:00Z"));
  // Both day fields restricted: either matches (the 1st or a Monday).
  EXPECT_EQ(NextOf("0 0 1 * 1", "2026-12-02T00:00:00Z"), At("2026-12-07T00:00:00Z"));
}

TEST(CronTest, NeverAndBadInput) {
  auto never = Cron::Parse("0 0 30 2 *");
  ASSERT_TRUE(never.ok());
  EXPECT_FALSE(never->Next(At("2026-01-01T00:00:00Z")).has_value());
  for (const char* bad : {"* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *",
                          "* * * * 8", "*/0 * * * *", "5-1 * * * *", "a * * * *"}) {
    EXPECT_EQ(Cron::Parse(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_NE(Cron::Parse("61 * * * *").status().message().find("minute"), std::string::npos);
}

}  // namespace
}  // namespace thingtank::compute
