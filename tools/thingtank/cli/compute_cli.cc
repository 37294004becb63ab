#include "tools/thingtank/cli/compute_cli.h"

#include <ostream>

#include "absl/strings/str_join.h"
#include "tools/thingtank/cli/cli_command.h"
#include "tools/thingtank/cli/compute_commands.h"

namespace thingtank::cli {
namespace {

using compute::AcceptedNames;

std::vector<FlagSpec> Join(std::vector<FlagSpec> a, const std::vector<FlagSpec>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// `name <arg> [arg]...`: one or more of `arg`.
Command OneOrMore(std::string name, const std::string& arg, std::string summary,
                  std::vector<FlagSpec> flags, Command::Run run) {
  Command command{std::move(name), {arg}, std::move(summary), std::move(flags), std::move(run),
                  {arg}};
  command.variadic = true;
  return command;
}

// `name [arg]...`: any number of `arg`.
Command AnyNumber(std::string name, const std::string& arg, std::string summary,
                  std::vector<FlagSpec> flags, Command::Run run) {
  Command command{std::move(name), {}, std::move(summary), std::move(flags), std::move(run),
                  {arg}};
  command.variadic = true;
  return command;
}

// `name (--name N | --id ID) ...`: a command on one launch template. The
// dispatcher also puts the value of --id (the service's target flag) in front
// of the positionals, hence the optional one; the handler accepts no other.
Command OnTemplate(std::string name, std::string synopsis, std::string summary,
                   const std::vector<FlagSpec>& flags, Command::Run run) {
  Command command{std::move(name),
                  {},
                  std::move(summary),
                  Join({{"name", "NAME", "the launch template by name"},
                        {"id", "ID", "the launch template by id (lt-...)"}},
                       flags),
                  std::move(run),
                  {"id"}};
  command.synopsis = std::move(synopsis);
  return command;
}

std::vector<Command> Ec2Commands() {
  // What a launch template version launches: the launch flags and tags.
  const std::vector<FlagSpec> launch_data =
      Join(compute::LaunchFlags(""), {compute::TagFlag()});
  const FlagSpec version_description = {"version-description", "TEXT",
                                        "what the version is for (up to 255 characters)"};
  Command set_load = AnyNumber("set-load", "instance-id",
                               "set the simulated CPU load of instances, or of a group's",
                               {{"group", "NAME", "every instance of this group, and later ones"},
                                compute::LoadFlag()},
                               WithStub(&compute::SetLoad));
  set_load.synopsis = "(<instance-id>... | --group NAME) --load SPEC";
  return {
      {"run", {}, "launch instances: pending at first, running after the launch delay",
       Join(compute::LaunchFlags(" (required without --launch-template)"),
            {compute::LaunchTemplateFlag("launch from it; the flags given here override it"),
             {"count", "N", "launch exactly N instances (default 1)"},
             {"min-count", "N", "launch at least N instances, or none"},
             {"max-count", "N", "launch at most N instances"},
             {"zone", "ZONE", "availability zone (default: spread over all)"},
             compute::TagFlag(),
             {"client-token", "TOKEN", "idempotency token: a retry gets the first reservation"}}),
       WithStub(&compute::Run)},
      AnyNumber("describe", "instance-id",
                "list instances (id, type, state, zone, IPs and DNS names, launch time)",
                Join({{"filter", "NAME=V1,V2",
                       "EC2 filter: instance-state-name, instance-type, availability-zone, "
                       "image-id, tag:KEY, tag-key, auto-scaling-group, reservation-id",
                       true},
                      {"watch", "",
                       "poll every second and print an instance whenever its state changes "
                       "(--json: one Instance a line), until Ctrl-C or --timeout (here default "
                       "10m)"},
                      {"until-state", "STATE",
                       "with --watch (implied): exit 0 once every instance is in STATE: " +
                           AcceptedNames(compute::InstanceStateNames())}},
                     compute::PagingFlags("instances")),
                WithStub(&compute::Describe)),
      OneOrMore("start", "instance-id", "start stopped instances (stopped -> pending -> running)",
                {}, WithStub(&compute::Start)),
      OneOrMore("stop", "instance-id", "stop running instances (running -> stopping -> stopped)",
                {{"force", "", "skip the graceful part (process driver: SIGKILL at once)"}},
                WithStub(&compute::Stop)),
      OneOrMore("reboot", "instance-id", "reboot running instances (they stay running)", {},
                WithStub(&compute::Reboot)),
      OneOrMore("terminate", "instance-id",
                "terminate instances (-> shutting-down -> terminated; listed for an hour)", {},
                WithStub(&compute::Terminate)),
      set_load,
      AnyNumber("types", "instance-type", "the instance types: vCPUs, memory", {},
                WithStub(&compute::Types)),
      {"zones", {}, "the availability zones", {}, WithStub(&compute::Zones)},
      {"hosts", {}, "the hosts of each zone: capacity used and their instances",
       {{"zone", "ZONE", "only hosts of this zone"}}, WithStub(&compute::Hosts)},
      {"create-launch-template", {}, "create a launch template with its version 1",
       Join({{"name", "NAME",
              "the launch template: 3 to 128 letters, digits and ( ) . - / _ (required)"},
             version_description},
            launch_data),
       WithStub(&compute::CreateLaunchTemplate)},
      OnTemplate("create-launch-template-version",
                 "(--name N | --id ID) [--source-version V]",
                 "add a version to a launch template: the flags given over a source version",
                 Join({{"source-version", "V",
                        "the version it starts from: " +
                            std::string(compute::kLaunchTemplateVersionForms)},
                       version_description},
                      launch_data),
                 WithStub(&compute::CreateLaunchTemplateVersion)),
      AnyNumber("describe-launch-templates", "name",
                "launch templates: id, name, default and latest version", {},
                WithStub(&compute::DescribeLaunchTemplates)),
      OnTemplate("describe-launch-template-versions", "(--name N | --id ID) [--version V]...",
                 "versions of a launch template: number, default, image, type, description",
                 {{"version", "V",
                   "only this version: " + std::string(compute::kLaunchTemplateVersionForms) +
                       " (default: all)",
                   true}},
                 WithStub(&compute::DescribeLaunchTemplateVersions)),
      OnTemplate("modify-launch-template", "(--name N | --id ID) --default-version V",
                 "set the default version of a launch template",
                 {{"default-version", "V", "a version number or $Latest (required)"}},
                 WithStub(&compute::ModifyLaunchTemplate)),
      OnTemplate("delete-launch-template", "(--name N | --id ID)",
                 "delete a launch template and all its versions", {},
                 WithStub(&compute::DeleteLaunchTemplate)),
  };
}

std::vector<Command> CloudWatchCommands() {
  const std::vector<FlagSpec> metric = {{"namespace", "NS", "the metric's namespace (required)"},
                                        {"metric-name", "NAME", "the metric (required)"},
                                        compute::DimensionFlag(false)};
  const std::string statistics = AcceptedNames(compute::StatisticNames());
  return {
      {"put-metric", {}, "store one data point of a metric",
       Join(metric,
            {{"value", "V", "one sample"},
             {"statistic-values", "COUNT,SUM,MIN,MAX", "an aggregate of samples instead"},
             {"unit", "UNIT", "Percent, Count, Seconds, Bytes, ... (default None)"},
             {"timestamp", "TIME", "when it was measured (default: the server's now)"},
             {"storage-resolution", "S", "60 (default) or 1 (high resolution)"}}),
       WithStub(&compute::PutMetric)},
      {"get-statistics", {}, "statistics of a metric, one data point per period",
       Join(metric,
            {{"start", "TIME", "inclusive start (required)"},
             {"end", "TIME", "exclusive end (required)"},
             {"period", "SECONDS", "1, 5, 10, 30 or a multiple of 60 (required)"},
             {"statistics", "LIST", statistics + " (comma list)", true},
             {"extended", "LIST", "percentiles, e.g. p99,p50 (comma list)", true},
             {"unit", "UNIT", "only data of this unit"}}),
       WithStub(&compute::GetStatistics)},
      {"list-metrics", {}, "metrics that have data",
       {{"namespace", "NS", "only this namespace"},
        {"metric-name", "NAME", "only this metric name"},
        compute::DimensionFlag(true),
        {"recently-active", "", "only metrics with data in the past 3 hours"},
        {"next-token", "TOKEN", "continue a previous listing"}},
       WithStub(&compute::ListMetrics)},
      {"put-alarm", {}, "create or replace an alarm on a metric (starts INSUFFICIENT_DATA)",
       {{"alarm-name", "NAME", "the alarm (required)"},
        {"description", "TEXT", "what it is for"},
        {"namespace", "NS", "the metric's namespace (required)"},
        {"metric-name", "NAME", "the metric (required)"},
        compute::DimensionFlag(false),
        {"statistic", "STAT", statistics + ", or a percentile such as p99 (required)"},
        {"period", "SECONDS", "10, 30 or a multiple of 60 (required)"},
        {"evaluation-periods", "N", "how many recent periods are evaluated (required)"},
        {"datapoints-to-alarm", "M", "how many of them must breach (default N)"},
        {"threshold", "V", "the threshold (required)"},
        {"comparison-operator", "OP",
         AcceptedNames(compute::ComparisonOperatorNames()) + " (required)"},
        {"treat-missing-data", "HOW", AcceptedNames(compute::TreatMissingDataNames()) +
                                          " (default missing)"},
        {"alarm-action", "ARN", "run on entering ALARM (a scaling policy ARN)", true},
        {"ok-action", "ARN", "run on entering OK", true},
        {"insufficient-data-action", "ARN", "run on entering INSUFFICIENT_DATA", true},
        {"unit", "UNIT", "only data of this unit"},
        {"actions-enabled", "", "run the actions (default true; =false to turn off)"}},
       WithStub(&compute::PutAlarm)},
      AnyNumber("describe-alarms", "alarm-name",
                "alarms: state, condition, actions and why they are in their state",
                Join({{"prefix", "PREFIX", "only names starting with PREFIX"},
                      {"state", "STATE", AcceptedNames(compute::StateValueNames())},
                      {"action-prefix", "PREFIX", "only alarms with an action starting so"}},
                     compute::PagingFlags("alarms")),
                WithStub(&compute::DescribeAlarms)),
      {"alarm-history", {}, "state changes, configuration updates and actions, newest first",
       Join({{"type", "TYPE", AcceptedNames(compute::HistoryItemTypeNames())},
             {"start", "TIME", "inclusive start"},
             {"end", "TIME", "exclusive end"},
             {"oldest-first", "", "oldest first"}},
            compute::PagingFlags("items")),
       WithStub(&compute::AlarmHistory), {"alarm-name"}},
      {"set-alarm-state", {"alarm-name"}, "set an alarm's state until its next evaluation",
       {{"state", "STATE", AcceptedNames(compute::StateValueNames()) + " (required)"},
        {"reason", "TEXT", "why (required)"},
        {"reason-data", "JSON", "optional data"}},
       WithStub(&compute::SetAlarmState)},
      OneOrMore("delete-alarms", "alarm-name", "delete alarms (all or none)", {},
                WithStub(&compute::DeleteAlarms)),
      OneOrMore("enable-alarm-actions", "alarm-name", "turn alarm actions on", {},
                WithStub(&compute::EnableAlarmActions)),
      OneOrMore("disable-alarm-actions", "alarm-name",
                "turn alarm actions off (states still change)", {},
                WithStub(&compute::DisableAlarmActions)),
  };
}

std::vector<FlagSpec> GroupFlags(bool create) {
  const std::string required = create ? " (required)" : "";
  std::vector<FlagSpec> flags = {
      {"name", "NAME", "the group (required)"},
      {"launch-configuration", "NAME",
       "what its instances are launched from" +
           (create ? std::string(" (required without --launch-template)") : "")},
      compute::LaunchTemplateFlag(create ? "instead of --launch-configuration (resolved at each "
                                           "launch)"
                                         : "launch new instances from it instead"),
      {"min", "N", "least size" + required},
      {"max", "N", "largest size" + required},
      {"desired", "N", create ? "desired capacity (default min)" : "desired capacity"},
      {"zone", "ZONE", "availability zones (comma list)" + required, true},
      {"default-cooldown", "SECONDS", "after a simple scaling activity (default 300)"},
      {"health-check-type", "TYPE", "EC2 or ELB (default EC2)"},
      {"health-check-grace-period", "SECONDS", "after launch before health checks count"},
      {"termination-policy", "POLICY",
       "Default, OldestInstance, NewestInstance, OldestLaunchConfiguration, "
       "ClosestToNextInstanceHour (in order)",
       true},
      {"protect-new-instances", "", "new instances start protected from scale-in (=false: not)"},
  };
  if (create) flags.push_back(compute::TagFlag());
  return flags;
}

std::vector<Command> AutoScalingCommands() {
  const FlagSpec group = {"group", "NAME", "the group"};
  const FlagSpec required_group = {"group", "NAME", "the group (required)"};
  Command policy{
      "put-scaling-policy",
      {},
      "create or replace a scaling policy; prints its ARN (what alarms point to)",
      {required_group,
       {"name", "NAME", "the policy (required)"},
       {"policy-type", "TYPE",
        AcceptedNames(compute::PolicyTypeNames()) + " (default: from the flags given)"},
       {"adjustment-type", "TYPE", "simple and step: " +
                                       AcceptedNames(compute::AdjustmentTypeNames())},
       {"scaling-adjustment", "N", "simple: the change"},
       {"cooldown", "SECONDS", "simple: wait after an activity (default: the group's)"},
       {"min-adjustment-magnitude", "N", "PercentChangeInCapacity: the least change"},
       {"step", "LOWER:UPPER:N", "step: bounds over the threshold (may be empty) and change",
        true},
       {"estimated-instance-warmup", "SECONDS", "step and target tracking"},
       {"target-value", "V", "target tracking: keep the metric at V"},
       {"predefined-metric", "NAME", AcceptedNames(compute::PredefinedMetricNames())},
       {"metric-namespace", "NS", "target tracking on a metric of your own: its namespace"},
       {"metric-name", "NAME", "... its name"},
       {"metric-dimension", "NAME=VALUE", "... its dimensions", true},
       {"metric-statistic", "STAT", "... its statistic (default Average)"},
       {"per-instance", "", "... divided by the group's in-service instances"},
       {"disable-scale-in", "", "target tracking: never scale in"},
       {"enabled", "", "the policy runs (default true; =false to turn off)"}},
      WithStub(&compute::PutScalingPolicy)};
  const std::string results = absl::StrJoin(compute::LifecycleResults(), " or ");
  const std::vector<FlagSpec> action = {
      required_group,
      {"hook", "NAME", "the lifecycle hook (required)"},
      {"token", "TOKEN", "the LifecycleActionToken of the notification"},
      {"instance-id", "ID", "the waiting instance (instead of --token)"}};
  Command complete{"complete-lifecycle-action",
                   {},
                   "end an instance's wait on a lifecycle hook (Pending:Wait, Terminating:Wait)",
                   Join(action, {{"result", "RESULT", results + " (required)"}}),
                   WithStub(&compute::CompleteLifecycleAction)};
  complete.synopsis = "--group G --hook H (--token T | --instance-id I) --result " +
                      absl::StrJoin(compute::LifecycleResults(), "|");
  Command heartbeat{"record-lifecycle-action-heartbeat",
                    {},
                    "restart the heartbeat timeout of an instance's wait on a lifecycle hook",
                    action,
                    WithStub(&compute::RecordLifecycleActionHeartbeat)};
  heartbeat.synopsis = "--group G --hook H (--token T | --instance-id I)";
  Command scheduled{
      "put-scheduled-action",
      {},
      "create or replace a scheduled action: new min/max/desired at a time or on a UTC cron",
      {required_group,
       {"name", "NAME", "the scheduled action (required)"},
       {"start-time", "TIME",
        "one-off: when it runs (required without --recurrence; not in the server's past); "
        "recurring: from when (default: the server's now)"},
       {"end-time", "TIME", "recurring: no runs after it"},
       {"recurrence", "CRON",
        "5-field Unix cron in UTC, e.g. \"0 9 * * 1-5\" (default: once at --start-time)"},
       {"min", "N", "new least size"},
       {"max", "N", "new largest size"},
       {"desired", "N", "new desired capacity"}},
      WithStub(&compute::PutScheduledAction)};
  scheduled.synopsis =
      "--group G --name N (--start-time TIME | --recurrence CRON [--start-time TIME] "
      "[--end-time TIME]) [--min N] [--max N] [--desired N]";
  policy.synopsis =
      "--group G --name P (--adjustment-type T --scaling-adjustment N | "
      "--policy-type StepScaling --adjustment-type T --step L:U:N... | "
      "--target-value V (--predefined-metric M | --metric-namespace NS --metric-name M))";
  return {
      {"create-launch-configuration", {}, "create a launch configuration for groups",
       Join({{"name", "NAME", "the launch configuration (required)"}},
            compute::LaunchFlags(" (required)")),
       WithStub(&compute::CreateLaunchConfiguration)},
      AnyNumber("describe-launch-configurations", "name", "list launch configurations",
                compute::PagingFlags("launch configurations"),
                WithStub(&compute::DescribeLaunchConfigurations)),
      {"delete-launch-configuration", {"name"}, "delete a launch configuration no group uses", {},
       WithStub(&compute::DeleteLaunchConfiguration)},
      {"create-group", {}, "create an auto scaling group; its instances are launched for it",
       GroupFlags(true), WithStub(&compute::CreateGroup)},
      {"update-group", {}, "change a group's settings (those given)", GroupFlags(false),
       WithStub(&compute::UpdateGroup)},
      AnyNumber("describe-groups", "group",
                "groups (min/desired/max), their instances' lifecycle state and health",
                compute::PagingFlags("groups"), WithStub(&compute::DescribeGroups)),
      {"delete-group", {"group"}, "delete a group (without --force only when it has no instances)",
       {{"force", "", "terminate its instances and delete it"}},
       WithStub(&compute::DeleteGroup)},
      {"set-desired-capacity", {"group", "capacity"}, "set a group's desired capacity",
       {{"honor-cooldown", "", "refuse while the group's cooldown runs"}},
       WithStub(&compute::SetDesiredCapacity)},
      {"set-instance-health", {"instance-id", "health-status"},
       "report a group's instance Healthy or Unhealthy (unhealthy: replaced)",
       {{"respect-grace-period", "", "respect the health check grace period (default true)"}},
       WithStub(&compute::SetInstanceHealth)},
      OneOrMore("set-instance-protection", "instance-id",
                "protect instances of a group from scale-in, or lift that",
                {required_group,
                 {"protect", "", "protect them"},
                 {"unprotect", "", "lift the protection"}},
                WithStub(&compute::SetInstanceProtection)),
      {"terminate-in-group", {"instance-id"}, "terminate an instance of a group",
       {{"decrement", "", "lower the desired capacity too (no replacement)"}},
       WithStub(&compute::TerminateInGroup)},
      Command{"suspend-processes", {"group"}, "suspend processes of a group (all when none named)",
              {}, WithStub(&compute::SuspendProcesses), {"process"}, {}, true},
      Command{"resume-processes", {"group"}, "resume processes of a group (all when none named)",
              {}, WithStub(&compute::ResumeProcesses), {"process"}, {}, true},
      policy,
      AnyNumber("describe-policies", "policy", "scaling policies: what they do, ARN, alarms",
                Join({{"group", "NAME", "only this group's"}}, compute::PagingFlags("policies")),
                WithStub(&compute::DescribePolicies)),
      {"delete-policy", {"policy"}, "delete a scaling policy (name or ARN)", {group},
       WithStub(&compute::DeletePolicy)},
      {"execute-policy", {"policy"}, "run a scaling policy now",
       {group,
        {"honor-cooldown", "", "simple: refuse while the cooldown runs"},
        {"metric-value", "V", "step: the metric value deciding the step"},
        {"breach-threshold", "T", "step: the threshold it is compared with"}},
       WithStub(&compute::ExecutePolicy)},
      AnyNumber("activities", "activity-id",
                "scaling activities, newest first: status, start and end, description, cause",
                Join({{"group", "NAME", "only this group's"}}, compute::PagingFlags("activities")),
                WithStub(&compute::Activities)),
      {"put-lifecycle-hook", {},
       "create or replace a lifecycle hook: instances wait in Pending:Wait or Terminating:Wait",
       {required_group,
        {"name", "NAME", "the hook (required)"},
        {"transition", "T", std::string(compute::kLifecycleTransitionForms) + " (required)"},
        {"heartbeat-timeout", "SECONDS",
         "how long a wait lasts without a heartbeat: 30 to 7200 (default 3600)"},
        {"default-result", "RESULT", results + ": what a timeout does (default ABANDON)"},
        {"notification-target", "ARN",
         "where each wait is notified: a queue (arn:aws:sqs:us-east-1:000000000000:QUEUE) or a "
         "WAMP topic (arn:thingtank:wamp:REALM:TOPIC, REALM may be empty)"},
        {"notification-metadata", "TEXT", "passed in each notification (up to 1023 characters)"}},
       WithStub(&compute::PutLifecycleHook)},
      AnyNumber("describe-lifecycle-hooks", "name",
                "a group's lifecycle hooks: transition, heartbeat timeout, default result, target",
                {required_group}, WithStub(&compute::DescribeLifecycleHooks)),
      {"delete-lifecycle-hook", {"name"},
       "delete a lifecycle hook (instances waiting on it go on with its default result)",
       {required_group}, WithStub(&compute::DeleteLifecycleHook)},
      complete,
      heartbeat,
      scheduled,
      AnyNumber("describe-scheduled-actions", "name",
                "scheduled actions: group, name, recurrence or once, next run time, "
                "min/max/desired",
                {{"group", "NAME", "only this group's"}},
                WithStub(&compute::DescribeScheduledActions)),
      {"delete-scheduled-action", {"name"}, "delete a scheduled action of a group",
       {required_group}, WithStub(&compute::DeleteScheduledAction)},
  };
}

const Service& Compute() {
  static const Service kService = [] {
    std::vector<Command> commands = Ec2Commands();
    for (std::vector<Command> more : {CloudWatchCommands(), AutoScalingCommands()}) {
      commands.insert(commands.end(), more.begin(), more.end());
    }
    return Service{
        "compute",
        "Client commands of the compute service: instances and launch templates (Amazon EC2)\n"
        "from run to delete-launch-template, metrics and alarms (Amazon CloudWatch) from\n"
        "put-metric to disable-alarm-actions, and auto scaling (Amazon EC2 Auto Scaling) from\n"
        "create-launch-configuration on.",
        {"id", "ID",
         "the first argument (instance id, or alarm, group, policy, hook or scheduled action "
         "name)"},
        "Load SPEC: constant:PERCENT, step:BEFORE,AFTER,TIME (BEFORE until TIME, then AFTER),\n"
        "  sine:MEAN,AMPLITUDE,PERIOD, or queue:NAME,PERCENT_PER_MESSAGE[,IDLE] (a queue's backlog\n"
        "  shared by the instances following it); percentages 0 to 100, PERIOD a duration (600s,\n"
        "  10m, 1h30m).\n"
        "TIME: RFC 3339 (2026-12-02T10:00:00Z, 2026-12-02T11:00:00+01:00), now, or relative to\n"
        "  the local clock: -1h, +30m, -90s. The server's clock runs ahead of it under\n"
        "  `serve --time-scale`; put-metric without --timestamp and a recurring\n"
        "  put-scheduled-action without --start-time use the server's now.\n"
        "Launch template versions (--launch-template NAME[:VERSION], --version V): a number,\n"
        "  $Latest or $Default; quote the $ in a shell.\n"
        "SECONDS flags take 300, 5m or 1h. Names are AWS's: GreaterThanThreshold, Average,\n"
        "  OK/ALARM/INSUFFICIENT_DATA, ChangeInCapacity, ...\n"
        "Human output puts \"-\" for empty fields; --json prints the response message.\n",
        std::move(commands)};
  }();
  return kService;
}

}  // namespace

void PrintComputeUsage(std::ostream& os) { PrintServiceUsage(Compute(), os); }

int RunCompute(const std::vector<std::string>& args) { return RunCompute(args, ProcessIo()); }

int RunCompute(const std::vector<std::string>& args, const Io& io) {
  return RunService(Compute(), args, io);
}

}  // namespace thingtank::cli
