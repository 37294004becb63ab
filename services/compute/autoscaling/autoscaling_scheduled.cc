// Scheduled actions: at a time, or on a cron recurrence (UTC), a group's
// min, max or desired capacity change; the reconciler runs them when due.
#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/compute/autoscaling/autoscaling.h"
#include "services/compute/autoscaling/autoscaling_internal.h"
#include "services/compute/autoscaling/cron/cron.h"
#include "services/compute/proto_time.h"

namespace thingtank::compute {

using autoscaling_internal::GroupKey;
using autoscaling_internal::ValidationError;

namespace {

// When a recurrence runs next at or after `from` (and not after `end`), or nullopt.
std::optional<absl::Time> NextRun(const v1::ScheduledUpdateGroupAction& action, absl::Time from) {
  if (action.recurrence().empty()) return FromProto(action.start_time());
  auto cron = Cron::Parse(action.recurrence());
  if (!cron.ok()) return std::nullopt;
  auto next = cron->Next(from - absl::Microseconds(1));
  if (!next || (action.has_end_time() && *next > FromProto(action.end_time()))) return std::nullopt;
  return next;
}

}  // namespace

absl::StatusOr<v1::PutScheduledUpdateGroupActionResponse> AutoScaling::PutScheduledUpdateGroupAction(
    const v1::PutScheduledUpdateGroupActionRequest& request) {
  const std::string& name = request.scheduled_action_name();
  if (name.empty() || name.size() > 255 || name.find(':') != std::string::npos) {
    return ValidationError("scheduled_action_name", "must be 1 to 255 characters without ':'");
  }
  if (!request.has_min_size() && !request.has_max_size() && !request.has_desired_capacity()) {
    return ValidationError("desired_capacity",
                           "at least one of min_size, max_size and desired_capacity is required");
  }
  const absl::Time now = clock_->Now();
  if (!request.recurrence().empty()) {
    auto cron = Cron::Parse(request.recurrence());
    if (!cron.ok()) return ValidationError("recurrence", std::string(cron.status().message()));
  } else {
    if (!request.has_start_time()) {
      return ValidationError("start_time", "a one-off scheduled action needs start_time (or give recurrence)");
    }
    if (FromProto(request.start_time()) < now) {
      return ValidationError("start_time", "Given start time is in the past");
    }
    if (request.has_end_time()) return ValidationError("end_time", "only with recurrence");
  }
  if (request.has_end_time() && request.has_start_time() &&
      FromProto(request.end_time()) <= FromProto(request.start_time())) {
    return ValidationError("end_time", "must be after start_time");
  }
  absl::MutexLock lock(&mu_);
  TT_ASSIGN_OR_RETURN(Group * group, FindGroup(request.auto_scaling_group_name()));
  const v1::AutoScalingGroup& g = group->record.group();
  const int32_t min = request.has_min_size() ? request.min_size() : g.min_size();
  const int32_t max = request.has_max_size() ? request.max_size() : g.max_size();
  if (min > max) return ValidationError("min_size", "min_size must not be greater than max_size");
  if (request.has_desired_capacity() &&
      (request.desired_capacity() < min || request.desired_capacity() > max)) {
    return ValidationError("desired_capacity", "must be between the min and max sizes it leaves");
  }
  v1::ScheduledUpdateGroupAction action;
  for (const auto& a : group->record.scheduled_actions()) {
    if (a.scheduled_action_name() == name) action = a;
  }
  if (action.scheduled_action_arn().empty()) {
    action.set_scheduled_action_arn(Arn("scheduledUpdateGroupAction",
                                        absl::StrCat("autoScalingGroupName/", g.auto_scaling_group_name(),
                                                     ":scheduledActionName/", name)));
  }
  action.set_auto_scaling_group_name(g.auto_scaling_group_name());
  action.set_scheduled_action_name(name);
  *action.mutable_start_time() = request.has_start_time() ? request.start_time() : ToProto(now);
  if (request.has_end_time()) {
    *action.mutable_end_time() = request.end_time();
  } else {
    action.clear_end_time();
  }
  action.set_recurrence(request.recurrence());
  action.clear_min_size();
  action.clear_max_size();
  action.clear_desired_capacity();
  if (request.has_min_size()) action.set_min_size(request.min_size());
  if (request.has_max_size()) action.set_max_size(request.max_size());
  if (request.has_desired_capacity()) action.set_desired_capacity(request.desired_capacity());
  auto next = NextRun(action, std::max(now, FromProto(action.start_time())));
  if (!next) return ValidationError("recurrence", "the recurrence never runs before end_time");
  *action.mutable_next_run_time() = ToProto(*next);
  storage::GroupRecord updated = group->record;
  updated.clear_scheduled_actions();
  for (const auto& a : group->record.scheduled_actions()) {
    if (a.scheduled_action_name() != name) *updated.add_scheduled_actions() = a;
  }
  *updated.add_scheduled_actions() = action;
  std::sort(updated.mutable_scheduled_actions()->begin(), updated.mutable_scheduled_actions()->end(),
            [](const auto& a, const auto& b) { return a.scheduled_action_name() < b.scheduled_action_name(); });
  TT_RETURN_IF_ERROR(db_->Put(cf_, GroupKey(g.auto_scaling_group_name()), updated.SerializeAsString()));
  group->record = std::move(updated);
  return v1::PutScheduledUpdateGroupActionResponse();
}

absl::StatusOr<v1::DescribeScheduledActionsResponse> AutoScaling::DescribeScheduledActions(
    const v1::DescribeScheduledActionsRequest& request) const {
  std::set<std::string> wanted(request.scheduled_action_names().begin(),
                               request.scheduled_action_names().end());
  absl::ReaderMutexLock lock(&mu_);
  if (!request.auto_scaling_group_name().empty()) {
    TT_RETURN_IF_ERROR(FindGroup(request.auto_scaling_group_name()).status());
  }
  v1::DescribeScheduledActionsResponse response;
  for (const auto& [name, group] : groups_) {
    if (!request.auto_scaling_group_name().empty() && name != request.auto_scaling_group_name()) continue;
    for (const auto& a : group.record.scheduled_actions()) {
      if (wanted.empty() || wanted.count(a.scheduled_action_name()) > 0) {
        *response.add_scheduled_update_group_actions() = a;
      }
    }
  }
  return response;
}

absl::StatusOr<v1::DeleteScheduledActionResponse> AutoScaling::DeleteScheduledAction(
    const v1::DeleteScheduledActionRequest& request) {
  absl::MutexLock lock(&mu_);
  TT_ASSIGN_OR_RETURN(Group * group, FindGroup(request.auto_scaling_group_name()));
  storage::GroupRecord updated = group->record;
  updated.clear_scheduled_actions();
  bool found = false;
  for (const auto& a : group->record.scheduled_actions()) {
    if (a.scheduled_action_name() == request.scheduled_action_name()) {
      found = true;
    } else {
      *updated.add_scheduled_actions() = a;
    }
  }
  if (!found) {
    return ValidationError("scheduled_action_name",
                           absl::StrCat("Scheduled action name not found - ",
                                        request.scheduled_action_name()));
  }
  TT_RETURN_IF_ERROR(db_->Put(cf_, GroupKey(request.auto_scaling_group_name()),
                              updated.SerializeAsString()));
  group->record = std::move(updated);
  return v1::DeleteScheduledActionResponse();
}

void AutoScaling::RunScheduledActions(Group* group, absl::Time now, Batch* batch) {
  bool changed = false;
  storage::GroupRecord& record = group->record;
  google::protobuf::RepeatedPtrField<v1::ScheduledUpdateGroupAction> kept;
  for (auto& action : *record.mutable_scheduled_actions()) {
    if (!action.has_next_run_time() || FromProto(action.next_run_time()) > now) {
      *kept.Add() = action;
      continue;
    }
    changed = true;
    v1::AutoScalingGroup& g = *record.mutable_group();
    const int32_t min = action.has_min_size() ? action.min_size() : g.min_size();
    const int32_t max = std::max(min, action.has_max_size() ? action.max_size() : g.max_size());
    const int32_t desired = action.has_desired_capacity()
                                ? std::clamp(action.desired_capacity(), min, max)
                                : std::clamp(g.desired_capacity(), min, max);
    if (desired != g.desired_capacity()) {
      record.set_pending_cause(absl::StrCat(
          "At ", Iso8601(now), " a scheduled action update of AutoScalingGroup constraints to min: ",
          min, ", max: ", max, ", desired: ", desired, " changing the desired capacity from ",
          g.desired_capacity(), " to ", desired, ".  At ", Iso8601(now), " the scheduled action ",
          action.scheduled_action_name(), " executed."));
    }
    g.set_min_size(min);
    g.set_max_size(max);
    g.set_desired_capacity(desired);
    // One-off actions go; recurring ones wait for their next time.
    if (action.recurrence().empty()) continue;
    auto next = NextRun(action, now + absl::Microseconds(1));  // a minute after this one
    if (!next) continue;
    *action.mutable_next_run_time() = ToProto(*next);
    *kept.Add() = action;
  }
  if (!changed) return;
  *record.mutable_scheduled_actions() = std::move(kept);
  PutGroup(*group, batch);
}

}  // namespace thingtank::compute
