#pragma once

// The value syntaxes of `thingtank compute ...` flags, as pure functions (no
// gRPC, no clock of their own: "now" is passed in), and the AWS names of the
// compute proto enums in both directions. Internal to tools/thingtank/cli.
//
//   load SPEC   constant:P | step:BEFORE,AFTER,TIME | sine:MEAN,AMPLITUDE,PERIOD
//               percentages 0 to 100; TIME as below; PERIOD a duration (600s, 10m,
//               1h30m)
//   TIME        RFC 3339 (2026-12-02T10:00:00Z, 2026-12-02T11:00:00.5+01:00), "now",
//               or relative to now with a sign: -1h, +30m, -90s, -1h30m, -2d
//   k=v         tags and dimensions; filters NAME=V1,V2 (or EC2's
//               Name=NAME,Values=V1,V2); steps LOWER:UPPER:ADJUSTMENT
//   NAME[:VERSION]  a launch template version (VERSION a number, $Latest or
//               $Default; default $Default)

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "thingtank/compute/v1/compute.pb.h"

namespace thingtank::cli::compute {

namespace v1 = thingtank::compute::v1;

// ---------------------------------------------------------------------------
// AWS names of enum values ("GreaterThanThreshold", "Average", "running").

template <typename Enum>
struct EnumName {
  Enum value;
  const char* name;
};

// The accepted names of an enum, in the order help texts list them. The
// UNSPECIFIED value has no name.
template <typename Enum>
using EnumNames = std::vector<EnumName<Enum>>;

// SampleCount, Average, Sum, Minimum, Maximum.
const EnumNames<v1::Statistic>& StatisticNames();
// GreaterThanThreshold, GreaterThanOrEqualToThreshold, LessThanThreshold,
// LessThanOrEqualToThreshold.
const EnumNames<v1::ComparisonOperator>& ComparisonOperatorNames();
// OK, ALARM, INSUFFICIENT_DATA.
const EnumNames<v1::StateValue>& StateValueNames();
// missing, notBreaching, breaching, ignore.
const EnumNames<v1::TreatMissingData>& TreatMissingDataNames();
// StateUpdate, Action, ConfigurationUpdate.
const EnumNames<v1::HistoryItemType>& HistoryItemTypeNames();
// ChangeInCapacity, ExactCapacity, PercentChangeInCapacity.
const EnumNames<v1::AdjustmentType>& AdjustmentTypeNames();
// SimpleScaling, StepScaling, TargetTrackingScaling.
const EnumNames<v1::PolicyType>& PolicyTypeNames();
// ASGAverageCPUUtilization.
const EnumNames<v1::PredefinedMetricType>& PredefinedMetricNames();
// simulated, process.
const EnumNames<v1::Driver>& DriverNames();
// pending, running, shutting-down, terminated, stopping, stopped.
const EnumNames<v1::InstanceStateName>& InstanceStateNames();

// The value named `text`: the exact AWS spelling, else the one name equal to
// it ignoring case ("average"); nullopt when none.
template <typename Enum>
std::optional<Enum> ParseEnumName(const EnumNames<Enum>& names, absl::string_view text) {
  for (const EnumName<Enum>& n : names) {
    if (text == n.name) return n.value;
  }
  for (const EnumName<Enum>& n : names) {
    if (absl::EqualsIgnoreCase(text, n.name)) return n.value;
  }
  return std::nullopt;
}

// The AWS name of `value`; "-" for UNSPECIFIED, the number for a value this
// build does not know.
template <typename Enum>
std::string EnumNameOf(const EnumNames<Enum>& names, Enum value) {
  for (const EnumName<Enum>& n : names) {
    if (n.value == value) return n.name;
  }
  return static_cast<int>(value) == 0 ? "-" : std::to_string(static_cast<int>(value));
}

// "A, B or C": for help texts and errors.
template <typename Enum>
std::string AcceptedNames(const EnumNames<Enum>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i].name;
  }
  return out;
}

// Parses the value of --`flag`; false with `error` ("--flag: \"x\" is not A,
// B or C") when it names no value.
template <typename Enum>
bool ParseEnumFlag(const std::string& flag, const std::string& text, const EnumNames<Enum>& names,
                   Enum* out, std::string* error) {
  std::optional<Enum> value = ParseEnumName(names, text);
  if (!value) {
    *error = "--" + flag + ": \"" + text + "\" is not " + AcceptedNames(names);
    return false;
  }
  *out = *value;
  return true;
}

// ---------------------------------------------------------------------------
// Numbers, durations and times.

// A finite decimal number ("90", "-1.5", "1e3"); false otherwise.
bool ParseDouble(absl::string_view text, double* out);

// A duration: absl's form (600s, 10m, 1h30m, 1.5s, 250ms), or the CLI's
// (4d, plain seconds "90"). Negative and infinite durations are refused.
std::optional<absl::Duration> ParseDurationArg(absl::string_view text);

// A TIME as in the header comment; relative times and "now" are taken from
// `now` (the local clock in the commands). False with a one-line `error`
// (without the flag name).
bool ParseTime(absl::string_view text, absl::Time now, absl::Time* out, std::string* error);

void SetTimestamp(absl::Time time, google::protobuf::Timestamp* out);
absl::Time FromTimestamp(const google::protobuf::Timestamp& ts);

// ---------------------------------------------------------------------------
// Compound values.

// A load SPEC into `out`; false with a one-line `error`.
bool ParseLoadSpec(absl::string_view spec, absl::Time now, v1::LoadModel* out, std::string* error);
// The SPEC of a model (times in RFC 3339 UTC); "-" when no model is set.
std::string FormatLoadSpec(const v1::LoadModel& load);

// "key=value" (or "key" alone when `value_optional`, value then empty).
// False when the key is empty or, unless `value_optional`, there is no '='.
bool ParseKeyValue(absl::string_view text, bool value_optional, std::string* key,
                   std::string* value);

// "NAME=V1,V2" or "Name=NAME,Values=V1,V2" into a DescribeInstances filter.
bool ParseFilter(absl::string_view text, v1::Filter* out, std::string* error);

// "COUNT,SUM,MIN,MAX" (--statistic-values); COUNT must be positive.
bool ParseStatisticSet(absl::string_view text, v1::StatisticSet* out, std::string* error);

// "LOWER:UPPER:ADJUSTMENT", bounds may be empty (unbounded): ":10:1", "10::2",
// "-20:0:-1".
bool ParseStepAdjustment(absl::string_view text, v1::StepAdjustment* out, std::string* error);

// A lifecycle hook's transition: the AWS name
// (autoscaling:EC2_INSTANCE_LAUNCHING, autoscaling:EC2_INSTANCE_TERMINATING)
// or its short form (launching, terminating), either ignoring case; nullopt
// when it is neither.
std::optional<std::string> ParseLifecycleTransition(absl::string_view text);
// The forms ParseLifecycleTransition accepts, for help texts and errors.
inline constexpr char kLifecycleTransitionForms[] =
    "launching, terminating, autoscaling:EC2_INSTANCE_LAUNCHING or "
    "autoscaling:EC2_INSTANCE_TERMINATING";

// A launch template version as EC2 names one: a version number (1, 2, ...),
// $Latest or $Default (exact spelling).
bool IsLaunchTemplateVersion(absl::string_view text);
// The forms IsLaunchTemplateVersion accepts, for help texts and errors.
inline constexpr char kLaunchTemplateVersionForms[] = "a version number, $Latest or $Default";

// NAME[:VERSION] (--launch-template) into `out`: the template by name (by id
// when NAME is one: lt- and 17 hex digits) and the version, $Default when not
// given. False with a one-line `error` naming the form.
bool ParseLaunchTemplateSpec(absl::string_view text, v1::LaunchTemplateSpecification* out,
                             std::string* error);
// NAME:VERSION of a specification (the id when it has no name, $Default when
// it has no version): what ParseLaunchTemplateSpec reads back.
std::string FormatLaunchTemplateSpec(const v1::LaunchTemplateSpecification& spec);

// What ends a lifecycle action or its timeout: CONTINUE or ABANDON (AWS's
// spelling only).
const std::vector<std::string>& LifecycleResults();

// Every value of a repeated flag, each also split at commas, empty parts
// dropped: {"Average,Maximum", "Sum"} -> {"Average", "Maximum", "Sum"}.
std::vector<std::string> SplitList(const std::vector<std::string>& values);

}  // namespace thingtank::cli::compute
