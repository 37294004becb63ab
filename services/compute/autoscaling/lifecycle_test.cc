#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "nlohmann/json.hpp"
#include "services/common/testing/status_matchers.h"
#include "services/common/testing/temp_db.h"
#include "services/compute/autoscaling/autoscaling.h"
#include "services/compute/drivers/simulated_driver.h"

namespace thingtank::compute {
namespace {

class RecordingNotifier final : public LifecycleNotifier {
 public:
  absl::Status CheckTarget(const std::string& arn, const std::string& field) override {
    if (absl::StartsWith(arn, "arn:aws:sqs:")) return absl::OkStatus();
    return InvalidField(field, "not a queue", "ValidationError");
  }
  void Notify(const std::string& arn, const std::string& json) override {
    sent.push_back({arn, nlohmann::json::parse(json)});
  }
  std::vector<std::pair<std::string, nlohmann::json>> sent;
};

class LifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    as_.reset();
    instances_.reset();
    db_.reset();
    auto cfs = Instances::ColumnFamilies();
    for (auto& f : AutoScaling::ColumnFamilies()) cfs.push_back(f);
    auto db = OpenTempDb(dir_, cfs);
    ASSERT_TRUE(db.ok());
    db_ = std::move(*db);
    auto instances = Instances::Open(db_.get(), &clock_, &executor_, {&simulated_, nullptr});
    ASSERT_TRUE(instances.ok());
    instances_ = std::move(*instances);
    auto as = AutoScaling::Open(db_.get(), &clock_, &executor_, instances_.get(), nullptr);
    ASSERT_TRUE(as.ok());
    as_ = std::move(*as);
    as_->SetNotifier(&notifier_);
    instances_->SetOnChange([this] {
      if (as_ != nullptr) as_->Poke();
    });
  }

  void Group(int desired) {
    v1::CreateLaunchConfigurationRequest lc;
    lc.set_launch_configuration_name("lc");
    lc.set_image_id("ami-d0f89fb9");
    lc.set_instance_type("t2.micro");
    ASSERT_TRUE(as_->CreateLaunchConfiguration(lc).ok());
    v1::CreateAutoScalingGroupRequest g;
    g.set_auto_scaling_group_name("g");
    g.set_launch_configuration_name("lc");
    g.add_availability_zones("us-east-1a");
    g.set_min_size(0);
    g.set_max_size(5);
    g.set_desired_capacity(desired);
    ASSERT_TRUE(as_->CreateAutoScalingGroup(g).ok());
  }

  void Hook(const std::string& name, const std::string& transition, int heartbeat,
            const std::string& default_result = "") {
    v1::PutLifecycleHookRequest h;
    h.set_auto_scaling_group_name("g");
    h.set_lifecycle_hook_name(name);
    h.set_lifecycle_transition(transition);
    h.set_heartbeat_timeout(heartbeat);
    h.set_default_result(default_result);
    h.set_notification_target_arn("arn:aws:sqs:us-east-1:000000000000:hooks");
    h.set_notification_metadata("md");
    auto r = as_->PutLifecycleHook(h);
    ASSERT_TRUE(r.ok()) << r.status();
  }

  std::vector<v1::GroupInstance> Members() {
    v1::DescribeAutoScalingGroupsRequest r;
    auto d = as_->DescribeAutoScalingGroups(r);
    EXPECT_TRUE(d.ok() && d->auto_scaling_groups_size() == 1);
    if (!d.ok() || d->auto_scaling_groups_size() != 1) return {};
    return {d->auto_scaling_groups(0).instances().begin(), d->auto_scaling_groups(0).instances().end()};
  }

  // The reconciler's tick (serve runs it every 10 s).
  void Tick(absl::Duration d) {
    clock_.Advance(d);
    as_->Reconcile();
  }

  nlohmann::json LastNotice() { return notifier_.sent.empty() ? nlohmann::json() : notifier_.sent.back().second; }

  TempDir dir_;
  ManualClock clock_;
  InlineExecutor executor_;
  SimulatedDriver simulated_;
  RecordingNotifier notifier_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<Instances> instances_;
  std::unique_ptr<AutoScaling> as_;
};

TEST_F(LifecycleTest, LaunchWaitsUntilContinueWithANotification) {
  Group(0);
  Hook("on-launch", "autoscaling:EC2_INSTANCE_LAUNCHING", 300);
  ASSERT_EQ(notifier_.sent.size(), 1u);
  EXPECT_EQ(LastNotice()["Event"], "autoscaling:TEST_NOTIFICATION");
  v1::SetDesiredCapacityRequest set;
  set.set_auto_scaling_group_name("g");
  set.set_desired_capacity(1);
  ASSERT_TRUE(as_->SetDesiredCapacity(set).ok());
  Tick(absl::Seconds(10));
  auto members = Members();
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0].lifecycle_state(), "Pending:Wait");
  ASSERT_EQ(notifier_.sent.size(), 2u);
  nlohmann::json notice = LastNotice();
  EXPECT_EQ(notifier_.sent.back().first, "arn:aws:sqs:us-east-1:000000000000:hooks");
  EXPECT_EQ(notice["LifecycleTransition"], "autoscaling:EC2_INSTANCE_LAUNCHING");
  EXPECT_EQ(notice["EC2InstanceId"], members[0].instance_id());
  EXPECT_EQ(notice["LifecycleHookName"], "on-launch");
  EXPECT_EQ(notice["NotificationMetadata"], "md");
  // Stays waiting (and counted: nothing else launches).
  Tick(absl::Seconds(200));
  ASSERT_EQ(Members().size(), 1u);
  EXPECT_EQ(Members()[0].lifecycle_state(), "Pending:Wait");
  v1::CompleteLifecycleActionRequest done;
  done.set_auto_scaling_group_name("g");
  done.set_lifecycle_hook_name("on-launch");
  done.set_lifecycle_action_token(notice["LifecycleActionToken"].get<std::string>());
  done.set_lifecycle_action_result("CONTINUE");
  ASSERT_TRUE(as_->CompleteLifecycleAction(done).ok());
  EXPECT_EQ(Members()[0].lifecycle_state(), "InService");
  // The token is spent.
  EXPECT_THAT(as_->CompleteLifecycleAction(done),
              IsStatus(absl::StatusCode::kInvalidArgument, "ValidationError", "lifecycle_action_token"));
}

TEST_F(LifecycleTest, HeartbeatsExtendTheWaitAndTheTimeoutTakesTheDefault) {
  Group(1);
  Hook("on-launch", "autoscaling:EC2_INSTANCE_LAUNCHING", 60, "ABANDON");
  Tick(absl::Seconds(10));
  auto members = Members();
  ASSERT_EQ(members.size(), 1u);
  std::string first = members[0].instance_id();
  Tick(absl::Seconds(50));
  v1::RecordLifecycleActionHeartbeatRequest beat;
  beat.set_auto_scaling_group_name("g");
  beat.set_lifecycle_hook_name("on-launch");
  beat.set_instance_id(first);
  ASSERT_TRUE(as_->RecordLifecycleActionHeartbeat(beat).ok());
  Tick(absl::Seconds(50));  // 100 s after the wait began, 50 s after the heartbeat
  EXPECT_EQ(Members()[0].lifecycle_state(), "Pending:Wait");
  Tick(absl::Seconds(20));  // the heartbeat's 60 s are over: ABANDON
  clock_.Advance(absl::Seconds(10));  // shutting-down -> terminated
  as_->Reconcile();
  members = Members();
  ASSERT_EQ(members.size(), 1u);
  EXPECT_NE(members[0].instance_id(), first);  // a replacement, waiting in its turn
  EXPECT_EQ(instances_->Find(first)->state().text(), "terminated");
  v1::DescribeScalingActivitiesRequest r;
  auto activities = as_->DescribeScalingActivities(r);
  ASSERT_TRUE(activities.ok());
  bool failed_launch = false;
  for (const auto& a : activities->activities()) {
    if (a.description() == "Launching a new EC2 instance: " + first) {
      failed_launch = true;
      EXPECT_EQ(a.status_code(), "Failed");
      EXPECT_TRUE(absl::StrContains(a.status_message(), "ABANDON"));
    }
  }
  EXPECT_TRUE(failed_launch);
  EXPECT_EQ(as_->lifecycle_counts().timed_out, 1);
}

TEST_F(LifecycleTest, TerminateWaitsThenGoesOnEitherWay) {
  Group(1);
  Tick(absl::Seconds(10));
  Tick(absl::Seconds(10));
  ASSERT_EQ(Members()[0].lifecycle_state(), "InService");
  std::string id = Members()[0].instance_id();
  Hook("on-terminate", "autoscaling:EC2_INSTANCE_TERMINATING", 300, "CONTINUE");
  v1::SetDesiredCapacityRequest set;
  set.set_auto_scaling_group_name("g");
  set.set_desired_capacity(0);
  ASSERT_TRUE(as_->SetDesiredCapacity(set).ok());
  Tick(absl::Seconds(10));
  ASSERT_EQ(Members().size(), 1u);
  EXPECT_EQ(Members()[0].lifecycle_state(), "Terminating:Wait");
  EXPECT_EQ(instances_->Find(id)->state().text(), "running");  // still running while it waits
  EXPECT_EQ(LastNotice()["LifecycleTransition"], "autoscaling:EC2_INSTANCE_TERMINATING");
  v1::CompleteLifecycleActionRequest done;
  done.set_auto_scaling_group_name("g");
  done.set_lifecycle_hook_name("on-terminate");
  done.set_instance_id(id);
  done.set_lifecycle_action_result("ABANDON");
  ASSERT_TRUE(as_->CompleteLifecycleAction(done).ok());
  Tick(absl::Seconds(10));
  Tick(absl::Seconds(10));
  EXPECT_TRUE(Members().empty());
  EXPECT_EQ(instances_->Find(id)->state().text(), "terminated");
}

TEST_F(LifecycleTest, BadHooksAndAWaitSurvivesARestart) {
  Group(0);
  v1::PutLifecycleHookRequest h;
  h.set_auto_scaling_group_name("g");
  h.set_lifecycle_hook_name("x");
  EXPECT_THAT(as_->PutLifecycleHook(h),
              IsStatus(absl::StatusCode::kInvalidArgument, "ValidationError", "lifecycle_transition"));
  h.set_lifecycle_transition("autoscaling:EC2_INSTANCE_LAUNCHING");
  h.set_heartbeat_timeout(10);
  EXPECT_THAT(as_->PutLifecycleHook(h),
              IsStatus(absl::StatusCode::kInvalidArgument, "ValidationError", "heartbeat_timeout"));
  h.set_heartbeat_timeout(60);
  h.set_notification_target_arn("arn:aws:sns:us-east-1:000000000000:topic");
  EXPECT_THAT(as_->PutLifecycleHook(h), IsStatus(absl::StatusCode::kInvalidArgument,
                                                 "ValidationError", "notification_target_arn"));
  Hook("on-launch", "autoscaling:EC2_INSTANCE_LAUNCHING", 120);
  v1::SetDesiredCapacityRequest set;
  set.set_auto_scaling_group_name("g");
  set.set_desired_capacity(1);
  ASSERT_TRUE(as_->SetDesiredCapacity(set).ok());
  Tick(absl::Seconds(10));
  ASSERT_EQ(Members()[0].lifecycle_state(), "Pending:Wait");
  std::string token = LastNotice()["LifecycleActionToken"];
  Open();
  Tick(absl::Seconds(10));
  ASSERT_EQ(Members().size(), 1u);
  EXPECT_EQ(Members()[0].lifecycle_state(), "Pending:Wait");
  v1::CompleteLifecycleActionRequest done;
  done.set_auto_scaling_group_name("g");
  done.set_lifecycle_hook_name("on-launch");
  done.set_lifecycle_action_token(token);
  done.set_lifecycle_action_result("CONTINUE");
  ASSERT_TRUE(as_->CompleteLifecycleAction(done).ok());
  EXPECT_EQ(Members()[0].lifecycle_state(), "InService");
  v1::DescribeLifecycleHooksRequest d;
  d.set_auto_scaling_group_name("g");
  auto hooks = as_->DescribeLifecycleHooks(d);
  ASSERT_TRUE(hooks.ok());
  ASSERT_EQ(hooks->lifecycle_hooks_size(), 1);
  EXPECT_EQ(hooks->lifecycle_hooks(0).default_result(), "ABANDON");
  EXPECT_EQ(hooks->lifecycle_hooks(0).global_timeout(), 12000);
}

}  // namespace
}  // namespace thingtank::compute
