#include "services/compute/autoscaling/autoscaling.h"
#include "services/compute/autoscaling/autoscaling_internal.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "services/common/testing/status_matchers.h"
#include "services/common/testing/temp_db.h"
#include "services/compute/drivers/simulated_driver.h"
#include "services/compute/proto_time.h"

namespace thingtank::compute {
namespace {

using ::testing::HasSubstr;

class AutoScalingTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  std::vector<std::string> Families() {
    auto cfs = Instances::ColumnFamilies();
    for (auto& f : AutoScaling::ColumnFamilies()) cfs.push_back(f);
    return cfs;
  }

  void Open() {
    as_.reset();
    instances_.reset();
    db_.reset();
    auto db = OpenTempDb(dir_, Families());
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    InstancesOptions options;
    options.placement.zones = {"us-east-1a", "us-east-1b", "us-east-1c"};
    options.placement.hosts_per_zone = 1;
    options.placement.host_vcpus = host_vcpus_;
    options.placement.host_memory_mib = 65536;
    auto instances = Instances::Open(db_.get(), &clock_, &executor_, {&simulated_, nullptr}, options);
    ASSERT_TRUE(instances.ok()) << instances.status();
    instances_ = std::move(*instances);
    auto as = AutoScaling::Open(db_.get(), &clock_, &executor_, instances_.get(), nullptr);
    ASSERT_TRUE(as.ok()) << as.status();
    as_ = std::move(*as);
    instances_->SetOnChange([this] {
      if (as_ != nullptr) as_->Poke();
    });
  }

  void CreateConfig(const std::string& name = "my-lc") {
    v1::CreateLaunchConfigurationRequest lc;
    lc.set_launch_configuration_name(name);
    lc.set_image_id("ami-d0f89fb9");
    lc.set_instance_type("t1.micro");
    lc.set_key_name("mykey");
    ASSERT_TRUE(as_->CreateLaunchConfiguration(lc).ok());
  }

  v1::CreateAutoScalingGroupRequest GroupRequest(int min, int max,
                                                 std::vector<std::string> zones = {"us-east-1b"}) {
    v1::CreateAutoScalingGroupRequest r;
    r.set_auto_scaling_group_name("My-Group");
    r.set_launch_configuration_name("my-lc");
    r.set_min_size(min);
    r.set_max_size(max);
    for (auto& z : zones) r.add_availability_zones(z);
    return r;
  }

  void CreateGroup(int min, int max, std::vector<std::string> zones = {"us-east-1b"}) {
    CreateConfig();
    auto created = as_->CreateAutoScalingGroup(GroupRequest(min, max, zones));
    ASSERT_TRUE(created.ok()) << created.status();
  }

  v1::AutoScalingGroup Group() {
    v1::DescribeAutoScalingGroupsRequest r;
    r.add_auto_scaling_group_names("My-Group");
    auto d = as_->DescribeAutoScalingGroups(r);
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() && d->auto_scaling_groups_size() == 1 ? d->auto_scaling_groups(0)
                                                         : v1::AutoScalingGroup();
  }

  int InService() {
    int n = 0;
    const v1::AutoScalingGroup g = Group();
    for (const auto& i : g.instances()) n += i.lifecycle_state() == "InService";
    return n;
  }

  std::vector<v1::Activity> Activities() {
    v1::DescribeScalingActivitiesRequest r;
    r.set_auto_scaling_group_name("My-Group");
    auto a = as_->DescribeScalingActivities(r);
    EXPECT_TRUE(a.ok()) << a.status();
    return a.ok() ? std::vector<v1::Activity>(a->activities().begin(), a->activities().end())
                  : std::vector<v1::Activity>();
  }

  std::string PutSimple(const std::string& name, int adjustment, int cooldown) {
    v1::PutScalingPolicyRequest p;
    p.set_auto_scaling_group_name("My-Group");
    p.set_policy_name(name);
    p.set_adjustment_type(v1::ADJUSTMENT_TYPE_CHANGE_IN_CAPACITY);
    p.set_scaling_adjustment(adjustment);
    p.set_cooldown(cooldown);
    auto r = as_->PutScalingPolicy(p);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->policy_arn() : "";
  }

  // What a crash right after a scale-out decision leaves: the activity the
  // reconciler writes before it launches (no instance yet), and the group's
  // desired capacity raised.
  void StoreLaunchDecision(const std::string& activity_id, int desired) {
    storage::ActivityRecord decision;
    decision.set_kind("launch");
    decision.set_availability_zone("us-east-1b");
    decision.set_sequence(1000);
    v1::Activity* a = decision.mutable_activity();
    a->set_activity_id(activity_id);
    a->set_auto_scaling_group_name("My-Group");
    a->set_description("Launching a new EC2 instance");
    *a->mutable_start_time() = ToProto(clock_.Now());
    a->set_status_code("InProgress");
    ASSERT_TRUE(db_->Put(db_->cf("autoscaling"),
                         autoscaling_internal::ActivityKey("My-Group", clock_.Now(), 1000, activity_id),
                         decision.SerializeAsString())
                    .ok());
    storage::GroupRecord group;
    auto stored = db_->Get(db_->cf("autoscaling"), "g/My-Group");
    ASSERT_TRUE(stored.ok() && stored->has_value());
    ASSERT_TRUE(group.ParseFromString(**stored));
    group.mutable_group()->set_desired_capacity(desired);
    ASSERT_TRUE(db_->Put(db_->cf("autoscaling"), "g/My-Group", group.SerializeAsString()).ok());
  }

  // Lets the reconciler and the instances' timers run for `d`.
  void Run(absl::Duration d) { clock_.Advance(d); }

  int32_t host_vcpus_ = 64;
  TempDir dir_;
  ManualClock clock_;
  InlineExecutor executor_;
  SimulatedDriver simulated_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<Instances> instances_;
  std::unique_ptr<AutoScaling> as_;
};

TEST_F(AutoScalingTest, GroupLaunchesItsMinimumAndRecordsTheActivity) {
  CreateGroup(1, 2);
  clock_.RunDue();
  v1::AutoScalingGroup g = Group();
  ASSERT_EQ(g.instances_size(), 1);
  EXPECT_EQ(g.instances(0).lifecycle_state(), "Pending");
  EXPECT_EQ(g.instances(0).availability_zone(), "us-east-1b");
  EXPECT_EQ(g.instances(0).health_status(), "Healthy");
  EXPECT_TRUE(absl::StartsWith(g.auto_scaling_group_arn(), "arn:aws:autoscaling:us-east-1:000000000000:autoScalingGroup:"));
  auto instance = instances_->Find(g.instances(0).instance_id());
  ASSERT_TRUE(instance.has_value());
  EXPECT_EQ(instance->auto_scaling_group_name(), "My-Group");
  EXPECT_EQ(instance->instance_type(), "t1.micro");
  auto activities = Activities();
  ASSERT_EQ(activities.size(), 1u);
  EXPECT_EQ(activities[0].status_code(), "InProgress");
  EXPECT_EQ(activities[0].description(),
            "Launching a new EC2 instance: " + g.instances(0).instance_id());
  EXPECT_THAT(activities[0].cause(), HasSubstr("a user request created an AutoScalingGroup changing "
                                               "the desired capacity from 0 to 1."));
  EXPECT_THAT(activities[0].cause(), HasSubstr("increasing the capacity from 0 to 1."));
  Run(absl::Seconds(10));
  EXPECT_EQ(InService(), 1);
  activities = Activities();
  EXPECT_EQ(activities[0].status_code(), "Successful");
  EXPECT_EQ(activities[0].progress(), 100);
  EXPECT_EQ(FromProto(activities[0].end_time()), clock_.Now());
}

TEST_F(AutoScalingTest, SpreadsAcrossZones) {
  CreateConfig();
  auto r = GroupRequest(3, 6, {"us-east-1a", "us-east-1b", "us-east-1c"});
  ASSERT_TRUE(as_->CreateAutoScalingGroup(r).ok());
  Run(absl::Seconds(10));
  std::map<std::string, int> per_zone;
  const v1::AutoScalingGroup g = Group();
  for (const auto& i : g.instances()) per_zone[i.availability_zone()] += 1;
  EXPECT_EQ(per_zone, (std::map<std::string, int>{{"us-east-1a", 1}, {"us-east-1b", 1}, {"us-east-1c", 1}}));
}

TEST_F(AutoScalingTest, ZonesAddedLaterAreRebalancedLaunchFirst) {
  CreateConfig();
  auto r = GroupRequest(4, 4, {"us-east-1a"});
  ASSERT_TRUE(as_->CreateAutoScalingGroup(r).ok());
  Run(absl::Seconds(10));
  ASSERT_EQ(InService(), 4);
  v1::UpdateAutoScalingGroupRequest update;
  update.set_auto_scaling_group_name("My-Group");
  update.add_availability_zones("us-east-1a");
  update.add_availability_zones("us-east-1b");
  ASSERT_TRUE(as_->UpdateAutoScalingGroup(update).ok());
  clock_.RunDue();
  // Launch first: five for a while, the new one in the empty zone.
  v1::AutoScalingGroup g = Group();
  ASSERT_EQ(g.instances_size(), 5);
  int leaving = 0;
  for (const auto& i : g.instances()) leaving += i.lifecycle_state() == "Terminating";
  EXPECT_EQ(leaving, 0);
  for (int i = 0; i < 6; ++i) {
    Run(absl::Seconds(10));
    as_->Reconcile();
  }
  std::map<std::string, int> per_zone;
  g = Group();
  for (const auto& i : g.instances()) per_zone[i.availability_zone()] += 1;
  EXPECT_EQ(per_zone, (std::map<std::string, int>{{"us-east-1a", 2}, {"us-east-1b", 2}}));
  EXPECT_EQ(InService(), 4);
  bool cause = false;
  for (const auto& a : Activities()) {
    cause |= a.cause().find("Availability Zones had unbalanced instances") != std::string::npos;
  }
  EXPECT_TRUE(cause);
  // AZRebalance suspended: a new imbalance stays.
  v1::SuspendProcessesRequest suspend;
  suspend.set_auto_scaling_group_name("My-Group");
  suspend.add_scaling_processes("AZRebalance");
  ASSERT_TRUE(as_->SuspendProcesses(suspend).ok());
  update.add_availability_zones("us-east-1c");
  ASSERT_TRUE(as_->UpdateAutoScalingGroup(update).ok());
  Run(absl::Seconds(30));
  as_->Reconcile();
  EXPECT_EQ(Group().instances_size(), 4);
}

TEST_F(AutoScalingTest, SimplePoliciesAndCooldown) {
  CreateGroup(1, 3);
  Run(absl::Seconds(10));
  std::string up = PutSimple("scale_up", 1, 180);
  EXPECT_TRUE(absl::StrContains(up, ":scalingPolicy:"));
  EXPECT_TRUE(absl::EndsWith(up, ":autoScalingGroupName/My-Group:policyName/scale_up"));
  v1::ExecutePolicyRequest exec;
  exec.set_auto_scaling_group_name("My-Group");
  exec.set_policy_name("scale_up");
  exec.set_honor_cooldown(true);
  ASSERT_TRUE(as_->ExecutePolicy(exec).ok());
  EXPECT_EQ(Group().desired_capacity(), 2);
  // In its cooldown: refused.
  EXPECT_THAT(as_->ExecutePolicy(exec),
              IsStatus(absl::StatusCode::kFailedPrecondition, "ScalingActivityInProgress"));
  // Without honouring it, runs; max bounds it.
  exec.set_honor_cooldown(false);
  ASSERT_TRUE(as_->ExecutePolicy(exec).ok());
  ASSERT_TRUE(as_->ExecutePolicy(exec).ok());
  EXPECT_EQ(Group().desired_capacity(), 3);
  Run(absl::Seconds(10));
  EXPECT_EQ(InService(), 3);
  // The cooldown restarted when the launches completed: 180 s from then.
  exec.set_honor_cooldown(true);
  Run(absl::Seconds(179));
  EXPECT_THAT(as_->ExecutePolicy(exec),
              IsStatus(absl::StatusCode::kFailedPrecondition, "ScalingActivityInProgress"));
  Run(absl::Seconds(1));
  PutSimple("scale_down", -5, 0);
  exec.set_policy_name("scale_down");
  ASSERT_TRUE(as_->ExecutePolicy(exec).ok());
  EXPECT_EQ(Group().desired_capacity(), 1);  // min bounds it
  Run(absl::Seconds(5));
  EXPECT_EQ(Group().instances_size(), 1);
  auto activities = Activities();
  ASSERT_GE(activities.size(), 2u);
  EXPECT_TRUE(absl::StartsWith(activities[0].description(), "Terminating EC2 instance: i-"));
  EXPECT_EQ(activities[0].status_code(), "Successful");
  EXPECT_THAT(activities[0].cause(), HasSubstr("a user request executed policy scale_down changing "
                                               "the desired capacity from 3 to 1."));
  EXPECT_THAT(activities[0].cause(), HasSubstr("was selected for termination."));
}

TEST_F(AutoScalingTest, AlarmTriggeredPolicyQuotesTheAlarm) {
  CreateGroup(1, 2);
  Run(absl::Seconds(10));
  std::string up = PutSimple("scale_up", 1, 180);
  ASSERT_TRUE(as_->CheckPolicyArn(up).ok());
  EXPECT_THAT(as_->CheckPolicyArn(up + "x"),
              IsStatus(absl::StatusCode::kInvalidArgument, "ValidationError", "policy_arn"));
  AlarmTrigger trigger{"awsec2-My-Group-High-CPU", clock_.Now(), 90.0, 70};
  ASSERT_TRUE(as_->RunPolicyFromAlarm(up, trigger).ok());
  // Again within the cooldown: not an error for the alarm, and no change.
  ASSERT_TRUE(as_->RunPolicyFromAlarm(up, trigger).ok());
  EXPECT_EQ(Group().desired_capacity(), 2);
  clock_.RunDue();
  auto activities = Activities();
  ASSERT_EQ(activities.size(), 2u);
  EXPECT_THAT(activities[0].cause(),
              HasSubstr("a monitor alarm awsec2-My-Group-High-CPU in state ALARM triggered policy "
                        "scale_up changing the desired capacity from 1 to 2."));
  // AlarmNotification suspended: alarms do nothing.
  v1::SuspendProcessesRequest suspend;
  suspend.set_auto_scaling_group_name("My-Group");
  suspend.add_scaling_processes("AlarmNotification");
  ASSERT_TRUE(as_->SuspendProcesses(suspend).ok());
  std::string down = PutSimple("scale_down", -1, 0);
  ASSERT_TRUE(as_->RunPolicyFromAlarm(down, trigger).ok());
  EXPECT_EQ(Group().desired_capacity(), 2);
}

TEST_F(AutoScalingTest, StepScalingUsesTheBreachAndWarmUp) {
  CreateGroup(1, 10);
  Run(absl::Seconds(10));
  v1::PutScalingPolicyRequest p;
  p.set_auto_scaling_group_name("My-Group");
  p.set_policy_name("steps");
  p.set_policy_type(v1::POLICY_TYPE_STEP_SCALING);
  p.set_adjustment_type(v1::ADJUSTMENT_TYPE_CHANGE_IN_CAPACITY);
  p.set_estimated_instance_warmup(120);
  auto* s = p.add_step_adjustments();
  s->set_metric_interval_lower_bound(0);
  s->set_metric_interval_upper_bound(20);
  s->set_scaling_adjustment(1);
  s = p.add_step_adjustments();
  s->set_metric_interval_lower_bound(20);
  s->set_scaling_adjustment(3);
  ASSERT_TRUE(as_->PutScalingPolicy(p).ok());
  v1::ExecutePolicyRequest exec;
  exec.set_auto_scaling_group_name("My-Group");
  exec.set_policy_name("steps");
  EXPECT_THAT(as_->ExecutePolicy(exec),
              IsStatus(absl::StatusCode::kInvalidArgument, "ValidationError", "metric_value"));
  exec.set_metric_value(80);
  exec.set_breach_threshold(70);
  ASSERT_TRUE(as_->ExecutePolicy(exec).ok());
  EXPECT_EQ(Group().desired_capacity(), 2);
  // Within the warm-up the same breach adds nothing; a larger one counts from the same base.
  ASSERT_TRUE(as_->ExecutePolicy(exec).ok());
  EXPECT_EQ(Group().desired_capacity(), 2);
  exec.set_metric_value(95);
  ASSERT_TRUE(as_->ExecutePolicy(exec).ok());
  EXPECT_EQ(Group().desired_capacity(), 4);
  // After the warm-up it adds again.
  Run(absl::Seconds(121));
  exec.set_metric_value(80);
  ASSERT_TRUE(as_->ExecutePolicy(exec).ok());
  EXPECT_EQ(Group().desired_capacity(), 5);
}

TEST_F(AutoScalingTest, UnhealthyInstancesAreReplacedAfterTheGracePeriod) {
  CreateConfig();
  auto r = GroupRequest(1, 2);
  r.set_health_check_grace_period(60);
  ASSERT_TRUE(as_->CreateAutoScalingGroup(r).ok());
  Run(absl::Seconds(10));
  std::string first = Group().instances(0).instance_id();
  v1::SetInstanceHealthRequest health;
  health.set_instance_id(first);
  health.set_health_status("Unhealthy");
  ASSERT_TRUE(as_->SetInstanceHealth(health).ok());
  clock_.RunDue();
  EXPECT_EQ(Group().instances(0).health_status(), "Healthy");  // within its grace period
  Run(absl::Seconds(50));
  ASSERT_TRUE(as_->SetInstanceHealth(health).ok());
  Run(absl::Seconds(10));
  v1::AutoScalingGroup g = Group();
  ASSERT_EQ(g.instances_size(), 1);
  EXPECT_NE(g.instances(0).instance_id(), first);
  EXPECT_EQ(g.instances(0).lifecycle_state(), "InService");
  auto old = instances_->Find(first);
  ASSERT_TRUE(old.has_value());
  EXPECT_EQ(old->state().text(), "terminated");
  auto activities = Activities();
  bool found = false;
  for (const auto& a : activities) {
    if (a.description() == "Terminating EC2 instance: " + first) {
      found = true;
      EXPECT_THAT(a.cause(), HasSubstr("in response to a user health-check."));
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(AutoScalingTest, AnInstanceStoppedOutsideTheGroupIsReplaced) {
  CreateGroup(1, 1);
  Run(absl::Seconds(10));
  std::string first = Group().instances(0).instance_id();
  v1::StopInstancesRequest stop;
  stop.add_instance_ids(first);
  ASSERT_TRUE(instances_->StopInstances(stop).ok());
  Run(absl::Seconds(20));
  v1::AutoScalingGroup g = Group();
  ASSERT_EQ(g.instances_size(), 1);
  EXPECT_NE(g.instances(0).instance_id(), first);
  EXPECT_EQ(instances_->Find(first)->state().text(), "terminated");
}

TEST_F(AutoScalingTest, ProtectionTerminationPolicyAndSuspendedLaunch) {
  CreateConfig();
  auto r = GroupRequest(0, 3);
  r.set_desired_capacity(3);
  r.add_termination_policies("NewestInstance");
  ASSERT_TRUE(as_->CreateAutoScalingGroup(r).ok());
  Run(absl::Seconds(10));
  std::vector<std::pair<absl::Time, std::string>> by_launch;
  const v1::AutoScalingGroup launched = Group();
  for (const auto& i : launched.instances()) {
    by_launch.emplace_back(FromProto(instances_->Find(i.instance_id())->launch_time()), i.instance_id());
  }
  std::sort(by_launch.begin(), by_launch.end());
  ASSERT_EQ(by_launch.size(), 3u);
  // All launched at one instant: ties go to the smallest id. Protect that one.
  std::string protected_id = std::min({by_launch[0].second, by_launch[1].second, by_launch[2].second});
  v1::SetInstanceProtectionRequest protect;
  protect.set_auto_scaling_group_name("My-Group");
  protect.add_instance_ids(protected_id);
  protect.set_protected_from_scale_in(true);
  ASSERT_TRUE(as_->SetInstanceProtection(protect).ok());
  v1::SetDesiredCapacityRequest set;
  set.set_auto_scaling_group_name("My-Group");
  set.set_desired_capacity(0);
  ASSERT_TRUE(as_->SetDesiredCapacity(set).ok());
  Run(absl::Seconds(10));
  v1::AutoScalingGroup g = Group();
  ASSERT_EQ(g.instances_size(), 1);  // the protected one stays
  EXPECT_EQ(g.instances(0).instance_id(), protected_id);
  // Launch suspended: a higher desired capacity waits.
  v1::SuspendProcessesRequest suspend;
  suspend.set_auto_scaling_group_name("My-Group");
  suspend.add_scaling_processes("Launch");
  ASSERT_TRUE(as_->SuspendProcesses(suspend).ok());
  set.set_desired_capacity(2);
  ASSERT_TRUE(as_->SetDesiredCapacity(set).ok());
  Run(absl::Seconds(10));
  EXPECT_EQ(Group().instances_size(), 1);
  v1::ResumeProcessesRequest resume;
  resume.set_auto_scaling_group_name("My-Group");
  ASSERT_TRUE(as_->ResumeProcesses(resume).ok());
  Run(absl::Seconds(10));
  EXPECT_EQ(Group().instances_size(), 2);
}

TEST_F(AutoScalingTest, BadInput) {
  CreateConfig();
  EXPECT_THAT(as_->CreateAutoScalingGroup(GroupRequest(3, 2)),
              IsStatus(absl::StatusCode::kInvalidArgument, "ValidationError", "min_size"));
  auto r = GroupRequest(1, 2);
  r.set_desired_capacity(5);
  EXPECT_THAT(as_->CreateAutoScalingGroup(r),
              IsStatus(absl::StatusCode::kInvalidArgument, "ValidationError", "desired_capacity"));
  r = GroupRequest(1, 2, {"us-east-9z"});
  EXPECT_THAT(as_->CreateAutoScalingGroup(r), IsStatus(absl::StatusCode::kInvalidArgument,
                                                       "ValidationError", "availability_zones[0]"));
  r = GroupRequest(1, 2);
  r.set_launch_configuration_name("nope");
  EXPECT_THAT(as_->CreateAutoScalingGroup(r), IsStatus(absl::StatusCode::kInvalidArgument,
                                                       "ValidationError", "launch_configuration_name"));
  ASSERT_TRUE(as_->CreateAutoScalingGroup(GroupRequest(1, 2)).ok());
  EXPECT_THAT(as_->CreateAutoScalingGroup(GroupRequest(1, 2)),
              IsStatus(absl::StatusCode::kAlreadyExists, "AlreadyExists"));
  v1::SetDesiredCapacityRequest set;
  set.set_auto_scaling_group_name("My-Group");
  set.set_desired_capacity(3);
  EXPECT_THAT(as_->SetDesiredCapacity(set),
              IsStatus(absl::StatusCode::kInvalidArgument, "ValidationError", "desired_capacity"));
  v1::CreateLaunchConfigurationRequest lc;
  lc.set_launch_configuration_name("bad");
  lc.set_image_id("ami-d0f89fb9");
  lc.set_instance_type("t9.galactic");
  EXPECT_THAT(as_->CreateLaunchConfiguration(lc),
              IsStatus(absl::StatusCode::kInvalidArgument, "ValidationError", "instance_type"));
  v1::DeleteLaunchConfigurationRequest del;
  del.set_launch_configuration_name("my-lc");
  EXPECT_THAT(as_->DeleteLaunchConfiguration(del),
              IsStatus(absl::StatusCode::kFailedPrecondition, "ResourceInUse"));
  v1::PutScalingPolicyRequest p;
  p.set_auto_scaling_group_name("My-Group");
  p.set_policy_name("p");
  EXPECT_THAT(as_->PutScalingPolicy(p),
              IsStatus(absl::StatusCode::kInvalidArgument, "ValidationError", "adjustment_type"));
  v1::ExecutePolicyRequest exec;
  exec.set_auto_scaling_group_name("My-Group");
  exec.set_policy_name("arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:x");
  EXPECT_THAT(as_->ExecutePolicy(exec),
              IsStatus(absl::StatusCode::kInvalidArgument, "ValidationError", "policy_name"));
}

TEST_F(AutoScalingTest, DeleteGroupNeedsForceWhileItHasInstances) {
  CreateGroup(2, 2);
  Run(absl::Seconds(10));
  v1::DeleteAutoScalingGroupRequest del;
  del.set_auto_scaling_group_name("My-Group");
  EXPECT_THAT(as_->DeleteAutoScalingGroup(del),
              IsStatus(absl::StatusCode::kFailedPrecondition, "ResourceInUse"));
  auto ids = as_->GroupInstanceIds("My-Group");
  ASSERT_TRUE(ids.ok());
  del.set_force_delete(true);
  ASSERT_TRUE(as_->DeleteAutoScalingGroup(del).ok());
  EXPECT_EQ(Group().status(), "Delete in progress");
  Run(absl::Seconds(10));
  v1::DescribeAutoScalingGroupsRequest d;
  auto all = as_->DescribeAutoScalingGroups(d);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->auto_scaling_groups_size(), 0);
  for (const auto& id : *ids) EXPECT_EQ(instances_->Find(id)->state().text(), "terminated");
}

// A crash after the launch decision was stored, before RunInstances: the
// restart carries the decision out, once.
TEST_F(AutoScalingTest, RestartCarriesOutAStoredLaunchDecisionOnce) {
  CreateGroup(1, 3);
  Run(absl::Seconds(10));
  const std::string decision = "11111111-2222-4333-8444-555555555555";
  StoreLaunchDecision(decision, 2);
  Open();
  Run(absl::Seconds(10));
  EXPECT_EQ(Group().instances_size(), 2);
  auto all = instances_->DescribeInstances({});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->instances_size(), 2);
  auto launched = instances_->FindByClientToken(decision);
  ASSERT_TRUE(launched.has_value());
  Open();  // and again: nothing more
  Run(absl::Seconds(10));
  EXPECT_EQ(instances_->DescribeInstances({})->instances_size(), 2);
}

// A crash after RunInstances, before the member was stored: the restart
// repeats the launch with the decision's token and adopts the instance.
TEST_F(AutoScalingTest, RestartAdoptsAnInstanceLaunchedBeforeTheCrash) {
  CreateGroup(1, 3);
  Run(absl::Seconds(10));
  const std::string decision = "99999999-2222-4333-8444-555555555555";
  StoreLaunchDecision(decision, 2);
  v1::RunInstancesRequest spec;
  spec.set_image_id("ami-d0f89fb9");
  spec.set_instance_type("t1.micro");
  spec.set_availability_zone("us-east-1b");
  auto before_crash = instances_->LaunchIntoGroup(spec, "My-Group", decision);
  ASSERT_TRUE(before_crash.ok());
  Open();
  Run(absl::Seconds(10));
  v1::AutoScalingGroup g = Group();
  ASSERT_EQ(g.instances_size(), 2);
  bool adopted = false;
  for (const auto& i : g.instances()) adopted |= i.instance_id() == before_crash->instance_id();
  EXPECT_TRUE(adopted);
  EXPECT_EQ(instances_->DescribeInstances({})->instances_size(), 2);
}

TEST_F(AutoScalingTest, NoCapacityFailsTheActivityAndRetriesLater) {
  host_vcpus_ = 1;  // one t1.micro per zone
  Open();
  CreateGroup(2, 2);
  Run(absl::Seconds(10));
  EXPECT_EQ(Group().instances_size(), 1);
  auto activities = Activities();
  ASSERT_GE(activities.size(), 2u);
  EXPECT_EQ(activities[0].status_code(), "Failed");
  EXPECT_THAT(activities[0].status_message(), HasSubstr("sufficient t1.micro capacity"));
  // The group may use another zone: it gets there.
  v1::UpdateAutoScalingGroupRequest update;
  update.set_auto_scaling_group_name("My-Group");
  update.add_availability_zones("us-east-1b");
  update.add_availability_zones("us-east-1c");
  ASSERT_TRUE(as_->UpdateAutoScalingGroup(update).ok());
  Run(absl::Seconds(40));
  EXPECT_EQ(InService(), 2);
}

}  // namespace
}  // namespace thingtank::compute
