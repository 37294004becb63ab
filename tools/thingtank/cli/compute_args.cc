#include "tools/thingtank/cli/compute_args.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tools/thingtank/cli/cli_common.h"

namespace thingtank::cli::compute {
namespace {

constexpr char kTimeForms[] =
    "RFC 3339 (2026-12-02T10:00:00Z), now, or relative to now (-1h, +30m, -90s)";

bool ParsePercent(absl::string_view text, double* out) {
  return ParseDouble(text, out) && *out >= 0 && *out <= 100;
}

std::string Number(double value) { return absl::StrCat(value); }

// RFC 3339 in UTC with "Z", as TimeUtil (and so the rest of the output) prints it.
std::string TimeText(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", time, absl::UTCTimeZone());
}

}  // namespace

const EnumNames<v1::Statistic>& StatisticNames() {
  static const auto* kNames = new EnumNames<v1::Statistic>{
      {v1::STATISTIC_SAMPLE_COUNT, "SampleCount"},
      {v1::STATISTIC_AVERAGE, "Average"},
      {v1::STATISTIC_SUM, "Sum"},
      {v1::STATISTIC_MINIMUM, "Minimum"},
      {v1::STATISTIC_MAXIMUM, "Maximum"},
  };
  return *kNames;
}

const EnumNames<v1::ComparisonOperator>& ComparisonOperatorNames() {
  static const auto* kNames = new EnumNames<v1::ComparisonOperator>{
      {v1::COMPARISON_OPERATOR_GREATER_THAN_THRESHOLD, "GreaterThanThreshold"},
      {v1::COMPARISON_OPERATOR_GREATER_THAN_OR_EQUAL_TO_THRESHOLD, "GreaterThanOrEqualToThreshold"},
      {v1::COMPARISON_OPERATOR_LESS_THAN_THRESHOLD, "LessThanThreshold"},
      {v1::COMPARISON_OPERATOR_LESS_THAN_OR_EQUAL_TO_THRESHOLD, "LessThanOrEqualToThreshold"},
  };
  return *kNames;
}

const EnumNames<v1::StateValue>& StateValueNames() {
  static const auto* kNames = new EnumNames<v1::StateValue>{
      {v1::STATE_VALUE_OK, "OK"},
      {v1::STATE_VALUE_ALARM, "ALARM"},
      {v1::STATE_VALUE_INSUFFICIENT_DATA, "INSUFFICIENT_DATA"},
  };
  return *kNames;
}

const EnumNames<v1::TreatMissingData>& TreatMissingDataNames() {
  static const auto* kNames = new EnumNames<v1::TreatMissingData>{
      {v1::TREAT_MISSING_DATA_MISSING, "missing"},
      {v1::TREAT_MISSING_DATA_NOT_BREACHING, "notBreaching"},
      {v1::TREAT_MISSING_DATA_BREACHING, "breaching"},
      {v1::TREAT_MISSING_DATA_IGNORE, "ignore"},
  };
  return *kNames;
}

const EnumNames<v1::HistoryItemType>& HistoryItemTypeNames() {
  static const auto* kNames = new EnumNames<v1::HistoryItemType>{
      {v1::HISTORY_ITEM_TYPE_STATE_UPDATE, "StateUpdate"},
      {v1::HISTORY_ITEM_TYPE_ACTION, "Action"},
      {v1::HISTORY_ITEM_TYPE_CONFIGURATION_UPDATE, "ConfigurationUpdate"},
  };
  return *kNames;
}

const EnumNames<v1::AdjustmentType>& AdjustmentTypeNames() {
  static const auto* kNames = new EnumNames<v1::AdjustmentType>{
      {v1::ADJUSTMENT_TYPE_CHANGE_IN_CAPACITY, "ChangeInCapacity"},
      {v1::ADJUSTMENT_TYPE_EXACT_CAPACITY, "ExactCapacity"},
      {v1::ADJUSTMENT_TYPE_PERCENT_CHANGE_IN_CAPACITY, "PercentChangeInCapacity"},
  };
  return *kNames;
}

const EnumNames<v1::PolicyType>& PolicyTypeNames() {
  static const auto* kNames = new EnumNames<v1::PolicyType>{
      {v1::POLICY_TYPE_SIMPLE_SCALING, "SimpleScaling"},
      {v1::POLICY_TYPE_STEP_SCALING, "StepScaling"},
      {v1::POLICY_TYPE_TARGET_TRACKING_SCALING, "TargetTrackingScaling"},
  };
  return *kNames;
}

const EnumNames<v1::PredefinedMetricType>& PredefinedMetricNames() {
  static const auto* kNames = new EnumNames<v1::PredefinedMetricType>{
      {v1::PREDEFINED_METRIC_TYPE_ASG_AVERAGE_CPU_UTILIZATION, "ASGAverageCPUUtilization"},
  };
  return *kNames;
}

const EnumNames<v1::Driver>& DriverNames() {
  static const auto* kNames = new EnumNames<v1::Driver>{
      {v1::DRIVER_SIMULATED, "simulated"},
      {v1::DRIVER_PROCESS, "process"},
  };
  return *kNames;
}

const EnumNames<v1::InstanceStateName>& InstanceStateNames() {
  static const auto* kNames = new EnumNames<v1::InstanceStateName>{
      {v1::INSTANCE_STATE_NAME_PENDING, "pending"},
      {v1::INSTANCE_STATE_NAME_RUNNING, "running"},
      {v1::INSTANCE_STATE_NAME_SHUTTING_DOWN, "shutting-down"},
      {v1::INSTANCE_STATE_NAME_TERMINATED, "terminated"},
      {v1::INSTANCE_STATE_NAME_STOPPING, "stopping"},
      {v1::INSTANCE_STATE_NAME_STOPPED, "stopped"},
  };
  return *kNames;
}

bool ParseDouble(absl::string_view text, double* out) {
  double value = 0;
  if (text.empty() || !absl::SimpleAtod(text, &value) || !std::isfinite(value)) return false;
  *out = value;
  return true;
}

std::optional<absl::Duration> ParseDurationArg(absl::string_view text) {
  if (text.empty() || text[0] == '-' || text[0] == '+') return std::nullopt;
  absl::Duration duration;
  if (absl::ParseDuration(text, &duration)) {
    if (duration == absl::InfiniteDuration()) return std::nullopt;
    return duration;
  }
  std::optional<int64_t> nanos = ParseDurationNanos(std::string(text));
  if (!nanos) return std::nullopt;
  return absl::Nanoseconds(*nanos);
}

bool ParseTime(absl::string_view text, absl::Time now, absl::Time* out, std::string* error) {
  if (text == "now") {
    *out = now;
    return true;
  }
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    std::optional<absl::Duration> offset = ParseDurationArg(text.substr(1));
    if (!offset) {
      *error = absl::StrCat("\"", text, "\" is not a relative time (-1h, +30m, -90s, -1h30m)");
      return false;
    }
    *out = text[0] == '-' ? now - *offset : now + *offset;
    return true;
  }
  std::string parse_error;
  if (!absl::ParseTime(absl::RFC3339_full, text, out, &parse_error)) {
    *error = absl::StrCat("\"", text, "\" is not a time: ", kTimeForms);
    return false;
  }
  return true;
}

void SetTimestamp(absl::Time time, google::protobuf::Timestamp* out) {
  const int64_t seconds = absl::ToUnixSeconds(time);
  out->set_seconds(seconds);
  out->set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(seconds))));
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

bool ParseLoadSpec(absl::string_view spec, absl::Time now, v1::LoadModel* out, std::string* error) {
  const size_t colon = spec.find(':');
  const absl::string_view kind = spec.substr(0, colon);
  const absl::string_view rest = colon == absl::string_view::npos ? "" : spec.substr(colon + 1);
  const std::vector<absl::string_view> parts = absl::StrSplit(rest, absl::MaxSplits(',', 2));
  auto fail = [&](const std::string& form) {
    *error = absl::StrCat("\"", spec, "\" is not ", form);
    return false;
  };
  v1::LoadModel model;
  if (kind == "constant") {
    double percent = 0;
    if (!ParsePercent(rest, &percent)) return fail("constant:PERCENT (0 to 100, e.g. constant:90)");
    model.mutable_constant()->set_percent(percent);
  } else if (kind == "step") {
    const std::string form =
        "step:BEFORE,AFTER,TIME (percentages 0 to 100, e.g. "
        "step:10,90,2026-12-02T10:00:00Z or step:10,90,+5m)";
    double before = 0;
    double after = 0;
    absl::Time at;
    std::string time_error;
    if (parts.size() != 3 || !ParsePercent(parts[0], &before) || !ParsePercent(parts[1], &after)) {
      return fail(form);
    }
    if (!ParseTime(parts[2], now, &at, &time_error)) return fail(form + ": " + time_error);
    v1::StepLoad* step = model.mutable_step();
    step->set_before_percent(before);
    step->set_after_percent(after);
    SetTimestamp(at, step->mutable_at());
  } else if (kind == "sine") {
    const std::string form =
        "sine:MEAN,AMPLITUDE,PERIOD (percentages 0 to 100, e.g. sine:50,40,10m)";
    double mean = 0;
    double amplitude = 0;
    if (parts.size() != 3 || !ParsePercent(parts[0], &mean) ||
        !ParsePercent(parts[1], &amplitude)) {
      return fail(form);
    }
    std::optional<absl::Duration> period = ParseDurationArg(parts[2]);
    if (!period || *period <= absl::ZeroDuration()) {
      return fail(form + ": \"" + std::string(parts[2]) + "\" is not a positive duration");
    }
    v1::SineLoad* sine = model.mutable_sine();
    sine->set_mean_percent(mean);
    sine->set_amplitude_percent(amplitude);
    SetDuration(absl::ToInt64Nanoseconds(*period), sine->mutable_period());
  } else if (kind == "queue") {
    const std::string form =
        "queue:NAME,PERCENT_PER_MESSAGE[,IDLE] (e.g. queue:jobs,2,5: 5 % idle, 2 % per message of "
        "backlog per instance)";
    double per_message = 0;
    double idle = 0;
    if (parts.size() < 2 || parts[0].empty() || !ParsePercent(parts[1], &per_message) ||
        (parts.size() == 3 && !ParsePercent(parts[2], &idle))) {
      return fail(form);
    }
    v1::QueueDepthLoad* q = model.mutable_queue_depth();
    q->set_queue_name(std::string(parts[0]));
    q->set_percent_per_message(per_message);
    q->set_idle_percent(idle);
  } else {
    return fail("a load: constant:PERCENT, step:BEFORE,AFTER,TIME, sine:MEAN,AMPLITUDE,PERIOD or "
                "queue:NAME,PERCENT_PER_MESSAGE[,IDLE]");
  }
  *out = std::move(model);
  return true;
}

std::string FormatLoadSpec(const v1::LoadModel& load) {
  switch (load.model_case()) {
    case v1::LoadModel::kConstant:
      return "constant:" + Number(load.constant().percent());
    case v1::LoadModel::kStep:
      return absl::StrCat("step:", Number(load.step().before_percent()), ",",
                          Number(load.step().after_percent()), ",",
                          TimeText(FromTimestamp(load.step().at())));
    case v1::LoadModel::kSine:
      return absl::StrCat("sine:", Number(load.sine().mean_percent()), ",",
                          Number(load.sine().amplitude_percent()), ",",
                          FormatDuration(load.sine().period()));
    case v1::LoadModel::kQueueDepth:
      return absl::StrCat("queue:", load.queue_depth().queue_name(), ",",
                          Number(load.queue_depth().percent_per_message()), ",",
                          Number(load.queue_depth().idle_percent()));
    case v1::LoadModel::MODEL_NOT_SET:
      break;
  }
  return "-";
}

bool ParseKeyValue(absl::string_view text, bool value_optional, std::string* key,
                   std::string* value) {
  const size_t eq = text.find('=');
  if (eq == 0 || text.empty() || (eq == absl::string_view::npos && !value_optional)) return false;
  *key = std::string(text.substr(0, eq));
  *value = eq == absl::string_view::npos ? "" : std::string(text.substr(eq + 1));
  return true;
}

bool ParseFilter(absl::string_view text, v1::Filter* out, std::string* error) {
  absl::string_view name;
  absl::string_view values;
  if (absl::StartsWith(text, "Name=")) {
    const size_t at = text.find(",Values=");
    if (at == absl::string_view::npos) {
      *error = absl::StrCat("\"", text, "\" is not Name=NAME,Values=V1,V2");
      return false;
    }
    name = text.substr(5, at - 5);
    values = text.substr(at + 8);
  } else {
    const size_t eq = text.find('=');
    if (eq == absl::string_view::npos) {
      *error = absl::StrCat("\"", text, "\" is not NAME=V1,V2 (e.g. instance-state-name=running)");
      return false;
    }
    name = text.substr(0, eq);
    values = text.substr(eq + 1);
  }
  v1::Filter filter;
  filter.set_name(std::string(name));
  for (absl::string_view v : absl::StrSplit(values, ',', absl::SkipEmpty())) {
    filter.add_values(std::string(v));
  }
  if (filter.name().empty() || filter.values().empty()) {
    *error = absl::StrCat("\"", text, "\" needs a name and at least one value");
    return false;
  }
  *out = std::move(filter);
  return true;
}

bool ParseStatisticSet(absl::string_view text, v1::StatisticSet* out, std::string* error) {
  const std::vector<absl::string_view> parts = absl::StrSplit(text, ',');
  double v[4] = {0, 0, 0, 0};
  bool ok = parts.size() == 4;
  for (size_t i = 0; ok && i < 4; ++i) ok = ParseDouble(parts[i], &v[i]);
  if (!ok || v[0] <= 0) {
    *error =
        absl::StrCat("\"", text, "\" is not COUNT,SUM,MIN,MAX (COUNT above 0, e.g. 3,210,60,80)");
    return false;
  }
  out->set_sample_count(v[0]);
  out->set_sum(v[1]);
  out->set_minimum(v[2]);
  out->set_maximum(v[3]);
  return true;
}

bool ParseStepAdjustment(absl::string_view text, v1::StepAdjustment* out, std::string* error) {
  const std::vector<absl::string_view> parts = absl::StrSplit(text, ':');
  v1::StepAdjustment step;
  double bound = 0;
  int32_t adjustment = 0;
  bool ok = parts.size() == 3 && absl::SimpleAtoi(parts[2], &adjustment);
  if (ok && !parts[0].empty()) {
    ok = ParseDouble(parts[0], &bound);
    step.set_metric_interval_lower_bound(bound);
  }
  if (ok && !parts[1].empty()) {
    ok = ParseDouble(parts[1], &bound);
    step.set_metric_interval_upper_bound(bound);
  }
  if (!ok) {
    *error = absl::StrCat("\"", text,
                          "\" is not LOWER:UPPER:ADJUSTMENT (bounds may be empty, e.g. 0:10:1, "
                          "10::2)");
    return false;
  }
  step.set_scaling_adjustment(adjustment);
  *out = std::move(step);
  return true;
}

std::optional<std::string> ParseLifecycleTransition(absl::string_view text) {
  static const struct {
    const char* alias;
    const char* name;
  } kTransitions[] = {
      {"launching", "autoscaling:EC2_INSTANCE_LAUNCHING"},
      {"terminating", "autoscaling:EC2_INSTANCE_TERMINATING"},
  };
  for (const auto& t : kTransitions) {
    if (absl::EqualsIgnoreCase(text, t.alias) || absl::EqualsIgnoreCase(text, t.name)) {
      return std::string(t.name);
    }
  }
  return std::nullopt;
}

bool IsLaunchTemplateVersion(absl::string_view text) {
  if (text == "$Latest" || text == "$Default") return true;
  // A positive number: digits only, no sign or leading zero, within int64.
  if (text.empty() || text.size() > 18 || text[0] == '0') return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool ParseLaunchTemplateSpec(absl::string_view text, v1::LaunchTemplateSpecification* out,
                             std::string* error) {
  // Template names have no ':' (letters, digits and ( ) . - / _).
  const size_t colon = text.find(':');
  const absl::string_view name = text.substr(0, colon);
  const absl::string_view version =
      colon == absl::string_view::npos ? "$Default" : text.substr(colon + 1);
  if (name.empty() || !IsLaunchTemplateVersion(version)) {
    *error = absl::StrCat("\"", text, "\" is not NAME[:VERSION] (VERSION ",
                          kLaunchTemplateVersionForms, ", e.g. web:2 or web:$Latest)");
    return false;
  }
  v1::LaunchTemplateSpecification spec;
  const bool id = name.size() == 20 && absl::StartsWith(name, "lt-") &&
                  std::all_of(name.begin() + 3, name.end(), [](char c) {
                    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                  });
  if (id) {
    spec.set_launch_template_id(std::string(name));
  } else {
    spec.set_launch_template_name(std::string(name));
  }
  spec.set_version(std::string(version));
  *out = std::move(spec);
  return true;
}

std::string FormatLaunchTemplateSpec(const v1::LaunchTemplateSpecification& spec) {
  return absl::StrCat(
      spec.launch_template_name().empty() ? spec.launch_template_id() : spec.launch_template_name(),
      ":", spec.version().empty() ? "$Default" : spec.version());
}

const std::vector<std::string>& LifecycleResults() {
  static const auto* kResults = new std::vector<std::string>{"CONTINUE", "ABANDON"};
  return *kResults;
}

std::vector<std::string> SplitList(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const std::string& value : values) {
    for (absl::string_view part : absl::StrSplit(value, ',', absl::SkipEmpty())) {
      out.emplace_back(part);
    }
  }
  return out;
}

}  // namespace thingtank::cli::compute
