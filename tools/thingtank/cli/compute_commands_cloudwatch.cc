// `thingtank compute` metric and alarm commands (CloudWatchService, Amazon
// CloudWatch).

#include "absl/strings/str_join.h"
#include "tools/thingtank/cli/compute_commands.h"
#include "tools/thingtank/cli/compute_format.h"

namespace thingtank::cli::compute {
namespace {

bool RequireFlags(const CallContext& c, const std::vector<std::string>& flags, int* exit) {
  for (const std::string& flag : flags) {
    if (!RequireFlag(c, flag, exit)) return false;
  }
  return true;
}

// "p99", "p99.9", "p0" to "p100": a percentile statistic.
bool IsPercentile(const std::string& text) {
  double value = 0;
  return text.size() > 1 && text[0] == 'p' && ParseDouble(text.substr(1), &value) && value >= 0 &&
         value <= 100;
}

// --statistic of an alarm: a statistic name or a percentile.
bool ReadAlarmStatistic(const CloudWatchContext& c, v1::PutMetricAlarmRequest* request, int* exit) {
  const std::string text = c.args.Get("statistic");
  if (IsPercentile(text)) {
    request->set_extended_statistic(text);
    return true;
  }
  std::optional<v1::Statistic> statistic = ParseEnumName(StatisticNames(), text);
  if (!statistic) {
    *exit = c.UsageError("--statistic: \"" + text + "\" is not " + AcceptedNames(StatisticNames()) +
                         " (or a percentile such as p99)");
    return false;
  }
  request->set_statistic(*statistic);
  return true;
}

template <typename Request>
Request NamesRequest(const CloudWatchContext& c) {
  Request request;
  AddPositionals(c, 0, request.mutable_alarm_names());
  return request;
}

std::string Names(const google::protobuf::RepeatedPtrField<std::string>& names) {
  return absl::StrJoin(names, " ");
}

}  // namespace

int PutMetric(const CloudWatchContext& c) {
  int exit = kExitOk;
  if (!RequireFlags(c, {"namespace", "metric-name"}, &exit)) return exit;
  if (c.args.Has("value") == c.args.Has("statistic-values")) {
    return c.UsageError("give --value or --statistic-values (one of them)");
  }
  v1::PutMetricDataRequest request;
  request.set_namespace_(c.args.Get("namespace"));
  v1::MetricDatum* datum = request.add_metric_data();
  datum->set_metric_name(c.args.Get("metric-name"));
  datum->set_unit(c.args.Get("unit"));
  std::optional<double> value;
  std::optional<int32_t> resolution;
  if (!ReadDimensions(c, "dimension", datum->mutable_dimensions(), &exit) ||
      !DoubleFlag(c, "value", &value, &exit) ||
      !IntFlag(c, "storage-resolution", &resolution, &exit, 11) ||
      !TimeFlag(c, "timestamp", datum->mutable_timestamp(), &exit)) {
    return exit;
  }
  if (!c.args.Has("timestamp")) datum->clear_timestamp();  // the server's now
  if (value) datum->set_value(*value);
  if (resolution) {
    if (*resolution != 1 && *resolution != 60) {
      return c.UsageError("--storage-resolution: must be 1 or 60");
    }
    datum->set_storage_resolution(*resolution);
  }
  if (c.args.Has("statistic-values")) {
    std::string error;
    if (!ParseStatisticSet(c.args.Get("statistic-values"), datum->mutable_statistic_values(),
                           &error)) {
      return c.UsageError("--statistic-values: " + error);
    }
  }
  v1::PutMetricDataResponse response;
  const grpc::Status status =
      c.stub.PutMetricData(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << "stored 1 data point of " << request.namespace_() << "/" << datum->metric_name() << "\n";
  });
}

int GetStatistics(const CloudWatchContext& c) {
  int exit = kExitOk;
  if (!RequireFlags(c, {"namespace", "metric-name", "start", "end", "period"}, &exit)) {
    return exit;
  }
  v1::GetMetricStatisticsRequest request;
  request.set_namespace_(c.args.Get("namespace"));
  request.set_metric_name(c.args.Get("metric-name"));
  request.set_unit(c.args.Get("unit"));
  std::optional<int32_t> period;
  if (!ReadDimensions(c, "dimension", request.mutable_dimensions(), &exit) ||
      !TimeFlag(c, "start", request.mutable_start_time(), &exit) ||
      !TimeFlag(c, "end", request.mutable_end_time(), &exit) ||
      !SecondsFlag(c, "period", &period, &exit)) {
    return exit;
  }
  request.set_period(*period);
  for (const std::string& name : SplitList(c.args.GetAll("statistics"))) {
    v1::Statistic statistic = v1::STATISTIC_UNSPECIFIED;
    std::string error;
    if (!ParseEnumFlag("statistics", name, StatisticNames(), &statistic, &error)) {
      return c.UsageError(error);
    }
    request.add_statistics(statistic);
  }
  for (const std::string& p : SplitList(c.args.GetAll("extended"))) {
    if (!IsPercentile(p)) {
      return c.UsageError("--extended: \"" + p + "\" is not a percentile p0 to p100 (e.g. p99)");
    }
    request.add_extended_statistics(p);
  }
  if (request.statistics().empty() && request.extended_statistics().empty()) {
    return c.UsageError("give --statistics (" + AcceptedNames(StatisticNames()) +
                        ") or --extended (p99), or both");
  }
  v1::GetMetricStatisticsResponse response;
  const grpc::Status status =
      c.stub.GetMetricStatistics(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) { PrintDatapoints(response, os); });
}

int ListMetrics(const CloudWatchContext& c) {
  v1::ListMetricsRequest request;
  request.set_namespace_(c.args.Get("namespace"));
  request.set_metric_name(c.args.Get("metric-name"));
  request.set_recently_active(c.args.Bool("recently-active"));
  request.set_next_token(c.args.Get("next-token"));
  for (const std::string& text : c.args.GetAll("dimension")) {
    v1::DimensionFilter* filter = request.add_dimensions();
    if (!ParseKeyValue(text, true, filter->mutable_name(), filter->mutable_value())) {
      return c.UsageError("--dimension: \"" + text + "\" is not NAME or NAME=VALUE");
    }
  }
  v1::ListMetricsResponse response;
  const grpc::Status status =
      c.stub.ListMetrics(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) { PrintMetrics(response, os); });
}

int PutAlarm(const CloudWatchContext& c) {
  int exit = kExitOk;
  if (!RequireFlags(c,
                    {"alarm-name", "namespace", "metric-name", "statistic", "period",
                     "evaluation-periods", "threshold", "comparison-operator"},
                    &exit)) {
    return exit;
  }
  v1::PutMetricAlarmRequest request;
  request.set_alarm_name(c.args.Get("alarm-name"));
  request.set_alarm_description(c.args.Get("description"));
  request.set_namespace_(c.args.Get("namespace"));
  request.set_metric_name(c.args.Get("metric-name"));
  request.set_unit(c.args.Get("unit"));
  if (c.args.Has("actions-enabled")) request.set_actions_enabled(c.args.Bool("actions-enabled"));
  for (const std::string& arn : c.args.GetAll("alarm-action")) request.add_alarm_actions(arn);
  for (const std::string& arn : c.args.GetAll("ok-action")) request.add_ok_actions(arn);
  for (const std::string& arn : c.args.GetAll("insufficient-data-action")) {
    request.add_insufficient_data_actions(arn);
  }
  std::optional<int32_t> period;
  std::optional<int32_t> evaluation_periods;
  std::optional<int32_t> datapoints;
  std::optional<double> threshold;
  v1::ComparisonOperator op = v1::COMPARISON_OPERATOR_UNSPECIFIED;
  v1::TreatMissingData missing = v1::TREAT_MISSING_DATA_UNSPECIFIED;
  if (!ReadAlarmStatistic(c, &request, &exit) ||
      !ReadDimensions(c, "dimension", request.mutable_dimensions(), &exit) ||
      !SecondsFlag(c, "period", &period, &exit) ||
      !IntFlag(c, "evaluation-periods", &evaluation_periods, &exit, 11) ||
      !IntFlag(c, "datapoints-to-alarm", &datapoints, &exit, 11) ||
      !DoubleFlag(c, "threshold", &threshold, &exit) ||
      !EnumFlag(c, "comparison-operator", ComparisonOperatorNames(), &op, &exit) ||
      !EnumFlag(c, "treat-missing-data", TreatMissingDataNames(), &missing, &exit)) {
    return exit;
  }
  request.set_period(*period);
  request.set_evaluation_periods(*evaluation_periods);
  if (datapoints) request.set_datapoints_to_alarm(*datapoints);
  request.set_threshold(*threshold);
  request.set_comparison_operator(op);
  request.set_treat_missing_data(missing);
  v1::PutMetricAlarmResponse response;
  const grpc::Status status =
      c.stub.PutMetricAlarm(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response,
                [&](std::ostream& os) { os << "saved alarm " << request.alarm_name() << "\n"; });
}

int DescribeAlarms(const CloudWatchContext& c) {
  v1::DescribeAlarmsRequest request;
  AddPositionals(c, 0, request.mutable_alarm_names());
  request.set_alarm_name_prefix(c.args.Get("prefix"));
  request.set_action_prefix(c.args.Get("action-prefix"));
  request.set_next_token(c.args.Get("next-token"));
  int32_t max = 0;
  v1::StateValue state = v1::STATE_VALUE_UNSPECIFIED;
  int exit = kExitOk;
  if (!ReadMax(c, &max, &exit) || !EnumFlag(c, "state", StateValueNames(), &state, &exit)) {
    return exit;
  }
  request.set_max_records(max);
  request.set_state_value(state);
  v1::DescribeAlarmsResponse response;
  const grpc::Status status =
      c.stub.DescribeAlarms(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) { PrintAlarms(response, os); });
}

int AlarmHistory(const CloudWatchContext& c) {
  v1::DescribeAlarmHistoryRequest request;
  if (!c.args.positional().empty()) request.set_alarm_name(c.args.positional()[0]);
  request.set_next_token(c.args.Get("next-token"));
  request.set_scan_by_timestamp_ascending(c.args.Bool("oldest-first"));
  int32_t max = 0;
  v1::HistoryItemType type = v1::HISTORY_ITEM_TYPE_UNSPECIFIED;
  int exit = kExitOk;
  if (!ReadMax(c, &max, &exit) || !EnumFlag(c, "type", HistoryItemTypeNames(), &type, &exit) ||
      !TimeFlag(c, "start", request.mutable_start_date(), &exit) ||
      !TimeFlag(c, "end", request.mutable_end_date(), &exit)) {
    return exit;
  }
  if (!c.args.Has("start")) request.clear_start_date();
  if (!c.args.Has("end")) request.clear_end_date();
  request.set_max_records(max);
  request.set_history_item_type(type);
  v1::DescribeAlarmHistoryResponse response;
  const grpc::Status status =
      c.stub.DescribeAlarmHistory(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) { PrintAlarmHistory(response, os); });
}

int SetAlarmState(const CloudWatchContext& c) {
  int exit = kExitOk;
  if (!RequireFlags(c, {"state", "reason"}, &exit)) return exit;
  v1::SetAlarmStateRequest request;
  request.set_alarm_name(c.args.positional().at(0));
  request.set_state_reason(c.args.Get("reason"));
  request.set_state_reason_data(c.args.Get("reason-data"));
  v1::StateValue state = v1::STATE_VALUE_UNSPECIFIED;
  if (!EnumFlag(c, "state", StateValueNames(), &state, &exit)) return exit;
  request.set_state_value(state);
  v1::SetAlarmStateResponse response;
  const grpc::Status status =
      c.stub.SetAlarmState(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << "alarm " << request.alarm_name() << " set to " << EnumNameOf(StateValueNames(), state)
       << "\n";
  });
}

int DeleteAlarms(const CloudWatchContext& c) {
  const auto request = NamesRequest<v1::DeleteAlarmsRequest>(c);
  v1::DeleteAlarmsResponse response;
  const grpc::Status status =
      c.stub.DeleteAlarms(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << "deleted " << Names(request.alarm_names()) << "\n";
  });
}

int EnableAlarmActions(const CloudWatchContext& c) {
  const auto request = NamesRequest<v1::EnableAlarmActionsRequest>(c);
  v1::EnableAlarmActionsResponse response;
  const grpc::Status status =
      c.stub.EnableAlarmActions(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << "actions enabled: " << Names(request.alarm_names()) << "\n";
  });
}

int DisableAlarmActions(const CloudWatchContext& c) {
  const auto request = NamesRequest<v1::DisableAlarmActionsRequest>(c);
  v1::DisableAlarmActionsResponse response;
  const grpc::Status status =
      c.stub.DisableAlarmActions(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << "actions disabled: " << Names(request.alarm_names()) << "\n";
  });
}

}  // namespace thingtank::cli::compute
