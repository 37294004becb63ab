#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/compute/cloudwatch/metric_types.h"
#include "thingtank/compute/v1/compute.pb.h"

// Validation of the alarm RPCs. Errors as in metric_validation.h:
// INVALID_ARGUMENT naming the field, reason MissingParameter,
// InvalidParameterCombination, InvalidParameterValue or InvalidNextToken.
namespace thingtank::compute {

inline constexpr int kMaxAlarmDescription = 1024;
inline constexpr int kMaxActionsPerState = 5;
inline constexpr int kMaxAlarmNamesPerCall = 100;
inline constexpr int kMaxStateReason = 1023;
inline constexpr int kMaxStateReasonData = 4000;
inline constexpr int kDefaultDescribeAlarmsRecords = 50;
inline constexpr int kDefaultHistoryRecords = 100;

// What PutMetricAlarm needs beyond the request once it is valid.
struct AlarmSpec {
  MetricKey metric;
  Stat stat;
  std::optional<int> unit;
  int datapoints_to_alarm;  // defaulted to evaluation_periods
};
absl::StatusOr<AlarmSpec> ValidatePutMetricAlarm(const v1::PutMetricAlarmRequest& request);

// 1 to 255 characters.
absl::Status ValidateAlarmName(const std::string& name, const std::string& field);
// 1 to 100 valid names.
absl::Status ValidateAlarmNames(const google::protobuf::RepeatedPtrField<std::string>& names,
                                const std::string& field);
// 0 gives `default_records`; else 1 to 100.
absl::StatusOr<int> ValidateMaxRecords(int32_t max_records, int default_records);

absl::Status ValidateDescribeAlarms(const v1::DescribeAlarmsRequest& request);
absl::Status ValidateSetAlarmState(const v1::SetAlarmStateRequest& request);

}  // namespace thingtank::compute
