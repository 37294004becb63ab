// Bad input to the metric RPCs: each rule gives its code, AWS reason and field.

#include <cmath>
#include <functional>
#include <limits>

#include "services/compute/cloudwatch/cloudwatch_test_util.h"

namespace thingtank::compute {
namespace {

using absl::StatusCode;

struct BadPut {
  std::string name;
  std::function<void(v1::PutMetricDataRequest*)> edit;
  std::string reason;
  std::string field;
};

class MetricValidationTest : public CloudWatchTest {
 protected:
  v1::PutMetricDataRequest Good() {
    v1::PutMetricDataRequest r;
    r.set_namespace_("App");
    *r.add_metric_data() = Datum("Latency", 1, clock_.Now(), {{"Host", "a"}});
    return r;
  }
};

TEST_F(MetricValidationTest, PutMetricDataRules) {
  const std::string kValue = "InvalidParameterValue";
  const std::string kMissing = "MissingParameter";
  const std::string kCombination = "InvalidParameterCombination";
  auto d0 = [](v1::PutMetricDataRequest* r) { return r->mutable_metric_data(0); };
  const std::vector<BadPut> cases = {
      {"no namespace", [](auto* r) { r->clear_namespace_(); }, kMissing, "namespace"},
      {"long namespace", [](auto* r) { r->set_namespace_(std::string(256, 'n')); }, kValue,
       "namespace"},
      {"AWS namespace", [](auto* r) { r->set_namespace_("AWS/EC2"); }, kValue, "namespace"},
      {"no data", [](auto* r) { r->clear_metric_data(); }, kMissing, "metric_data"},
      {"1001 data",
       [](auto* r) {
         for (int i = 0; i < 1000; ++i) *r->add_metric_data() = r->metric_data(0);
       },
       kValue, "metric_data"},
      {"no name", [&](auto* r) { d0(r)->clear_metric_name(); }, kMissing,
       "metric_data[0].metric_name"},
      {"long name", [&](auto* r) { d0(r)->set_metric_name(std::string(256, 'x')); }, kValue,
       "metric_data[0].metric_name"},
      {"31 dimensions",
       [&](auto* r) {
         d0(r)->clear_dimensions();
         for (int i = 0; i < 31; ++i) {
           auto* d = d0(r)->add_dimensions();
           d->set_name("d" + std::to_string(i));
           d->set_value("v");
         }
       },
       kValue, "metric_data[0].dimensions"},
      {"empty dimension name", [&](auto* r) { d0(r)->mutable_dimensions(0)->clear_name(); },
       kMissing, "metric_data[0].dimensions[0].name"},
      {"long dimension name",
       [&](auto* r) { d0(r)->mutable_dimensions(0)->set_name(std::string(256, 'd')); }, kValue,
       "metric_data[0].dimensions[0].name"},
      {"empty dimension value", [&](auto* r) { d0(r)->mutable_dimensions(0)->clear_value(); },
       kMissing, "metric_data[0].dimensions[0].value"},
      {"long dimension value",
       [&](auto* r) { d0(r)->mutable_dimensions(0)->set_value(std::string(1025, 'v')); }, kValue,
       "metric_data[0].dimensions[0].value"},
      {"duplicate dimension",
       [&](auto* r) { *d0(r)->add_dimensions() = d0(r)->dimensions(0); }, kValue,
       "metric_data[0].dimensions[1].name"},
      {"no value", [&](auto* r) { d0(r)->clear_value(); }, kMissing, "metric_data[0].value"},
      {"value and set",
       [&](auto* r) { d0(r)->mutable_statistic_values()->set_sample_count(1); }, kCombination,
       "metric_data[0].statistic_values"},
      {"value and values", [&](auto* r) { d0(r)->add_values(1); }, kCombination,
       "metric_data[0].values"},
      {"NaN", [&](auto* r) { d0(r)->set_value(std::nan("")); }, kValue, "metric_data[0].value"},
      {"infinity",
       [&](auto* r) { d0(r)->set_value(std::numeric_limits<double>::infinity()); }, kValue,
       "metric_data[0].value"},
      {"too large", [&](auto* r) { d0(r)->set_value(std::ldexp(1.0, 361)); }, kValue,
       "metric_data[0].value"},
      {"set without samples",
       [&](auto* r) {
         d0(r)->clear_value();
         d0(r)->mutable_statistic_values()->set_sum(1);
       },
       kValue, "metric_data[0].statistic_values.sample_count"},
      {"set min above max",
       [&](auto* r) {
         d0(r)->clear_value();
         auto* s = d0(r)->mutable_statistic_values();
         s->set_sample_count(2);
         s->set_minimum(3);
         s->set_maximum(1);
       },
       kValue, "metric_data[0].statistic_values.minimum"},
      {"151 values",
       [&](auto* r) {
         d0(r)->clear_value();
         for (int i = 0; i < 151; ++i) d0(r)->add_values(i);
       },
       kValue, "metric_data[0].values"},
      {"NaN in values",
       [&](auto* r) {
         d0(r)->clear_value();
         d0(r)->add_values(1);
         d0(r)->add_values(std::nan(""));
       },
       kValue, "metric_data[0].values[1]"},
      {"counts of another length",
       [&](auto* r) {
         d0(r)->clear_value();
         d0(r)->add_values(1);
         d0(r)->add_values(2);
         d0(r)->add_counts(1);
       },
       kCombination, "metric_data[0].counts"},
      {"counts without values", [&](auto* r) { d0(r)->add_counts(1); }, kCombination,
       "metric_data[0].counts"},
      {"negative count",
       [&](auto* r) {
         d0(r)->clear_value();
         d0(r)->add_values(1);
         d0(r)->add_counts(-1);
       },
       kValue, "metric_data[0].counts[0]"},
      {"unknown unit", [&](auto* r) { d0(r)->set_unit("Furlongs"); }, kValue,
       "metric_data[0].unit"},
      {"resolution 30", [&](auto* r) { d0(r)->set_storage_resolution(30); }, kValue,
       "metric_data[0].storage_resolution"},
      {"older than two weeks",
       [&](auto* r) {
         *d0(r)->mutable_timestamp() = ToProto(clock_.Now() - absl::Hours(24 * 14 + 1));
       },
       kValue, "metric_data[0].timestamp"},
      {"more than two hours ahead",
       [&](auto* r) {
         *d0(r)->mutable_timestamp() = ToProto(clock_.Now() + absl::Hours(2) + absl::Seconds(1));
       },
       kValue, "metric_data[0].timestamp"},
      {"fourth datum",
       [&](auto* r) {
         for (int i = 0; i < 3; ++i) *r->add_metric_data() = r->metric_data(0);
         r->mutable_metric_data(3)->set_value(std::nan(""));
       },
       kValue, "metric_data[3].value"},
  };
  for (const BadPut& c : cases) {
    v1::PutMetricDataRequest r = Good();
    c.edit(&r);
    EXPECT_THAT(store_->PutMetricData(r),
                IsStatus(StatusCode::kInvalidArgument, c.reason, c.field))
        << c.name;
  }
  // Nothing of the rejected calls was stored; the good request is fine.
  EXPECT_EQ(store_->sample_count(), 0u);
  EXPECT_THAT(store_->PutMetricData(Good()), IsOk());
  EXPECT_EQ(store_->sample_count(), 1u);
}

TEST_F(MetricValidationTest, LimitsAreInclusive) {
  v1::PutMetricDataRequest r = Good();
  for (int i = 1; i < 1000; ++i) *r.add_metric_data() = r.metric_data(0);
  auto* d = r.mutable_metric_data(0);
  d->clear_value();
  for (int i = 0; i < 150; ++i) d->add_values(i);
  *r.mutable_metric_data(1)->mutable_timestamp() = ToProto(clock_.Now() - absl::Hours(24 * 14));
  *r.mutable_metric_data(2)->mutable_timestamp() = ToProto(clock_.Now() + absl::Hours(2));
  r.mutable_metric_data(3)->set_storage_resolution(1);
  r.mutable_metric_data(4)->set_unit("Count/Second");
  EXPECT_THAT(store_->PutMetricData(r), IsOk());
}

TEST_F(MetricValidationTest, PutInternalAllowsAwsNamespaces) {
  v1::PutMetricDataRequest r = Good();
  r.set_namespace_("AWS/EC2");
  EXPECT_THAT(store_->PutInternal(r), IsOk());
  r.mutable_metric_data(0)->set_value(std::nan(""));
  EXPECT_THAT(store_->PutInternal(r), IsStatus(StatusCode::kInvalidArgument,
                                               "InvalidParameterValue", "metric_data[0].value"));
}

v1::GetMetricStatisticsRequest GoodStats(absl::Time now) {
  v1::GetMetricStatisticsRequest r;
  r.set_namespace_("App");
  r.set_metric_name("Latency");
  *r.mutable_start_time() = ToProto(now - absl::Hours(1));
  *r.mutable_end_time() = ToProto(now);
  r.set_period(60);
  r.add_statistics(v1::STATISTIC_AVERAGE);
  return r;
}

TEST_F(MetricValidationTest, GetMetricStatisticsRules) {
  struct Case {
    std::string name;
    std::function<void(v1::GetMetricStatisticsRequest*)> edit;
    std::string reason;
    std::string field;
  };
  const absl::Time now = clock_.Now();
  const std::vector<Case> cases = {
      {"no namespace", [](auto* r) { r->clear_namespace_(); }, "MissingParameter", "namespace"},
      {"no metric", [](auto* r) { r->clear_metric_name(); }, "MissingParameter", "metric_name"},
      {"no start", [](auto* r) { r->clear_start_time(); }, "MissingParameter", "start_time"},
      {"start = end", [&](auto* r) { *r->mutable_start_time() = ToProto(now); },
       "InvalidParameterValue", "start_time"},
      {"no period", [](auto* r) { r->set_period(0); }, "MissingParameter", "period"},
      {"period 45", [](auto* r) { r->set_period(45); }, "InvalidParameterValue", "period"},
      {"period 2 days", [](auto* r) { r->set_period(172'800); }, "InvalidParameterValue",
       "period"},
      {"1441 datapoints",
       [&](auto* r) { *r->mutable_start_time() = ToProto(now - absl::Minutes(1441)); },
       "InvalidParameterCombination", "period"},
      {"no statistics", [](auto* r) { r->clear_statistics(); }, "MissingParameter",
       "statistics"},
      {"both kinds", [](auto* r) { r->add_extended_statistics("p99"); },
       "InvalidParameterCombination", "extended_statistics"},
      {"unknown statistic", [](auto* r) { r->add_statistics(v1::STATISTIC_UNSPECIFIED); },
       "InvalidParameterValue", "statistics[1]"},
      {"p101",
       [](auto* r) {
         r->clear_statistics();
         r->add_extended_statistics("p101");
       },
       "InvalidParameterValue", "extended_statistics[0]"},
      {"11 percentiles",
       [](auto* r) {
         r->clear_statistics();
         for (int i = 0; i < 11; ++i) r->add_extended_statistics("p" + std::to_string(i));
       },
       "InvalidParameterValue", "extended_statistics"},
      {"unknown unit", [](auto* r) { r->set_unit("Parsecs"); }, "InvalidParameterValue",
       "unit"},
  };
  for (const Case& c : cases) {
    v1::GetMetricStatisticsRequest r = GoodStats(now);
    c.edit(&r);
    EXPECT_THAT(store_->GetMetricStatistics(r),
                IsStatus(StatusCode::kInvalidArgument, c.reason, c.field))
        << c.name;
  }
  v1::GetMetricStatisticsRequest r = GoodStats(now);
  *r.mutable_start_time() = ToProto(now - absl::Minutes(1440));
  EXPECT_THAT(store_->GetMetricStatistics(r), IsOk());
  r.clear_statistics();
  r.add_extended_statistics("p99.9");
  r.add_extended_statistics("p0");
  r.add_extended_statistics("p100");
  EXPECT_THAT(store_->GetMetricStatistics(r), IsOk());
}

TEST_F(MetricValidationTest, GetMetricDataRules) {
  auto good = [&] {
    v1::GetMetricDataRequest r;
    auto* q = r.add_metric_data_queries();
    q->set_id("m1");
    auto* ms = q->mutable_metric_stat();
    ms->mutable_metric()->set_namespace_("App");
    ms->mutable_metric()->set_metric_name("Latency");
    ms->set_period(60);
    ms->set_stat("Average");
    *r.mutable_start_time() = ToProto(clock_.Now() - absl::Hours(1));
    *r.mutable_end_time() = ToProto(clock_.Now());
    return r;
  };
  struct Case {
    std::function<void(v1::GetMetricDataRequest*)> edit;
    std::string reason;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](auto* r) { r->clear_metric_data_queries(); }, "MissingParameter",
       "metric_data_queries"},
      {[](auto* r) { r->mutable_metric_data_queries(0)->set_id("M1"); }, "InvalidParameterValue",
       "metric_data_queries[0].id"},
      {[](auto* r) { *r->add_metric_data_queries() = r->metric_data_queries(0); },
       "InvalidParameterValue", "metric_data_queries[1].id"},
      {[](auto* r) { r->mutable_metric_data_queries(0)->clear_metric_stat(); },
       "MissingParameter", "metric_data_queries[0].metric_stat"},
      {[](auto* r) { r->mutable_metric_data_queries(0)->mutable_metric_stat()->set_stat("Avg"); },
       "InvalidParameterValue", "metric_data_queries[0].metric_stat.stat"},
      {[](auto* r) { r->mutable_metric_data_queries(0)->mutable_metric_stat()->set_period(7); },
       "InvalidParameterValue", "metric_data_queries[0].metric_stat.period"},
      {[](auto* r) { r->clear_end_time(); }, "MissingParameter", "end_time"},
      {[](auto* r) { r->set_max_datapoints(-1); }, "InvalidParameterValue", "max_datapoints"},
  };
  for (const Case& c : cases) {
    v1::GetMetricDataRequest r = good();
    c.edit(&r);
    EXPECT_THAT(store_->GetMetricData(r), IsStatus(StatusCode::kInvalidArgument, c.reason, c.field))
        << c.field;
  }
  EXPECT_THAT(store_->GetMetricData(good()), IsOk());
}

TEST_F(MetricValidationTest, ListMetricsRules) {
  v1::ListMetricsRequest r;
  r.add_dimensions()->set_value("x");
  EXPECT_THAT(store_->ListMetrics(r), IsStatus(StatusCode::kInvalidArgument, "MissingParameter",
                                               "dimensions[0].name"));
  r.Clear();
  r.set_next_token("!!not a token!!");
  EXPECT_THAT(store_->ListMetrics(r),
              IsStatus(StatusCode::kInvalidArgument, "InvalidNextToken", "next_token"));
}

}  // namespace
}  // namespace thingtank::compute
