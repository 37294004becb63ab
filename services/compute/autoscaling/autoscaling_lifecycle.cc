// Lifecycle hooks: instances wait in Pending:Wait or Terminating:Wait until
// every hook of the transition completes (CompleteLifecycleAction) or the
// wait times out (heartbeat timeout, extended by heartbeats; global timeout
// at most 100 heartbeats or 48 hours), with a notification per hook.
#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "services/common/log.h"
#include "services/common/status.h"
#include "services/compute/autoscaling/autoscaling.h"
#include "services/compute/autoscaling/autoscaling_internal.h"
#include "services/compute/proto_time.h"

namespace thingtank::compute {

using autoscaling_internal::kInService;
using autoscaling_internal::kLaunching;
using autoscaling_internal::kPendingWait;
using autoscaling_internal::kTerminating;
using autoscaling_internal::kTerminatingTransition;
using autoscaling_internal::kTerminatingWait;
using autoscaling_internal::ValidationError;

namespace {

constexpr int32_t kDefaultHeartbeat = 3600;
constexpr int32_t kMaxGlobalTimeout = 172800;

std::vector<const v1::LifecycleHook*> HooksOf(const storage::GroupRecord& group,
                                              const std::string& transition) {
  std::vector<const v1::LifecycleHook*> out;
  for (const auto& hook : group.hooks()) {
    if (hook.lifecycle_transition() == transition) out.push_back(&hook);
  }
  return out;
}

const v1::LifecycleHook* FindHook(const storage::GroupRecord& group, const std::string& name) {
  for (const auto& hook : group.hooks()) {
    if (hook.lifecycle_hook_name() == name) return &hook;
  }
  return nullptr;
}

}  // namespace

void AutoScaling::SetNotifier(LifecycleNotifier* notifier) {
  absl::MutexLock lock(&mu_);
  notifier_ = notifier;
}

bool AutoScaling::BeginWait(Group* group, storage::MemberRecord* member,
                            const std::string& transition, absl::Time now) {
  auto hooks = HooksOf(group->record, transition);
  if (hooks.empty()) return false;
  member->set_lifecycle_state(transition == kLaunching ? kPendingWait : kTerminatingWait);
  member->clear_waiting_hooks();
  member->set_lifecycle_action_token(NewUuid());
  int32_t heartbeat = 0, global = 0;
  for (const v1::LifecycleHook* hook : hooks) {
    member->add_waiting_hooks(hook->lifecycle_hook_name());
    heartbeat = std::max(heartbeat, hook->heartbeat_timeout());
    global = std::max(global, hook->global_timeout());
  }
  member->set_lifecycle_deadline_micros(absl::ToUnixMicros(now + absl::Seconds(heartbeat)));
  member->set_lifecycle_global_deadline_micros(absl::ToUnixMicros(now + absl::Seconds(global)));
  ++lifecycle_.started;
  const v1::AutoScalingGroup& g = group->record.group();
  for (const v1::LifecycleHook* hook : hooks) {
    if (hook->notification_target_arn().empty() || notifier_ == nullptr) continue;
    nlohmann::json message = {
        {"Origin", transition == kLaunching ? "EC2" : "AutoScalingGroup"},
        {"Destination", transition == kLaunching ? "AutoScalingGroup" : "EC2"},
        {"Service", "AWS Auto Scaling"},
        {"Time", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", now, absl::UTCTimeZone())},
        {"AccountId", options_.account},
        {"RequestId", member->activity_id()},
        {"LifecycleActionToken", member->lifecycle_action_token()},
        {"AutoScalingGroupName", g.auto_scaling_group_name()},
        {"LifecycleHookName", hook->lifecycle_hook_name()},
        {"EC2InstanceId", member->instance_id()},
        {"LifecycleTransition", transition},
        {"NotificationMetadata", hook->notification_metadata()}};
    notifier_->Notify(hook->notification_target_arn(), message.dump());
  }
  return true;
}

void AutoScaling::EnterService(Group* group, storage::MemberRecord* member, absl::Time now,
                               Batch* batch) {
  member->set_lifecycle_state(kInService);
  member->clear_waiting_hooks();
  member->clear_lifecycle_action_token();
  FinishActivity(group, member->activity_id(), "Successful", "", now, batch);
  // Simple scaling's cooldown runs from the end of the activities it caused.
  if (group->record.cooldown_after_activity() > 0) {
    int64_t end = absl::ToUnixMicros(now + absl::Seconds(group->record.cooldown_after_activity()));
    group->record.set_cooldown_end_micros(std::max(group->record.cooldown_end_micros(), end));
    PutGroup(*group, batch);
  }
}

void AutoScaling::EndWait(Group* group, storage::MemberRecord* member, const std::string& result,
                          absl::Time now, Batch* batch) {
  const std::string token = member->lifecycle_action_token();
  if (result == "ABANDON") {
    ++lifecycle_.abandoned;
  } else {
    ++lifecycle_.continued;
  }
  if (member->lifecycle_state() == kTerminatingWait) {
    // Either result goes on with the termination.
    member->set_lifecycle_state(kTerminating);
    member->clear_waiting_hooks();
    PutMember(*group, *member, batch);
    return;
  }
  if (result != "ABANDON") {
    EnterService(group, member, now, batch);
    PutMember(*group, *member, batch);
    return;
  }
  // An abandoned launch: the launch fails and the instance goes, without
  // terminate hooks; the reconciler launches a replacement.
  std::string message = absl::StrCat(
      "Instance failed to complete user's Lifecycle Action: Lifecycle Action with token ", token,
      " was abandoned: Lifecycle Action Completed with ABANDON Result");
  FinishActivity(group, member->activity_id(), "Failed", message, now, batch);
  member->set_abandoned(true);
  member->clear_waiting_hooks();
  BeginTermination(group, member,
                   absl::StrCat("At ", Iso8601(now), " an instance was taken out of service in "
                                "response to a launch lifecycle action being abandoned."),
                   now, batch, /*use_hooks=*/false);
}

void AutoScaling::ExpireWaits(Group* group, absl::Time now, Batch* batch) {
  for (auto& [id, member] : group->members) {
    if (member.lifecycle_state() != kPendingWait && member.lifecycle_state() != kTerminatingWait) {
      continue;
    }
    if (now < absl::FromUnixMicros(member.lifecycle_deadline_micros()) &&
        now < absl::FromUnixMicros(member.lifecycle_global_deadline_micros())) {
      continue;
    }
    std::string result = "ABANDON";
    for (const auto& name : member.waiting_hooks()) {
      if (const v1::LifecycleHook* hook = FindHook(group->record, name)) {
        result = hook->default_result();
        break;
      }
    }
    ++lifecycle_.timed_out;
    EndWait(group, &member, result, now, batch);
  }
}

absl::StatusOr<storage::MemberRecord*> AutoScaling::FindWaiting(Group* group,
                                                               const std::string& hook,
                                                               const std::string& token,
                                                               const std::string& instance_id) {
  if (token.empty() == instance_id.empty()) {
    return ValidationError("lifecycle_action_token",
                           "give the lifecycle action token or the instance id");
  }
  for (auto& [id, member] : group->members) {
    bool match = token.empty() ? id == instance_id : member.lifecycle_action_token() == token;
    if (!match) continue;
    const auto& waiting = member.waiting_hooks();
    if (std::find(waiting.begin(), waiting.end(), hook) == waiting.end()) break;
    return &member;
  }
  return ValidationError(token.empty() ? "instance_id" : "lifecycle_action_token",
                         absl::StrCat("No active Lifecycle Action found with ",
                                      token.empty() ? absl::StrCat("instance ID ", instance_id)
                                                    : absl::StrCat("token ", token),
                                      " for hook ", hook));
}

absl::StatusOr<v1::PutLifecycleHookResponse> AutoScaling::PutLifecycleHook(
    const v1::PutLifecycleHookRequest& request) {
  const std::string& name = request.lifecycle_hook_name();
  if (name.empty() || name.size() > 255) {
    return ValidationError("lifecycle_hook_name", "must be 1 to 255 characters");
  }
  if (!request.default_result().empty() && request.default_result() != "CONTINUE" &&
      request.default_result() != "ABANDON") {
    return ValidationError("default_result", "must be CONTINUE or ABANDON");
  }
  if (request.has_heartbeat_timeout() &&
      (request.heartbeat_timeout() < 30 || request.heartbeat_timeout() > 7200)) {
    return ValidationError("heartbeat_timeout", "must be 30 to 7200 seconds");
  }
  if (request.notification_metadata().size() > 1023) {
    return ValidationError("notification_metadata", "at most 1,023 characters");
  }
  absl::MutexLock lock(&mu_);
  TT_ASSIGN_OR_RETURN(Group * group, FindGroup(request.auto_scaling_group_name()));
  const v1::LifecycleHook* existing = FindHook(group->record, name);
  v1::LifecycleHook hook = existing != nullptr ? *existing : v1::LifecycleHook();
  if (!request.lifecycle_transition().empty()) {
    if (request.lifecycle_transition() != kLaunching &&
        request.lifecycle_transition() != kTerminatingTransition) {
      return ValidationError("lifecycle_transition",
                             "must be autoscaling:EC2_INSTANCE_LAUNCHING or "
                             "autoscaling:EC2_INSTANCE_TERMINATING");
    }
    hook.set_lifecycle_transition(request.lifecycle_transition());
  } else if (existing == nullptr) {
    return ValidationError("lifecycle_transition", "is required for a new hook");
  }
  if (!request.notification_target_arn().empty()) {
    if (notifier_ == nullptr) {
      return ValidationError("notification_target_arn", "this server delivers no notifications");
    }
    TT_RETURN_IF_ERROR(notifier_->CheckTarget(request.notification_target_arn(),
                                              "notification_target_arn"));
  }
  hook.set_lifecycle_hook_name(name);
  hook.set_auto_scaling_group_name(request.auto_scaling_group_name());
  hook.set_notification_target_arn(request.notification_target_arn());
  hook.set_notification_metadata(request.notification_metadata());
  int32_t heartbeat = request.has_heartbeat_timeout() ? request.heartbeat_timeout()
                      : hook.heartbeat_timeout() > 0  ? hook.heartbeat_timeout()
                                                      : kDefaultHeartbeat;
  hook.set_heartbeat_timeout(heartbeat);
  hook.set_global_timeout(std::min(100 * heartbeat, kMaxGlobalTimeout));
  hook.set_default_result(request.default_result().empty()
                              ? (hook.default_result().empty() ? "ABANDON" : hook.default_result())
                              : request.default_result());
  storage::GroupRecord updated = group->record;
  updated.clear_hooks();
  for (const auto& h : group->record.hooks()) {
    if (h.lifecycle_hook_name() != name) *updated.add_hooks() = h;
  }
  *updated.add_hooks() = hook;
  std::sort(updated.mutable_hooks()->begin(), updated.mutable_hooks()->end(),
            [](const auto& a, const auto& b) { return a.lifecycle_hook_name() < b.lifecycle_hook_name(); });
  Batch batch;
  batch.Put(cf_, autoscaling_internal::GroupKey(request.auto_scaling_group_name()),
            updated.SerializeAsString());
  TT_RETURN_IF_ERROR(Commit(&batch));
  group->record = std::move(updated);
  if (!hook.notification_target_arn().empty()) {
    nlohmann::json test = {
        {"AccountId", options_.account},
        {"RequestId", NewUuid()},
        {"AutoScalingGroupARN", group->record.group().auto_scaling_group_arn()},
        {"AutoScalingGroupName", request.auto_scaling_group_name()},
        {"Service", "AWS Auto Scaling"},
        {"Event", "autoscaling:TEST_NOTIFICATION"},
        {"Time", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", clock_->Now(), absl::UTCTimeZone())}};
    notifier_->Notify(hook.notification_target_arn(), test.dump());
  }
  return v1::PutLifecycleHookResponse();
}

absl::StatusOr<v1::DescribeLifecycleHooksResponse> AutoScaling::DescribeLifecycleHooks(
    const v1::DescribeLifecycleHooksRequest& request) const {
  absl::ReaderMutexLock lock(&mu_);
  TT_ASSIGN_OR_RETURN(const Group* group, FindGroup(request.auto_scaling_group_name()));
  std::set<std::string> wanted(request.lifecycle_hook_names().begin(),
                               request.lifecycle_hook_names().end());
  v1::DescribeLifecycleHooksResponse response;
  for (const auto& hook : group->record.hooks()) {
    if (wanted.empty() || wanted.count(hook.lifecycle_hook_name()) > 0) {
      *response.add_lifecycle_hooks() = hook;
    }
  }
  return response;
}

absl::StatusOr<v1::DeleteLifecycleHookResponse> AutoScaling::DeleteLifecycleHook(
    const v1::DeleteLifecycleHookRequest& request) {
  absl::MutexLock lock(&mu_);
  TT_ASSIGN_OR_RETURN(Group * group, FindGroup(request.auto_scaling_group_name()));
  const v1::LifecycleHook* hook = FindHook(group->record, request.lifecycle_hook_name());
  if (hook == nullptr) {
    return ValidationError("lifecycle_hook_name",
                           absl::StrCat("No Lifecycle Hook found with name ",
                                        request.lifecycle_hook_name(), " for group ",
                                        request.auto_scaling_group_name()));
  }
  const std::string default_result = hook->default_result();
  storage::GroupRecord updated = group->record;
  updated.clear_hooks();
  for (const auto& h : group->record.hooks()) {
    if (h.lifecycle_hook_name() != request.lifecycle_hook_name()) *updated.add_hooks() = h;
  }
  Batch batch;
  batch.Put(cf_, autoscaling_internal::GroupKey(request.auto_scaling_group_name()),
            updated.SerializeAsString());
  group->record = updated;
  // Instances waiting on it go on as its timeout would have them.
  absl::Time now = clock_->Now();
  for (auto& [id, member] : group->members) {
    auto* waiting = member.mutable_waiting_hooks();
    auto it = std::find(waiting->begin(), waiting->end(), request.lifecycle_hook_name());
    if (it == waiting->end()) continue;
    waiting->erase(it);
    if (waiting->empty() || default_result == "ABANDON") {
      EndWait(group, &member, default_result, now, &batch);
    } else {
      PutMember(*group, member, &batch);
    }
  }
  PutGroup(*group, &batch);
  TT_RETURN_IF_ERROR(Commit(&batch));
  Poke();
  return v1::DeleteLifecycleHookResponse();
}

absl::StatusOr<v1::CompleteLifecycleActionResponse> AutoScaling::CompleteLifecycleAction(
    const v1::CompleteLifecycleActionRequest& request) {
  if (request.lifecycle_action_result() != "CONTINUE" && request.lifecycle_action_result() != "ABANDON") {
    return ValidationError("lifecycle_action_result", "must be CONTINUE or ABANDON");
  }
  absl::MutexLock lock(&mu_);
  TT_ASSIGN_OR_RETURN(Group * group, FindGroup(request.auto_scaling_group_name()));
  TT_ASSIGN_OR_RETURN(storage::MemberRecord * found,
                      FindWaiting(group, request.lifecycle_hook_name(),
                                  request.lifecycle_action_token(), request.instance_id()));
  storage::MemberRecord& member = *found;
  auto* waiting = member.mutable_waiting_hooks();
  waiting->erase(std::find(waiting->begin(), waiting->end(), request.lifecycle_hook_name()));
  Batch batch;
  absl::Time now = clock_->Now();
  if (waiting->empty() || request.lifecycle_action_result() == "ABANDON") {
    EndWait(group, &member, request.lifecycle_action_result(), now, &batch);
  } else {
    PutMember(*group, member, &batch);
  }
  TT_RETURN_IF_ERROR(Commit(&batch));
  Poke();
  return v1::CompleteLifecycleActionResponse();
}

absl::StatusOr<v1::RecordLifecycleActionHeartbeatResponse>
AutoScaling::RecordLifecycleActionHeartbeat(const v1::RecordLifecycleActionHeartbeatRequest& request) {
  absl::MutexLock lock(&mu_);
  TT_ASSIGN_OR_RETURN(Group * group, FindGroup(request.auto_scaling_group_name()));
  TT_ASSIGN_OR_RETURN(storage::MemberRecord * member,
                      FindWaiting(group, request.lifecycle_hook_name(),
                                  request.lifecycle_action_token(), request.instance_id()));
  const v1::LifecycleHook* hook = FindHook(group->record, request.lifecycle_hook_name());
  storage::MemberRecord updated = *member;
  updated.set_lifecycle_deadline_micros(absl::ToUnixMicros(
      clock_->Now() + absl::Seconds(hook != nullptr ? hook->heartbeat_timeout() : kDefaultHeartbeat)));
  Batch batch;
  PutMember(*group, updated, &batch);
  TT_RETURN_IF_ERROR(Commit(&batch));
  *member = std::move(updated);
  return v1::RecordLifecycleActionHeartbeatResponse();
}

LifecycleCounts AutoScaling::lifecycle_counts() const {
  absl::ReaderMutexLock lock(&mu_);
  return lifecycle_;
}

}  // namespace thingtank::compute
