#pragma once

#include "services/common/grpc_adapter.h"
#include "services/compute/compute_service.h"
#include "thingtank/compute/v1/compute.grpc.pb.h"

namespace thingtank::compute {

// The gRPC faces of the compute domain: EC2, CloudWatch and Auto Scaling.
// Each handler hands its request to the domain on the service's executor
// (via UnaryRunner) and finishes with the domain's answer. Nothing else
// happens here. Does not own its dependencies.
#define TT_COMPUTE_UNARY(Target, Method) \
  Unary<v1::Method##Request>(#Method, [d = (Target)](const v1::Method##Request& r) { return d->Method(r); })

class ComputeGrpcService final : public GrpcAdapter<v1::ComputeService::CallbackService> {
 public:
  ComputeGrpcService(ComputeService* domain, UnaryRunner* runner)
      : GrpcAdapter(v1::ComputeService::service_full_name(), runner) {
    Instances* instances = domain->instances();
    LaunchTemplates* templates = domain->launch_templates();
    TT_COMPUTE_UNARY(domain, RunInstances);
    TT_COMPUTE_UNARY(instances, DescribeInstances);
    TT_COMPUTE_UNARY(instances, StartInstances);
    TT_COMPUTE_UNARY(instances, StopInstances);
    TT_COMPUTE_UNARY(instances, RebootInstances);
    TT_COMPUTE_UNARY(instances, TerminateInstances);
    TT_COMPUTE_UNARY(instances, DescribeInstanceTypes);
    TT_COMPUTE_UNARY(instances, DescribeAvailabilityZones);
    TT_COMPUTE_UNARY(instances, DescribeHosts);
    TT_COMPUTE_UNARY(domain, SetInstanceLoad);
    TT_COMPUTE_UNARY(templates, CreateLaunchTemplate);
    TT_COMPUTE_UNARY(templates, CreateLaunchTemplateVersion);
    TT_COMPUTE_UNARY(templates, DescribeLaunchTemplates);
    TT_COMPUTE_UNARY(templates, DescribeLaunchTemplateVersions);
    TT_COMPUTE_UNARY(templates, ModifyLaunchTemplate);
    TT_COMPUTE_UNARY(templates, DeleteLaunchTemplate);
    if (!HandlesEveryMethod()) abort();
  }
};

class CloudWatchGrpcService final : public GrpcAdapter<v1::CloudWatchService::CallbackService> {
 public:
  CloudWatchGrpcService(ComputeService* domain, UnaryRunner* runner)
      : GrpcAdapter(v1::CloudWatchService::service_full_name(), runner) {
    MetricStore* metrics = domain->metrics();
    Alarms* alarms = domain->alarms();
    TT_COMPUTE_UNARY(metrics, PutMetricData);
    TT_COMPUTE_UNARY(metrics, PublishServiceMetrics);
    TT_COMPUTE_UNARY(metrics, GetMetricStatistics);
    TT_COMPUTE_UNARY(metrics, GetMetricData);
    TT_COMPUTE_UNARY(metrics, ListMetrics);
    TT_COMPUTE_UNARY(alarms, PutMetricAlarm);
    TT_COMPUTE_UNARY(alarms, DescribeAlarms);
    TT_COMPUTE_UNARY(alarms, DeleteAlarms);
    TT_COMPUTE_UNARY(alarms, SetAlarmState);
    TT_COMPUTE_UNARY(alarms, DescribeAlarmHistory);
    TT_COMPUTE_UNARY(alarms, EnableAlarmActions);
    TT_COMPUTE_UNARY(alarms, DisableAlarmActions);
    if (!HandlesEveryMethod()) abort();
  }
};

class AutoScalingGrpcService final : public GrpcAdapter<v1::AutoScalingService::CallbackService> {
 public:
  AutoScalingGrpcService(ComputeService* domain, UnaryRunner* runner)
      : GrpcAdapter(v1::AutoScalingService::service_full_name(), runner) {
    AutoScaling* as = domain->autoscaling();
    TT_COMPUTE_UNARY(as, CreateLaunchConfiguration);
    TT_COMPUTE_UNARY(as, DescribeLaunchConfigurations);
    TT_COMPUTE_UNARY(as, DeleteLaunchConfiguration);
    TT_COMPUTE_UNARY(as, CreateAutoScalingGroup);
    TT_COMPUTE_UNARY(as, UpdateAutoScalingGroup);
    TT_COMPUTE_UNARY(as, DescribeAutoScalingGroups);
    TT_COMPUTE_UNARY(as, DeleteAutoScalingGroup);
    TT_COMPUTE_UNARY(as, SetDesiredCapacity);
    TT_COMPUTE_UNARY(as, SetInstanceHealth);
    TT_COMPUTE_UNARY(as, SetInstanceProtection);
    TT_COMPUTE_UNARY(as, TerminateInstanceInAutoScalingGroup);
    TT_COMPUTE_UNARY(as, SuspendProcesses);
    TT_COMPUTE_UNARY(as, ResumeProcesses);
    TT_COMPUTE_UNARY(as, PutScalingPolicy);
    TT_COMPUTE_UNARY(as, DescribePolicies);
    TT_COMPUTE_UNARY(as, DeletePolicy);
    TT_COMPUTE_UNARY(as, ExecutePolicy);
    TT_COMPUTE_UNARY(as, DescribeScalingActivities);
    TT_COMPUTE_UNARY(as, PutLifecycleHook);
    TT_COMPUTE_UNARY(as, DescribeLifecycleHooks);
    TT_COMPUTE_UNARY(as, DeleteLifecycleHook);
    TT_COMPUTE_UNARY(as, CompleteLifecycleAction);
    TT_COMPUTE_UNARY(as, RecordLifecycleActionHeartbeat);
    TT_COMPUTE_UNARY(as, PutScheduledUpdateGroupAction);
    TT_COMPUTE_UNARY(as, DescribeScheduledActions);
    TT_COMPUTE_UNARY(as, DeleteScheduledAction);
    if (!HandlesEveryMethod()) abort();
  }
};

#undef TT_COMPUTE_UNARY

}  // namespace thingtank::compute
