// Auto Scaling's calls on a group's instances and processes (health,
// protection, terminations, suspended processes), its activities, and the
// counts the compute service and its metrics read.
#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/compute/autoscaling/autoscaling.h"
#include "services/compute/autoscaling/autoscaling_internal.h"
#include "services/compute/proto_time.h"

namespace thingtank::compute {

using autoscaling_internal::Leaving;
using autoscaling_internal::Page;
using autoscaling_internal::ScalingInProgress;
using autoscaling_internal::ValidationError;

namespace {

using Names = google::protobuf::RepeatedPtrField<std::string>;

const std::set<std::string>& Processes() {
  static const auto* kProcesses = new std::set<std::string>{
      "Launch",           "Terminate",         "HealthCheck",       "ReplaceUnhealthy",
      "AZRebalance",      "AlarmNotification", "ScheduledActions",  "AddToLoadBalancer",
      "InstanceRefresh"};
  return *kProcesses;
}

absl::Status CheckProcesses(const Names& processes) {
  for (int i = 0; i < processes.size(); ++i) {
    if (Processes().count(processes[i]) == 0) {
      return ValidationError(absl::StrCat("scaling_processes[", i, "]"),
                             absl::StrCat("Unknown scaling process ", processes[i]));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::SetInstanceHealthResponse> AutoScaling::SetInstanceHealth(
    const v1::SetInstanceHealthRequest& request) {
  if (request.health_status() != "Healthy" && request.health_status() != "Unhealthy") {
    return ValidationError("health_status", "must be Healthy or Unhealthy");
  }
  absl::MutexLock lock(&mu_);
  Group* group = GroupOfInstance(request.instance_id());
  if (group == nullptr) {
    return ValidationError("instance_id",
                           absl::StrCat("Instance Id not found - No managed instance found for instance ID ",
                                        request.instance_id()));
  }
  storage::MemberRecord& member = group->members.at(request.instance_id());
  absl::Time now = clock_->Now();
  bool respect = !request.has_should_respect_grace_period() || request.should_respect_grace_period();
  absl::Time grace_end = absl::FromUnixMicros(member.launched_micros()) +
                         absl::Seconds(group->record.group().health_check_grace_period());
  if (request.health_status() == "Unhealthy" && respect && now < grace_end) {
    return v1::SetInstanceHealthResponse();  // still in its grace period: ignored, as AWS does
  }
  storage::MemberRecord updated = member;
  updated.set_health_status(request.health_status());
  if (request.health_status() == "Unhealthy") {
    updated.set_unhealthy_cause(absl::StrCat(
        "At ", Iso8601(now), " an instance was taken out of service in response to a user health-check."));
  }
  Batch batch;
  PutMember(*group, updated, &batch);
  TT_RETURN_IF_ERROR(Commit(&batch));
  member = updated;
  Poke();
  return v1::SetInstanceHealthResponse();
}

absl::StatusOr<v1::SetInstanceProtectionResponse> AutoScaling::SetInstanceProtection(
    const v1::SetInstanceProtectionRequest& request) {
  absl::MutexLock lock(&mu_);
  TT_ASSIGN_OR_RETURN(Group * group, FindGroup(request.auto_scaling_group_name()));
  if (request.instance_ids().empty()) return ValidationError("instance_ids", "at least one instance id");
  for (int i = 0; i < request.instance_ids().size(); ++i) {
    if (group->members.count(request.instance_ids(i)) == 0) {
      return ValidationError(absl::StrCat("instance_ids[", i, "]"),
                             absl::StrCat("The instance ", request.instance_ids(i),
                                          " is not part of Auto Scaling group ",
                                          request.auto_scaling_group_name(), "."));
    }
  }
  Batch batch;
  for (const std::string& id : request.instance_ids()) {
    storage::MemberRecord updated = group->members.at(id);
    updated.set_protected_from_scale_in(request.protected_from_scale_in());
    PutMember(*group, updated, &batch);
  }
  TT_RETURN_IF_ERROR(Commit(&batch));
  for (const std::string& id : request.instance_ids()) {
    group->members.at(id).set_protected_from_scale_in(request.protected_from_scale_in());
  }
  return v1::SetInstanceProtectionResponse();
}

absl::StatusOr<v1::TerminateInstanceInAutoScalingGroupResponse>
AutoScaling::TerminateInstanceInAutoScalingGroup(
    const v1::TerminateInstanceInAutoScalingGroupRequest& request) {
  absl::MutexLock lock(&mu_);
  Group* group = GroupOfInstance(request.instance_id());
  if (group == nullptr) {
    return ValidationError("instance_id",
                           absl::StrCat("Instance Id not found - No managed instance found for instance ID ",
                                        request.instance_id()));
  }
  storage::MemberRecord& member = group->members.at(request.instance_id());
  if (Leaving(member.lifecycle_state())) {
    return ScalingInProgress(absl::StrCat("Instance ", request.instance_id(), " is already terminating."));
  }
  absl::Time now = clock_->Now();
  v1::AutoScalingGroup& g = *group->record.mutable_group();
  Batch batch;
  std::string cause;
  if (request.should_decrement_desired_capacity()) {
    if (g.desired_capacity() - 1 < g.min_size()) {
      return ValidationError("should_decrement_desired_capacity",
                             absl::StrCat("Currently, desiredSize equals minSize (", g.min_size(),
                                          "). Terminating instance without replacement will violate "
                                          "group's min size constraint. Either set shouldDecrementDesiredCapacity "
                                          "flag to false or lower group's min size."));
    }
    cause = absl::StrCat("At ", Iso8601(now), " instance ", request.instance_id(),
                         " was taken out of service in response to a user request, shrinking the "
                         "capacity from ", g.desired_capacity(), " to ", g.desired_capacity() - 1, ".");
    g.set_desired_capacity(g.desired_capacity() - 1);
  } else {
    cause = absl::StrCat("At ", Iso8601(now), " instance ", request.instance_id(),
                         " was taken out of service in response to a user request.");
  }
  BeginTermination(group, &member, cause, now, &batch);
  PutGroup(*group, &batch);
  TT_RETURN_IF_ERROR(Commit(&batch));
  v1::TerminateInstanceInAutoScalingGroupResponse response;
  *response.mutable_activity() = group->open_activities.at(member.activity_id()).activity();
  Poke();
  return response;
}

absl::StatusOr<v1::SuspendProcessesResponse> AutoScaling::SuspendProcesses(
    const v1::SuspendProcessesRequest& request) {
  TT_RETURN_IF_ERROR(CheckProcesses(request.scaling_processes()));
  absl::MutexLock lock(&mu_);
  TT_ASSIGN_OR_RETURN(Group * group, FindGroup(request.auto_scaling_group_name()));
  std::set<std::string> suspended(group->record.group().suspended_processes().begin(),
                                  group->record.group().suspended_processes().end());
  if (request.scaling_processes().empty()) {
    suspended.insert(Processes().begin(), Processes().end());
  } else {
    suspended.insert(request.scaling_processes().begin(), request.scaling_processes().end());
  }
  Group updated = *group;
  updated.record.mutable_group()->clear_suspended_processes();
  for (const auto& p : suspended) updated.record.mutable_group()->add_suspended_processes(p);
  Batch batch;
  PutGroup(updated, &batch);
  TT_RETURN_IF_ERROR(Commit(&batch));
  *group->record.mutable_group() = updated.record.group();
  return v1::SuspendProcessesResponse();
}

absl::StatusOr<v1::ResumeProcessesResponse> AutoScaling::ResumeProcesses(
    const v1::ResumeProcessesRequest& request) {
  TT_RETURN_IF_ERROR(CheckProcesses(request.scaling_processes()));
  absl::MutexLock lock(&mu_);
  TT_ASSIGN_OR_RETURN(Group * group, FindGroup(request.auto_scaling_group_name()));
  std::set<std::string> resume(request.scaling_processes().begin(), request.scaling_processes().end());
  Group updated = *group;
  updated.record.mutable_group()->clear_suspended_processes();
  for (const auto& p : group->record.group().suspended_processes()) {
    if (!resume.empty() && resume.count(p) == 0) updated.record.mutable_group()->add_suspended_processes(p);
  }
  Batch batch;
  PutGroup(updated, &batch);
  TT_RETURN_IF_ERROR(Commit(&batch));
  *group->record.mutable_group() = updated.record.group();
  Poke();
  return v1::ResumeProcessesResponse();
}

absl::StatusOr<std::vector<std::string>> AutoScaling::GroupInstanceIds(const std::string& name) const {
  absl::ReaderMutexLock lock(&mu_);
  TT_ASSIGN_OR_RETURN(const Group* group, FindGroup(name));
  std::vector<std::string> ids;
  for (const auto& [id, m] : group->members) ids.push_back(id);
  return ids;
}

absl::StatusOr<v1::DescribeScalingActivitiesResponse> AutoScaling::DescribeScalingActivities(
    const v1::DescribeScalingActivitiesRequest& request) const {
  TT_ASSIGN_OR_RETURN(Page page, autoscaling_internal::ParsePage(request.max_records(),
                                                                 request.next_token(), 100));
  std::set<std::string> wanted(request.activity_ids().begin(), request.activity_ids().end());
  {
    absl::ReaderMutexLock lock(&mu_);
    if (!request.auto_scaling_group_name().empty()) {
      TT_RETURN_IF_ERROR(FindGroup(request.auto_scaling_group_name()).status());
    }
  }
  // Stored newest first per group; across groups merged by start time.
  std::vector<storage::ActivityRecord> all;
  std::string prefix = request.auto_scaling_group_name().empty()
                           ? "a/"
                           : absl::StrCat("a/", request.auto_scaling_group_name(), "/");
  auto it = db_->Scan(cf_, prefix);
  for (it->SeekSuffix(""); it->Valid(); it->Next()) {
    storage::ActivityRecord record;
    if (!record.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(absl::StrCat("unreadable activity ", it->key().ToString()));
    }
    if (!wanted.empty() && wanted.count(record.activity().activity_id()) == 0) continue;
    all.push_back(std::move(record));
  }
  TT_RETURN_IF_ERROR(it->status());
  // Newest first across groups (each group's are stored so already).
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    absl::Time ta = FromProto(a.activity().start_time()), tb = FromProto(b.activity().start_time());
    return ta != tb ? ta > tb : a.sequence() > b.sequence();
  });
  v1::DescribeScalingActivitiesResponse response;
  for (size_t i = page.offset; i < all.size(); ++i) {
    if (response.activities_size() == page.size) {
      response.set_next_token(absl::StrCat(i));
      break;
    }
    *response.add_activities() = all[i].activity();
  }
  return response;
}

std::vector<GroupCounts> AutoScaling::Counts() const {
  std::vector<GroupCounts> out;
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [name, group] : groups_) {
    GroupCounts c;
    c.group = name;
    c.min_size = group.record.group().min_size();
    c.max_size = group.record.group().max_size();
    c.desired = group.record.group().desired_capacity();
    for (const auto& [id, m] : group.members) {
      if (absl::StartsWith(m.lifecycle_state(), "Pending")) ++c.pending;
      if (m.lifecycle_state() == "InService") ++c.in_service;
      if (Leaving(m.lifecycle_state())) ++c.terminating;
    }
    out.push_back(c);
  }
  return out;
}

std::vector<PerInstanceTarget> AutoScaling::PerInstanceTargets() const {
  std::vector<PerInstanceTarget> out;
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [name, group] : groups_) {
    for (const auto& [pname, record] : group.policies) {
      const v1::ScalingPolicy& p = record.policy();
      if (p.policy_type() != v1::POLICY_TYPE_TARGET_TRACKING_SCALING ||
          !p.target_tracking_configuration().customized_metric_specification().per_instance()) {
        continue;
      }
      PerInstanceTarget t;
      t.group = name;
      t.policy = pname;
      t.metric = p.target_tracking_configuration().customized_metric_specification();
      for (const auto& [id, m] : group.members) t.in_service += m.lifecycle_state() == "InService";
      out.push_back(std::move(t));
    }
  }
  return out;
}

int64_t AutoScaling::activities_total() const {
  absl::ReaderMutexLock lock(&mu_);
  return activities_total_;
}

}  // namespace thingtank::compute
