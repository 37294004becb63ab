#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/compute/cloudwatch/metric_types.h"
#include "thingtank/compute/v1/compute.pb.h"

// Validation of the metric RPCs, as CloudWatch validates them. Every error is
// INVALID_ARGUMENT naming the field (BadRequest) with CloudWatch's error name
// as ErrorInfo reason: MissingParameter (a required field is empty),
// InvalidParameterCombination (fields that exclude or limit each other),
// InvalidParameterValue (anything else), InvalidNextToken.
namespace thingtank::compute {

inline constexpr int kMaxNameLength = 255;
inline constexpr int kMaxDimensionValueLength = 1024;
inline constexpr int kMaxDimensions = 30;
inline constexpr int kMaxDatumsPerPut = 1000;
inline constexpr int kMaxValuesPerDatum = 150;
inline constexpr int kMaxStatisticsDatapoints = 1440;
inline constexpr int kMaxExtendedStatistics = 10;
inline constexpr int kMaxDataQueries = 500;
inline constexpr int64_t kDefaultMaxDatapoints = 100'800;
inline constexpr int kMaxDimensionFilters = 10;
inline constexpr absl::Duration kMaxPastTimestamp = absl::Hours(24 * 14);
inline constexpr absl::Duration kMaxFutureTimestamp = absl::Hours(2);

// One rule each, shared by the metric and alarm RPCs. `field` is the path
// of the checked field ("metric_data[3].metric_name").
absl::Status ValidateNamespace(const std::string& ns, const std::string& field,
                               bool allow_aws_prefix);
absl::Status ValidateMetricName(const std::string& name, const std::string& field);
// Up to 30, names 1-255, values 1-1024, no name twice. `field`: "dimensions".
absl::Status ValidateDimensions(const google::protobuf::RepeatedPtrField<v1::Dimension>& dims,
                                const std::string& field);
// A finite value within CloudWatch's range (-2^360, 2^360).
absl::Status ValidateValue(double value, const std::string& field);
// Empty: nullopt (any unit / "None" when storing); else the unit's index.
absl::StatusOr<std::optional<int>> ValidateUnit(const std::string& unit, const std::string& field);
// 1, 5, 10, 30 or a multiple of 60, up to 86,400 seconds.
absl::Status ValidateQueryPeriod(int32_t period, const std::string& field);
// "p0" to "p100".
absl::StatusOr<Stat> ValidatePercentile(const std::string& name, const std::string& field);

// PutMetricData. `now` bounds the timestamps; `allow_aws_namespace` is for
// ThingTank's own services (PutInternal).
absl::Status ValidatePutMetricData(const v1::PutMetricDataRequest& request, absl::Time now,
                                   bool allow_aws_namespace);

// A validated GetMetricStatistics.
struct StatisticsQuery {
  MetricKey metric;
  absl::Time start;  // rounded down to a period boundary (epoch-aligned)
  absl::Time end;
  absl::Duration period;
  std::vector<v1::Statistic> statistics;  // without duplicates
  std::vector<Stat> extended;             // percentiles
  std::optional<int> unit;
};
absl::StatusOr<StatisticsQuery> ValidateGetMetricStatistics(
    const v1::GetMetricStatisticsRequest& request);

// A validated GetMetricData.
struct DataQuery {
  std::string id;
  std::string label;
  MetricKey metric;
  Stat stat;
  absl::Duration period;
  std::optional<int> unit;
};
struct DataRequest {
  std::vector<DataQuery> queries;
  absl::Time start;
  absl::Time end;
  bool descending = true;
  int64_t max_datapoints = kDefaultMaxDatapoints;
};
absl::StatusOr<DataRequest> ValidateGetMetricData(const v1::GetMetricDataRequest& request);

// ListMetrics: the filters (the page token is checked where it is decoded).
absl::Status ValidateListMetrics(const v1::ListMetricsRequest& request);

// Start rounded down to a multiple of `period` since the epoch.
absl::Time AlignDown(absl::Time t, absl::Duration period);

}  // namespace thingtank::compute
