#include "services/common/capped_gauges.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace thingtank {
namespace {

TEST(CappedGaugesTest, RowsPastTheLimitAreSummedUnderOther) {
  const std::vector<GaugeSpec> specs = {{"g_a", "help a"}, {"g_b", "help b"}};
  const std::vector<GaugeRow> rows = {{"x", {1, 10}}, {"y", {2, 20}}, {"z", {3, 30}}};
  const std::vector<prometheus::MetricFamily> families = CappedGauges("queue", specs, rows, 2);
  ASSERT_EQ(families.size(), 2u);
  EXPECT_EQ(families[0].name, "g_a");
  EXPECT_EQ(families[0].help, "help a");
  EXPECT_EQ(families[0].type, prometheus::MetricType::Gauge);
  EXPECT_EQ(families[1].name, "g_b");
  const std::vector<std::pair<std::string, double>> want_a = {{"x", 1}, {"y", 2}, {"_other", 3}};
  const std::vector<std::pair<std::string, double>> want_b = {{"x", 10}, {"y", 20}, {"_other", 30}};
  for (size_t f = 0; f < 2; ++f) {
    const auto& want = f == 0 ? want_a : want_b;
    ASSERT_EQ(families[f].metric.size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
      const prometheus::ClientMetric& m = families[f].metric[i];
      ASSERT_EQ(m.label.size(), 1u);
      EXPECT_EQ(m.label[0].name, "queue");
      EXPECT_EQ(m.label[0].value, want[i].first);
      EXPECT_EQ(m.gauge.value, want[i].second);
    }
  }
}

TEST(CappedGaugesTest, NoOtherSeriesWithinTheLimit) {
  const std::vector<GaugeRow> rows = {{"x", {1}}, {"y", {2}}};
  const auto families = CappedGauges("table", {{"g", "h"}}, rows, 2);
  ASSERT_EQ(families.size(), 1u);
  ASSERT_EQ(families[0].metric.size(), 2u);
  EXPECT_EQ(families[0].metric[1].label[0].value, "y");
}

}  // namespace
}  // namespace thingtank
