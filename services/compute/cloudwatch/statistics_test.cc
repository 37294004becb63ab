#include "services/compute/cloudwatch/statistics.h"

#include <gtest/gtest.h>

namespace thingtank::compute {
namespace {

TEST(AccumulatorTest, NearestRankPercentilesOverWeightedValues) {
  Accumulator acc(/*keep_distribution=*/true);
  acc.Add(Sample::Distribution(0, {10, 20, 30}, {1, 1, 2}));  // 10 20 30 30
  acc.Add(Sample::Single(0, 40));
  EXPECT_EQ(acc.Value(*ParsePercentile("p0")), 10);
  EXPECT_EQ(acc.Value(*ParsePercentile("p20")), 10);  // rank 1 of 5
  EXPECT_EQ(acc.Value(*ParsePercentile("p21")), 20);
  EXPECT_EQ(acc.Value(*ParsePercentile("p60")), 30);
  EXPECT_EQ(acc.Value(*ParsePercentile("p99.9")), 40);
  EXPECT_EQ(acc.Value(*ParsePercentile("p100")), 40);
  EXPECT_EQ(acc.Value(Stat::Of(v1::STATISTIC_SAMPLE_COUNT)), 5);
  EXPECT_EQ(acc.Value(Stat::Of(v1::STATISTIC_AVERAGE)), 26);
}

TEST(AccumulatorTest, StatisticSetsHavePercentilesOnlyWhenMinimumIsMaximum) {
  Accumulator same(true);
  same.Add(Sample::Set(0, 3, 15, 5, 5));
  EXPECT_EQ(same.Value(*ParsePercentile("p50")), 5);
  Accumulator spread(true);
  spread.Add(Sample::Set(0, 3, 15, 1, 9));
  EXPECT_EQ(spread.Value(*ParsePercentile("p50")), std::nullopt);
  EXPECT_EQ(spread.Value(Stat::Of(v1::STATISTIC_MAXIMUM)), 9);
}

TEST(AccumulatorTest, StandardResolutionCountsAtItsMinute) {
  Sample s = Sample::Single(125'000, 1);  // 00:02:05
  EXPECT_EQ(PeriodStartMs(s, 10'000), 120'000);
  s.high_resolution = true;
  EXPECT_EQ(PeriodStartMs(s, 10'000), 120'000 + 0);
  EXPECT_EQ(PeriodStartMs(s, 5'000), 125'000);
  EXPECT_EQ(PeriodStartMs(s, 300'000), 0);
}

TEST(StatTest, Parsing) {
  EXPECT_EQ(ParseStat("Average")->kind, Stat::Kind::kAverage);
  EXPECT_EQ(ParseStat("p99.99")->percentile, 99.99);
  EXPECT_FALSE(ParseStat("p100.1"));
  EXPECT_FALSE(ParseStat("p"));
  EXPECT_FALSE(ParseStat("p9."));
  EXPECT_FALSE(ParseStat("average"));
  EXPECT_EQ(UnitName(*UnitIndex("Count/Second")), "Count/Second");
  EXPECT_FALSE(UnitIndex("count"));
}

}  // namespace
}  // namespace thingtank::compute
