// `thingtank compute` Auto Scaling commands (AutoScalingService, Amazon EC2
// Auto Scaling): launch configurations, groups, policies, activities,
// lifecycle hooks and their actions, scheduled actions.

#include <algorithm>
#include <iterator>
#include <limits>

#include "absl/strings/str_join.h"
#include "tools/thingtank/cli/compute_commands.h"
#include "tools/thingtank/cli/compute_format.h"

namespace thingtank::cli::compute {
namespace {

bool Int32Flag(const CallContext& c, const std::string& flag, std::optional<int32_t>* out,
               int* exit) {
  return IntFlag(c, flag, out, exit, 11);
}

bool RequireFlags(const CallContext& c, const std::vector<std::string>& flags, int* exit) {
  for (const std::string& flag : flags) {
    if (!RequireFlag(c, flag, exit)) return false;
  }
  return true;
}

// Flags that do not apply to `what`: a usage error naming the first given.
bool Forbid(const CallContext& c, const std::string& what, const std::vector<std::string>& flags,
            int* exit) {
  for (const std::string& flag : flags) {
    if (c.args.Has(flag)) {
      *exit = c.UsageError("--" + flag + " does not apply to " + what);
      return false;
    }
  }
  return true;
}

// A string flag limited to `accepted` (exact spelling, as AWS has it).
bool ChoiceFlag(const CallContext& c, const std::string& flag,
                const std::vector<std::string>& accepted, std::string* out, int* exit) {
  if (!c.args.Has(flag)) return true;
  const std::string value = c.args.Get(flag);
  if (std::find(accepted.begin(), accepted.end(), value) == accepted.end()) {
    *exit =
        c.UsageError("--" + flag + ": \"" + value + "\" is not " + absl::StrJoin(accepted, " or "));
    return false;
  }
  *out = value;
  return true;
}

// The settings create-group and update-group share, as given.
struct GroupSettings {
  std::optional<int32_t> min;
  std::optional<int32_t> max;
  std::optional<int32_t> desired;
  std::optional<int32_t> cooldown;
  std::optional<int32_t> grace;
  std::string health_check_type;
};

bool ReadGroupSettings(const AutoScalingContext& c, GroupSettings* s, int* exit) {
  return Int32Flag(c, "min", &s->min, exit) && Int32Flag(c, "max", &s->max, exit) &&
         Int32Flag(c, "desired", &s->desired, exit) &&
         SecondsFlag(c, "default-cooldown", &s->cooldown, exit) &&
         SecondsFlag(c, "health-check-grace-period", &s->grace, exit) &&
         ChoiceFlag(c, "health-check-type", {"EC2", "ELB"}, &s->health_check_type, exit);
}

// --target-value and its metric into a target tracking configuration.
bool ReadTargetTracking(const AutoScalingContext& c, v1::TargetTrackingConfiguration* t,
                        int* exit) {
  std::optional<double> target;
  if (!RequireFlag(c, "target-value", exit) || !DoubleFlag(c, "target-value", &target, exit)) {
    return false;
  }
  t->set_target_value(*target);
  t->set_disable_scale_in(c.args.Bool("disable-scale-in"));
  const bool custom = c.args.Has("metric-name") || c.args.Has("metric-namespace");
  if (custom == c.args.Has("predefined-metric")) {
    *exit = c.UsageError(
        "give --predefined-metric, or --metric-namespace and --metric-name "
        "(one of them)");
    return false;
  }
  if (!custom) {
    v1::PredefinedMetricType type = v1::PREDEFINED_METRIC_TYPE_UNSPECIFIED;
    if (!EnumFlag(c, "predefined-metric", PredefinedMetricNames(), &type, exit) ||
        !Forbid(c, "--predefined-metric", {"metric-dimension", "metric-statistic", "per-instance"},
                exit)) {
      return false;
    }
    t->set_predefined_metric_type(type);
    return true;
  }
  if (!RequireFlags(c, {"metric-namespace", "metric-name"}, exit)) return false;
  v1::CustomizedMetricSpecification* m = t->mutable_customized_metric_specification();
  m->set_namespace_(c.args.Get("metric-namespace"));
  m->set_metric_name(c.args.Get("metric-name"));
  m->set_per_instance(c.args.Bool("per-instance"));
  v1::Statistic statistic = v1::STATISTIC_AVERAGE;
  if (!ReadDimensions(c, "metric-dimension", m->mutable_dimensions(), exit) ||
      !EnumFlag(c, "metric-statistic", StatisticNames(), &statistic, exit)) {
    return false;
  }
  m->set_statistic(statistic);
  return true;
}

// --group, --hook, and --token or --instance-id (one of them): the wait a
// CompleteLifecycleAction or RecordLifecycleActionHeartbeat request is about.
template <typename Request>
bool ReadLifecycleAction(const AutoScalingContext& c, Request* request, int* exit) {
  if (!RequireFlags(c, {"group", "hook"}, exit)) return false;
  if (c.args.Has("token") == c.args.Has("instance-id")) {
    *exit = c.UsageError("give --token or --instance-id (one of them)");
    return false;
  }
  request->set_auto_scaling_group_name(c.args.Get("group"));
  request->set_lifecycle_hook_name(c.args.Get("hook"));
  request->set_lifecycle_action_token(c.args.Get("token"));
  request->set_instance_id(c.args.Get("instance-id"));
  return true;
}

// "the lifecycle action of i-... on hook H" (or "of token T").
template <typename Request>
std::string LifecycleActionText(const Request& request) {
  return "the lifecycle action of " +
         (request.instance_id().empty() ? "token " + request.lifecycle_action_token()
                                        : request.instance_id()) +
         " on hook " + request.lifecycle_hook_name();
}

const char* const kSimpleFlags[] = {"scaling-adjustment", "cooldown", "min-adjustment-magnitude"};
const char* const kTargetFlags[] = {"target-value", "predefined-metric", "metric-namespace",
                                    "metric-name",  "metric-dimension",  "metric-statistic",
                                    "per-instance", "disable-scale-in"};

std::vector<std::string> Flags(const char* const* begin, const char* const* end) {
  return std::vector<std::string>(begin, end);
}

}  // namespace

int CreateLaunchConfiguration(const AutoScalingContext& c) {
  int exit = kExitOk;
  if (!RequireFlags(c, {"name", "image-id", "instance-type"}, &exit)) return exit;
  v1::CreateLaunchConfigurationRequest request;
  request.set_launch_configuration_name(c.args.Get("name"));
  if (!ReadLaunchFlags(c, &request, &exit)) return exit;
  v1::CreateLaunchConfigurationResponse response;
  const grpc::Status status =
      c.stub.CreateLaunchConfiguration(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << "created launch configuration " << request.launch_configuration_name() << "\n";
  });
}

int DescribeLaunchConfigurations(const AutoScalingContext& c) {
  v1::DescribeLaunchConfigurationsRequest request;
  AddPositionals(c, 0, request.mutable_launch_configuration_names());
  request.set_next_token(c.args.Get("next-token"));
  int32_t max = 0;
  int exit = kExitOk;
  if (!ReadMax(c, &max, &exit)) return exit;
  request.set_max_records(max);
  v1::DescribeLaunchConfigurationsResponse response;
  const grpc::Status status =
      c.stub.DescribeLaunchConfigurations(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response,
                [&](std::ostream& os) { PrintLaunchConfigurations(response, os); });
}

int DeleteLaunchConfiguration(const AutoScalingContext& c) {
  v1::DeleteLaunchConfigurationRequest request;
  request.set_launch_configuration_name(c.args.positional().at(0));
  v1::DeleteLaunchConfigurationResponse response;
  const grpc::Status status =
      c.stub.DeleteLaunchConfiguration(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << "deleted launch configuration " << request.launch_configuration_name() << "\n";
  });
}

int CreateGroup(const AutoScalingContext& c) {
  int exit = kExitOk;
  GroupSettings s;
  if (!RequireFlag(c, "name", &exit)) return exit;
  if (c.args.Has("launch-configuration") == c.args.Has("launch-template")) {
    return c.UsageError("give --launch-configuration or --launch-template (one of them)");
  }
  v1::CreateAutoScalingGroupRequest request;
  if (!RequireFlags(c, {"min", "max", "zone"}, &exit) || !ReadGroupSettings(c, &s, &exit) ||
      !ReadLaunchTemplate(c, &request, &exit)) {
    return exit;
  }
  request.set_auto_scaling_group_name(c.args.Get("name"));
  request.set_launch_configuration_name(c.args.Get("launch-configuration"));
  request.set_min_size(*s.min);
  request.set_max_size(*s.max);
  if (s.desired) request.set_desired_capacity(*s.desired);
  if (s.cooldown) request.set_default_cooldown(*s.cooldown);
  if (s.grace) request.set_health_check_grace_period(*s.grace);
  request.set_health_check_type(s.health_check_type);
  request.set_new_instances_protected_from_scale_in(c.args.Bool("protect-new-instances"));
  AddAll(c, "zone", request.mutable_availability_zones());
  AddAll(c, "termination-policy", request.mutable_termination_policies());
  if (!ReadTags(c, request.mutable_tags(), &exit)) return exit;
  v1::CreateAutoScalingGroupResponse response;
  const grpc::Status status =
      c.stub.CreateAutoScalingGroup(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << "created group " << request.auto_scaling_group_name() << "\n";
  });
}

int UpdateGroup(const AutoScalingContext& c) {
  int exit = kExitOk;
  GroupSettings s;
  if (!RequireFlag(c, "name", &exit)) return exit;
  if (c.args.Has("launch-configuration") && c.args.Has("launch-template")) {
    return c.UsageError("give --launch-configuration or --launch-template, not both");
  }
  v1::UpdateAutoScalingGroupRequest request;
  if (!ReadGroupSettings(c, &s, &exit) || !ReadLaunchTemplate(c, &request, &exit)) return exit;
  request.set_auto_scaling_group_name(c.args.Get("name"));
  request.set_launch_configuration_name(c.args.Get("launch-configuration"));
  if (s.min) request.set_min_size(*s.min);
  if (s.max) request.set_max_size(*s.max);
  if (s.desired) request.set_desired_capacity(*s.desired);
  if (s.cooldown) request.set_default_cooldown(*s.cooldown);
  if (s.grace) request.set_health_check_grace_period(*s.grace);
  request.set_health_check_type(s.health_check_type);
  if (c.args.Has("protect-new-instances")) {
    request.set_new_instances_protected_from_scale_in(c.args.Bool("protect-new-instances"));
  }
  AddAll(c, "zone", request.mutable_availability_zones());
  AddAll(c, "termination-policy", request.mutable_termination_policies());
  v1::UpdateAutoScalingGroupRequest unchanged;
  unchanged.set_auto_scaling_group_name(request.auto_scaling_group_name());
  if (request.SerializeAsString() == unchanged.SerializeAsString()) {
    return c.UsageError("update-group needs at least one setting to change");
  }
  v1::UpdateAutoScalingGroupResponse response;
  const grpc::Status status =
      c.stub.UpdateAutoScalingGroup(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << "updated group " << request.auto_scaling_group_name() << "\n";
  });
}

int DescribeGroups(const AutoScalingContext& c) {
  v1::DescribeAutoScalingGroupsRequest request;
  AddPositionals(c, 0, request.mutable_auto_scaling_group_names());
  request.set_next_token(c.args.Get("next-token"));
  int32_t max = 0;
  int exit = kExitOk;
  if (!ReadMax(c, &max, &exit)) return exit;
  request.set_max_records(max);
  v1::DescribeAutoScalingGroupsResponse response;
  const grpc::Status status =
      c.stub.DescribeAutoScalingGroups(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) { PrintGroups(response, os); });
}

int DeleteGroup(const AutoScalingContext& c) {
  v1::DeleteAutoScalingGroupRequest request;
  request.set_auto_scaling_group_name(c.args.positional().at(0));
  request.set_force_delete(c.args.Bool("force"));
  v1::DeleteAutoScalingGroupResponse response;
  const grpc::Status status =
      c.stub.DeleteAutoScalingGroup(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << (request.force_delete() ? "deleting group " : "deleted group ")
       << request.auto_scaling_group_name()
       << (request.force_delete() ? " (its instances are terminated)" : "") << "\n";
  });
}

int SetDesiredCapacity(const AutoScalingContext& c) {
  v1::SetDesiredCapacityRequest request;
  request.set_auto_scaling_group_name(c.args.positional().at(0));
  const std::string& text = c.args.positional().at(1);
  int64_t capacity = 0;
  if (!ParseInt64(text, 11, &capacity) || capacity < 0 ||
      capacity > std::numeric_limits<int32_t>::max()) {
    return c.UsageError("<capacity>: \"" + text + "\" is not a number of instances");
  }
  request.set_desired_capacity(static_cast<int32_t>(capacity));
  request.set_honor_cooldown(c.args.Bool("honor-cooldown"));
  v1::SetDesiredCapacityResponse response;
  const grpc::Status status =
      c.stub.SetDesiredCapacity(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << "desired capacity of " << request.auto_scaling_group_name() << " set to "
       << request.desired_capacity() << "\n";
  });
}

int SetInstanceHealth(const AutoScalingContext& c) {
  v1::SetInstanceHealthRequest request;
  request.set_instance_id(c.args.positional().at(0));
  const std::string& health = c.args.positional().at(1);
  if (health != "Healthy" && health != "Unhealthy") {
    return c.UsageError("<health-status>: \"" + health + "\" is not Healthy or Unhealthy");
  }
  request.set_health_status(health);
  if (c.args.Has("respect-grace-period")) {
    request.set_should_respect_grace_period(c.args.Bool("respect-grace-period"));
  }
  v1::SetInstanceHealthResponse response;
  const grpc::Status status =
      c.stub.SetInstanceHealth(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << request.instance_id() << " reported " << health << "\n";
  });
}

int SetInstanceProtection(const AutoScalingContext& c) {
  int exit = kExitOk;
  if (!RequireFlag(c, "group", &exit)) return exit;
  if (c.args.Bool("protect") == c.args.Bool("unprotect")) {
    return c.UsageError("give --protect or --unprotect (one of them)");
  }
  v1::SetInstanceProtectionRequest request;
  request.set_auto_scaling_group_name(c.args.Get("group"));
  AddPositionals(c, 0, request.mutable_instance_ids());
  request.set_protected_from_scale_in(c.args.Bool("protect"));
  v1::SetInstanceProtectionResponse response;
  const grpc::Status status =
      c.stub.SetInstanceProtection(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << (request.protected_from_scale_in() ? "protected from scale-in: "
                                             : "no longer protected: ")
       << absl::StrJoin(request.instance_ids(), " ") << "\n";
  });
}

int TerminateInGroup(const AutoScalingContext& c) {
  v1::TerminateInstanceInAutoScalingGroupRequest request;
  request.set_instance_id(c.args.positional().at(0));
  request.set_should_decrement_desired_capacity(c.args.Bool("decrement"));
  v1::TerminateInstanceInAutoScalingGroupResponse response;
  const grpc::Status status = c.stub.TerminateInstanceInAutoScalingGroup(
      c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    google::protobuf::RepeatedPtrField<v1::Activity> activities;
    *activities.Add() = response.activity();
    PrintActivities(activities, "", os);
  });
}

int SuspendProcesses(const AutoScalingContext& c) {
  v1::SuspendProcessesRequest request;
  request.set_auto_scaling_group_name(c.args.positional().at(0));
  AddPositionals(c, 1, request.mutable_scaling_processes());
  v1::SuspendProcessesResponse response;
  const grpc::Status status =
      c.stub.SuspendProcesses(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << "suspended "
       << (request.scaling_processes().empty() ? "all processes"
                                               : absl::StrJoin(request.scaling_processes(), " "))
       << " of " << request.auto_scaling_group_name() << "\n";
  });
}

int ResumeProcesses(const AutoScalingContext& c) {
  v1::ResumeProcessesRequest request;
  request.set_auto_scaling_group_name(c.args.positional().at(0));
  AddPositionals(c, 1, request.mutable_scaling_processes());
  v1::ResumeProcessesResponse response;
  const grpc::Status status =
      c.stub.ResumeProcesses(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << "resumed "
       << (request.scaling_processes().empty() ? "all processes"
                                               : absl::StrJoin(request.scaling_processes(), " "))
       << " of " << request.auto_scaling_group_name() << "\n";
  });
}

int PutScalingPolicy(const AutoScalingContext& c) {
  int exit = kExitOk;
  if (!RequireFlags(c, {"group", "name"}, &exit)) return exit;
  // The type: as given, else what the flags say.
  v1::PolicyType type = c.args.Has("step")           ? v1::POLICY_TYPE_STEP_SCALING
                        : c.args.Has("target-value") ? v1::POLICY_TYPE_TARGET_TRACKING_SCALING
                                                     : v1::POLICY_TYPE_SIMPLE_SCALING;
  if (!EnumFlag(c, "policy-type", PolicyTypeNames(), &type, &exit)) return exit;
  const std::string type_name = EnumNameOf(PolicyTypeNames(), type);
  v1::PutScalingPolicyRequest request;
  request.set_auto_scaling_group_name(c.args.Get("group"));
  request.set_policy_name(c.args.Get("name"));
  request.set_policy_type(type);
  if (c.args.Has("enabled")) request.set_enabled(c.args.Bool("enabled"));
  std::optional<int32_t> warmup;
  if (!SecondsFlag(c, "estimated-instance-warmup", &warmup, &exit)) return exit;
  if (warmup) request.set_estimated_instance_warmup(*warmup);

  if (type == v1::POLICY_TYPE_TARGET_TRACKING_SCALING) {
    if (!Forbid(c, type_name, {"adjustment-type", "step"}, &exit) ||
        !Forbid(c, type_name, Flags(std::begin(kSimpleFlags), std::end(kSimpleFlags)), &exit) ||
        !ReadTargetTracking(c, request.mutable_target_tracking_configuration(), &exit)) {
      return exit;
    }
  } else {
    v1::AdjustmentType adjustment = v1::ADJUSTMENT_TYPE_UNSPECIFIED;
    if (!RequireFlag(c, "adjustment-type", &exit) ||
        !EnumFlag(c, "adjustment-type", AdjustmentTypeNames(), &adjustment, &exit) ||
        !Forbid(c, type_name, Flags(std::begin(kTargetFlags), std::end(kTargetFlags)), &exit)) {
      return exit;
    }
    request.set_adjustment_type(adjustment);
    std::optional<int32_t> magnitude;
    if (!Int32Flag(c, "min-adjustment-magnitude", &magnitude, &exit)) return exit;
    if (magnitude) request.set_min_adjustment_magnitude(*magnitude);
    if (type == v1::POLICY_TYPE_STEP_SCALING) {
      if (!Forbid(c, type_name, {"scaling-adjustment", "cooldown"}, &exit)) return exit;
      if (!RequireFlag(c, "step", &exit)) return exit;
      for (const std::string& text : c.args.GetAll("step")) {
        std::string error;
        if (!ParseStepAdjustment(text, request.add_step_adjustments(), &error)) {
          return c.UsageError("--step: " + error);
        }
      }
    } else {
      std::optional<int32_t> adjustment_value;
      std::optional<int32_t> cooldown;
      if (!Forbid(c, type_name, {"step", "estimated-instance-warmup"}, &exit) ||
          !RequireFlag(c, "scaling-adjustment", &exit) ||
          !Int32Flag(c, "scaling-adjustment", &adjustment_value, &exit) ||
          !SecondsFlag(c, "cooldown", &cooldown, &exit)) {
        return exit;
      }
      request.set_scaling_adjustment(*adjustment_value);
      if (cooldown) request.set_cooldown(*cooldown);
    }
  }
  v1::PutScalingPolicyResponse response;
  const grpc::Status status =
      c.stub.PutScalingPolicy(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << response.policy_arn() << "\n";
    for (const std::string& alarm : response.alarm_names()) os << "alarm: " << alarm << "\n";
  });
}

int DescribePolicies(const AutoScalingContext& c) {
  v1::DescribePoliciesRequest request;
  request.set_auto_scaling_group_name(c.args.Get("group"));
  AddPositionals(c, 0, request.mutable_policy_names());
  request.set_next_token(c.args.Get("next-token"));
  int32_t max = 0;
  int exit = kExitOk;
  if (!ReadMax(c, &max, &exit)) return exit;
  request.set_max_records(max);
  v1::DescribePoliciesResponse response;
  const grpc::Status status =
      c.stub.DescribePolicies(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) { PrintPolicies(response, os); });
}

int DeletePolicy(const AutoScalingContext& c) {
  v1::DeletePolicyRequest request;
  request.set_auto_scaling_group_name(c.args.Get("group"));
  request.set_policy_name(c.args.positional().at(0));
  v1::DeletePolicyResponse response;
  const grpc::Status status =
      c.stub.DeletePolicy(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << "deleted policy " << request.policy_name() << "\n";
  });
}

int ExecutePolicy(const AutoScalingContext& c) {
  v1::ExecutePolicyRequest request;
  request.set_auto_scaling_group_name(c.args.Get("group"));
  request.set_policy_name(c.args.positional().at(0));
  request.set_honor_cooldown(c.args.Bool("honor-cooldown"));
  std::optional<double> metric;
  std::optional<double> threshold;
  int exit = kExitOk;
  if (!DoubleFlag(c, "metric-value", &metric, &exit) ||
      !DoubleFlag(c, "breach-threshold", &threshold, &exit)) {
    return exit;
  }
  if (metric.has_value() != threshold.has_value()) {
    return c.UsageError("--metric-value and --breach-threshold go together");
  }
  if (metric) request.set_metric_value(*metric);
  if (threshold) request.set_breach_threshold(*threshold);
  v1::ExecutePolicyResponse response;
  const grpc::Status status =
      c.stub.ExecutePolicy(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << "executed policy " << request.policy_name() << "\n";
  });
}

int Activities(const AutoScalingContext& c) {
  v1::DescribeScalingActivitiesRequest request;
  request.set_auto_scaling_group_name(c.args.Get("group"));
  AddPositionals(c, 0, request.mutable_activity_ids());
  request.set_next_token(c.args.Get("next-token"));
  int32_t max = 0;
  int exit = kExitOk;
  if (!ReadMax(c, &max, &exit)) return exit;
  request.set_max_records(max);
  v1::DescribeScalingActivitiesResponse response;
  const grpc::Status status =
      c.stub.DescribeScalingActivities(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    PrintActivities(response.activities(), response.next_token(), os);
  });
}

int PutLifecycleHook(const AutoScalingContext& c) {
  int exit = kExitOk;
  if (!RequireFlags(c, {"group", "name", "transition"}, &exit)) return exit;
  const std::optional<std::string> transition = ParseLifecycleTransition(c.args.Get("transition"));
  if (!transition) {
    return c.UsageError("--transition: \"" + c.args.Get("transition") + "\" is not " +
                        kLifecycleTransitionForms);
  }
  v1::PutLifecycleHookRequest request;
  request.set_auto_scaling_group_name(c.args.Get("group"));
  request.set_lifecycle_hook_name(c.args.Get("name"));
  request.set_lifecycle_transition(*transition);
  request.set_notification_target_arn(c.args.Get("notification-target"));
  request.set_notification_metadata(c.args.Get("notification-metadata"));
  std::optional<int32_t> heartbeat;
  if (!SecondsFlag(c, "heartbeat-timeout", &heartbeat, &exit) ||
      !ChoiceFlag(c, "default-result", LifecycleResults(), request.mutable_default_result(),
                  &exit)) {
    return exit;
  }
  if (heartbeat) request.set_heartbeat_timeout(*heartbeat);
  v1::PutLifecycleHookResponse response;
  const grpc::Status status =
      c.stub.PutLifecycleHook(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << "saved lifecycle hook " << request.lifecycle_hook_name() << " of group "
       << request.auto_scaling_group_name() << "\n";
  });
}

int DescribeLifecycleHooks(const AutoScalingContext& c) {
  int exit = kExitOk;
  if (!RequireFlag(c, "group", &exit)) return exit;
  v1::DescribeLifecycleHooksRequest request;
  request.set_auto_scaling_group_name(c.args.Get("group"));
  AddPositionals(c, 0, request.mutable_lifecycle_hook_names());
  v1::DescribeLifecycleHooksResponse response;
  const grpc::Status status =
      c.stub.DescribeLifecycleHooks(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) { PrintLifecycleHooks(response, os); });
}

int DeleteLifecycleHook(const AutoScalingContext& c) {
  int exit = kExitOk;
  if (!RequireFlag(c, "group", &exit)) return exit;
  v1::DeleteLifecycleHookRequest request;
  request.set_auto_scaling_group_name(c.args.Get("group"));
  request.set_lifecycle_hook_name(c.args.positional().at(0));
  v1::DeleteLifecycleHookResponse response;
  const grpc::Status status =
      c.stub.DeleteLifecycleHook(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << "deleted lifecycle hook " << request.lifecycle_hook_name() << " of group "
       << request.auto_scaling_group_name() << "\n";
  });
}

int CompleteLifecycleAction(const AutoScalingContext& c) {
  int exit = kExitOk;
  v1::CompleteLifecycleActionRequest request;
  if (!ReadLifecycleAction(c, &request, &exit) || !RequireFlag(c, "result", &exit) ||
      !ChoiceFlag(c, "result", LifecycleResults(), request.mutable_lifecycle_action_result(),
                  &exit)) {
    return exit;
  }
  v1::CompleteLifecycleActionResponse response;
  const grpc::Status status =
      c.stub.CompleteLifecycleAction(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << "completed " << LifecycleActionText(request) << " with "
       << request.lifecycle_action_result() << "\n";
  });
}

int RecordLifecycleActionHeartbeat(const AutoScalingContext& c) {
  int exit = kExitOk;
  v1::RecordLifecycleActionHeartbeatRequest request;
  if (!ReadLifecycleAction(c, &request, &exit)) return exit;
  v1::RecordLifecycleActionHeartbeatResponse response;
  const grpc::Status status =
      c.stub.RecordLifecycleActionHeartbeat(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << "recorded a heartbeat of " << LifecycleActionText(request) << "\n";
  });
}

int PutScheduledAction(const AutoScalingContext& c) {
  int exit = kExitOk;
  if (!RequireFlags(c, {"group", "name"}, &exit)) return exit;
  v1::PutScheduledUpdateGroupActionRequest request;
  request.set_auto_scaling_group_name(c.args.Get("group"));
  request.set_scheduled_action_name(c.args.Get("name"));
  request.set_recurrence(c.args.Get("recurrence"));
  std::optional<int32_t> min;
  std::optional<int32_t> max;
  std::optional<int32_t> desired;
  if (!TimeFlag(c, "start-time", request.mutable_start_time(), &exit) ||
      !TimeFlag(c, "end-time", request.mutable_end_time(), &exit) ||
      !Int32Flag(c, "min", &min, &exit) || !Int32Flag(c, "max", &max, &exit) ||
      !Int32Flag(c, "desired", &desired, &exit)) {
    return exit;
  }
  if (!c.args.Has("start-time")) request.clear_start_time();  // recurring: the server's now
  if (!c.args.Has("end-time")) request.clear_end_time();
  if (!c.args.Has("recurrence")) {
    if (!RequireFlag(c, "start-time", &exit) ||
        !Forbid(c, "a one-off action (no --recurrence)", {"end-time"}, &exit)) {
      return exit;
    }
  }
  if (!min && !max && !desired) {
    return c.UsageError("put-scheduled-action needs --min, --max or --desired");
  }
  if (min) request.set_min_size(*min);
  if (max) request.set_max_size(*max);
  if (desired) request.set_desired_capacity(*desired);
  v1::PutScheduledUpdateGroupActionResponse response;
  const grpc::Status status =
      c.stub.PutScheduledUpdateGroupAction(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << "saved scheduled action " << request.scheduled_action_name() << " of group "
       << request.auto_scaling_group_name() << "\n";
  });
}

int DescribeScheduledActions(const AutoScalingContext& c) {
  v1::DescribeScheduledActionsRequest request;
  request.set_auto_scaling_group_name(c.args.Get("group"));
  AddPositionals(c, 0, request.mutable_scheduled_action_names());
  v1::DescribeScheduledActionsResponse response;
  const grpc::Status status =
      c.stub.DescribeScheduledActions(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response,
                [&](std::ostream& os) { PrintScheduledActions(response, os); });
}

int DeleteScheduledAction(const AutoScalingContext& c) {
  int exit = kExitOk;
  if (!RequireFlag(c, "group", &exit)) return exit;
  v1::DeleteScheduledActionRequest request;
  request.set_auto_scaling_group_name(c.args.Get("group"));
  request.set_scheduled_action_name(c.args.positional().at(0));
  v1::DeleteScheduledActionResponse response;
  const grpc::Status status =
      c.stub.DeleteScheduledAction(c.connection.NewContext().get(), request, &response);
  return Finish(c, status, response, [&](std::ostream& os) {
    os << "deleted scheduled action " << request.scheduled_action_name() << " of group "
       << request.auto_scaling_group_name() << "\n";
  });
}

}  // namespace thingtank::cli::compute
