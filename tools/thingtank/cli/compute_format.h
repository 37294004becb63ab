#pragma once

// Human-readable output of compute responses (the --json form is the response
// itself). Columns are aligned; an empty field prints as "-"; times are RFC
// 3339 UTC on the server's clock. Internal to tools/thingtank/cli.

#include <ostream>
#include <string>
#include <vector>

#include "thingtank/compute/v1/compute.pb.h"

namespace thingtank::cli::compute {

namespace v1 = thingtank::compute::v1;

using Row = std::vector<std::string>;

// Rows with their columns aligned (the last one unpadded), each after `indent`.
void PrintTable(const std::vector<Row>& rows, std::ostream& os, const std::string& indent = "");

// "running", "shutting-down": EC2's text of a state.
std::string StateText(const v1::InstanceState& state);

// One instance as `describe` prints it: id, type, state, zone, private IP and
// DNS, public IP and DNS, launch time (the columns of the classic
// ec2-describe-instances).
Row InstanceRow(const v1::Instance& instance);

// The reservation id, then one InstanceRow per instance.
void PrintReservation(const v1::RunInstancesResponse& response, std::ostream& os);
// InstanceRows ("no instances" when none), then the next-token hint.
void PrintInstances(const v1::DescribeInstancesResponse& response, std::ostream& os);
// "i-...  running -> stopping" per instance.
void PrintStateChanges(const google::protobuf::RepeatedPtrField<v1::InstanceStateChange>& changes,
                       std::ostream& os);
void PrintInstanceTypes(const v1::DescribeInstanceTypesResponse& response, std::ostream& os);
void PrintZones(const v1::DescribeAvailabilityZonesResponse& response, std::ostream& os);
// One line per host: id, zone, vCPUs and memory used/total, its instances.
void PrintHosts(const v1::DescribeHostsResponse& response, std::ostream& os);
// One line per launch template: id, name, "default N", "latest M".
void PrintLaunchTemplates(const v1::DescribeLaunchTemplatesResponse& response, std::ostream& os);
// One line per version, newest first as the server orders them: number,
// "default" (or "-"), image, type, description.
void PrintLaunchTemplateVersions(const v1::DescribeLaunchTemplateVersionsResponse& response,
                                 std::ostream& os);

// The label, then a header and one row per data point: its time, each
// statistic the data points carry, the percentiles and the unit.
void PrintDatapoints(const v1::GetMetricStatisticsResponse& response, std::ostream& os);
// "NAMESPACE  NAME  dim=value,dim=value" per metric.
void PrintMetrics(const v1::ListMetricsResponse& response, std::ostream& os);
// Per alarm: name, state, the condition ("Average(MyApp CPU host=a) >
// 70 for 2 of 2 x 60s"), actions; the state reason on the next line.
void PrintAlarms(const v1::DescribeAlarmsResponse& response, std::ostream& os);
// Per item: time, type, alarm, summary.
void PrintAlarmHistory(const v1::DescribeAlarmHistoryResponse& response, std::ostream& os);

void PrintLaunchConfigurations(const v1::DescribeLaunchConfigurationsResponse& response,
                               std::ostream& os);
// Per group a line (name, launch configuration or template NAME:VERSION,
// min/desired/max, zones, status), then one indented line per instance: id,
// zone, lifecycle state, health, launch configuration or the template
// NAME:VERSION it was launched from, protection.
void PrintGroups(const v1::DescribeAutoScalingGroupsResponse& response, std::ostream& os);
// Per policy: group, name, type, what it does; its ARN and alarms indented.
void PrintPolicies(const v1::DescribePoliciesResponse& response, std::ostream& os);
// Newest first as the server orders them: status, start and end time,
// description; the cause (and a failure's message) indented below.
void PrintActivities(const google::protobuf::RepeatedPtrField<v1::Activity>& activities,
                     const std::string& next_token, std::ostream& os);

// One line per hook: name, transition, heartbeat timeout, default result,
// notification target.
void PrintLifecycleHooks(const v1::DescribeLifecycleHooksResponse& response, std::ostream& os);

// One line per scheduled action: group, name, recurrence ("once" for a
// one-off), next run time, then "min/max/desired" with "-" for what it leaves.
void PrintScheduledActions(const v1::DescribeScheduledActionsResponse& response,
                           std::ostream& os);

// "(more: --next-token TOKEN)" when `token` is not empty.
void PrintNextToken(const std::string& token, std::ostream& os);

}  // namespace thingtank::cli::compute
