#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "thingtank/compute/v1/compute.pb.h"

// How a metric alarm decides its state from the values of its periods, and
// the texts CloudWatch writes about it. Pure functions: no clock, no storage.
namespace thingtank::compute {

// The outcome of one evaluation.
struct AlarmDecision {
  // The state the alarm should be in; unset: keep the current state
  // (treat_missing_data ignore without enough data to decide).
  std::optional<v1::StateValue> state;
  // CloudWatch's StateReason and StateReasonData (JSON) for `state`; empty
  // when `state` is the alarm's current state (nothing to record).
  std::string reason;
  std::string reason_data;
  // The newest real datapoint that was evaluated.
  std::optional<double> newest_value;
};

// Decides an alarm's state from `values`, one per period of the evaluation
// range (oldest first; nullopt: no data), the oldest starting at
// `range_start`. The range holds at least evaluation_periods periods.
//
// With N = evaluation_periods, M = datapoints_to_alarm and r real datapoints
// in the range (CloudWatch's documented rules):
// - r >= N: the N newest real datapoints decide, whatever treat_missing_data
//   says: ALARM when at least M breach, else OK.
// - r < N: the N - r newest missing periods are filled by treat_missing_data:
//   breaching: they breach (ALARM when breaching real + filled >= M);
//   notBreaching: they do not (ALARM when breaching real >= M);
//   ignore: ALARM when breaching real >= M, OK when even filling every
//     missing period with a breach could not reach M, else keep the state
//     (and keep it when r = 0);
//   missing (default): r = 0 gives INSUFFICIENT_DATA; else only the real
//     datapoints count: ALARM when breaching real >= min(M, r), else OK.
// Everything else is OK.
AlarmDecision DecideAlarmState(const v1::MetricAlarm& alarm,
                               const std::vector<std::optional<double>>& values,
                               absl::Time range_start, absl::Time query_time);

bool Breaches(v1::ComparisonOperator op, double value, double threshold);

// "OK", "ALARM", "INSUFFICIENT_DATA".
std::string StateName(v1::StateValue state);
// A double as CloudWatch (Java) prints it: "90.0", "0.5", "1.0E10".
std::string FormatValue(double v);
// "2026-02-12T10:02:00.000+0000".
std::string IsoTime(absl::Time t);

// The history_data of a StateUpdate item: {"version":"1.0","oldState":{...},"newState":{...}}.
std::string StateUpdateHistoryData(const v1::MetricAlarm& old_alarm,
                                   const v1::MetricAlarm& new_alarm);

}  // namespace thingtank::compute
