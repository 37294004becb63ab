#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/executor.h"
#include "services/common/lifeline.h"
#include "services/common/storage/db.h"
#include "services/compute/autoscaling/autoscaling.h"
#include "services/compute/cloudwatch/alarms.h"
#include "services/compute/cloudwatch/metric_store.h"
#include "services/compute/instances.h"
#include "services/compute/launch_templates.h"
#include "services/compute/notifier.h"
#include "thingtank/compute/v1/compute.pb.h"

namespace thingtank::compute {

struct ComputeOptions {
  InstancesOptions instances;
  AutoScalingOptions autoscaling;
  MetricStoreOptions metrics;
  AlarmOptions alarms;
  // The clock tick: CPU samples, alarm evaluation and reconciliation run at
  // every multiple of it since the epoch (CloudWatch's finest alarm period).
  absl::Duration tick = absl::Seconds(10);
};

// Counters of the tick, for Prometheus.
struct TickCounts {
  int64_t ticks = 0;
  int64_t datapoints_published = 0;
};

// The compute service: the EC2 scheduler, the CloudWatch metrics and alarms
// and EC2 Auto Scaling, wired into one loop on the clock. At every tick
// boundary, in this order:
//   1. at minute boundaries, publish the minute that ended: AWS/EC2
//      CPUUtilization per instance (InstanceId) and per group
//      (AutoScalingGroupName: CloudWatch's average over the group's
//      instances), AWS/AutoScaling group metrics, and the per-instance
//      series of target tracking policies on a per-instance metric
//      (ThingTank/AutoScaling <metric>PerInstance = the metric's value over
//      the minute / in-service instances);
//   2. sample every running instance's CPU;
//   3. evaluate the alarms whose period ends at the boundary; their actions
//      run scaling policies (this class is their sink);
//   4. reconcile every group; hourly, trim metrics past retention.
// Alarm actions are scaling policy ARNs, or a queue / WAMP topic ARN
// (notifier.h) that receives the transition as CloudWatch's SNS message JSON.
// Free of gRPC types; thread-safe. `db` must have ColumnFamilies().
class ComputeService final : private AlarmActionSink, private ManagedAlarms {
 public:
  static std::vector<std::string> ColumnFamilies();
  static absl::StatusOr<std::unique_ptr<ComputeService>> Open(Db* db, Clock* clock,
                                                              Executor* executor,
                                                              InstanceDrivers drivers,
                                                              ComputeOptions options = {});
  ~ComputeService() override;

  Instances* instances() { return instances_.get(); }
  LaunchTemplates* launch_templates() { return launch_templates_.get(); }
  MetricStore* metrics() { return metrics_.get(); }
  Alarms* alarms() { return alarms_.get(); }
  AutoScaling* autoscaling() { return autoscaling_.get(); }
  // Alarm and lifecycle notifications to queues and WAMP topics: the wiring
  // connects it once the server serves (Notifier::SetChannel).
  Notifier* notifier() { return notifier_.get(); }

  // RunInstances, from a launch template version when the request names one.
  absl::StatusOr<v1::RunInstancesResponse> RunInstances(const v1::RunInstancesRequest& request);
  // SetInstanceLoad by ids or by group (whose later launches get it too).
  absl::StatusOr<v1::SetInstanceLoadResponse> SetInstanceLoad(
      const v1::SetInstanceLoadRequest& request);

  // Starts the tick on the clock (the first at the next boundary).
  void Start();
  // One tick at `boundary` (a multiple of the tick). Tests and benchmarks
  // call it directly; Start() calls it from the clock.
  void Tick(absl::Time boundary);
  TickCounts tick_counts() const;

 private:
  using Lifeline = thingtank::Lifeline<ComputeService>;
  ComputeService(Clock* clock, Executor* executor, ComputeOptions options);
  void ArmTick(absl::Time after);
  void PublishMinute(absl::Time boundary);

  // AlarmActionSink: scaling policy ARNs.
  absl::Status CheckAction(const std::string& arn) override;
  bool RepeatsWhileInAlarm(const std::string& arn) override;
  absl::Status RunAction(const std::string& arn, const AlarmActionEvent& event) override;
  // ManagedAlarms: target tracking's alarms.
  absl::Status PutAlarm(const v1::PutMetricAlarmRequest& request) override;
  absl::Status DeleteAlarms(const std::vector<std::string>& names) override;
  std::vector<std::string> AlarmsWithAction(const std::string& arn) override;

  Clock* const clock_;
  Executor* const executor_;
  const ComputeOptions options_;
  std::unique_ptr<Notifier> notifier_;
  std::unique_ptr<Instances> instances_;
  std::unique_ptr<LaunchTemplates> launch_templates_;
  std::unique_ptr<MetricStore> metrics_;
  std::unique_ptr<Alarms> alarms_;
  std::unique_ptr<AutoScaling> autoscaling_;
  std::shared_ptr<Lifeline> life_;

  mutable absl::Mutex mu_;
  absl::Time last_trim_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  TickCounts counts_ ABSL_GUARDED_BY(mu_);
};

}  // namespace thingtank::compute
