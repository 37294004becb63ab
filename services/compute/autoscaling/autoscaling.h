#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/executor.h"
#include "services/common/lifeline.h"
#include "services/common/storage/db.h"
#include "services/compute/instances.h"
#include "services/compute/launch_templates.h"
#include "services/compute/storage/compute_records.pb.h"
#include "thingtank/compute/v1/compute.pb.h"

namespace thingtank::compute {

// The alarms Auto Scaling manages for target tracking policies (implemented
// over the CloudWatch alarms by the compute service).
class ManagedAlarms {
 public:
  virtual ~ManagedAlarms() = default;
  virtual absl::Status PutAlarm(const v1::PutMetricAlarmRequest& request) = 0;
  virtual absl::Status DeleteAlarms(const std::vector<std::string>& names) = 0;
  // Names of the alarms naming `arn` among their actions.
  virtual std::vector<std::string> AlarmsWithAction(const std::string& arn) = 0;
};

// Where lifecycle hook notifications go (the compute service's notifier:
// a queue or a WAMP topic).
class LifecycleNotifier {
 public:
  virtual ~LifecycleNotifier() = default;
  // Whether `arn` is a target it can deliver to; `field` names it in the error.
  virtual absl::Status CheckTarget(const std::string& arn, const std::string& field) = 0;
  // Delivers `json` (a JSON object) at least once, asynchronously.
  virtual void Notify(const std::string& arn, const std::string& json) = 0;
};

// Lifecycle actions since start, for Prometheus.
struct LifecycleCounts {
  int64_t started = 0;
  int64_t continued = 0;
  int64_t abandoned = 0;
  int64_t timed_out = 0;
};

// What an alarm tells a policy it runs (CloudWatch's action event).
struct AlarmTrigger {
  std::string alarm_name;
  absl::Time time;
  std::optional<double> metric_value;
  double threshold = 0;
};

// Per-group numbers for metrics (AWS/AutoScaling and Prometheus).
struct GroupCounts {
  std::string group;
  int32_t min_size = 0, max_size = 0, desired = 0;
  int32_t pending = 0, in_service = 0, terminating = 0;
};

// A target tracking policy on a per-instance customized metric: the compute
// service publishes metric / in_service for its alarms.
struct PerInstanceTarget {
  std::string group;
  std::string policy;
  v1::CustomizedMetricSpecification metric;
  int32_t in_service = 0;
};

struct AutoScalingOptions {
  std::string region = "us-east-1";
  std::string account = "000000000000";
  int32_t max_groups = 200;
  int32_t max_group_size = 1000;
  int32_t max_launch_configurations = 200;
  int32_t max_policies_per_group = 50;
  // A failed launch (no capacity) is tried again after this.
  absl::Duration launch_retry = absl::Seconds(30);
};

// EC2 Auto Scaling: launch configurations, groups kept at their desired
// capacity by a reconciler, scaling policies and the scaling activities that
// record every change. Free of gRPC types.
//
// The reconciler runs on the clock after anything that can change what a
// group needs (a call, a policy, an instance changing state) and at every
// Tick: it refreshes the members from the scheduler, completes activities,
// replaces unhealthy instances, launches or terminates to reach the desired
// capacity, spreading across the group's zones. Each decision is stored
// before it is carried out: a launch's activity is written first and its id
// is RunInstances' client token, so a restart repeats the launch call and
// gets the same instance (no double launch for one decision); a
// termination's member is marked Terminating first and terminated again
// after a restart until it is gone.
//
// Thread-safe; methods block on RocksDB (run them on an executor). Locking:
// this class's mutex is taken before the scheduler's, never after.
class AutoScaling {
 public:
  static std::vector<std::string> ColumnFamilies();
  // `instances` must outlive this; `alarms` may be null (no target tracking).
  static absl::StatusOr<std::unique_ptr<AutoScaling>> Open(Db* db, Clock* clock,
                                                           Executor* executor,
                                                           Instances* instances,
                                                           ManagedAlarms* alarms,
                                                           AutoScalingOptions options = {});
  ~AutoScaling();
  AutoScaling(const AutoScaling&) = delete;
  AutoScaling& operator=(const AutoScaling&) = delete;

  absl::StatusOr<v1::CreateLaunchConfigurationResponse> CreateLaunchConfiguration(
      const v1::CreateLaunchConfigurationRequest& request);
  absl::StatusOr<v1::DescribeLaunchConfigurationsResponse> DescribeLaunchConfigurations(
      const v1::DescribeLaunchConfigurationsRequest& request) const;
  absl::StatusOr<v1::DeleteLaunchConfigurationResponse> DeleteLaunchConfiguration(
      const v1::DeleteLaunchConfigurationRequest& request);
  absl::StatusOr<v1::CreateAutoScalingGroupResponse> CreateAutoScalingGroup(
      const v1::CreateAutoScalingGroupRequest& request);
  absl::StatusOr<v1::UpdateAutoScalingGroupResponse> UpdateAutoScalingGroup(
      const v1::UpdateAutoScalingGroupRequest& request);
  absl::StatusOr<v1::DescribeAutoScalingGroupsResponse> DescribeAutoScalingGroups(
      const v1::DescribeAutoScalingGroupsRequest& request) const;
  absl::StatusOr<v1::DeleteAutoScalingGroupResponse> DeleteAutoScalingGroup(
      const v1::DeleteAutoScalingGroupRequest& request);
  absl::StatusOr<v1::SetDesiredCapacityResponse> SetDesiredCapacity(
      const v1::SetDesiredCapacityRequest& request);
  absl::StatusOr<v1::SetInstanceHealthResponse> SetInstanceHealth(
      const v1::SetInstanceHealthRequest& request);
  absl::StatusOr<v1::SetInstanceProtectionResponse> SetInstanceProtection(
      const v1::SetInstanceProtectionRequest& request);
  absl::StatusOr<v1::TerminateInstanceInAutoScalingGroupResponse>
  TerminateInstanceInAutoScalingGroup(const v1::TerminateInstanceInAutoScalingGroupRequest& request);
  absl::StatusOr<v1::SuspendProcessesResponse> SuspendProcesses(
      const v1::SuspendProcessesRequest& request);
  absl::StatusOr<v1::ResumeProcessesResponse> ResumeProcesses(
      const v1::ResumeProcessesRequest& request);
  absl::StatusOr<v1::PutScalingPolicyResponse> PutScalingPolicy(
      const v1::PutScalingPolicyRequest& request);
  absl::StatusOr<v1::DescribePoliciesResponse> DescribePolicies(
      const v1::DescribePoliciesRequest& request) const;
  absl::StatusOr<v1::DeletePolicyResponse> DeletePolicy(const v1::DeletePolicyRequest& request);
  absl::StatusOr<v1::ExecutePolicyResponse> ExecutePolicy(const v1::ExecutePolicyRequest& request);
  absl::StatusOr<v1::DescribeScalingActivitiesResponse> DescribeScalingActivities(
      const v1::DescribeScalingActivitiesRequest& request) const;
  absl::StatusOr<v1::PutLifecycleHookResponse> PutLifecycleHook(
      const v1::PutLifecycleHookRequest& request);
  absl::StatusOr<v1::DescribeLifecycleHooksResponse> DescribeLifecycleHooks(
      const v1::DescribeLifecycleHooksRequest& request) const;
  absl::StatusOr<v1::DeleteLifecycleHookResponse> DeleteLifecycleHook(
      const v1::DeleteLifecycleHookRequest& request);
  absl::StatusOr<v1::CompleteLifecycleActionResponse> CompleteLifecycleAction(
      const v1::CompleteLifecycleActionRequest& request);
  absl::StatusOr<v1::RecordLifecycleActionHeartbeatResponse> RecordLifecycleActionHeartbeat(
      const v1::RecordLifecycleActionHeartbeatRequest& request);
  absl::StatusOr<v1::PutScheduledUpdateGroupActionResponse> PutScheduledUpdateGroupAction(
      const v1::PutScheduledUpdateGroupActionRequest& request);
  absl::StatusOr<v1::DescribeScheduledActionsResponse> DescribeScheduledActions(
      const v1::DescribeScheduledActionsRequest& request) const;
  absl::StatusOr<v1::DeleteScheduledActionResponse> DeleteScheduledAction(
      const v1::DeleteScheduledActionRequest& request);
  // Where hook notifications go; null (the default): hooks with a target are refused.
  void SetNotifier(LifecycleNotifier* notifier);
  // Launch templates groups may use; null (the default): only launch configurations.
  void SetLaunchTemplates(const LaunchTemplates* templates);

  // For the alarms: whether `arn` is a policy of this service, and running it
  // as an alarm action (cooldowns honoured; AlarmNotification suspended: no-op).
  absl::Status CheckPolicyArn(const std::string& arn) const;
  absl::Status RunPolicyFromAlarm(const std::string& arn, const AlarmTrigger& trigger);
  // The members of a group (SetInstanceLoad on a group).
  absl::StatusOr<std::vector<std::string>> GroupInstanceIds(const std::string& group) const;
  // Instances the group launches from now on get `load` (SetInstanceLoad on a group).
  absl::Status SetGroupLoad(const std::string& group, const v1::LoadModel& load);

  // Reconciles every group now (the owner's tick; also scheduled after changes).
  void Reconcile();
  // Schedules a Reconcile on the executor soon, never inline: for callers
  // that may hold locks (the scheduler's on-change callback).
  void Poke();
  std::vector<GroupCounts> Counts() const;
  std::vector<PerInstanceTarget> PerInstanceTargets() const;
  LifecycleCounts lifecycle_counts() const;
  int64_t activities_total() const;

 private:
  using Lifeline = thingtank::Lifeline<AutoScaling>;
  struct Group {
    storage::GroupRecord record;
    std::map<std::string, storage::MemberRecord> members;
    std::map<std::string, storage::PolicyRecord> policies;
    // Activities in progress, by id.
    std::map<std::string, storage::ActivityRecord> open_activities;
  };
  using Batch = rocksdb::WriteBatch;

  AutoScaling(Db* db, Clock* clock, Executor* executor, Instances* instances, ManagedAlarms* alarms,
              AutoScalingOptions options);
  absl::Status Load();

  // Lookups (mu_ held).
  absl::StatusOr<Group*> FindGroup(const std::string& name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<const Group*> FindGroup(const std::string& name) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::pair<Group*, storage::PolicyRecord*>> FindPolicy(const std::string& group,
                                                                       const std::string& name_or_arn)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Group* GroupOfInstance(const std::string& instance_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Changing the desired capacity, with the cause later activities quote.
  absl::Status SetDesired(Group* group, int32_t desired, const std::string& cause, Batch* batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Execute(Group* group, storage::PolicyRecord* policy, bool honor_cooldown,
                       std::optional<double> metric_value, std::optional<double> threshold,
                       const std::string& trigger_text) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // The reconciler (autoscaling_reconcile.cc).
  void ReconcileGroup(Group* group, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RefreshMembers(Group* group, absl::Time now, Batch* batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ResumeOpenLaunches(Group* group, absl::Time now, Batch* batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReplaceUnhealthy(Group* group, absl::Time now, Batch* batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ScaleOut(Group* group, int32_t count, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // AZRebalance: when the group's zones differ by more than one instance,
  // launches one in the emptiest (up to 10 % or one above max, as AWS
  // allows); once it is in service the scale-in takes one from the fullest.
  void RebalanceZones(Group* group, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Rebalancing(const Group& group) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  void ScaleIn(Group* group, int32_t count, absl::Time now, Batch* batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // What a group launches: its launch configuration's or its launch
  // template version's data; `member` gets the template version.
  absl::StatusOr<v1::RunInstancesRequest> LaunchSpec(const Group& group,
                                                     storage::MemberRecord* member) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // A group's launch source: exactly one of a launch configuration and a template.
  absl::Status CheckLaunchSource(const std::string& configuration,
                                 const v1::LaunchTemplateSpecification& spec, bool has_template) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Launches the instance of an open launch activity (idempotent by its id).
  absl::Status CarryOutLaunch(Group* group, storage::ActivityRecord* activity, absl::Time now,
                              Batch* batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records the termination of `member` (its activity; Terminating:Wait on
  // the group's terminate hooks when `use_hooks`, else Terminating). The
  // reconciler terminates Terminating members once this is stored.
  void BeginTermination(Group* group, storage::MemberRecord* member, const std::string& cause,
                        absl::Time now, Batch* batch, bool use_hooks = true)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Lifecycle hooks (autoscaling_lifecycle.cc): `member` starts waiting on
  // the group's hooks of `transition`; false when there are none.
  bool BeginWait(Group* group, storage::MemberRecord* member, const std::string& transition,
                 absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends a wait: CONTINUE or ABANDON.
  void EndWait(Group* group, storage::MemberRecord* member, const std::string& result,
               absl::Time now, Batch* batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Scheduled actions (autoscaling_scheduled.cc): runs those due at `now`.
  void RunScheduledActions(Group* group, absl::Time now, Batch* batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A launched member goes in service: its activity ends, simple scaling's
  // cooldown restarts from now.
  void EnterService(Group* group, storage::MemberRecord* member, absl::Time now, Batch* batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends the waits whose time is up, with their hook's default result.
  void ExpireWaits(Group* group, absl::Time now, Batch* batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<storage::MemberRecord*> FindWaiting(Group* group, const std::string& hook,
                                                     const std::string& token,
                                                     const std::string& instance_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishActivity(Group* group, const std::string& activity_id, const std::string& status,
                      const std::string& message, absl::Time now, Batch* batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int32_t Counted(const Group& group) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  bool Suspended(const Group& group, const std::string& process) const;

  // Records.
  void PutGroup(const Group& group, Batch* batch) const;
  void PutMember(const Group& group, const storage::MemberRecord& member, Batch* batch) const;
  void PutActivity(const storage::ActivityRecord& activity, Batch* batch) const;
  storage::ActivityRecord NewActivity(const Group& group, const std::string& kind,
                                      const std::string& description, const std::string& cause,
                                      absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Commit(Batch* batch);
  std::string NewUuid() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string Arn(const std::string& kind, const std::string& path) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  v1::AutoScalingGroup Describe(const Group& group) const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  Db* const db_;
  rocksdb::ColumnFamilyHandle* const cf_;
  Clock* const clock_;
  Executor* const executor_;
  Instances* const instances_;
  ManagedAlarms* const alarms_;
  const AutoScalingOptions options_;
  std::shared_ptr<Lifeline> life_;

  mutable absl::Mutex mu_;
  std::map<std::string, storage::LaunchConfigurationRecord> launch_configurations_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, Group> groups_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::pair<std::string, std::string>> policy_by_arn_
      ABSL_GUARDED_BY(mu_);  // arn -> (group, policy)
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
  int64_t activities_total_ ABSL_GUARDED_BY(mu_) = 0;
  LifecycleCounts lifecycle_ ABSL_GUARDED_BY(mu_);
  LifecycleNotifier* notifier_ ABSL_GUARDED_BY(mu_) = nullptr;
  const LaunchTemplates* templates_ ABSL_GUARDED_BY(mu_) = nullptr;
  uint64_t activity_sequence_ ABSL_GUARDED_BY(mu_) = 0;

  absl::Mutex poke_mu_;
  bool poke_pending_ ABSL_GUARDED_BY(poke_mu_) = false;
};

}  // namespace thingtank::compute
