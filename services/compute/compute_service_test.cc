#include "services/compute/compute_service.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "services/common/testing/status_matchers.h"
#include "services/common/testing/temp_db.h"
#include "services/compute/drivers/simulated_driver.h"
#include "services/compute/proto_time.h"

namespace thingtank::compute {
namespace {

using ::testing::HasSubstr;

// The whole loop on a manual clock: ticks every 10 s as serve runs them.
class ComputeServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    service_.reset();
    db_.reset();
    auto db = OpenTempDb(dir_, ComputeService::ColumnFamilies());
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    auto service = ComputeService::Open(db_.get(), &clock_, &executor_, {&simulated_, nullptr});
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = std::move(*service);
    service_->Start();
  }

  // The classic program's set-up: launch configuration, My-Group in
  // us-east-1b (1..2), scale_up / scale_down (+1 / -1, cooldown 180 s) and
  // the two alarms on the group's average CPU.
  void ClassicGroup() {
    AutoScaling* as = service_->autoscaling();
    v1::CreateLaunchConfigurationRequest lc;
    lc.set_launch_configuration_name("my-launch-config");
    lc.set_image_id("ami-d0f89fb9");
    lc.set_instance_type("t1.micro");
    lc.set_key_name("my-key");
    lc.add_security_groups("default");
    ASSERT_TRUE(as->CreateLaunchConfiguration(lc).ok());
    v1::CreateAutoScalingGroupRequest g;
    g.set_auto_scaling_group_name("My-Group");
    g.set_launch_configuration_name("my-launch-config");
    g.add_availability_zones("us-east-1b");
    g.set_min_size(1);
    g.set_max_size(2);
    ASSERT_TRUE(as->CreateAutoScalingGroup(g).ok());
    for (auto [name, adjust] : {std::pair{"scale_up", 1}, std::pair{"scale_down", -1}}) {
      v1::PutScalingPolicyRequest p;
      p.set_auto_scaling_group_name("My-Group");
      p.set_policy_name(name);
      p.set_adjustment_type(v1::ADJUSTMENT_TYPE_CHANGE_IN_CAPACITY);
      p.set_scaling_adjustment(adjust);
      p.set_cooldown(180);
      auto r = as->PutScalingPolicy(p);
      ASSERT_TRUE(r.ok()) << r.status();
      arns_[name] = r->policy_arn();
    }
    for (auto [name, high] : {std::pair{"scale_up_on_high_cpu", true}, std::pair{"scale_down_on_low_cpu", false}}) {
      v1::PutMetricAlarmRequest a;
      a.set_alarm_name(name);
      a.set_namespace_("AWS/EC2");
      a.set_metric_name("CPUUtilization");
      v1::Dimension* d = a.add_dimensions();
      d->set_name("AutoScalingGroupName");
      d->set_value("My-Group");
      a.set_statistic(v1::STATISTIC_AVERAGE);
      a.set_period(60);
      a.set_evaluation_periods(2);
      a.set_threshold(high ? 70 : 50);
      a.set_comparison_operator(high ? v1::COMPARISON_OPERATOR_GREATER_THAN_THRESHOLD
                                     : v1::COMPARISON_OPERATOR_LESS_THAN_THRESHOLD);
      a.add_alarm_actions(arns_[high ? "scale_up" : "scale_down"]);
      auto r = service_->alarms()->PutMetricAlarm(a);
      ASSERT_TRUE(r.ok()) << r.status();
    }
  }

  void SetGroupLoad(double percent) {
    v1::SetInstanceLoadRequest r;
    r.set_auto_scaling_group_name("My-Group");
    r.mutable_load()->mutable_constant()->set_percent(percent);
    ASSERT_TRUE(service_->SetInstanceLoad(r).ok());
  }

  v1::AutoScalingGroup Group() {
    v1::DescribeAutoScalingGroupsRequest r;
    auto d = service_->autoscaling()->DescribeAutoScalingGroups(r);
    EXPECT_TRUE(d.ok() && d->auto_scaling_groups_size() == 1);
    return d.ok() && d->auto_scaling_groups_size() == 1 ? d->auto_scaling_groups(0) : v1::AutoScalingGroup();
  }

  int InService() {
    const v1::AutoScalingGroup g = Group();
    int n = 0;
    for (const auto& i : g.instances()) n += i.lifecycle_state() == "InService";
    return n;
  }

  v1::StateValue AlarmState(const std::string& name) {
    v1::DescribeAlarmsRequest r;
    r.add_alarm_names(name);
    auto d = service_->alarms()->DescribeAlarms(r);
    EXPECT_TRUE(d.ok() && d->metric_alarms_size() == 1);
    return d.ok() && d->metric_alarms_size() == 1 ? d->metric_alarms(0).state_value()
                                                  : v1::STATE_VALUE_UNSPECIFIED;
  }

  // Advances minute by minute until `done` or `minutes` pass; the minutes taken.
  int MinutesUntil(const std::function<bool()>& done, int minutes) {
    for (int m = 1; m <= minutes; ++m) {
      clock_.Advance(absl::Minutes(1));
      if (done()) return m;
    }
    return -1;
  }

  TempDir dir_;
  // On a minute boundary, as serve's clock would be at some point.
  ManualClock clock_{absl::FromUnixSeconds(1'764'669'600)};
  InlineExecutor executor_;
  SimulatedDriver simulated_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<ComputeService> service_;
  std::map<std::string, std::string> arns_;
};

TEST_F(ComputeServiceTest, TheClassicScenarioScalesOutAndBackIn) {
  ClassicGroup();
  clock_.Advance(absl::Seconds(30));
  ASSERT_EQ(InService(), 1);
  SetGroupLoad(90);
  // 90 % for two whole minutes breaches "> 70" twice: ALARM, scale_up, a second instance.
  int out = MinutesUntil([&] { return InService() == 2; }, 6);
  ASSERT_GT(out, 0) << "never scaled out";
  EXPECT_LE(out, 4);
  EXPECT_EQ(AlarmState("scale_up_on_high_cpu"), v1::STATE_VALUE_ALARM);
  EXPECT_EQ(Group().desired_capacity(), 2);
  // Max 2: the repeated action while in ALARM changes nothing.
  clock_.Advance(absl::Minutes(3));
  EXPECT_EQ(Group().instances_size(), 2);
  SetGroupLoad(10);
  int in = MinutesUntil([&] { return Group().instances_size() == 1 && InService() == 1; }, 10);
  ASSERT_GT(in, 0) << "never scaled in";
  EXPECT_EQ(AlarmState("scale_down_on_low_cpu"), v1::STATE_VALUE_ALARM);
  EXPECT_EQ(AlarmState("scale_up_on_high_cpu"), v1::STATE_VALUE_OK);
  // The activities tell the story, newest first.
  v1::DescribeScalingActivitiesRequest r;
  r.set_auto_scaling_group_name("My-Group");
  auto activities = service_->autoscaling()->DescribeScalingActivities(r);
  ASSERT_TRUE(activities.ok());
  ASSERT_EQ(activities->activities_size(), 3);
  EXPECT_TRUE(absl::StartsWith(activities->activities(0).description(), "Terminating EC2 instance: "));
  EXPECT_THAT(activities->activities(0).cause(),
              HasSubstr("a monitor alarm scale_down_on_low_cpu in state ALARM triggered policy "
                        "scale_down changing the desired capacity from 2 to 1."));
  EXPECT_THAT(activities->activities(1).cause(),
              HasSubstr("a monitor alarm scale_up_on_high_cpu in state ALARM triggered policy "
                        "scale_up changing the desired capacity from 1 to 2."));
  for (const auto& a : activities->activities()) EXPECT_EQ(a.status_code(), "Successful");
  // And the alarm history: INSUFFICIENT_DATA -> OK -> ALARM -> OK for the high alarm.
  v1::DescribeAlarmHistoryRequest h;
  h.set_alarm_name("scale_up_on_high_cpu");
  h.set_history_item_type(v1::HISTORY_ITEM_TYPE_STATE_UPDATE);
  h.set_scan_by_timestamp_ascending(true);
  auto history = service_->alarms()->DescribeAlarmHistory(h);
  ASSERT_TRUE(history.ok());
  std::vector<std::string> summaries;
  for (const auto& item : history->alarm_history_items()) summaries.push_back(item.history_summary());
  EXPECT_EQ(summaries, (std::vector<std::string>{"Alarm updated from INSUFFICIENT_DATA to OK",
                                                 "Alarm updated from OK to ALARM",
                                                 "Alarm updated from ALARM to OK"}));
}

TEST_F(ComputeServiceTest, PublishesInstanceGroupAndAutoScalingMetrics) {
  ClassicGroup();
  clock_.Advance(absl::Seconds(30));
  SetGroupLoad(40);
  clock_.Advance(absl::Minutes(2));
  v1::GetMetricStatisticsRequest r;
  r.set_namespace_("AWS/EC2");
  r.set_metric_name("CPUUtilization");
  v1::Dimension* d = r.add_dimensions();
  d->set_name("AutoScalingGroupName");
  d->set_value("My-Group");
  *r.mutable_start_time() = ToProto(clock_.Now() - absl::Minutes(1));
  *r.mutable_end_time() = ToProto(clock_.Now());
  r.set_period(60);
  r.add_statistics(v1::STATISTIC_AVERAGE);
  auto stats = service_->metrics()->GetMetricStatistics(r);
  ASSERT_TRUE(stats.ok()) << stats.status();
  ASSERT_EQ(stats->datapoints_size(), 1);
  EXPECT_DOUBLE_EQ(stats->datapoints(0).average(), 40);
  EXPECT_EQ(stats->datapoints(0).unit(), "Percent");
  r.set_namespace_("AWS/AutoScaling");
  r.set_metric_name("GroupInServiceInstances");
  stats = service_->metrics()->GetMetricStatistics(r);
  ASSERT_TRUE(stats.ok()) << stats.status();
  ASSERT_EQ(stats->datapoints_size(), 1);
  EXPECT_DOUBLE_EQ(stats->datapoints(0).average(), 1);
  // A policy ARN that does not exist cannot be an alarm action.
  v1::PutMetricAlarmRequest a;
  a.set_alarm_name("bad");
  a.set_namespace_("AWS/EC2");
  a.set_metric_name("CPUUtilization");
  a.set_statistic(v1::STATISTIC_AVERAGE);
  a.set_period(60);
  a.set_evaluation_periods(1);
  a.set_threshold(1);
  a.set_comparison_operator(v1::COMPARISON_OPERATOR_GREATER_THAN_THRESHOLD);
  a.add_alarm_actions(arns_["scale_up"] + "-gone");
  EXPECT_THAT(service_->alarms()->PutMetricAlarm(a),
              IsStatus(absl::StatusCode::kInvalidArgument, "ValidationError", "alarm_actions[0]"));
}

TEST_F(ComputeServiceTest, TargetTrackingOnCpuManagesItsAlarmsAndScales) {
  ClassicGroup();
  v1::UpdateAutoScalingGroupRequest u;
  u.set_auto_scaling_group_name("My-Group");
  u.set_max_size(4);
  ASSERT_TRUE(service_->autoscaling()->UpdateAutoScalingGroup(u).ok());
  v1::PutScalingPolicyRequest p;
  p.set_auto_scaling_group_name("My-Group");
  p.set_policy_name("cpu50");
  p.set_policy_type(v1::POLICY_TYPE_TARGET_TRACKING_SCALING);
  p.mutable_target_tracking_configuration()->set_predefined_metric_type(
      v1::PREDEFINED_METRIC_TYPE_ASG_AVERAGE_CPU_UTILIZATION);
  p.mutable_target_tracking_configuration()->set_target_value(50);
  auto put = service_->autoscaling()->PutScalingPolicy(p);
  ASSERT_TRUE(put.ok()) << put.status();
  ASSERT_EQ(put->alarm_names_size(), 2);
  EXPECT_TRUE(absl::StartsWith(put->alarm_names(0), "TargetTracking-My-Group-AlarmHigh-"));
  // The classic alarms would fight it: leave only target tracking.
  v1::DeleteAlarmsRequest del;
  del.add_alarm_names("scale_up_on_high_cpu");
  del.add_alarm_names("scale_down_on_low_cpu");
  ASSERT_TRUE(service_->alarms()->DeleteAlarms(del).ok());
  clock_.Advance(absl::Seconds(30));
  SetGroupLoad(100);
  // 100 % against a 50 % target: 1 -> 2 after 3 minutes; then the average is still 100 (the
  // new instance gets the group's load) -> 4.
  int minutes = MinutesUntil([&] { return InService() == 4; }, 12);
  EXPECT_GT(minutes, 0);
  v1::DescribePoliciesRequest d;
  d.set_auto_scaling_group_name("My-Group");
  auto policies = service_->autoscaling()->DescribePolicies(d);
  ASSERT_TRUE(policies.ok());
  bool found = false;
  for (const auto& pol : policies->scaling_policies()) {
    if (pol.policy_name() != "cpu50") continue;
    found = true;
    EXPECT_EQ(pol.alarm_names_size(), 2);
  }
  EXPECT_TRUE(found);
  // Deleting the policy deletes its alarms.
  v1::DeletePolicyRequest dp;
  dp.set_auto_scaling_group_name("My-Group");
  dp.set_policy_name("cpu50");
  ASSERT_TRUE(service_->autoscaling()->DeletePolicy(dp).ok());
  v1::DescribeAlarmsRequest all;
  all.set_alarm_name_prefix("TargetTracking-");
  auto left = service_->alarms()->DescribeAlarms(all);
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->metric_alarms_size(), 0);
}

TEST_F(ComputeServiceTest, RestartInTheMiddleOfAScaleOutLaunchesOnce) {
  ClassicGroup();
  clock_.Advance(absl::Seconds(30));
  SetGroupLoad(90);
  ASSERT_GT(MinutesUntil([&] { return Group().desired_capacity() == 2; }, 6), 0);
  // The second instance is launched but pending: restart now.
  Open();
  clock_.Advance(absl::Minutes(1));
  EXPECT_EQ(InService(), 2);
  auto all = service_->instances()->DescribeInstances({});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->instances_size(), 2);
  EXPECT_EQ(AlarmState("scale_up_on_high_cpu"), v1::STATE_VALUE_ALARM);
}

TEST_F(ComputeServiceTest, LaunchTemplatesWithVersionsLaunchGroupsAndInstances) {
  LaunchTemplates* lt = service_->launch_templates();
  v1::CreateLaunchTemplateRequest create;
  create.set_launch_template_name("web");
  create.mutable_launch_template_data()->set_image_id("ami-d0f89fb9");
  create.mutable_launch_template_data()->set_instance_type("t2.micro");
  auto created = lt->CreateLaunchTemplate(create);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->launch_template().launch_template_id().rfind("lt-", 0), 0u);
  EXPECT_EQ(created->launch_template().latest_version_number(), 1);
  EXPECT_THAT(lt->CreateLaunchTemplate(create),
              IsStatus(absl::StatusCode::kAlreadyExists, "InvalidLaunchTemplateName.AlreadyExistsException"));
  v1::CreateLaunchTemplateVersionRequest v2;
  v2.set_launch_template_name("web");
  v2.set_source_version("1");
  v2.mutable_launch_template_data()->set_instance_type("m5.large");
  auto second = lt->CreateLaunchTemplateVersion(v2);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->launch_template_version().version_number(), 2);
  EXPECT_EQ(second->launch_template_version().launch_template_data().image_id(), "ami-d0f89fb9");
  v2.mutable_launch_template_data()->set_instance_type("t9.nope");
  EXPECT_THAT(lt->CreateLaunchTemplateVersion(v2),
              IsStatus(absl::StatusCode::kInvalidArgument, "InvalidInstanceType",
                       "launch_template_data.instance_type"));
  // $Default is still 1, $Latest 2.
  v1::DescribeLaunchTemplateVersionsRequest versions;
  versions.set_launch_template_name("web");
  versions.add_versions("$Default");
  auto d = lt->DescribeLaunchTemplateVersions(versions);
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->launch_template_versions_size(), 1);
  EXPECT_EQ(d->launch_template_versions(0).launch_template_data().instance_type(), "t2.micro");
  EXPECT_TRUE(d->launch_template_versions(0).default_version());
  versions.set_versions(0, "7");
  EXPECT_THAT(lt->DescribeLaunchTemplateVersions(versions),
              IsStatus(absl::StatusCode::kNotFound, "InvalidLaunchTemplateId.VersionNotFound"));
  // RunInstances from a template: the default version's type.
  v1::RunInstancesRequest run;
  run.mutable_launch_template()->set_launch_template_name("web");
  auto ran = service_->RunInstances(run);
  ASSERT_TRUE(ran.ok()) << ran.status();
  EXPECT_EQ(ran->instances(0).instance_type(), "t2.micro");
  // A group on $Latest launches version 2; after ModifyLaunchTemplate, $Default is 2 too.
  v1::CreateAutoScalingGroupRequest g;
  g.set_auto_scaling_group_name("web-group");
  g.mutable_launch_template()->set_launch_template_name("web");
  g.mutable_launch_template()->set_version("$Latest");
  g.add_availability_zones("us-east-1a");
  g.set_min_size(1);
  g.set_max_size(2);
  ASSERT_TRUE(service_->autoscaling()->CreateAutoScalingGroup(g).ok());
  clock_.Advance(absl::Seconds(20));
  auto group = service_->autoscaling()->DescribeAutoScalingGroups({});
  ASSERT_TRUE(group.ok());
  ASSERT_EQ(group->auto_scaling_groups(0).instances_size(), 1);
  EXPECT_EQ(group->auto_scaling_groups(0).instances(0).instance_type(), "m5.large");
  EXPECT_EQ(group->auto_scaling_groups(0).instances(0).launch_template().version(), "2");
  v1::ModifyLaunchTemplateRequest modify;
  modify.set_launch_template_name("web");
  modify.set_default_version("$Latest");
  auto modified = lt->ModifyLaunchTemplate(modify);
  ASSERT_TRUE(modified.ok());
  EXPECT_EQ(modified->launch_template().default_version_number(), 2);
  // A group takes a configuration or a template, not both, not neither.
  g.set_auto_scaling_group_name("both");
  g.set_launch_configuration_name("my-launch-config");
  EXPECT_THAT(service_->autoscaling()->CreateAutoScalingGroup(g),
              IsStatus(absl::StatusCode::kInvalidArgument, "ValidationError", "launch_configuration_name"));
  g.clear_launch_configuration_name();
  g.mutable_launch_template()->set_launch_template_name("nope");
  EXPECT_THAT(service_->autoscaling()->CreateAutoScalingGroup(g),
              IsStatus(absl::StatusCode::kNotFound, "InvalidLaunchTemplateName.NotFoundException"));
  // Durable.
  Open();
  auto after = service_->launch_templates()->DescribeLaunchTemplates({});
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->launch_templates_size(), 1);
  EXPECT_EQ(after->launch_templates(0).default_version_number(), 2);
}

}  // namespace
}  // namespace thingtank::compute
