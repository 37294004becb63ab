#pragma once

// The handlers of `thingtank compute <command>`, one per command, over the
// three services of the compute API: ComputeService (EC2, in
// compute_commands_ec2.cc and compute_commands_watch.cc), CloudWatchService
// (compute_commands_cloudwatch.cc) and AutoScalingService
// (compute_commands_autoscaling.cc). Each gets the parsed command line and
// returns the exit code. Internal to tools/thingtank/cli.

#include <google/protobuf/repeated_field.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "thingtank/compute/v1/compute.grpc.pb.h"
#include "tools/thingtank/cli/cli_command.h"
#include "tools/thingtank/cli/compute_args.h"

namespace thingtank::cli::compute {

using Ec2Stub = v1::ComputeService::Stub;
using CloudWatchStub = v1::CloudWatchService::Stub;
using AutoScalingStub = v1::AutoScalingService::Stub;

// What one command invocation works with: the shared context plus the stub
// of the service it calls.
struct Ec2Context : CallContext {
  Ec2Stub& stub;
};
struct CloudWatchContext : CallContext {
  CloudWatchStub& stub;
};
struct AutoScalingContext : CallContext {
  AutoScalingStub& stub;
};

// ---------------------------------------------------------------------------
// Flags shared by several commands (their FlagSpecs and their readers). Each
// reader leaves the output alone when the flag is absent and returns false
// with *exit set (a usage error naming the flag) when its value is bad.

// --image-id, --instance-type, --key-name, --security-group, --user-data,
// --user-data-file, --driver, --load: what run, create-launch-configuration
// and the launch template commands have in common. `required` ends the help
// of --image-id and --instance-type (" (required)", or "" where optional).
std::vector<FlagSpec> LaunchFlags(const std::string& required);
// --launch-template NAME[:VERSION] (`what`: what the template is for).
FlagSpec LaunchTemplateFlag(const std::string& what);
// --load SPEC (help text with the syntax).
FlagSpec LoadFlag();
// --tag k=v (repeatable).
FlagSpec TagFlag();
// --dimension k=v (repeatable), `optional_value` for list-metrics' k[=v].
FlagSpec DimensionFlag(bool optional_value);
// --max N and --next-token TOKEN of a listing (`what`: "instances").
std::vector<FlagSpec> PagingFlags(const std::string& what);

// Missing --flag is a usage error.
bool RequireFlag(const CallContext& c, const std::string& flag, int* exit);
// A finite number.
bool DoubleFlag(const CallContext& c, const std::string& flag, std::optional<double>* out,
                int* exit);
// Whole seconds: "300", "5m", "1h".
bool SecondsFlag(const CallContext& c, const std::string& flag, std::optional<int32_t>* out,
                 int* exit);
// A TIME (see compute_args.h); relative times count from the local clock.
bool TimeFlag(const CallContext& c, const std::string& flag, google::protobuf::Timestamp* out,
              int* exit);
// --load SPEC into `out` (left unset when absent).
bool ReadLoad(const CallContext& c, v1::LoadModel* out, int* exit);
// --driver NAME.
bool ReadDriver(const CallContext& c, v1::Driver* out, int* exit);
// --user-data TEXT or --user-data-file PATH (one of them).
bool ReadUserData(const CallContext& c, std::string* out, int* exit);
// Every --tag k=v.
bool ReadTags(const CallContext& c, google::protobuf::RepeatedPtrField<v1::Tag>* out, int* exit);
// The LaunchFlags into `out` (a RunInstancesRequest,
// CreateLaunchConfigurationRequest or LaunchTemplateData): those given, the
// driver UNSPECIFIED and the load unset when absent.
template <typename Launch>
bool ReadLaunchFlags(const CallContext& c, Launch* out, int* exit) {
  out->set_image_id(c.args.Get("image-id"));
  out->set_instance_type(c.args.Get("instance-type"));
  out->set_key_name(c.args.Get("key-name"));
  for (const std::string& group : c.args.GetAll("security-group")) {
    out->add_security_groups(group);
  }
  v1::Driver driver = v1::DRIVER_UNSPECIFIED;
  if (!ReadUserData(c, out->mutable_user_data(), exit) || !ReadDriver(c, &driver, exit) ||
      !ReadLoad(c, out->mutable_load(), exit)) {
    return false;
  }
  out->set_driver(driver);
  if (!c.args.Has("load")) out->clear_load();
  return true;
}
// --launch-template NAME[:VERSION] into the request's launch_template (left
// unset when absent: a set one means "launch from a template").
template <typename Request>
bool ReadLaunchTemplate(const CallContext& c, Request* request, int* exit) {
  if (!c.args.Has("launch-template")) return true;
  std::string error;
  if (!ParseLaunchTemplateSpec(c.args.Get("launch-template"), request->mutable_launch_template(),
                               &error)) {
    *exit = c.UsageError("--launch-template: " + error);
    return false;
  }
  return true;
}
// Every --`flag` k=v as a dimension.
bool ReadDimensions(const CallContext& c, const std::string& flag,
                    google::protobuf::RepeatedPtrField<v1::Dimension>* out, int* exit);
// --max N as a page size (at least 1).
bool ReadMax(const CallContext& c, int32_t* out, int* exit);

// An enum flag by its AWS name; `*out` untouched when absent.
template <typename Enum>
bool EnumFlag(const CallContext& c, const std::string& flag, const EnumNames<Enum>& names,
              Enum* out, int* exit) {
  if (!c.args.Has(flag)) return true;
  std::string error;
  if (!ParseEnumFlag(flag, c.args.Get(flag), names, out, &error)) {
    *exit = c.UsageError(error);
    return false;
  }
  return true;
}

// Every value of a repeated, comma-separated flag into `out`.
void AddAll(const CallContext& c, const std::string& flag,
            google::protobuf::RepeatedPtrField<std::string>* out);
// The positional arguments into `out`, from the `from`-th.
void AddPositionals(const CallContext& c, size_t from,
                    google::protobuf::RepeatedPtrField<std::string>* out);

// ---------------------------------------------------------------------------
// EC2 (ComputeService).

int Run(const Ec2Context& c);
int Describe(const Ec2Context& c);
int Start(const Ec2Context& c);
int Stop(const Ec2Context& c);
int Reboot(const Ec2Context& c);
int Terminate(const Ec2Context& c);
int SetLoad(const Ec2Context& c);
int Types(const Ec2Context& c);
int Zones(const Ec2Context& c);
int Hosts(const Ec2Context& c);
int CreateLaunchTemplate(const Ec2Context& c);
int CreateLaunchTemplateVersion(const Ec2Context& c);
int DescribeLaunchTemplates(const Ec2Context& c);
int DescribeLaunchTemplateVersions(const Ec2Context& c);
int ModifyLaunchTemplate(const Ec2Context& c);
int DeleteLaunchTemplate(const Ec2Context& c);

// describe --watch: polls DescribeInstances every second and prints a line
// per state change, until Ctrl-C or --timeout (default 10m), or with
// --until-state until every instance watched is in that state.
int WatchInstances(const Ec2Context& c, const v1::DescribeInstancesRequest& request);

// ---------------------------------------------------------------------------
// CloudWatch.

int PutMetric(const CloudWatchContext& c);
int GetStatistics(const CloudWatchContext& c);
int ListMetrics(const CloudWatchContext& c);
int PutAlarm(const CloudWatchContext& c);
int DescribeAlarms(const CloudWatchContext& c);
int AlarmHistory(const CloudWatchContext& c);
int SetAlarmState(const CloudWatchContext& c);
int DeleteAlarms(const CloudWatchContext& c);
int EnableAlarmActions(const CloudWatchContext& c);
int DisableAlarmActions(const CloudWatchContext& c);

// ---------------------------------------------------------------------------
// Auto Scaling.

int CreateLaunchConfiguration(const AutoScalingContext& c);
int DescribeLaunchConfigurations(const AutoScalingContext& c);
int DeleteLaunchConfiguration(const AutoScalingContext& c);
int CreateGroup(const AutoScalingContext& c);
int UpdateGroup(const AutoScalingContext& c);
int DescribeGroups(const AutoScalingContext& c);
int DeleteGroup(const AutoScalingContext& c);
int SetDesiredCapacity(const AutoScalingContext& c);
int SetInstanceHealth(const AutoScalingContext& c);
int SetInstanceProtection(const AutoScalingContext& c);
int TerminateInGroup(const AutoScalingContext& c);
int SuspendProcesses(const AutoScalingContext& c);
int ResumeProcesses(const AutoScalingContext& c);
int PutScalingPolicy(const AutoScalingContext& c);
int DescribePolicies(const AutoScalingContext& c);
int DeletePolicy(const AutoScalingContext& c);
int ExecutePolicy(const AutoScalingContext& c);
int Activities(const AutoScalingContext& c);
int PutLifecycleHook(const AutoScalingContext& c);
int DescribeLifecycleHooks(const AutoScalingContext& c);
int DeleteLifecycleHook(const AutoScalingContext& c);
int CompleteLifecycleAction(const AutoScalingContext& c);
int RecordLifecycleActionHeartbeat(const AutoScalingContext& c);
int PutScheduledAction(const AutoScalingContext& c);
int DescribeScheduledActions(const AutoScalingContext& c);
int DeleteScheduledAction(const AutoScalingContext& c);

}  // namespace thingtank::cli::compute
