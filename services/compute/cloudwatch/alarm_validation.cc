#include "services/compute/cloudwatch/alarm_validation.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "services/common/status.h"
#include "services/compute/cloudwatch/metric_validation.h"

namespace thingtank::compute {
namespace {

constexpr char kMissing[] = "MissingParameter";
constexpr char kCombination[] = "InvalidParameterCombination";
constexpr int kMaxEvaluatedSeconds = 86'400;

absl::Status ValidateActions(const google::protobuf::RepeatedPtrField<std::string>& actions,
                             const std::string& field) {
  if (actions.size() > kMaxActionsPerState) {
    return InvalidField(field, absl::StrCat("at most ", kMaxActionsPerState, " actions"));
  }
  for (int i = 0; i < actions.size(); ++i) {
    if (actions[i].empty() || actions[i].size() > 1024) {
      return InvalidField(absl::StrCat(field, "[", i, "]"), "actions are 1 to 1024 characters");
    }
  }
  return absl::OkStatus();
}

// 10, 30 or a multiple of 60 (alarms do not take 1 or 5).
absl::Status ValidateAlarmPeriod(int32_t period) {
  if (period == 0) return InvalidField("period", "period is required", kMissing);
  if (!(period == 10 || period == 30 || (period > 0 && period % 60 == 0))) {
    return InvalidField("period", "period must be 10, 30 or a multiple of 60 seconds");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateAlarmName(const std::string& name, const std::string& field) {
  if (name.empty()) return InvalidField(field, "alarm_name is required", kMissing);
  if (name.size() > kMaxNameLength) {
    return InvalidField(field, "alarm names have at most 255 characters");
  }
  return absl::OkStatus();
}

absl::Status ValidateAlarmNames(const google::protobuf::RepeatedPtrField<std::string>& names,
                                const std::string& field) {
  if (names.empty()) return InvalidField(field, "alarm_names is required", kMissing);
  if (names.size() > kMaxAlarmNamesPerCall) {
    return InvalidField(field, absl::StrCat("at most ", kMaxAlarmNamesPerCall, " names"));
  }
  for (int i = 0; i < names.size(); ++i) {
    TT_RETURN_IF_ERROR(ValidateAlarmName(names[i], absl::StrCat(field, "[", i, "]")));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> ValidateMaxRecords(int32_t max_records, int default_records) {
  if (max_records == 0) return default_records;
  if (max_records < 1 || max_records > 100) {
    return InvalidField("max_records", "max_records must be 1 to 100");
  }
  return max_records;
}

absl::StatusOr<AlarmSpec> ValidatePutMetricAlarm(const v1::PutMetricAlarmRequest& r) {
  TT_RETURN_IF_ERROR(ValidateAlarmName(r.alarm_name(), "alarm_name"));
  if (r.alarm_description().size() > kMaxAlarmDescription) {
    return InvalidField("alarm_description", "descriptions have at most 1024 characters");
  }
  TT_RETURN_IF_ERROR(ValidateActions(r.ok_actions(), "ok_actions"));
  TT_RETURN_IF_ERROR(ValidateActions(r.alarm_actions(), "alarm_actions"));
  TT_RETURN_IF_ERROR(ValidateActions(r.insufficient_data_actions(), "insufficient_data_actions"));
  TT_RETURN_IF_ERROR(ValidateMetricName(r.metric_name(), "metric_name"));
  TT_RETURN_IF_ERROR(ValidateNamespace(r.namespace_(), "namespace", /*allow_aws_prefix=*/true));
  TT_RETURN_IF_ERROR(ValidateDimensions(r.dimensions(), "dimensions"));

  AlarmSpec spec;
  spec.metric = MetricKey::From(r.namespace_(), r.metric_name(), r.dimensions());
  const bool has_statistic = r.statistic() != v1::STATISTIC_UNSPECIFIED;
  if (!has_statistic && r.extended_statistic().empty()) {
    return InvalidField("statistic", "statistic or extended_statistic is required", kMissing);
  }
  if (has_statistic && !r.extended_statistic().empty()) {
    return InvalidField("extended_statistic",
                        "statistic and extended_statistic are mutually exclusive", kCombination);
  }
  if (has_statistic) {
    if (StatisticName(r.statistic()).empty()) {
      return InvalidField("statistic", "unknown statistic");
    }
    spec.stat = Stat::Of(r.statistic());
  } else {
    TT_ASSIGN_OR_RETURN(spec.stat, ValidatePercentile(r.extended_statistic(),
                                                      "extended_statistic"));
  }
  TT_RETURN_IF_ERROR(ValidateAlarmPeriod(r.period()));
  TT_ASSIGN_OR_RETURN(spec.unit, ValidateUnit(r.unit(), "unit"));
  if (r.evaluation_periods() < 1) {
    return InvalidField("evaluation_periods", "evaluation_periods must be at least 1");
  }
  if (static_cast<int64_t>(r.period()) * r.evaluation_periods() > kMaxEvaluatedSeconds) {
    return InvalidField("evaluation_periods",
                        "period multiplied by evaluation_periods must not exceed one day "
                        "(86,400 seconds)",
                        kCombination);
  }
  spec.datapoints_to_alarm =
      r.datapoints_to_alarm() == 0 ? r.evaluation_periods() : r.datapoints_to_alarm();
  if (spec.datapoints_to_alarm < 1) {
    return InvalidField("datapoints_to_alarm", "datapoints_to_alarm must be at least 1");
  }
  if (spec.datapoints_to_alarm > r.evaluation_periods()) {
    return InvalidField("datapoints_to_alarm",
                        "datapoints_to_alarm must not exceed evaluation_periods", kCombination);
  }
  TT_RETURN_IF_ERROR(ValidateValue(r.threshold(), "threshold"));
  if (r.comparison_operator() == v1::COMPARISON_OPERATOR_UNSPECIFIED) {
    return InvalidField("comparison_operator", "comparison_operator is required", kMissing);
  }
  if (!v1::ComparisonOperator_IsValid(r.comparison_operator())) {
    return InvalidField("comparison_operator", "unknown comparison operator");
  }
  if (!v1::TreatMissingData_IsValid(r.treat_missing_data())) {
    return InvalidField("treat_missing_data", "unknown treat_missing_data");
  }
  return spec;
}

absl::Status ValidateDescribeAlarms(const v1::DescribeAlarmsRequest& r) {
  if (r.alarm_names_size() > kMaxAlarmNamesPerCall) {
    return InvalidField("alarm_names", "at most 100 names");
  }
  for (int i = 0; i < r.alarm_names_size(); ++i) {
    TT_RETURN_IF_ERROR(ValidateAlarmName(r.alarm_names(i), absl::StrCat("alarm_names[", i, "]")));
  }
  if (r.alarm_names_size() > 0 && !r.alarm_name_prefix().empty()) {
    return InvalidField("alarm_name_prefix",
                        "alarm_names and alarm_name_prefix are mutually exclusive", kCombination);
  }
  if (r.alarm_name_prefix().size() > kMaxNameLength) {
    return InvalidField("alarm_name_prefix", "prefixes have at most 255 characters");
  }
  if (r.action_prefix().size() > 1024) {
    return InvalidField("action_prefix", "prefixes have at most 1024 characters");
  }
  if (!v1::StateValue_IsValid(r.state_value())) {
    return InvalidField("state_value", "unknown state");
  }
  return ValidateMaxRecords(r.max_records(), kDefaultDescribeAlarmsRecords).status();
}

absl::Status ValidateSetAlarmState(const v1::SetAlarmStateRequest& r) {
  TT_RETURN_IF_ERROR(ValidateAlarmName(r.alarm_name(), "alarm_name"));
  if (r.state_value() == v1::STATE_VALUE_UNSPECIFIED) {
    return InvalidField("state_value", "state_value is required", kMissing);
  }
  if (!v1::StateValue_IsValid(r.state_value())) {
    return InvalidField("state_value", "unknown state");
  }
  if (r.state_reason().empty()) {
    return InvalidField("state_reason", "state_reason is required", kMissing);
  }
  if (r.state_reason().size() > kMaxStateReason) {
    return InvalidField("state_reason", "state_reason has at most 1023 characters");
  }
  if (r.state_reason_data().size() > kMaxStateReasonData) {
    return InvalidField("state_reason_data", "state_reason_data has at most 4000 characters");
  }
  if (!r.state_reason_data().empty() &&
      !nlohmann::json::accept(r.state_reason_data())) {
    return InvalidField("state_reason_data", "state_reason_data must be JSON", "InvalidFormat");
  }
  return absl::OkStatus();
}

}  // namespace thingtank::compute
