#include "tools/thingtank/serve/clock_anchor.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "services/common/testing/temp_db.h"

namespace thingtank::serve {
namespace {

const absl::Time kWall = absl::FromUnixSeconds(1'764'669'600);

TEST(ClockAnchorTest, WithoutScaleOrAnchorTheWallClockAndNoFile) {
  TempDir dir;
  auto start = ClockStart(dir.path(), 1.0, kWall);
  ASSERT_TRUE(start.ok());
  EXPECT_EQ(*start, kWall);
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(dir.path()) / "clock.json"));
}

TEST(ClockAnchorTest, AScaledClockGoesOnAfterARestart) {
  TempDir dir;
  ASSERT_EQ(*ClockStart(dir.path(), 60.0, kWall), kWall);
  // 10 s later (wall), still at 60x: the clock read kWall + 10 min.
  auto again = ClockStart(dir.path(), 60.0, kWall + absl::Seconds(10));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, kWall + absl::Minutes(10));
  // Back to real time 5 s later: from kWall + 10 min + 5 min on, not from the wall clock.
  auto real = ClockStart(dir.path(), 1.0, kWall + absl::Seconds(15));
  ASSERT_TRUE(real.ok());
  EXPECT_EQ(*real, kWall + absl::Minutes(15));
  // At real time it keeps its lead.
  auto later = ClockStart(dir.path(), 1.0, kWall + absl::Hours(2));
  EXPECT_EQ(*later, kWall + absl::Hours(2) + absl::Minutes(15) - absl::Seconds(15));
}

TEST(ClockAnchorTest, NeverBeforeTheWallClock) {
  TempDir dir;
  std::ofstream(std::filesystem::path(dir.path()) / "clock.json")
      << "{\"wall_micros\": " << absl::ToUnixMicros(kWall) << ", \"clock_micros\": "
      << absl::ToUnixMicros(kWall - absl::Hours(1)) << ", \"time_scale\": 1.0}";
  auto start = ClockStart(dir.path(), 1.0, kWall + absl::Seconds(1));
  ASSERT_TRUE(start.ok());
  EXPECT_EQ(*start, kWall + absl::Seconds(1));
}

TEST(ClockAnchorTest, ABrokenAnchorIsAnError) {
  TempDir dir;
  std::ofstream(std::filesystem::path(dir.path()) / "clock.json") << "{\"wall_micros\": \"x\"}";
  auto start = ClockStart(dir.path(), 60.0, kWall);
  EXPECT_EQ(start.status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace thingtank::serve
