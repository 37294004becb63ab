#include "services/tables/metrics.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "prometheus/registry.h"

namespace thingtank::tables {
namespace {

const prometheus::MetricFamily* Family(const std::vector<prometheus::MetricFamily>& families,
                                       const std::string& name) {
  for (const auto& f : families) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

// "table=a,operation=read" -> value (counter or gauge, as the family's type).
std::map<std::string, double> Series(const prometheus::MetricFamily& f) {
  std::map<std::string, double> out;
  for (const auto& m : f.metric) {
    std::string key;
    for (const auto& l : m.label) key += (key.empty() ? "" : ",") + l.name + "=" + l.value;
    out[key] = f.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
  }
  return out;
}

TEST(TablesMetricsTest, PerTableCapacityThrottlingAndProvisionedSeries) {
  prometheus::Registry registry;
  TablesMetrics metrics(&registry, /*series_limit=*/2);
  std::vector<TableStats> stats(3);
  stats[0].table = "a";
  stats[0].read_units_consumed = 1.5;
  stats[0].write_units_consumed = 4;
  stats[0].throttled_reads = 2;
  stats[0].throttled_writes = 3;
  stats[0].provisioned_read_units = 5;
  stats[0].provisioned_write_units = 6;
  stats[1].table = "b";  // on-demand, idle
  stats[2].table = "c";  // past the cap: summed into _other
  stats[2].write_units_consumed = 7;
  stats[2].throttled_writes = 1;
  stats[2].provisioned_write_units = 1;
  metrics.SetStatsSource([&] { return stats; });
  const std::vector<prometheus::MetricFamily> families = metrics.Collect();

  const auto* read = Family(families, "thingtank_tables_table_read_units_consumed_total");
  ASSERT_NE(read, nullptr);
  EXPECT_EQ(read->type, prometheus::MetricType::Counter);
  EXPECT_EQ(Series(*read), (std::map<std::string, double>{
                               {"table=a", 1.5}, {"table=b", 0}, {"table=_other", 0}}));
  const auto* write = Family(families, "thingtank_tables_table_write_units_consumed_total");
  ASSERT_NE(write, nullptr);
  EXPECT_EQ(Series(*write), (std::map<std::string, double>{
                                {"table=a", 4}, {"table=b", 0}, {"table=_other", 7}}));
  const auto* throttled = Family(families, "thingtank_tables_table_throttled_requests_total");
  ASSERT_NE(throttled, nullptr);
  EXPECT_EQ(throttled->type, prometheus::MetricType::Counter);
  EXPECT_EQ(Series(*throttled), (std::map<std::string, double>{
                                    {"table=a,operation=read", 2},
                                    {"table=a,operation=write", 3},
                                    {"table=b,operation=read", 0},
                                    {"table=b,operation=write", 0},
                                    {"table=_other,operation=read", 0},
                                    {"table=_other,operation=write", 1}}));
  const auto* prov_read = Family(families, "thingtank_tables_table_provisioned_read_units");
  ASSERT_NE(prov_read, nullptr);
  EXPECT_EQ(prov_read->type, prometheus::MetricType::Gauge);
  EXPECT_EQ(Series(*prov_read), (std::map<std::string, double>{
                                    {"table=a", 5}, {"table=b", 0}, {"table=_other", 0}}));
  const auto* prov_write = Family(families, "thingtank_tables_table_provisioned_write_units");
  ASSERT_NE(prov_write, nullptr);
  EXPECT_EQ(Series(*prov_write)["table=_other"], 1);
  ASSERT_NE(Family(families, "thingtank_tables_items"), nullptr);
  for (const auto& f : families) EXPECT_FALSE(f.name.empty());
}

}  // namespace
}  // namespace thingtank::tables
