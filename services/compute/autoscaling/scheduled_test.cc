#include <gtest/gtest.h>

#include "services/common/testing/status_matchers.h"
#include "services/common/testing/temp_db.h"
#include "services/compute/autoscaling/autoscaling.h"
#include "services/compute/drivers/simulated_driver.h"
#include "services/compute/proto_time.h"

namespace thingtank::compute {
namespace {

class ScheduledTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cfs = Instances::ColumnFamilies();
    for (auto& f : AutoScaling::ColumnFamilies()) cfs.push_back(f);
    db_ = std::move(*OpenTempDb(dir_, cfs));
    instances_ = std::move(*Instances::Open(db_.get(), &clock_, &executor_, {&simulated_, nullptr}));
    as_ = std::move(*AutoScaling::Open(db_.get(), &clock_, &executor_, instances_.get(), nullptr));
    instances_->SetOnChange([this] { as_->Poke(); });
    v1::CreateLaunchConfigurationRequest lc;
    lc.set_launch_configuration_name("lc");
    lc.set_image_id("ami-d0f89fb9");
    lc.set_instance_type("t2.micro");
    ASSERT_TRUE(as_->CreateLaunchConfiguration(lc).ok());
    v1::CreateAutoScalingGroupRequest g;
    g.set_auto_scaling_group_name("g");
    g.set_launch_configuration_name("lc");
    g.add_availability_zones("us-east-1a");
    g.set_min_size(1);
    g.set_max_size(3);
    ASSERT_TRUE(as_->CreateAutoScalingGroup(g).ok());
  }

  v1::AutoScalingGroup Group() {
    auto d = as_->DescribeAutoScalingGroups({});
    return d->auto_scaling_groups(0);
  }

  // The reconciler's tick, every 10 s for `d`.
  void Ticks(absl::Duration d) {
    for (absl::Duration t; t < d; t += absl::Seconds(10)) {
      clock_.Advance(absl::Seconds(10));
      as_->Reconcile();
    }
  }

  TempDir dir_;
  ManualClock clock_{absl::FromUnixSeconds(1'764'669'600)};  // 2025-12-02T10:00:00Z, a Tuesday
  InlineExecutor executor_;
  SimulatedDriver simulated_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<Instances> instances_;
  std::unique_ptr<AutoScaling> as_;
};

TEST_F(ScheduledTest, AOneOffActionRunsOnceAtItsTime) {
  v1::PutScheduledUpdateGroupActionRequest r;
  r.set_auto_scaling_group_name("g");
  r.set_scheduled_action_name("morning");
  *r.mutable_start_time() = ToProto(clock_.Now() + absl::Minutes(5));
  r.set_max_size(5);
  r.set_desired_capacity(4);
  ASSERT_TRUE(as_->PutScheduledUpdateGroupAction(r).ok());
  Ticks(absl::Minutes(4));
  EXPECT_EQ(Group().desired_capacity(), 1);
  Ticks(absl::Minutes(1));
  EXPECT_EQ(Group().desired_capacity(), 4);
  EXPECT_EQ(Group().max_size(), 5);
  Ticks(absl::Seconds(30));
  EXPECT_EQ(Group().instances_size(), 4);
  EXPECT_EQ(as_->DescribeScheduledActions({})->scheduled_update_group_actions_size(), 0);
  v1::DescribeScalingActivitiesRequest a;
  auto activities = as_->DescribeScalingActivities(a);
  ASSERT_TRUE(activities.ok());
  EXPECT_NE(activities->activities(0).cause().find("a scheduled action update of AutoScalingGroup "
                                                   "constraints to min: 1, max: 5, desired: 4"),
            std::string::npos);
}

TEST_F(ScheduledTest, ARecurrenceRunsEachTimeUntilItsEnd) {
  v1::PutScheduledUpdateGroupActionRequest up;
  up.set_auto_scaling_group_name("g");
  up.set_scheduled_action_name("up");
  up.set_recurrence("0,20,40 * * * *");  // every 20 minutes
  up.set_desired_capacity(3);
  ASSERT_TRUE(as_->PutScheduledUpdateGroupAction(up).ok());
  v1::PutScheduledUpdateGroupActionRequest down = up;
  down.set_scheduled_action_name("down");
  down.set_recurrence("10,30,50 * * * *");
  down.set_desired_capacity(1);
  *down.mutable_end_time() = ToProto(clock_.Now() + absl::Minutes(35));
  ASSERT_TRUE(as_->PutScheduledUpdateGroupAction(down).ok());
  auto listed = as_->DescribeScheduledActions({});
  ASSERT_EQ(listed->scheduled_update_group_actions_size(), 2);
  // "up" matches 10:00 itself (its start): it runs at the first tick.
  EXPECT_EQ(FromProto(listed->scheduled_update_group_actions(1).next_run_time()), clock_.Now());
  Ticks(absl::Minutes(5));
  EXPECT_EQ(Group().desired_capacity(), 3);
  Ticks(absl::Minutes(10));  // 10:15: down ran at 10:10
  EXPECT_EQ(Group().desired_capacity(), 1);
  Ticks(absl::Minutes(10));  // 10:25: up at 10:20
  EXPECT_EQ(Group().desired_capacity(), 3);
  Ticks(absl::Minutes(10));  // 10:35: down at 10:30 (its last: it ends at 10:35)
  EXPECT_EQ(Group().desired_capacity(), 1);
  Ticks(absl::Minutes(20));  // 10:55: up at 10:40, no down at 10:50
  EXPECT_EQ(Group().desired_capacity(), 3);
  EXPECT_EQ(as_->DescribeScheduledActions({})->scheduled_update_group_actions_size(), 1);
}

TEST_F(ScheduledTest, BadInputAndSuspension) {
  v1::PutScheduledUpdateGroupActionRequest r;
  r.set_auto_scaling_group_name("g");
  r.set_scheduled_action_name("x");
  EXPECT_THAT(as_->PutScheduledUpdateGroupAction(r),
              IsStatus(absl::StatusCode::kInvalidArgument, "ValidationError", "desired_capacity"));
  r.set_desired_capacity(2);
  r.set_recurrence("0 25 * * *");
  EXPECT_THAT(as_->PutScheduledUpdateGroupAction(r),
              IsStatus(absl::StatusCode::kInvalidArgument, "ValidationError", "recurrence"));
  r.clear_recurrence();
  *r.mutable_start_time() = ToProto(clock_.Now() - absl::Minutes(1));
  EXPECT_THAT(as_->PutScheduledUpdateGroupAction(r),
              IsStatus(absl::StatusCode::kInvalidArgument, "ValidationError", "start_time"));
  *r.mutable_start_time() = ToProto(clock_.Now() + absl::Minutes(1));
  r.set_desired_capacity(9);
  EXPECT_THAT(as_->PutScheduledUpdateGroupAction(r),
              IsStatus(absl::StatusCode::kInvalidArgument, "ValidationError", "desired_capacity"));
  r.set_desired_capacity(2);
  ASSERT_TRUE(as_->PutScheduledUpdateGroupAction(r).ok());
  v1::SuspendProcessesRequest s;
  s.set_auto_scaling_group_name("g");
  s.add_scaling_processes("ScheduledActions");
  ASSERT_TRUE(as_->SuspendProcesses(s).ok());
  Ticks(absl::Minutes(2));
  EXPECT_EQ(Group().desired_capacity(), 1);
  v1::DeleteScheduledActionRequest del;
  del.set_auto_scaling_group_name("g");
  del.set_scheduled_action_name("x");
  ASSERT_TRUE(as_->DeleteScheduledAction(del).ok());
  EXPECT_THAT(as_->DeleteScheduledAction(del),
              IsStatus(absl::StatusCode::kInvalidArgument, "ValidationError", "scheduled_action_name"));
}

}  // namespace
}  // namespace thingtank::compute
