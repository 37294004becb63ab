// Scaling policies: PutScalingPolicy, DescribePolicies, DeletePolicy,
// ExecutePolicy and running a policy as an alarm action.
#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "services/common/status.h"
#include "services/compute/autoscaling/autoscaling.h"
#include "services/compute/autoscaling/autoscaling_internal.h"
#include "services/compute/autoscaling/policy_math.h"
#include "services/compute/proto_time.h"

namespace thingtank::compute {

using autoscaling_internal::Page;
using autoscaling_internal::PolicyKey;
using autoscaling_internal::ValidationError;

namespace {

const char* AdjustmentName(v1::AdjustmentType type) {
  switch (type) {
    case v1::ADJUSTMENT_TYPE_EXACT_CAPACITY: return "ExactCapacity";
    case v1::ADJUSTMENT_TYPE_PERCENT_CHANGE_IN_CAPACITY: return "PercentChangeInCapacity";
    default: return "ChangeInCapacity";
  }
}

absl::Status ValidatePolicy(const v1::PutScalingPolicyRequest& r) {
  const bool simple = r.policy_type() == v1::POLICY_TYPE_UNSPECIFIED ||
                      r.policy_type() == v1::POLICY_TYPE_SIMPLE_SCALING;
  const bool step = r.policy_type() == v1::POLICY_TYPE_STEP_SCALING;
  const bool target = r.policy_type() == v1::POLICY_TYPE_TARGET_TRACKING_SCALING;
  if (r.policy_name().empty() || r.policy_name().size() > 255 ||
      r.policy_name().find(':') != std::string::npos) {
    return ValidationError("policy_name", "must be 1 to 255 characters without ':'");
  }
  if (simple || step) {
    if (r.adjustment_type() == v1::ADJUSTMENT_TYPE_UNSPECIFIED) {
      return ValidationError("adjustment_type", "is required for simple and step scaling policies");
    }
    if (r.has_min_adjustment_magnitude()) {
      if (r.adjustment_type() != v1::ADJUSTMENT_TYPE_PERCENT_CHANGE_IN_CAPACITY) {
        return ValidationError("min_adjustment_magnitude",
                               "is only valid with PercentChangeInCapacity");
      }
      if (r.min_adjustment_magnitude() < 1) {
        return ValidationError("min_adjustment_magnitude", "must be at least 1");
      }
    }
    if (r.has_target_tracking_configuration()) {
      return ValidationError("target_tracking_configuration",
                             "is only valid for target tracking policies");
    }
  }
  if (simple) {
    if (!r.has_scaling_adjustment()) {
      return ValidationError("scaling_adjustment", "is required for simple scaling policies");
    }
    if (r.adjustment_type() == v1::ADJUSTMENT_TYPE_EXACT_CAPACITY && r.scaling_adjustment() < 0) {
      return ValidationError("scaling_adjustment", "ExactCapacity must be 0 or more");
    }
    if (r.has_cooldown() && r.cooldown() < 0) return ValidationError("cooldown", "must be 0 or more");
    if (!r.step_adjustments().empty()) {
      return ValidationError("step_adjustments", "are only valid for step scaling policies");
    }
  }
  if (step) {
    if (r.has_scaling_adjustment()) {
      return ValidationError("scaling_adjustment", "is not valid for step scaling (use steps)");
    }
    if (r.has_cooldown()) return ValidationError("cooldown", "is not valid for step scaling");
    TT_RETURN_IF_ERROR(ValidateSteps(r.step_adjustments(), "step_adjustments"));
  }
  if (target) {
    if (!r.has_target_tracking_configuration()) {
      return ValidationError("target_tracking_configuration", "is required for target tracking");
    }
    const auto& t = r.target_tracking_configuration();
    bool predefined = t.predefined_metric_type() != v1::PREDEFINED_METRIC_TYPE_UNSPECIFIED;
    if (predefined == t.has_customized_metric_specification()) {
      return ValidationError("target_tracking_configuration",
                             "needs exactly one of predefined_metric_type and "
                             "customized_metric_specification");
    }
    if (t.has_customized_metric_specification()) {
      const auto& c = t.customized_metric_specification();
      if (c.metric_name().empty() || c.namespace_().empty()) {
        return ValidationError("target_tracking_configuration.customized_metric_specification",
                               "needs metric_name and namespace");
      }
      if (c.statistic() == v1::STATISTIC_UNSPECIFIED) {
        return ValidationError(
            "target_tracking_configuration.customized_metric_specification.statistic", "is required");
      }
    }
    if (!(t.target_value() > 0)) {
      return ValidationError("target_tracking_configuration.target_value", "must be greater than 0");
    }
    if (r.adjustment_type() != v1::ADJUSTMENT_TYPE_UNSPECIFIED || r.has_scaling_adjustment() ||
        r.has_cooldown() || !r.step_adjustments().empty()) {
      return ValidationError("policy_type",
                             "target tracking takes only target_tracking_configuration and "
                             "estimated_instance_warmup");
    }
  }
  if (r.has_estimated_instance_warmup() && (simple || r.estimated_instance_warmup() < 0)) {
    return ValidationError("estimated_instance_warmup",
                           simple ? "is not valid for simple scaling" : "must be 0 or more");
  }
  return absl::OkStatus();
}

// The metric a target tracking policy watches: the predefined group CPU, the
// customized metric, or — for a per-instance customized metric — the
// per-instance series the compute service publishes each minute
// (TargetTrackingMetric in compute_service.h).
v1::PutMetricAlarmRequest TargetTrackingAlarm(const std::string& group, const v1::ScalingPolicy& p,
                                              bool high, const std::string& name) {
  v1::PutMetricAlarmRequest alarm;
  alarm.set_alarm_name(name);
  const auto& t = p.target_tracking_configuration();
  alarm.set_alarm_description(absl::StrCat(
      "DO NOT EDIT OR DELETE. For TargetTrackingScaling policy ", p.policy_arn(), "."));
  if (t.has_customized_metric_specification()) {
    const auto& c = t.customized_metric_specification();
    if (c.per_instance()) {
      alarm.set_namespace_("ThingTank/AutoScaling");
      alarm.set_metric_name(absl::StrCat(c.metric_name(), "PerInstance"));
      v1::Dimension* d = alarm.add_dimensions();
      d->set_name("AutoScalingGroupName");
      d->set_value(group);
      d = alarm.add_dimensions();
      d->set_name("PolicyName");
      d->set_value(p.policy_name());
      alarm.set_statistic(v1::STATISTIC_AVERAGE);
    } else {
      alarm.set_namespace_(c.namespace_());
      alarm.set_metric_name(c.metric_name());
      *alarm.mutable_dimensions() = c.dimensions();
      alarm.set_statistic(c.statistic());
    }
  } else {
    alarm.set_namespace_("AWS/EC2");
    alarm.set_metric_name("CPUUtilization");
    v1::Dimension* d = alarm.add_dimensions();
    d->set_name("AutoScalingGroupName");
    d->set_value(group);
    alarm.set_statistic(v1::STATISTIC_AVERAGE);
  }
  alarm.set_period(60);
  // As AWS creates them: out after 3 minutes above the target, in after 15
  // minutes below 90 % of it.
  alarm.set_evaluation_periods(high ? 3 : 15);
  alarm.set_datapoints_to_alarm(high ? 3 : 15);
  alarm.set_threshold(high ? t.target_value() : t.target_value() * 0.9);
  alarm.set_comparison_operator(high ? v1::COMPARISON_OPERATOR_GREATER_THAN_THRESHOLD
                                     : v1::COMPARISON_OPERATOR_LESS_THAN_THRESHOLD);
  alarm.add_alarm_actions(p.policy_arn());
  return alarm;
}

}  // namespace

absl::StatusOr<v1::PutScalingPolicyResponse> AutoScaling::PutScalingPolicy(
    const v1::PutScalingPolicyRequest& request) {
  TT_RETURN_IF_ERROR(ValidatePolicy(request));
  v1::ScalingPolicy policy;
  std::vector<std::string> old_alarms;
  {
    absl::MutexLock lock(&mu_);
    TT_ASSIGN_OR_RETURN(Group * group, FindGroup(request.auto_scaling_group_name()));
    auto existing = group->policies.find(request.policy_name());
    if (existing == group->policies.end() &&
        static_cast<int32_t>(group->policies.size()) >= options_.max_policies_per_group) {
      return ErrorWithReason(absl::StatusCode::kResourceExhausted, "LimitExceeded",
                             absl::StrCat("You have reached the limit of ",
                                          options_.max_policies_per_group, " policies per group"));
    }
    policy.set_auto_scaling_group_name(request.auto_scaling_group_name());
    policy.set_policy_name(request.policy_name());
    if (existing != group->policies.end()) {
      policy.set_policy_arn(existing->second.policy().policy_arn());
      for (const auto& a : existing->second.policy().alarm_names()) {
        if (absl::StartsWith(a, "TargetTracking-")) old_alarms.push_back(a);
      }
    } else {
      policy.set_policy_arn(Arn("scalingPolicy",
                                absl::StrCat("autoScalingGroupName/", request.auto_scaling_group_name(),
                                             ":policyName/", request.policy_name())));
    }
    policy.set_policy_type(request.policy_type() == v1::POLICY_TYPE_UNSPECIFIED
                               ? v1::POLICY_TYPE_SIMPLE_SCALING
                               : request.policy_type());
    policy.set_adjustment_type(request.adjustment_type());
    if (request.has_scaling_adjustment()) policy.set_scaling_adjustment(request.scaling_adjustment());
    if (request.has_min_adjustment_magnitude()) {
      policy.set_min_adjustment_magnitude(request.min_adjustment_magnitude());
    }
    if (request.has_cooldown()) policy.set_cooldown(request.cooldown());
    *policy.mutable_step_adjustments() = request.step_adjustments();
    if (request.has_estimated_instance_warmup()) {
      policy.set_estimated_instance_warmup(request.estimated_instance_warmup());
    }
    if (request.has_target_tracking_configuration()) {
      *policy.mutable_target_tracking_configuration() = request.target_tracking_configuration();
      std::string id = NewUuid();
      policy.add_alarm_names(absl::StrCat("TargetTracking-", request.auto_scaling_group_name(),
                                          "-AlarmHigh-", id));
      policy.add_alarm_names(absl::StrCat("TargetTracking-", request.auto_scaling_group_name(),
                                          "-AlarmLow-", id));
    }
    policy.set_enabled(!request.has_enabled() || request.enabled());
    storage::PolicyRecord record;
    *record.mutable_policy() = policy;
    rocksdb::WriteBatch batch;
    batch.Put(cf_, PolicyKey(policy.auto_scaling_group_name(), policy.policy_name()),
              record.SerializeAsString());
    TT_RETURN_IF_ERROR(Commit(&batch));
    group->policies[policy.policy_name()] = record;
    policy_by_arn_[policy.policy_arn()] = {policy.auto_scaling_group_name(), policy.policy_name()};
  }
  v1::PutScalingPolicyResponse response;
  response.set_policy_arn(policy.policy_arn());
  if (policy.policy_type() == v1::POLICY_TYPE_TARGET_TRACKING_SCALING) {
    if (alarms_ == nullptr) {
      return ValidationError("policy_type", "target tracking needs the alarms of this server");
    }
    // Outside the lock: putting an alarm checks its action, i.e. this policy.
    if (!old_alarms.empty()) (void)alarms_->DeleteAlarms(old_alarms);
    for (int i = 0; i < policy.alarm_names_size(); ++i) {
      TT_RETURN_IF_ERROR(alarms_->PutAlarm(TargetTrackingAlarm(
          policy.auto_scaling_group_name(), policy, i == 0, policy.alarm_names(i))));
      response.add_alarm_names(policy.alarm_names(i));
    }
  }
  return response;
}

absl::StatusOr<v1::DescribePoliciesResponse> AutoScaling::DescribePolicies(
    const v1::DescribePoliciesRequest& request) const {
  TT_ASSIGN_OR_RETURN(Page page, autoscaling_internal::ParsePage(request.max_records(),
                                                                 request.next_token(), 50));
  std::set<std::string> wanted(request.policy_names().begin(), request.policy_names().end());
  std::vector<v1::ScalingPolicy> out;
  {
    absl::ReaderMutexLock lock(&mu_);
    if (!request.auto_scaling_group_name().empty()) {
      TT_RETURN_IF_ERROR(FindGroup(request.auto_scaling_group_name()).status());
    }
    for (const auto& [gname, group] : groups_) {
      if (!request.auto_scaling_group_name().empty() && gname != request.auto_scaling_group_name()) {
        continue;
      }
      for (const auto& [pname, record] : group.policies) {
        if (!wanted.empty() && wanted.count(pname) == 0 &&
            wanted.count(record.policy().policy_arn()) == 0) {
          continue;
        }
        out.push_back(record.policy());
      }
    }
  }
  v1::DescribePoliciesResponse response;
  for (size_t i = page.offset; i < out.size(); ++i) {
    if (response.scaling_policies_size() == page.size) {
      response.set_next_token(absl::StrCat(i));
      break;
    }
    v1::ScalingPolicy* p = response.add_scaling_policies();
    *p = out[i];
    if (alarms_ != nullptr) {
      p->clear_alarm_names();
      for (auto& name : alarms_->AlarmsWithAction(p->policy_arn())) p->add_alarm_names(name);
    }
  }
  return response;
}

absl::StatusOr<v1::DeletePolicyResponse> AutoScaling::DeletePolicy(
    const v1::DeletePolicyRequest& request) {
  std::vector<std::string> managed;
  {
    absl::MutexLock lock(&mu_);
    TT_ASSIGN_OR_RETURN(auto found, FindPolicy(request.auto_scaling_group_name(), request.policy_name()));
    auto [group, record] = found;
    v1::ScalingPolicy policy = record->policy();
    rocksdb::WriteBatch batch;
    batch.Delete(cf_, PolicyKey(policy.auto_scaling_group_name(), policy.policy_name()));
    TT_RETURN_IF_ERROR(Commit(&batch));
    for (const auto& a : policy.alarm_names()) {
      if (absl::StartsWith(a, "TargetTracking-")) managed.push_back(a);
    }
    policy_by_arn_.erase(policy.policy_arn());
    group->policies.erase(policy.policy_name());
  }
  if (alarms_ != nullptr && !managed.empty()) TT_RETURN_IF_ERROR(alarms_->DeleteAlarms(managed));
  return v1::DeletePolicyResponse();
}

absl::StatusOr<v1::ExecutePolicyResponse> AutoScaling::ExecutePolicy(
    const v1::ExecutePolicyRequest& request) {
  absl::MutexLock lock(&mu_);
  TT_ASSIGN_OR_RETURN(auto found, FindPolicy(request.auto_scaling_group_name(), request.policy_name()));
  auto [group, policy] = found;
  if (policy->policy().policy_type() == v1::POLICY_TYPE_STEP_SCALING &&
      (!request.has_metric_value() || !request.has_breach_threshold())) {
    return ValidationError(request.has_metric_value() ? "breach_threshold" : "metric_value",
                           "step scaling policies need metric_value and breach_threshold");
  }
  if (policy->policy().policy_type() == v1::POLICY_TYPE_TARGET_TRACKING_SCALING) {
    return ValidationError("policy_name", "target tracking policies run from their alarms only");
  }
  std::optional<double> metric, threshold;
  if (request.has_metric_value()) metric = request.metric_value();
  if (request.has_breach_threshold()) threshold = request.breach_threshold();
  TT_RETURN_IF_ERROR(Execute(group, policy, request.honor_cooldown(), metric, threshold,
                             absl::StrCat("At ", Iso8601(clock_->Now()), " a user request executed policy ",
                                          policy->policy().policy_name())));
  return v1::ExecutePolicyResponse();
}

absl::Status AutoScaling::CheckPolicyArn(const std::string& arn) const {
  absl::ReaderMutexLock lock(&mu_);
  if (policy_by_arn_.count(arn) == 0) {
    return ValidationError("policy_arn", absl::StrCat("No scaling policy has the ARN ", arn));
  }
  return absl::OkStatus();
}

absl::Status AutoScaling::RunPolicyFromAlarm(const std::string& arn, const AlarmTrigger& trigger) {
  absl::MutexLock lock(&mu_);
  TT_ASSIGN_OR_RETURN(auto found, FindPolicy("", arn));
  auto [group, policy] = found;
  if (Suspended(*group, "AlarmNotification") || !policy->policy().enabled()) return absl::OkStatus();
  std::optional<double> threshold = trigger.threshold;
  absl::Status status = Execute(
      group, policy, /*honor_cooldown=*/true, trigger.metric_value, threshold,
      absl::StrCat("At ", Iso8601(trigger.time), " a monitor alarm ", trigger.alarm_name,
                   " in state ALARM triggered policy ", policy->policy().policy_name()));
  // Cooldown refusals are not failures of the alarm's action.
  if (ErrorReason(status) == "ScalingActivityInProgress") return absl::OkStatus();
  return status;
}

absl::Status AutoScaling::Execute(Group* group, storage::PolicyRecord* record, bool honor_cooldown,
                                  std::optional<double> metric_value,
                                  std::optional<double> threshold, const std::string& trigger_text) {
  const v1::ScalingPolicy& p = record->policy();
  v1::AutoScalingGroup& g = *group->record.mutable_group();
  const absl::Time now = clock_->Now();
  const int32_t current = g.desired_capacity();
  int32_t wanted = current;
  int32_t cooldown = -1;  // simple scaling only
  switch (p.policy_type()) {
    case v1::POLICY_TYPE_STEP_SCALING: {
      if (!metric_value || !threshold) return absl::OkStatus();
      auto step = MatchingStep(p.step_adjustments(), *metric_value, *threshold);
      if (!step) return absl::OkStatus();
      const bool warming = now < absl::FromUnixMicros(group->record.step_warm_until_micros());
      const int32_t base = warming ? group->record.step_base_capacity() : current;
      wanted = Bounded(AdjustedCapacity(p.adjustment_type(), base, step->scaling_adjustment(),
                                        p.min_adjustment_magnitude()),
                       g.min_size(), g.max_size());
      if (wanted > current || (!warming && wanted != current)) {
        if (wanted > current) {
          int32_t warmup = p.has_estimated_instance_warmup() ? p.estimated_instance_warmup()
                                                             : g.default_cooldown();
          if (!warming) group->record.set_step_base_capacity(current);
          group->record.set_step_warm_until_micros(absl::ToUnixMicros(now + absl::Seconds(warmup)));
        }
      } else {
        wanted = current;  // while warming up, only a larger scale-out counts
      }
      break;
    }
    case v1::POLICY_TYPE_TARGET_TRACKING_SCALING: {
      if (!metric_value) return absl::OkStatus();
      int32_t in_service = 0, pending = 0;
      for (const auto& [id, m] : group->members) {
        if (m.lifecycle_state() == "InService") ++in_service;
        if (m.lifecycle_state() == "Pending") ++pending;
      }
      const auto& t = p.target_tracking_configuration();
      int32_t computed;
      if (t.has_customized_metric_specification() && t.customized_metric_specification().per_instance()) {
        // The metric is already per in-service instance: capacity = total / target.
        computed = TargetTrackingCapacity(std::max(1, in_service), *metric_value, t.target_value());
      } else {
        computed = TargetTrackingCapacity(in_service, *metric_value, t.target_value());
      }
      computed = Bounded(computed, g.min_size(), g.max_size());
      if (computed > current) {
        wanted = computed;
      } else if (computed < current && !t.disable_scale_in() && pending == 0) {
        wanted = computed;
      }
      break;
    }
    case v1::POLICY_TYPE_SIMPLE_SCALING:
    default: {
      if (honor_cooldown && now < absl::FromUnixMicros(group->record.cooldown_end_micros())) {
        return autoscaling_internal::ScalingInProgress(absl::StrCat("The group ", g.auto_scaling_group_name(),
                                            " is in its cooldown until ",
                                            Iso8601(absl::FromUnixMicros(group->record.cooldown_end_micros()))));
      }
      wanted = Bounded(AdjustedCapacity(p.adjustment_type(), current, p.scaling_adjustment(),
                                        p.min_adjustment_magnitude()),
                       g.min_size(), g.max_size());
      cooldown = p.has_cooldown() ? p.cooldown() : g.default_cooldown();
      break;
    }
  }
  rocksdb::WriteBatch batch;
  if (wanted == current) {
    PutGroup(*group, &batch);  // warm-up bookkeeping may have changed
    return Commit(&batch);
  }
  std::string cause = absl::StrCat(trigger_text, " changing the desired capacity from ", current,
                                   " to ", wanted, ".");
  TT_RETURN_IF_ERROR(SetDesired(group, wanted, cause, &batch));
  if (cooldown >= 0) {
    group->record.set_cooldown_end_micros(absl::ToUnixMicros(now + absl::Seconds(cooldown)));
    group->record.set_cooldown_after_activity(cooldown);
    PutGroup(*group, &batch);
  }
  TT_LOG_INFO("compute: {} ({} {})", cause, AdjustmentName(p.adjustment_type()), p.policy_name());
  TT_RETURN_IF_ERROR(Commit(&batch));
  Poke();
  return absl::OkStatus();
}

}  // namespace thingtank::compute
