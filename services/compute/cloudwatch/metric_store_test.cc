// Statistics, GetMetricData, ListMetrics, retention and restart of MetricStore.

#include <gmock/gmock.h>

#include "services/compute/cloudwatch/cloudwatch_test_util.h"

namespace thingtank::compute {
namespace {

using ::testing::ElementsAre;
using ::testing::Optional;

class MetricStoreTest : public CloudWatchTest {
 protected:
  v1::GetMetricStatisticsResponse Stats(const std::string& name, absl::Time start, absl::Time end,
                                        int period, std::vector<v1::Statistic> stats,
                                        std::vector<std::string> extended = {},
                                        std::vector<std::pair<std::string, std::string>> dims = {},
                                        const std::string& unit = "") {
    v1::GetMetricStatisticsRequest r;
    r.set_namespace_("App");
    r.set_metric_name(name);
    for (auto& [n, v] : dims) {
      auto* d = r.add_dimensions();
      d->set_name(n);
      d->set_value(v);
    }
    *r.mutable_start_time() = ToProto(start);
    *r.mutable_end_time() = ToProto(end);
    r.set_period(period);
    for (auto s : stats) r.add_statistics(s);
    for (auto& e : extended) r.add_extended_statistics(e);
    r.set_unit(unit);
    auto resp = store_->GetMetricStatistics(r);
    EXPECT_TRUE(resp.ok()) << resp.status();
    return resp.ok() ? *resp : v1::GetMetricStatisticsResponse();
  }
  static absl::Time TimeOf(const v1::Datapoint& d) { return FromProto(d.timestamp()); }
};

TEST_F(MetricStoreTest, StatisticsPerPeriodAlignedToTheEpoch) {
  // Minute 10:00: 1, 2, 3; minute 10:02: 10. Minute 10:01 has nothing.
  PutValue("Latency", 1, T0() + absl::Seconds(5));
  PutValue("Latency", 2, T0() + absl::Seconds(30));
  PutValue("Latency", 3, T0() + absl::Seconds(59));
  PutValue("Latency", 10, T0() + absl::Minutes(2) + absl::Seconds(1));
  clock_.Advance(absl::Minutes(5));
  auto r = Stats("Latency", T0() + absl::Seconds(20), T0() + absl::Minutes(5), 60,
                 {v1::STATISTIC_SAMPLE_COUNT, v1::STATISTIC_AVERAGE, v1::STATISTIC_SUM,
                  v1::STATISTIC_MINIMUM, v1::STATISTIC_MAXIMUM});
  EXPECT_EQ(r.label(), "Latency");
  ASSERT_EQ(r.datapoints_size(), 2);
  const auto& a = r.datapoints(0);
  EXPECT_EQ(TimeOf(a), T0());  // start 10:00:20 rounds down to the period
  EXPECT_EQ(a.sample_count(), 3);
  EXPECT_EQ(a.average(), 2);
  EXPECT_EQ(a.sum(), 6);
  EXPECT_EQ(a.minimum(), 1);
  EXPECT_EQ(a.maximum(), 3);
  EXPECT_EQ(a.unit(), "None");
  const auto& b = r.datapoints(1);
  EXPECT_EQ(TimeOf(b), T0() + absl::Minutes(2));
  EXPECT_EQ(b.sample_count(), 1);
  EXPECT_EQ(b.maximum(), 10);
  // Only what was asked for is set.
  auto only_sum = Stats("Latency", T0(), T0() + absl::Minutes(5), 300, {v1::STATISTIC_SUM});
  ASSERT_EQ(only_sum.datapoints_size(), 1);
  EXPECT_EQ(only_sum.datapoints(0).sum(), 16);
  EXPECT_FALSE(only_sum.datapoints(0).has_average());
  EXPECT_FALSE(only_sum.datapoints(0).has_sample_count());
}

TEST_F(MetricStoreTest, PercentilesStatisticSetsAndValuesWithCounts) {
  v1::PutMetricDataRequest put;
  put.set_namespace_("App");
  // 1..100 as a values-with-counts datum (each once) in minute 10:00.
  auto* d = put.add_metric_data();
  d->set_metric_name("Latency");
  *d->mutable_timestamp() = ToProto(T0());
  for (int i = 1; i <= 100; ++i) d->add_values(i);
  // Minute 10:01: a statistic set (no percentiles), and 5 x 7 as values/counts.
  auto* s = put.add_metric_data();
  s->set_metric_name("Latency");
  *s->mutable_timestamp() = ToProto(T0() + absl::Minutes(1));
  s->mutable_statistic_values()->set_sample_count(4);
  s->mutable_statistic_values()->set_sum(10);
  s->mutable_statistic_values()->set_minimum(1);
  s->mutable_statistic_values()->set_maximum(4);
  auto* c = put.add_metric_data();
  c->set_metric_name("Latency");
  *c->mutable_timestamp() = ToProto(T0() + absl::Minutes(1));
  c->add_values(7);
  c->add_counts(5);
  ASSERT_THAT(store_->PutMetricData(put), IsOk());
  clock_.Advance(absl::Minutes(3));

  auto p = Stats("Latency", T0(), T0() + absl::Minutes(2), 60, {}, {"p50", "p99.9", "p0", "p100"});
  ASSERT_EQ(p.datapoints_size(), 2);
  const auto& ext = p.datapoints(0).extended_statistics();
  EXPECT_EQ(ext.at("p50"), 50);
  EXPECT_EQ(ext.at("p99.9"), 100);
  EXPECT_EQ(ext.at("p0"), 1);
  EXPECT_EQ(ext.at("p100"), 100);
  // A statistic set with minimum != maximum has no percentiles: the period
  // is listed without them.
  EXPECT_TRUE(p.datapoints(1).extended_statistics().empty());

  auto sums = Stats("Latency", T0(), T0() + absl::Minutes(2), 60,
                    {v1::STATISTIC_SAMPLE_COUNT, v1::STATISTIC_SUM, v1::STATISTIC_MAXIMUM});
  ASSERT_EQ(sums.datapoints_size(), 2);
  EXPECT_EQ(sums.datapoints(0).sample_count(), 100);
  EXPECT_EQ(sums.datapoints(0).sum(), 5050);
  EXPECT_EQ(sums.datapoints(1).sample_count(), 9);   // 4 + 5
  EXPECT_EQ(sums.datapoints(1).sum(), 45);           // 10 + 35
  EXPECT_EQ(sums.datapoints(1).maximum(), 7);
}

TEST_F(MetricStoreTest, DimensionsMatchAsAnExactSetInAnyOrder) {
  PutValue("CPU", 10, T0(), {{"A", "1"}, {"B", "2"}});
  PutValue("CPU", 20, T0(), {{"B", "2"}, {"A", "1"}});
  PutValue("CPU", 99, T0(), {{"A", "1"}});
  clock_.Advance(absl::Minutes(1));
  auto both = Stats("CPU", T0(), T0() + absl::Minutes(1), 60, {v1::STATISTIC_SUM}, {},
                    {{"B", "2"}, {"A", "1"}});
  ASSERT_EQ(both.datapoints_size(), 1);
  EXPECT_EQ(both.datapoints(0).sum(), 30);
  auto one = Stats("CPU", T0(), T0() + absl::Minutes(1), 60, {v1::STATISTIC_SUM}, {}, {{"A", "1"}});
  ASSERT_EQ(one.datapoints_size(), 1);
  EXPECT_EQ(one.datapoints(0).sum(), 99);
  EXPECT_EQ(Stats("CPU", T0(), T0() + absl::Minutes(1), 60, {v1::STATISTIC_SUM}).datapoints_size(),
            0);
}

TEST_F(MetricStoreTest, UnitFilterAndOneDatapointPerUnit) {
  v1::PutMetricDataRequest put;
  put.set_namespace_("App");
  *put.add_metric_data() = Datum("Size", 1, T0());
  put.mutable_metric_data(0)->set_unit("Bytes");
  *put.add_metric_data() = Datum("Size", 5, T0());
  put.mutable_metric_data(1)->set_unit("Kilobytes");
  ASSERT_THAT(store_->PutMetricData(put), IsOk());
  clock_.Advance(absl::Minutes(1));
  auto bytes = Stats("Size", T0(), T0() + absl::Minutes(1), 60, {v1::STATISTIC_SUM}, {}, {},
                     "Bytes");
  ASSERT_EQ(bytes.datapoints_size(), 1);
  EXPECT_EQ(bytes.datapoints(0).sum(), 1);
  EXPECT_EQ(bytes.datapoints(0).unit(), "Bytes");
  auto all = Stats("Size", T0(), T0() + absl::Minutes(1), 60, {v1::STATISTIC_SUM});
  ASSERT_EQ(all.datapoints_size(), 2);
  EXPECT_EQ(all.datapoints(0).unit(), "Bytes");
  EXPECT_EQ(all.datapoints(1).unit(), "Kilobytes");
  EXPECT_EQ(Stats("Size", T0(), T0() + absl::Minutes(1), 60, {v1::STATISTIC_SUM}, {}, {},
                  "Percent")
                .datapoints_size(),
            0);
}

TEST_F(MetricStoreTest, SubMinutePeriodsAndResolution) {
  v1::PutMetricDataRequest put;
  put.set_namespace_("App");
  *put.add_metric_data() = Datum("Hi", 1, T0() + absl::Seconds(12));
  put.mutable_metric_data(0)->set_storage_resolution(1);
  *put.add_metric_data() = Datum("Hi", 2, T0() + absl::Seconds(47));  // standard
  ASSERT_THAT(store_->PutMetricData(put), IsOk());
  clock_.Advance(absl::Minutes(1));
  auto r = Stats("Hi", T0(), T0() + absl::Minutes(1), 10, {v1::STATISTIC_SUM});
  ASSERT_EQ(r.datapoints_size(), 2);
  // Standard resolution counts at its minute's start; high resolution at its second.
  EXPECT_EQ(TimeOf(r.datapoints(0)), T0());
  EXPECT_EQ(r.datapoints(0).sum(), 2);
  EXPECT_EQ(TimeOf(r.datapoints(1)), T0() + absl::Seconds(10));
  EXPECT_EQ(r.datapoints(1).sum(), 1);
  // After 3 hours sub-minute periods see nothing; whole minutes still do.
  clock_.Advance(absl::Hours(3));
  EXPECT_EQ(Stats("Hi", T0(), T0() + absl::Minutes(1), 10, {v1::STATISTIC_SUM}).datapoints_size(),
            0);
  EXPECT_EQ(Stats("Hi", T0(), T0() + absl::Minutes(1), 60, {v1::STATISTIC_SUM}).datapoints_size(),
            1);
}

TEST_F(MetricStoreTest, ADayOfMinutesIsTheLimit) {
  v1::PutMetricDataRequest put;
  put.set_namespace_("App");
  const absl::Time start = T0() - absl::Hours(24);
  for (int i = 0; i < 1440; ++i) {
    *put.add_metric_data() = Datum("Cpu", i, start + absl::Minutes(i));
    if (put.metric_data_size() == 1000) {
      ASSERT_THAT(store_->PutMetricData(put), IsOk());
      put.clear_metric_data();
    }
  }
  ASSERT_THAT(store_->PutMetricData(put), IsOk());
  auto r = Stats("Cpu", start, T0(), 60, {v1::STATISTIC_AVERAGE});
  ASSERT_EQ(r.datapoints_size(), 1440);
  EXPECT_EQ(r.datapoints(1439).average(), 1439);
  EXPECT_EQ(TimeOf(r.datapoints(1439)), T0() - absl::Minutes(1));
  auto p = Stats("Cpu", start, T0(), 60, {}, {"p90"});
  ASSERT_EQ(p.datapoints_size(), 1440);
  EXPECT_EQ(p.datapoints(7).extended_statistics().at("p90"), 7);
}

v1::MetricDataQuery Query(const std::string& id, const std::string& name, const std::string& stat,
                          int period) {
  v1::MetricDataQuery q;
  q.set_id(id);
  auto* ms = q.mutable_metric_stat();
  ms->mutable_metric()->set_namespace_("App");
  ms->mutable_metric()->set_metric_name(name);
  ms->set_period(period);
  ms->set_stat(stat);
  return q;
}

TEST_F(MetricStoreTest, GetMetricDataQueriesOrderAndPartialData) {
  for (int i = 0; i < 5; ++i) {
    PutValue("A", i, T0() + absl::Minutes(i));
    PutValue("B", 10 * i, T0() + absl::Minutes(i));
  }
  clock_.Advance(absl::Minutes(10));
  v1::GetMetricDataRequest r;
  *r.add_metric_data_queries() = Query("a", "A", "Maximum", 60);
  *r.add_metric_data_queries() = Query("b", "B", "Sum", 120);
  r.mutable_metric_data_queries(1)->set_label("B two minutes");
  *r.mutable_start_time() = ToProto(T0());
  *r.mutable_end_time() = ToProto(T0() + absl::Minutes(10));
  auto resp = store_->GetMetricData(r);
  ASSERT_THAT(resp, IsOk());
  ASSERT_EQ(resp->metric_data_results_size(), 2);
  const auto& a = resp->metric_data_results(0);
  EXPECT_EQ(a.id(), "a");
  EXPECT_EQ(a.label(), "A");
  EXPECT_EQ(a.status_code(), "Complete");
  EXPECT_THAT(a.values(), ElementsAre(4, 3, 2, 1, 0));  // newest first by default
  EXPECT_EQ(FromProto(a.timestamps(0)), T0() + absl::Minutes(4));
  const auto& b = resp->metric_data_results(1);
  EXPECT_EQ(b.label(), "B two minutes");
  EXPECT_THAT(b.values(), ElementsAre(40, 50, 10));  // [4], [2,3], [0,1]

  r.set_scan_by_timestamp_descending(false);
  r.set_max_datapoints(6);
  resp = store_->GetMetricData(r);
  ASSERT_THAT(resp, IsOk());
  EXPECT_EQ(resp->metric_data_results(0).status_code(), "Complete");
  EXPECT_THAT(resp->metric_data_results(0).values(), ElementsAre(0, 1, 2, 3, 4));
  EXPECT_EQ(resp->metric_data_results(1).status_code(), "PartialData");
  EXPECT_THAT(resp->metric_data_results(1).values(), ElementsAre(10));
}

TEST_F(MetricStoreTest, ListMetricsFiltersAndPages) {
  PutValue("CPU", 1, T0(), {{"InstanceId", "i-1"}}, "AWS/EC2");
  PutValue("CPU", 1, T0(), {{"InstanceId", "i-2"}}, "AWS/EC2");
  PutValue("Net", 1, T0(), {{"InstanceId", "i-1"}, {"Type", "t3"}}, "AWS/EC2");
  PutValue("Depth", 1, T0() - absl::Hours(4), {}, "App");
  auto list = [&](v1::ListMetricsRequest r) {
    auto resp = store_->ListMetrics(r);
    EXPECT_THAT(resp, IsOk());
    std::vector<std::string> out;
    for (const auto& m : resp->metrics()) {
      std::string s = m.namespace_() + "/" + m.metric_name();
      for (const auto& d : m.dimensions()) s += " " + d.name() + "=" + d.value();
      out.push_back(s);
    }
    return out;
  };
  v1::ListMetricsRequest r;
  // Bytewise order: "AWS/EC2" < "App".
  EXPECT_THAT(list(r), ElementsAre("AWS/EC2/CPU InstanceId=i-1", "AWS/EC2/CPU InstanceId=i-2",
                                   "AWS/EC2/Net InstanceId=i-1 Type=t3", "App/Depth"));
  r.set_namespace_("AWS/EC2");
  auto* f = r.add_dimensions();
  f->set_name("InstanceId");
  f->set_value("i-1");
  EXPECT_THAT(list(r), ElementsAre("AWS/EC2/CPU InstanceId=i-1",
                                   "AWS/EC2/Net InstanceId=i-1 Type=t3"));
  f->clear_value();
  r.set_metric_name("CPU");
  EXPECT_THAT(list(r), ElementsAre("AWS/EC2/CPU InstanceId=i-1", "AWS/EC2/CPU InstanceId=i-2"));
  v1::ListMetricsRequest recent;
  recent.set_recently_active(true);
  EXPECT_EQ(list(recent).size(), 3u);

  // Pages of 2 (the option; 500 by default).
  Close();
  store_options_.list_page_size = 2;
  Open();
  v1::ListMetricsRequest page;
  auto first = store_->ListMetrics(page);
  ASSERT_THAT(first, IsOk());
  ASSERT_EQ(first->metrics_size(), 2);
  ASSERT_FALSE(first->next_token().empty());
  page.set_next_token(first->next_token());
  auto second = store_->ListMetrics(page);
  ASSERT_THAT(second, IsOk());
  ASSERT_EQ(second->metrics_size(), 2);
  EXPECT_EQ(second->metrics(0).metric_name(), "Net");
  EXPECT_EQ(second->metrics(1).metric_name(), "Depth");
  EXPECT_TRUE(second->next_token().empty());
}

TEST_F(MetricStoreTest, RetentionTrimsOnTheClock) {
  PutValue("Old", 1, T0() - absl::Hours(24 * 14));
  PutValue("Kept", 1, T0() - absl::Hours(24 * 14));
  PutValue("Kept", 2, T0());
  ASSERT_EQ(store_->series_count(), 2u);
  clock_.Advance(absl::Hours(24) - absl::Seconds(1));
  ASSERT_THAT(store_->TrimExpired(clock_.Now()), IsOk());
  EXPECT_EQ(store_->sample_count(), 3u);  // 1 s short of 15 days: kept
  clock_.Advance(absl::Seconds(2));
  ASSERT_THAT(store_->TrimExpired(clock_.Now()), IsOk());
  EXPECT_EQ(store_->sample_count(), 1u);
  EXPECT_EQ(store_->series_count(), 1u);
  // The trim is durable.
  Reopen();
  EXPECT_EQ(store_->sample_count(), 1u);
  auto list = store_->ListMetrics({});
  ASSERT_THAT(list, IsOk());
  ASSERT_EQ(list->metrics_size(), 1);
  EXPECT_EQ(list->metrics(0).metric_name(), "Kept");
}

TEST_F(MetricStoreTest, RestartKeepsEverythingAcknowledged) {
  v1::PutMetricDataRequest put;
  put.set_namespace_("App");
  *put.add_metric_data() = Datum("Lat", 3, T0(), {{"Host", "a"}});
  auto* s = put.add_metric_data();
  *s = Datum("Lat", 0, T0(), {{"Host", "a"}});
  s->clear_value();
  s->add_values(1);
  s->add_values(9);
  s->add_counts(2);
  s->add_counts(1);
  s->set_unit("Milliseconds");
  s->set_storage_resolution(1);
  ASSERT_THAT(store_->PutMetricData(put), IsOk());
  clock_.Advance(absl::Minutes(1));
  Reopen();
  PutValue("Lat", 5, T0() + absl::Seconds(30), {{"Host", "a"}});  // ids continue after reopen
  auto r = Stats("Lat", T0(), T0() + absl::Minutes(1), 60,
                 {v1::STATISTIC_SAMPLE_COUNT, v1::STATISTIC_SUM, v1::STATISTIC_MAXIMUM}, {},
                 {{"Host", "a"}}, "Milliseconds");
  ASSERT_EQ(r.datapoints_size(), 1);
  EXPECT_EQ(r.datapoints(0).sample_count(), 3);
  EXPECT_EQ(r.datapoints(0).sum(), 11);
  EXPECT_EQ(r.datapoints(0).maximum(), 9);
  auto all = Stats("Lat", T0(), T0() + absl::Minutes(1), 60, {v1::STATISTIC_SUM}, {},
                   {{"Host", "a"}});
  ASSERT_EQ(all.datapoints_size(), 2);  // None and Milliseconds
  EXPECT_EQ(all.datapoints(0).sum(), 8);
  EXPECT_EQ(store_->sample_count(), 3u);
}

TEST_F(MetricStoreTest, PeriodValuesForAlarms) {
  PutValue("Cpu", 10, T0());
  PutValue("Cpu", 30, T0() + absl::Seconds(30));
  PutValue("Cpu", 50, T0() + absl::Minutes(2));
  const MetricKey key{"App", "Cpu", {}};
  auto avg = store_->PeriodValues(key, Stat::Of(v1::STATISTIC_AVERAGE), std::nullopt,
                                  absl::Minutes(1), T0() + absl::Minutes(3), 4);
  EXPECT_THAT(avg, ElementsAre(std::nullopt, Optional(20.0), std::nullopt, Optional(50.0)));
  auto p = store_->PeriodValues(key, *ParsePercentile("p100"), std::nullopt, absl::Minutes(3),
                                T0() + absl::Minutes(3), 1);
  EXPECT_THAT(p, ElementsAre(Optional(50.0)));
  auto other_unit = store_->PeriodValues(key, Stat::Of(v1::STATISTIC_SUM), UnitIndex("Percent"),
                                         absl::Minutes(3), T0() + absl::Minutes(3), 1);
  EXPECT_THAT(other_unit, ElementsAre(std::nullopt));
}

}  // namespace
}  // namespace thingtank::compute
