// The reconciler: keeps every group at its desired capacity and records
// what it does as scaling activities.
#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "services/common/status.h"
#include "services/compute/autoscaling/autoscaling.h"
#include "services/compute/autoscaling/autoscaling_internal.h"
#include "services/compute/autoscaling/termination.h"
#include "services/compute/proto_time.h"

namespace thingtank::compute {

using autoscaling_internal::GroupKey;
using autoscaling_internal::kInService;
using autoscaling_internal::kLaunching;
using autoscaling_internal::kPending;
using autoscaling_internal::kTerminating;
using autoscaling_internal::Leaving;
using autoscaling_internal::MemberKey;

namespace {


bool Gone(const std::optional<v1::Instance>& instance) {
  return !instance || instance->state().name() == v1::INSTANCE_STATE_NAME_TERMINATED;
}

}  // namespace

void AutoScaling::Reconcile() {
  std::vector<std::string> alarms_to_delete;
  {
    absl::MutexLock lock(&mu_);
    const absl::Time now = clock_->Now();
    std::vector<std::string> deleted;
    for (auto& [name, group] : groups_) {
      ReconcileGroup(&group, now);
      if (group.record.group().status() == "Delete in progress" && group.members.empty() &&
          group.open_activities.empty()) {
        deleted.push_back(name);
      }
    }
    for (const std::string& name : deleted) {
      rocksdb::WriteBatch batch;
      batch.Delete(cf_, GroupKey(name));
      db_->DeletePrefix(&batch, cf_, absl::StrCat("p/", name, "/"));
      db_->DeletePrefix(&batch, cf_, absl::StrCat("m/", name, "/"));
      db_->DeletePrefix(&batch, cf_, absl::StrCat("a/", name, "/"));
      absl::Status status = Commit(&batch);
      if (!status.ok()) {
        TT_LOG_ERROR("compute: deleting group {} failed: {}", name, status.ToString());
        continue;
      }
      for (const auto& [pname, policy] : groups_.at(name).policies) {
        policy_by_arn_.erase(policy.policy().policy_arn());
        for (const auto& alarm : policy.policy().alarm_names()) alarms_to_delete.push_back(alarm);
      }
      groups_.erase(name);
    }
  }
  if (alarms_ != nullptr && !alarms_to_delete.empty()) (void)alarms_->DeleteAlarms(alarms_to_delete);
}

void AutoScaling::ReconcileGroup(Group* group, absl::Time now) {
  rocksdb::WriteBatch batch;
  RefreshMembers(group, now, &batch);
  ExpireWaits(group, now, &batch);
  if (!Suspended(*group, "ScheduledActions")) RunScheduledActions(group, now, &batch);
  ResumeOpenLaunches(group, now, &batch);
  if (!Suspended(*group, "HealthCheck") && !Suspended(*group, "ReplaceUnhealthy")) {
    ReplaceUnhealthy(group, now, &batch);
  }
  const int32_t counted = Counted(*group);
  const int32_t desired = group->record.group().desired_capacity();
  if (counted > desired && !Suspended(*group, "Terminate") && !Rebalancing(*group)) {
    ScaleIn(group, counted - desired, now, &batch);
  }
  absl::Status status = Commit(&batch);
  if (!status.ok()) {
    TT_LOG_ERROR("compute: reconciling group {} failed to store: {}",
                 group->record.group().auto_scaling_group_name(), status.ToString());
    return;
  }
  // Terminations are decided and stored; carry them out (again after a restart).
  for (const auto& [id, member] : group->members) {
    if (member.lifecycle_state() != kTerminating) continue;
    absl::Status terminated = instances_->TerminateForGroup(id);
    if (!terminated.ok()) TT_LOG_WARN("compute: terminating {}: {}", id, terminated.ToString());
  }
  const bool may_launch = !Suspended(*group, "Launch") &&
                          now >= absl::FromUnixMicros(group->record.launch_retry_micros());
  if (counted < desired && may_launch) {
    ScaleOut(group, desired - counted, now);
  } else if (counted == desired && may_launch && !Suspended(*group, "Terminate") &&
             !Suspended(*group, "AZRebalance")) {
    RebalanceZones(group, now);
  }
}

bool AutoScaling::Rebalancing(const Group& group) const {
  const std::string& id = group.record.rebalance_activity_id();
  return !id.empty() && group.open_activities.count(id) > 0;
}

void AutoScaling::RebalanceZones(Group* group, absl::Time now) {
  const v1::AutoScalingGroup& g = group->record.group();
  if (g.availability_zones_size() < 2 || !group->open_activities.empty()) return;
  std::map<std::string, int> per_zone;
  for (const auto& zone : g.availability_zones()) per_zone[zone] = 0;
  for (const auto& [id, m] : group->members) {
    if (Leaving(m.lifecycle_state())) return;  // settle first
    if (per_zone.count(m.availability_zone()) == 0) continue;  // a zone the group left: scale-in takes it
    per_zone[m.availability_zone()] += 1;
  }
  auto [least, most] = std::minmax_element(per_zone.begin(), per_zone.end(),
                                           [](const auto& a, const auto& b) { return a.second < b.second; });
  if (most->second - least->second <= 1) return;
  const int32_t margin = std::max(1, g.max_size() / 10);
  if (g.desired_capacity() + 1 > g.max_size() + margin) return;
  group->record.set_pending_cause(absl::StrCat(
      "At ", Iso8601(now), " Availability Zones had unbalanced instances (", least->first, ": ",
      least->second, ", ", most->first, ": ", most->second,
      "); an instance was launched to aid in balancing the group's zones."));
  ScaleOut(group, 1, now);
  for (const auto& [id, activity] : group->open_activities) {
    if (activity.kind() == "launch") group->record.set_rebalance_activity_id(id);
  }
  rocksdb::WriteBatch batch;
  PutGroup(*group, &batch);
  (void)Commit(&batch);
}

void AutoScaling::RefreshMembers(Group* group, absl::Time now, rocksdb::WriteBatch* batch) {
  const std::string& name = group->record.group().auto_scaling_group_name();
  const absl::Duration grace = absl::Seconds(group->record.group().health_check_grace_period());
  std::vector<std::string> removed;
  for (auto& [id, member] : group->members) {
    std::optional<v1::Instance> instance = instances_->Find(id);
    storage::MemberRecord updated = member;
    if (Leaving(member.lifecycle_state())) {
      if (Gone(instance)) {
        FinishActivity(group, member.activity_id(), "Successful", "", now, batch);
        batch->Delete(cf_, MemberKey(name, id));
        removed.push_back(id);
      }
      continue;
    }
    const auto state = instance ? instance->state().name() : v1::INSTANCE_STATE_NAME_TERMINATED;
    if (state == v1::INSTANCE_STATE_NAME_RUNNING && member.lifecycle_state() == kPending &&
        !BeginWait(group, &updated, kLaunching, now)) {
      EnterService(group, &updated, now, batch);
    }
    if (updated.health_status() == "Healthy") {
      if (state != v1::INSTANCE_STATE_NAME_PENDING && state != v1::INSTANCE_STATE_NAME_RUNNING) {
        updated.set_health_status("Unhealthy");
        updated.set_unhealthy_cause(absl::StrCat(
            "At ", Iso8601(now), " an instance was taken out of service in response to an EC2 "
            "health check indicating it has been terminated or stopped."));
      } else if (state == v1::INSTANCE_STATE_NAME_RUNNING && !instances_->Healthy(id) &&
                 now >= absl::FromUnixMicros(member.launched_micros()) + grace) {
        updated.set_health_status("Unhealthy");
        updated.set_unhealthy_cause(absl::StrCat(
            "At ", Iso8601(now), " an instance was taken out of service in response to an EC2 "
            "instance status checks failure."));
      }
    }
    if (updated.SerializeAsString() != member.SerializeAsString()) {
      PutMember(*group, updated, batch);
      member = updated;
    }
  }
  for (const std::string& id : removed) group->members.erase(id);
}

void AutoScaling::ResumeOpenLaunches(Group* group, absl::Time now, rocksdb::WriteBatch* batch) {
  std::vector<std::string> ids;
  for (const auto& [id, activity] : group->open_activities) {
    if (activity.kind() == "launch" && activity.instance_id().empty()) ids.push_back(id);
  }
  for (const std::string& id : ids) {
    auto it = group->open_activities.find(id);
    if (it == group->open_activities.end()) continue;
    (void)CarryOutLaunch(group, &it->second, now, batch);
  }
}

void AutoScaling::ReplaceUnhealthy(Group* group, absl::Time now, rocksdb::WriteBatch* batch) {
  for (auto& [id, member] : group->members) {
    if (Leaving(member.lifecycle_state()) || member.health_status() != "Unhealthy") continue;
    BeginTermination(group, &member, member.unhealthy_cause(), now, batch);
  }
}

void AutoScaling::ScaleOut(Group* group, int32_t count, absl::Time now) {
  const v1::AutoScalingGroup& g = group->record.group();
  for (int32_t i = 0; i < count; ++i) {
    // Spread: the group's zone with the fewest instances (ties: the first listed).
    std::map<std::string, int> per_zone;
    for (const auto& zone : g.availability_zones()) per_zone[zone] = 0;
    for (const auto& [id, m] : group->members) {
      if (!Leaving(m.lifecycle_state())) per_zone[m.availability_zone()] += 1;
    }
    for (const auto& [id, a] : group->open_activities) {
      if (a.kind() == "launch") per_zone[a.availability_zone()] += 1;
    }
    std::string zone = g.availability_zones(0);
    for (const auto& z : g.availability_zones()) {
      if (per_zone[z] < per_zone[zone]) zone = z;
    }
    const int32_t before = Counted(*group);
    std::string cause = absl::StrCat(
        group->record.pending_cause(), "  At ", Iso8601(now),
        " an instance was started in response to a difference between desired and actual "
        "capacity, increasing the capacity from ", before, " to ", before + 1, ".");
    storage::ActivityRecord activity =
        NewActivity(*group, "launch", "Launching a new EC2 instance", cause, now);
    activity.set_availability_zone(zone);
    activity.mutable_activity()->set_details(absl::StrCat(
        "{\"Subnet ID\":\"subnet-", zone, "\",\"Availability Zone\":\"", zone, "\"}"));
    // The decision first: after a crash the launch is repeated with the same token.
    rocksdb::WriteBatch decision;
    PutActivity(activity, &decision);
    if (!Commit(&decision).ok()) return;
    const std::string activity_id = activity.activity().activity_id();
    group->open_activities[activity_id] = std::move(activity);
    rocksdb::WriteBatch batch;
    absl::Status launched = CarryOutLaunch(group, &group->open_activities[activity_id], now, &batch);
    absl::Status stored = Commit(&batch);
    if (!stored.ok()) {
      TT_LOG_ERROR("compute: storing a launch of group {}: {}", g.auto_scaling_group_name(),
                   stored.ToString());
    }
    if (!launched.ok()) return;  // retried after launch_retry
  }
}

absl::Status AutoScaling::CarryOutLaunch(Group* group, storage::ActivityRecord* activity,
                                         absl::Time now, rocksdb::WriteBatch* batch) {
  const v1::AutoScalingGroup& g = group->record.group();
  const std::string activity_id = activity->activity().activity_id();
  storage::MemberRecord member;
  absl::StatusOr<v1::RunInstancesRequest> launch = LaunchSpec(*group, &member);
  absl::Status status = launch.status();
  std::optional<v1::Instance> instance;
  if (launch.ok()) {
    v1::RunInstancesRequest& spec = *launch;
    // The activity's zone first, then the group's others when it is full.
    std::vector<std::string> zones = {activity->availability_zone()};
    for (const auto& z : g.availability_zones()) {
      if (z != activity->availability_zone()) zones.push_back(z);
    }
    for (const std::string& zone : zones) {
      spec.set_availability_zone(zone);
      auto launched = instances_->LaunchIntoGroup(spec, g.auto_scaling_group_name(), activity_id);
      status = launched.status();
      if (launched.ok()) {
        instance = *launched;
        break;
      }
      if (ErrorReason(status) != "InsufficientInstanceCapacity") break;
    }
  }
  if (!instance) {
    v1::Activity* a = activity->mutable_activity();
    a->set_description(absl::StrCat("Launching a new EC2 instance.  Status Reason: ", status.message(),
                                    " Launching EC2 instance failed."));
    a->set_status_message(absl::StrCat(status.message(), " Launching EC2 instance failed."));
    group->record.set_launch_retry_micros(absl::ToUnixMicros(now + options_.launch_retry));
    PutGroup(*group, batch);
    FinishActivity(group, activity_id, "Failed", std::string(status.message()), now, batch);
    return status;
  }
  activity->set_instance_id(instance->instance_id());
  activity->set_availability_zone(instance->availability_zone());
  activity->mutable_activity()->set_description(
      absl::StrCat("Launching a new EC2 instance: ", instance->instance_id()));
  activity->mutable_activity()->set_progress(30);
  PutActivity(*activity, batch);
  member.set_instance_id(instance->instance_id());
  member.set_availability_zone(instance->availability_zone());
  member.set_lifecycle_state(instance->state().name() == v1::INSTANCE_STATE_NAME_RUNNING ? kInService
                                                                                       : kPending);
  member.set_health_status("Healthy");
  member.set_instance_type(instance->instance_type());
  member.set_protected_from_scale_in(g.new_instances_protected_from_scale_in());
  member.set_launched_micros(absl::ToUnixMicros(FromProto(instance->launch_time())));
  member.set_activity_id(activity_id);
  PutMember(*group, member, batch);
  group->members[member.instance_id()] = member;
  if (member.lifecycle_state() == kInService) {
    FinishActivity(group, activity_id, "Successful", "", now, batch);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::RunInstancesRequest> AutoScaling::LaunchSpec(const Group& group,
                                                                storage::MemberRecord* member) const {
  const v1::AutoScalingGroup& g = group.record.group();
  v1::RunInstancesRequest spec;
  if (g.has_launch_template()) {
    if (templates_ == nullptr) {
      return autoscaling_internal::ValidationError("launch_template", "this server has no launch templates");
    }
    TT_ASSIGN_OR_RETURN(v1::LaunchTemplateVersion version,
                        templates_->Resolve(g.launch_template(), "launch_template."));
    LaunchTemplates::Fill(version.launch_template_data(), &spec);
    v1::LaunchTemplateSpecification* used = member->mutable_launch_template();
    used->set_launch_template_id(version.launch_template_id());
    used->set_launch_template_name(version.launch_template_name());
    used->set_version(absl::StrCat(version.version_number()));
  } else {
    auto lc = launch_configurations_.find(g.launch_configuration_name());
    if (lc == launch_configurations_.end()) {
      return autoscaling_internal::ValidationError(
          "launch_configuration_name",
          absl::StrCat("Launch configuration name not found - ", g.launch_configuration_name()));
    }
    const v1::LaunchConfiguration& c = lc->second.launch_configuration();
    spec.set_image_id(c.image_id());
    spec.set_instance_type(c.instance_type());
    spec.set_key_name(c.key_name());
    *spec.mutable_security_groups() = c.security_groups();
    spec.set_user_data(c.user_data());
    spec.set_driver(c.driver());
    if (c.has_load()) *spec.mutable_load() = c.load();
    member->set_launch_configuration_name(g.launch_configuration_name());
  }
  if (group.record.has_load()) *spec.mutable_load() = group.record.load();
  // The group's tags join the template's (the group's win on a key).
  std::map<std::string, std::string> tags;
  for (const auto& t : spec.tags()) tags[t.key()] = t.value();
  for (const auto& t : g.tags()) tags[t.key()] = t.value();
  spec.clear_tags();
  for (const auto& [k, v] : tags) {
    v1::Tag* t = spec.add_tags();
    t->set_key(k);
    t->set_value(v);
  }
  return spec;
}

void AutoScaling::ScaleIn(Group* group, int32_t count, absl::Time now, rocksdb::WriteBatch* batch) {
  std::map<std::string, absl::Time> config_created;
  for (const auto& [name, lc] : launch_configurations_) {
    config_created[name] = FromProto(lc.launch_configuration().created_time());
  }
  std::vector<std::string> policies(group->record.group().termination_policies().begin(),
                                    group->record.group().termination_policies().end());
  for (int32_t i = 0; i < count; ++i) {
    std::vector<TerminationCandidate> candidates;
    for (const auto& [id, m] : group->members) {
      if (Leaving(m.lifecycle_state()) || m.protected_from_scale_in()) continue;
      candidates.push_back({id, m.availability_zone(), m.launch_configuration_name(),
                            absl::FromUnixMicros(m.launched_micros())});
    }
    if (candidates.empty()) return;  // the rest are protected from scale-in
    const int32_t before = Counted(*group);
    std::string victim = PickForTermination(candidates, policies, config_created, now);
    std::string cause = absl::StrCat(
        group->record.pending_cause(), "  At ", Iso8601(now),
        " an instance was taken out of service in response to a difference between desired and "
        "actual capacity, shrinking the capacity from ", before, " to ", before - 1, ".  At ",
        Iso8601(now), " instance ", victim, " was selected for termination.");
    BeginTermination(group, &group->members.at(victim), cause, now, batch);
  }
}

void AutoScaling::BeginTermination(Group* group, storage::MemberRecord* member,
                                   const std::string& cause, absl::Time now,
                                   rocksdb::WriteBatch* batch, bool use_hooks) {
  storage::ActivityRecord activity = NewActivity(
      *group, "terminate", absl::StrCat("Terminating EC2 instance: ", member->instance_id()), cause,
      now);
  activity.set_instance_id(member->instance_id());
  activity.set_availability_zone(member->availability_zone());
  PutActivity(activity, batch);
  member->set_activity_id(activity.activity().activity_id());
  if (!use_hooks || member->abandoned() ||
      !BeginWait(group, member, autoscaling_internal::kTerminatingTransition, now)) {
    member->set_lifecycle_state(kTerminating);
  }
  PutMember(*group, *member, batch);
  group->open_activities[activity.activity().activity_id()] = std::move(activity);
}

void AutoScaling::FinishActivity(Group* group, const std::string& activity_id,
                                 const std::string& status, const std::string& message,
                                 absl::Time now, rocksdb::WriteBatch* batch) {
  auto it = group->open_activities.find(activity_id);
  if (it == group->open_activities.end()) return;
  v1::Activity* a = it->second.mutable_activity();
  a->set_status_code(status);
  if (!message.empty()) a->set_status_message(message);
  a->set_progress(100);
  *a->mutable_end_time() = ToProto(now);
  PutActivity(it->second, batch);
  group->open_activities.erase(it);
}

absl::Status AutoScaling::SetGroupLoad(const std::string& name, const v1::LoadModel& load) {
  absl::MutexLock lock(&mu_);
  TT_ASSIGN_OR_RETURN(Group * group, FindGroup(name));
  storage::GroupRecord updated = group->record;
  *updated.mutable_load() = load;
  TT_RETURN_IF_ERROR(db_->Put(cf_, GroupKey(name), updated.SerializeAsString()));
  group->record = std::move(updated);
  return absl::OkStatus();
}

}  // namespace thingtank::compute
