// Alarms: evaluation, transitions, SetAlarmState and running actions.

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "services/common/status.h"
#include "services/compute/cloudwatch/alarm_rules.h"
#include "services/compute/cloudwatch/alarms.h"
#include "services/compute/proto_time.h"

namespace thingtank::compute {
namespace {

const google::protobuf::RepeatedPtrField<std::string>& ActionsOf(const v1::MetricAlarm& a,
                                                                  v1::StateValue state) {
  switch (state) {
    case v1::STATE_VALUE_OK: return a.ok_actions();
    case v1::STATE_VALUE_ALARM: return a.alarm_actions();
    default: return a.insufficient_data_actions();
  }
}

std::string ActionData(const std::string& arn, const absl::Status& s, absl::Time when) {
  nlohmann::json j;
  j["actionState"] = s.ok() ? "Succeeded" : "Failed";
  j["stateUpdateTimestamp"] = absl::ToUnixMillis(when);
  j["notificationResource"] = arn;
  if (!s.ok()) j["error"] = std::string(s.message());
  return j.dump();
}

}  // namespace

AlarmActionEvent Alarms::EventFor(const Entry& e, v1::StateValue old_state, absl::Time when,
                                  bool repeat) const {
  AlarmActionEvent ev;
  ev.alarm_name = e.alarm.alarm_name();
  ev.alarm_arn = e.alarm.alarm_arn();
  ev.old_state = old_state;
  ev.new_state = e.alarm.state_value();
  ev.reason = e.alarm.state_reason();
  ev.reason_data = e.alarm.state_reason_data();
  ev.time = when;
  ev.metric_value = e.last_value;
  ev.threshold = e.alarm.threshold();
  ev.comparison = e.alarm.comparison_operator();
  ev.repeat = repeat;
  return ev;
}

void Alarms::StageTransition(Staged* staged, Entry entry, const v1::MetricAlarm& old_alarm,
                             absl::Time when) {
  const v1::StateValue state = entry.alarm.state_value();
  StageHistory(staged, entry.alarm.alarm_name(), when, v1::HISTORY_ITEM_TYPE_STATE_UPDATE,
               absl::StrCat("Alarm updated from ", StateName(old_alarm.state_value()), " to ",
                            StateName(state)),
               StateUpdateHistoryData(old_alarm, entry.alarm));
  if (entry.alarm.actions_enabled()) {
    const auto& actions = ActionsOf(entry.alarm, state);
    for (const std::string& arn : actions) {
      staged->actions.push_back({arn, EventFor(entry, old_alarm.state_value(), when, false)});
    }
    if (state == v1::STATE_VALUE_ALARM && !actions.empty()) entry.last_alarm_actions = when;
  }
  ++staged->transitions;
  StageEntry(staged, std::move(entry));
}

bool Alarms::Evaluate(Entry& entry, absl::Time boundary, Staged* staged) {
  const int range = entry.alarm.evaluation_periods() + options_.extra_evaluation_periods;
  const absl::Duration period = absl::Seconds(entry.alarm.period());
  const std::vector<std::optional<double>> values = metrics_->PeriodValues(
      entry.spec.metric, entry.spec.stat, entry.spec.unit, period, boundary, range);
  const AlarmDecision d = DecideAlarmState(entry.alarm, values, boundary - period * range,
                                           boundary);
  ++evaluations_total_;
  entry.last_evaluated = boundary;
  if (d.newest_value) entry.last_value = d.newest_value;
  if (!d.state || *d.state == entry.alarm.state_value()) return false;
  Entry updated = entry;
  updated.alarm.set_state_value(*d.state);
  updated.alarm.set_state_reason(d.reason);
  updated.alarm.set_state_reason_data(d.reason_data);
  *updated.alarm.mutable_state_updated_timestamp() = ToProto(boundary);
  StageTransition(staged, std::move(updated), entry.alarm, boundary);
  return true;
}

void Alarms::MaybeRepeat(const Entry& entry, absl::Time boundary, Staged* staged) {
  if (entry.repeating.empty() || !entry.alarm.actions_enabled() ||
      entry.alarm.state_value() != v1::STATE_VALUE_ALARM ||
      boundary - entry.last_alarm_actions < options_.repeat_interval) {
    return;
  }
  Entry updated = entry;
  updated.last_alarm_actions = boundary;
  for (const std::string& arn : entry.repeating) {
    staged->actions.push_back({arn, EventFor(entry, v1::STATE_VALUE_ALARM, boundary, true)});
  }
  StageEntry(staged, std::move(updated));
}

absl::Status Alarms::EvaluateDue(absl::Time boundary) {
  std::vector<PendingAction> actions;
  {
    absl::MutexLock l(&mu_);
    Staged staged;
    const int64_t seconds = absl::ToUnixSeconds(boundary);
    for (auto& [name, entry] : alarms_) {
      const bool due = entry.alarm.period() > 0 && seconds % entry.alarm.period() == 0 &&
                       boundary > entry.last_evaluated;
      if (due && Evaluate(entry, boundary, &staged)) continue;
      MaybeRepeat(entry, boundary, &staged);
    }
    StageHistoryTrim(&staged, boundary);
    TT_RETURN_IF_ERROR(Commit(&staged));
    actions = std::move(staged.actions);
  }
  return RunActions(std::move(actions));
}

absl::StatusOr<v1::SetAlarmStateResponse> Alarms::SetAlarmState(
    const v1::SetAlarmStateRequest& r) {
  TT_RETURN_IF_ERROR(ValidateSetAlarmState(r));
  const absl::Time now = clock_->Now();
  std::vector<PendingAction> actions;
  {
    absl::MutexLock l(&mu_);
    auto it = alarms_.find(r.alarm_name());
    if (it == alarms_.end()) {
      return ErrorWithReason(absl::StatusCode::kNotFound, "ResourceNotFound",
                             absl::StrCat("alarm \"", r.alarm_name(), "\" does not exist"));
    }
    Entry updated = it->second;
    const v1::MetricAlarm old_alarm = updated.alarm;
    updated.alarm.set_state_reason(r.state_reason());
    updated.alarm.set_state_reason_data(r.state_reason_data());
    Staged staged;
    if (old_alarm.state_value() == r.state_value()) {
      // Same state: the reason changes, nothing runs.
      StageEntry(&staged, std::move(updated));
    } else {
      updated.alarm.set_state_value(r.state_value());
      *updated.alarm.mutable_state_updated_timestamp() = ToProto(now);
      StageTransition(&staged, std::move(updated), old_alarm, now);
    }
    TT_RETURN_IF_ERROR(Commit(&staged));
    actions = std::move(staged.actions);
  }
  TT_RETURN_IF_ERROR(RunActions(std::move(actions)));
  return v1::SetAlarmStateResponse();
}

absl::Status Alarms::RunActions(std::vector<PendingAction> actions) {
  if (actions.empty()) return absl::OkStatus();
  std::vector<absl::Status> results;
  results.reserve(actions.size());
  for (const PendingAction& a : actions) results.push_back(sink_->RunAction(a.arn, a.event));
  const absl::Time now = clock_->Now();
  absl::MutexLock l(&mu_);
  Staged staged;
  for (size_t i = 0; i < actions.size(); ++i) {
    const std::string& arn = actions[i].arn;
    const absl::Status& s = results[i];
    const absl::Time when = std::max(now, actions[i].event.time);
    ++actions_total_;
    if (!s.ok()) ++action_failures_total_;
    // An action history item for an alarm deleted meanwhile is still kept.
    StageHistory(&staged, actions[i].event.alarm_name, when, v1::HISTORY_ITEM_TYPE_ACTION,
                 s.ok() ? absl::StrCat("Successfully executed action ", arn)
                        : absl::StrCat("Failed to execute action ", arn,
                                       ". Received error: \"", s.message(), "\""),
                 ActionData(arn, s, when));
  }
  return Commit(&staged);
}

}  // namespace thingtank::compute
