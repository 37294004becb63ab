#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
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
#include "services/compute/drivers/driver.h"
#include "services/compute/placement.h"
#include "services/compute/storage/compute_records.pb.h"
#include "thingtank/compute/v1/compute.pb.h"

namespace thingtank::compute {

// How long the timed transitions take on the clock, and how long terminated
// instances stay visible (EC2: about an hour).
struct InstanceTimings {
  absl::Duration pending = absl::Seconds(10);
  absl::Duration stopping = absl::Seconds(5);
  absl::Duration shutting_down = absl::Seconds(5);
  absl::Duration terminated_visible = absl::Hours(1);
};

struct InstancesOptions {
  PlacementOptions placement;
  InstanceTimings timings;
  std::string region = "us-east-1";
  // Instances not terminated, at most (EC2's vCPU quota, counted in instances).
  int64_t max_instances = 20000;
};

class SimulatedDriver;

// The drivers a server offers; `process` is null unless the operator enabled it.
struct InstanceDrivers {
  SimulatedDriver* simulated = nullptr;
  InstanceDriver* process = nullptr;
};

// CPU utilization of one running instance averaged over a minute.
struct CpuAverage {
  std::string instance_id;
  std::string group;  // empty outside groups
  double percent = 0;
};

// Instance counts for Prometheus.
struct InstanceCounts {
  std::map<std::pair<std::string, std::string>, int64_t> by_state_and_type;  // (state, type)
  std::vector<Placement::Utilization> zones;
};

// The EC2 scheduler: instances, their state machine on the clock, placement
// on hosts, and their drivers. Free of gRPC types.
//
// Every change is committed to RocksDB (one WriteBatch) before a call
// returns; a timed transition's end (transition_due_time) is stored with the
// instance, so after a restart the transition ends when it was due (at once
// if that has passed). Drivers are called after the change is stored and
// outside the lock; after a restart the drivers of running instances are
// started again. Thread-safe; methods block on RocksDB (run them on an
// executor). Timer work is posted to `executor`.
class Instances {
 public:
  static std::vector<std::string> ColumnFamilies();
  static absl::StatusOr<std::unique_ptr<Instances>> Open(Db* db, Clock* clock, Executor* executor,
                                                         InstanceDrivers drivers,
                                                         InstancesOptions options = {});
  ~Instances();
  Instances(const Instances&) = delete;
  Instances& operator=(const Instances&) = delete;

  absl::StatusOr<v1::RunInstancesResponse> RunInstances(const v1::RunInstancesRequest& request);
  absl::StatusOr<v1::DescribeInstancesResponse> DescribeInstances(
      const v1::DescribeInstancesRequest& request) const;
  absl::StatusOr<v1::StartInstancesResponse> StartInstances(
      const v1::StartInstancesRequest& request);
  absl::StatusOr<v1::StopInstancesResponse> StopInstances(const v1::StopInstancesRequest& request);
  absl::StatusOr<v1::RebootInstancesResponse> RebootInstances(
      const v1::RebootInstancesRequest& request);
  absl::StatusOr<v1::TerminateInstancesResponse> TerminateInstances(
      const v1::TerminateInstancesRequest& request);
  absl::StatusOr<v1::DescribeInstanceTypesResponse> DescribeInstanceTypes(
      const v1::DescribeInstanceTypesRequest& request) const;
  absl::StatusOr<v1::DescribeAvailabilityZonesResponse> DescribeAvailabilityZones(
      const v1::DescribeAvailabilityZonesRequest& request) const;
  absl::StatusOr<v1::DescribeHostsResponse> DescribeHosts(
      const v1::DescribeHostsRequest& request) const;
  // Instances of a group (auto_scaling_group_name) are handled by the caller
  // (the compute service resolves the group's members first).
  absl::StatusOr<v1::SetInstanceLoadResponse> SetInstanceLoad(
      const v1::SetInstanceLoadRequest& request);

  // For Auto Scaling: one instance launched into `group` in `zone`,
  // idempotent by `client_token` (the launch decision's id): a second call
  // with the token returns the instance of the first.
  absl::StatusOr<v1::Instance> LaunchIntoGroup(v1::RunInstancesRequest request,
                                               const std::string& group,
                                               const std::string& client_token);
  // Terminates for Auto Scaling (state reason Service.AutoScaling); an
  // unknown or terminated instance is not an error.
  absl::Status TerminateForGroup(const std::string& instance_id);
  // The instance launched with `client_token`, if any.
  std::optional<v1::Instance> FindByClientToken(const std::string& client_token) const;
  std::optional<v1::Instance> Find(const std::string& instance_id) const;
  bool HasZone(const std::string& zone) const;
  // Whether what runs a running instance is healthy (EC2 status checks).
  bool Healthy(const std::string& instance_id) const;
  // Checks a launch specification as RunInstances would (image, type,
  // driver, load, user data), naming fields under `prefix`.
  absl::Status ValidateLaunch(const v1::RunInstancesRequest& spec, const std::string& prefix) const;

  // Samples the CPU of every running instance (the owner's tick, every 10 s).
  void SampleCpu(absl::Time now);
  // The averages of the samples since the last call, per running instance.
  std::vector<CpuAverage> TakeCpuAverages();
  // Called (outside locks, on the executor) after instances change state.
  void SetOnChange(std::function<void()> on_change);
  InstanceCounts Counts() const;

 private:
  using Lifeline = thingtank::Lifeline<Instances>;
  struct Entry {
    storage::InstanceRecord record;
    // CPU samples since the last TakeCpuAverages.
    double cpu_sum = 0;
    int64_t cpu_samples = 0;
  };
  // Driver calls to make once the lock is released.
  struct DriverCall {
    enum Kind { kStart, kStop, kRestart } kind;
    v1::Instance instance;
    bool force = false;
    std::string user_data;  // kStart
  };

  Instances(Db* db, Clock* clock, Executor* executor, InstanceDrivers drivers,
            InstancesOptions options);
  absl::Status Load();

  absl::StatusOr<v1::RunInstancesResponse> Launch(const v1::RunInstancesRequest& request,
                                                  const std::string& group,
                                                  const std::string& client_token);
  // Applies `action` to each id (all or none fail on unknown ids or an
  // IncorrectInstanceState); returns the state changes.
  absl::StatusOr<std::vector<v1::InstanceStateChange>> Apply(
      const google::protobuf::RepeatedPtrField<std::string>& ids, int action, bool force,
      const std::string& reason_code);
  // Moves `entry` into `state` (placement, addresses, due time, reasons) and
  // notes the driver call it needs.
  absl::Status Enter(Entry* entry, v1::InstanceStateName state, absl::Time now,
                     const std::string& reason_code, std::vector<DriverCall>* calls)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ProcessDue();
  void Arm(absl::Time due) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Store(const std::vector<const Entry*>& entries, const std::vector<std::string>& removed);
  void RunDriverCalls(std::vector<DriverCall> calls);
  InstanceDriver* DriverOf(const v1::Instance& instance) const;
  absl::Status CheckIds(const google::protobuf::RepeatedPtrField<std::string>& ids) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  std::string NewId(const char* prefix) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Changed();

  Db* const db_;
  rocksdb::ColumnFamilyHandle* const cf_;
  Clock* const clock_;
  Executor* const executor_;
  const InstanceDrivers drivers_;
  const InstancesOptions options_;
  std::shared_ptr<Lifeline> life_;

  mutable absl::Mutex mu_;
  std::map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  std::map<uint64_t, std::string> by_sequence_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> by_token_ ABSL_GUARDED_BY(mu_);  // token -> reservation
  std::multimap<absl::Time, std::string> due_ ABSL_GUARDED_BY(mu_);
  absl::Time armed_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  Placement placement_ ABSL_GUARDED_BY(mu_);
  uint64_t next_sequence_ ABSL_GUARDED_BY(mu_) = 1;
  int64_t terminated_ ABSL_GUARDED_BY(mu_) = 0;  // entries_ in terminated (the quota counts the rest)
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
  std::function<void()> on_change_ ABSL_GUARDED_BY(mu_);
};

}  // namespace thingtank::compute
