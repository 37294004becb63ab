// Alarms over a real MetricStore and RocksDB on a manual clock: states, M of
// N, actions and their repeats, history, the RPCs and restarts.

#include <gmock/gmock.h>

#include "nlohmann/json.hpp"
#include "services/compute/cloudwatch/cloudwatch_test_util.h"

namespace thingtank::compute {
namespace {

using absl::StatusCode;
using ::testing::ElementsAre;

constexpr char kScale[] = "arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:p1";
constexpr char kTopic[] = "arn:aws:sns:us-east-1:000000000000:ops";
constexpr char kOkTopic[] = "arn:aws:sns:us-east-1:000000000000:ok";

class AlarmsTest : public CloudWatchTest {
 protected:
  static v1::PutMetricAlarmRequest Request(const std::string& name) {
    v1::PutMetricAlarmRequest r;
    r.set_alarm_name(name);
    r.set_namespace_("App");
    r.set_metric_name("Cpu");
    r.set_statistic(v1::STATISTIC_AVERAGE);
    r.set_period(60);
    r.set_evaluation_periods(1);
    r.set_threshold(70);
    r.set_comparison_operator(v1::COMPARISON_OPERATOR_GREATER_THAN_THRESHOLD);
    return r;
  }
  void Put(const v1::PutMetricAlarmRequest& r) { ASSERT_THAT(alarms_->PutMetricAlarm(r), IsOk()); }
  // A Cpu value in minute `minute` after T0.
  void Cpu(int minute, double value) {
    PutValue("Cpu", value, T0() + absl::Minutes(minute) + absl::Seconds(5));
  }
  // Moves the clock to T0 + d and evaluates that boundary.
  void EvaluateAt(absl::Duration d) {
    const absl::Time boundary = T0() + d;
    if (boundary > clock_.Now()) clock_.Advance(boundary - clock_.Now());
    ASSERT_THAT(alarms_->EvaluateDue(boundary), IsOk());
  }
  v1::MetricAlarm Get(const std::string& name) {
    v1::DescribeAlarmsRequest r;
    r.add_alarm_names(name);
    auto resp = alarms_->DescribeAlarms(r);
    EXPECT_THAT(resp, IsOk());
    EXPECT_EQ(resp->metric_alarms_size(), 1);
    return resp->metric_alarms_size() == 1 ? resp->metric_alarms(0) : v1::MetricAlarm();
  }
  v1::StateValue State(const std::string& name) { return Get(name).state_value(); }
  // History summaries, newest first.
  std::vector<std::string> History(const std::string& name = "",
                                   v1::HistoryItemType type = v1::HISTORY_ITEM_TYPE_UNSPECIFIED) {
    v1::DescribeAlarmHistoryRequest r;
    r.set_alarm_name(name);
    r.set_history_item_type(type);
    auto resp = alarms_->DescribeAlarmHistory(r);
    EXPECT_THAT(resp, IsOk());
    std::vector<std::string> out;
    for (const auto& item : resp->alarm_history_items()) out.push_back(item.history_summary());
    return out;
  }
  std::vector<std::string> RunArns() {
    std::vector<std::string> out;
    for (const auto& run : sink_.TakeRuns()) out.push_back(run.arn);
    return out;
  }
};

TEST_F(AlarmsTest, NewAlarmStartsInInsufficientData) {
  Put(Request("cpu"));
  const v1::MetricAlarm a = Get("cpu");
  EXPECT_EQ(a.state_value(), v1::STATE_VALUE_INSUFFICIENT_DATA);
  EXPECT_EQ(a.state_reason(), "Unchecked: Initial alarm creation");
  EXPECT_EQ(a.alarm_arn(), "arn:aws:cloudwatch:us-east-1:000000000000:alarm:cpu");
  EXPECT_TRUE(a.actions_enabled());
  EXPECT_EQ(a.datapoints_to_alarm(), 1);
  EXPECT_EQ(a.treat_missing_data(), v1::TREAT_MISSING_DATA_MISSING);
  EXPECT_EQ(FromProto(a.state_updated_timestamp()), T0());
  EXPECT_THAT(History("cpu"), ElementsAre("Alarm \"cpu\" created"));
  // No data: evaluations keep it there and record nothing.
  EvaluateAt(absl::Minutes(1));
  EvaluateAt(absl::Minutes(2));
  EXPECT_EQ(State("cpu"), v1::STATE_VALUE_INSUFFICIENT_DATA);
  EXPECT_EQ(History("cpu").size(), 1u);
  EXPECT_EQ(alarms_->Counts().evaluations_total, 2);
}

TEST_F(AlarmsTest, TwoOfThreeWithActionsOnTransitionsOnly) {
  auto r = Request("cpu");
  r.set_evaluation_periods(3);
  r.set_datapoints_to_alarm(2);
  r.add_alarm_actions(kTopic);
  r.add_ok_actions(kOkTopic);
  Put(r);
  Cpu(0, 90);
  Cpu(1, 50);
  EvaluateAt(absl::Minutes(2));  // [90, 50]: 1 of 2 real breach, below min(2, 2)
  EXPECT_EQ(State("cpu"), v1::STATE_VALUE_OK);
  EXPECT_THAT(RunArns(), ElementsAre(kOkTopic));
  Cpu(2, 95);
  EvaluateAt(absl::Minutes(3));  // [90, 50, 95]: 2 of 3
  const v1::MetricAlarm a = Get("cpu");
  EXPECT_EQ(a.state_value(), v1::STATE_VALUE_ALARM);
  EXPECT_EQ(a.state_reason(),
            "Threshold Crossed: 2 out of the last 3 datapoints [95.0 (12/02/26 10:02:00), 90.0 "
            "(12/02/26 10:00:00)] were greater than the threshold (70.0) (minimum 2 datapoints "
            "for OK -> ALARM transition).");
  EXPECT_EQ(FromProto(a.state_updated_timestamp()), T0() + absl::Minutes(3));
  auto events = sink_.TakeRuns();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].arn, kTopic);
  EXPECT_EQ(events[0].event.old_state, v1::STATE_VALUE_OK);
  EXPECT_EQ(events[0].event.new_state, v1::STATE_VALUE_ALARM);
  EXPECT_EQ(events[0].event.metric_value, 95);
  EXPECT_EQ(events[0].event.threshold, 70);
  EXPECT_FALSE(events[0].event.repeat);
  Cpu(3, 99);
  EvaluateAt(absl::Minutes(4));  // still ALARM: nothing runs (not an Auto Scaling action)
  EvaluateAt(absl::Minutes(5));
  EXPECT_EQ(State("cpu"), v1::STATE_VALUE_ALARM);
  EXPECT_TRUE(RunArns().empty());
  Cpu(4, 10);
  Cpu(5, 10);
  EvaluateAt(absl::Minutes(6));  // [99, 10, 10]
  EXPECT_EQ(State("cpu"), v1::STATE_VALUE_OK);
  EXPECT_THAT(RunArns(), ElementsAre(kOkTopic));
  EXPECT_THAT(History("cpu"),
              ElementsAre("Successfully executed action " + std::string(kOkTopic),
                          "Alarm updated from ALARM to OK",
                          "Successfully executed action " + std::string(kTopic),
                          "Alarm updated from OK to ALARM",
                          "Successfully executed action " + std::string(kOkTopic),
                          "Alarm updated from INSUFFICIENT_DATA to OK", "Alarm \"cpu\" created"));
  const AlarmCounts c = alarms_->Counts();
  EXPECT_EQ(c.transitions_total, 3);
  EXPECT_EQ(c.actions_total, 3);
  EXPECT_EQ(c.action_failures_total, 0);
}

TEST_F(AlarmsTest, StateUpdateHistoryData) {
  Put(Request("cpu"));
  Cpu(0, 80);
  EvaluateAt(absl::Minutes(1));
  v1::DescribeAlarmHistoryRequest r;
  r.set_history_item_type(v1::HISTORY_ITEM_TYPE_STATE_UPDATE);
  auto resp = alarms_->DescribeAlarmHistory(r);
  ASSERT_THAT(resp, IsOk());
  ASSERT_EQ(resp->alarm_history_items_size(), 1);
  const auto& item = resp->alarm_history_items(0);
  EXPECT_EQ(item.alarm_name(), "cpu");
  EXPECT_EQ(FromProto(item.timestamp()), T0() + absl::Minutes(1));
  auto data = nlohmann::json::parse(item.history_data());
  EXPECT_EQ(data["oldState"]["stateValue"], "INSUFFICIENT_DATA");
  EXPECT_EQ(data["oldState"]["stateReason"], "Unchecked: Initial alarm creation");
  EXPECT_EQ(data["newState"]["stateValue"], "ALARM");
  EXPECT_EQ(data["newState"]["stateReasonData"]["recentDatapoints"][0], 80.0);
}

TEST_F(AlarmsTest, AutoScalingActionsRepeatEachMinuteWhileInAlarm) {
  auto r = Request("cpu");
  r.add_alarm_actions(kScale);
  r.add_alarm_actions(kTopic);
  Put(r);
  Cpu(0, 90);
  EvaluateAt(absl::Minutes(1));
  EXPECT_THAT(RunArns(), ElementsAre(kScale, kTopic));
  // Every 10 s tick; the alarm is due each minute; the repeat once a minute.
  for (int s = 70; s <= 180; s += 10) {
    Cpu(s / 60 - 1, 90);
    EvaluateAt(absl::Seconds(s));
    std::vector<RecordingSink::Run> runs = sink_.TakeRuns();
    if (s % 60 == 0) {
      ASSERT_EQ(runs.size(), 1u) << s;
      EXPECT_EQ(runs[0].arn, kScale);
      EXPECT_TRUE(runs[0].event.repeat);
      EXPECT_EQ(runs[0].event.new_state, v1::STATE_VALUE_ALARM);
      EXPECT_EQ(runs[0].event.metric_value, 90);
    } else {
      EXPECT_TRUE(runs.empty()) << s;
    }
  }
  // Back to OK: no more repeats.
  Cpu(3, 10);
  EvaluateAt(absl::Minutes(4));
  EXPECT_TRUE(RunArns().empty());  // no ok_actions
  EvaluateAt(absl::Minutes(5));
  EXPECT_TRUE(RunArns().empty());
  EXPECT_EQ(State("cpu"), v1::STATE_VALUE_INSUFFICIENT_DATA);
}

TEST_F(AlarmsTest, FailedActionsAreRecorded) {
  auto r = Request("cpu");
  r.add_alarm_actions("arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:fail");
  Put(r);
  Cpu(0, 90);
  EvaluateAt(absl::Minutes(1));
  EXPECT_THAT(History("cpu", v1::HISTORY_ITEM_TYPE_ACTION),
              ElementsAre("Failed to execute action "
                          "arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:fail. "
                          "Received error: \"policy unreachable\""));
  EXPECT_EQ(alarms_->Counts().action_failures_total, 1);
}

TEST_F(AlarmsTest, DisabledActionsDoNotRun) {
  auto r = Request("cpu");
  r.add_alarm_actions(kScale);
  r.add_ok_actions(kOkTopic);
  r.set_actions_enabled(false);
  Put(r);
  Cpu(0, 90);
  EvaluateAt(absl::Minutes(1));
  EvaluateAt(absl::Minutes(2));
  EXPECT_EQ(State("cpu"), v1::STATE_VALUE_INSUFFICIENT_DATA);
  EXPECT_TRUE(RunArns().empty());
  EXPECT_FALSE(Get("cpu").actions_enabled());
  v1::EnableAlarmActionsRequest enable;
  enable.add_alarm_names("cpu");
  enable.add_alarm_names("unknown");
  ASSERT_THAT(alarms_->EnableAlarmActions(enable), IsOk());
  Cpu(2, 10);
  EvaluateAt(absl::Minutes(3));
  EXPECT_THAT(RunArns(), ElementsAre(kOkTopic));
  v1::DisableAlarmActionsRequest disable;
  disable.add_alarm_names("cpu");
  ASSERT_THAT(alarms_->DisableAlarmActions(disable), IsOk());
  Cpu(3, 90);
  EvaluateAt(absl::Minutes(4));
  EXPECT_EQ(State("cpu"), v1::STATE_VALUE_ALARM);  // states still change
  EvaluateAt(absl::Minutes(5));
  EXPECT_TRUE(RunArns().empty());
}

TEST_F(AlarmsTest, SetAlarmStateRunsActionsUntilTheNextEvaluation) {
  auto r = Request("cpu");
  r.add_alarm_actions(kScale);
  Put(r);
  Cpu(0, 10);
  EvaluateAt(absl::Minutes(1));
  ASSERT_EQ(State("cpu"), v1::STATE_VALUE_OK);
  clock_.Advance(absl::Seconds(15));
  v1::SetAlarmStateRequest set;
  set.set_alarm_name("cpu");
  set.set_state_value(v1::STATE_VALUE_ALARM);
  set.set_state_reason("testing");
  ASSERT_THAT(alarms_->SetAlarmState(set), IsOk());
  auto runs = sink_.TakeRuns();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].event.reason, "testing");
  EXPECT_EQ(runs[0].event.old_state, v1::STATE_VALUE_OK);
  const v1::MetricAlarm a = Get("cpu");
  EXPECT_EQ(a.state_value(), v1::STATE_VALUE_ALARM);
  EXPECT_EQ(a.state_reason(), "testing");
  EXPECT_EQ(FromProto(a.state_updated_timestamp()), T0() + absl::Seconds(75));
  // The next evaluation puts the state the data gives.
  Cpu(1, 10);
  EvaluateAt(absl::Minutes(2));
  EXPECT_EQ(State("cpu"), v1::STATE_VALUE_OK);
  EXPECT_THAT(History("cpu", v1::HISTORY_ITEM_TYPE_STATE_UPDATE),
              ElementsAre("Alarm updated from ALARM to OK", "Alarm updated from OK to ALARM",
                          "Alarm updated from INSUFFICIENT_DATA to OK"));

  set.set_alarm_name("nope");
  EXPECT_THAT(alarms_->SetAlarmState(set), IsStatus(StatusCode::kNotFound, "ResourceNotFound"));
  set.set_alarm_name("cpu");
  set.clear_state_reason();
  EXPECT_THAT(alarms_->SetAlarmState(set),
              IsStatus(StatusCode::kInvalidArgument, "MissingParameter", "state_reason"));
  set.set_state_reason("x");
  set.set_state_reason_data("{not json");
  EXPECT_THAT(alarms_->SetAlarmState(set),
              IsStatus(StatusCode::kInvalidArgument, "InvalidFormat", "state_reason_data"));
}

TEST_F(AlarmsTest, TreatMissingDataThroughTheEvaluator) {
  auto not_breaching = Request("nb");
  not_breaching.set_evaluation_periods(2);
  not_breaching.set_treat_missing_data(v1::TREAT_MISSING_DATA_NOT_BREACHING);
  Put(not_breaching);
  auto breaching = Request("b");
  breaching.set_evaluation_periods(2);
  breaching.set_treat_missing_data(v1::TREAT_MISSING_DATA_BREACHING);
  Put(breaching);
  auto ignore = Request("i");
  ignore.set_treat_missing_data(v1::TREAT_MISSING_DATA_IGNORE);
  Put(ignore);
  EvaluateAt(absl::Minutes(1));
  EXPECT_EQ(State("nb"), v1::STATE_VALUE_OK);
  EXPECT_EQ(State("b"), v1::STATE_VALUE_ALARM);
  EXPECT_EQ(State("i"), v1::STATE_VALUE_INSUFFICIENT_DATA);
  Cpu(1, 90);
  EvaluateAt(absl::Minutes(2));
  EXPECT_EQ(State("i"), v1::STATE_VALUE_ALARM);
  EXPECT_EQ(State("nb"), v1::STATE_VALUE_OK);  // 1 of 2 breaching, M = 2
  EvaluateAt(absl::Minutes(3));                // no data again: ignore keeps ALARM
  EXPECT_EQ(State("i"), v1::STATE_VALUE_ALARM);
  EXPECT_EQ(State("b"), v1::STATE_VALUE_ALARM);
}

TEST_F(AlarmsTest, OnlyDueAtMultiplesOfThePeriod) {
  auto r = Request("five");
  r.set_period(300);
  Put(r);
  Cpu(0, 90);
  EvaluateAt(absl::Minutes(1));
  EvaluateAt(absl::Minutes(4));
  EXPECT_EQ(alarms_->Counts().evaluations_total, 0);
  EvaluateAt(absl::Minutes(5));
  EXPECT_EQ(alarms_->Counts().evaluations_total, 1);
  EXPECT_EQ(State("five"), v1::STATE_VALUE_ALARM);
  // The same boundary twice is one evaluation.
  ASSERT_THAT(alarms_->EvaluateDue(T0() + absl::Minutes(5)), IsOk());
  EXPECT_EQ(alarms_->Counts().evaluations_total, 1);
}

TEST_F(AlarmsTest, PutMetricAlarmValidation) {
  struct Case {
    std::function<void(v1::PutMetricAlarmRequest*)> edit;
    std::string reason;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](auto* r) { r->clear_alarm_name(); }, "MissingParameter", "alarm_name"},
      {[](auto* r) { r->set_alarm_name(std::string(256, 'a')); }, "InvalidParameterValue",
       "alarm_name"},
      {[](auto* r) { r->set_alarm_description(std::string(1025, 'd')); },
       "InvalidParameterValue", "alarm_description"},
      {[](auto* r) { r->set_period(45); }, "InvalidParameterValue", "period"},
      {[](auto* r) { r->set_period(5); }, "InvalidParameterValue", "period"},
      {[](auto* r) { r->set_evaluation_periods(0); }, "InvalidParameterValue",
       "evaluation_periods"},
      {[](auto* r) {
         r->set_period(3600);
         r->set_evaluation_periods(25);
       },
       "InvalidParameterCombination", "evaluation_periods"},
      {[](auto* r) { r->set_datapoints_to_alarm(2); }, "InvalidParameterCombination",
       "datapoints_to_alarm"},
      {[](auto* r) { r->set_extended_statistic("p90"); }, "InvalidParameterCombination",
       "extended_statistic"},
      {[](auto* r) { r->clear_statistic(); }, "MissingParameter", "statistic"},
      {[](auto* r) {
         r->clear_statistic();
         r->set_extended_statistic("p200");
       },
       "InvalidParameterValue", "extended_statistic"},
      {[](auto* r) { r->clear_comparison_operator(); }, "MissingParameter",
       "comparison_operator"},
      {[](auto* r) { r->clear_namespace_(); }, "MissingParameter", "namespace"},
      {[](auto* r) { r->set_unit("Hours"); }, "InvalidParameterValue", "unit"},
      {[](auto* r) {
         for (int i = 0; i < 6; ++i) r->add_ok_actions(kOkTopic);
       },
       "InvalidParameterValue", "ok_actions"},
      {[](auto* r) {
         r->add_alarm_actions(kScale);
         r->add_alarm_actions("arn:aws:autoscaling:us-east-1:000000000000:scalingPolicy:missing");
       },
       "ValidationError", "alarm_actions[1]"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    auto r = Request("cpu");
    cases[i].edit(&r);
    EXPECT_THAT(alarms_->PutMetricAlarm(r),
                IsStatus(StatusCode::kInvalidArgument, cases[i].reason, cases[i].field))
        << "case " << i;
  }
  EXPECT_TRUE(History().empty());
  auto ok = Request("cpu");
  ok.set_period(10);
  ok.set_evaluation_periods(8640);
  EXPECT_THAT(alarms_->PutMetricAlarm(ok), IsOk());
}

TEST_F(AlarmsTest, ReplacingKeepsTheState) {
  Put(Request("cpu"));
  Cpu(0, 90);
  EvaluateAt(absl::Minutes(1));
  ASSERT_EQ(State("cpu"), v1::STATE_VALUE_ALARM);
  auto r = Request("cpu");
  r.set_threshold(95);
  r.set_alarm_description("raised");
  Put(r);
  const v1::MetricAlarm a = Get("cpu");
  EXPECT_EQ(a.state_value(), v1::STATE_VALUE_ALARM);
  EXPECT_EQ(a.threshold(), 95);
  EXPECT_EQ(a.alarm_description(), "raised");
  EXPECT_THAT(History("cpu", v1::HISTORY_ITEM_TYPE_CONFIGURATION_UPDATE),
              ElementsAre("Alarm \"cpu\" updated", "Alarm \"cpu\" created"));
  Cpu(1, 90);
  EvaluateAt(absl::Minutes(2));
  EXPECT_EQ(State("cpu"), v1::STATE_VALUE_OK);
}

TEST_F(AlarmsTest, DescribeAlarmsFiltersAndPages) {
  for (const char* name : {"api-cpu", "api-mem", "db-cpu", "db-disk", "web"}) {
    auto r = Request(name);
    if (std::string(name) == "db-cpu") r.add_alarm_actions(kScale);
    Put(r);
  }
  Cpu(0, 90);
  EvaluateAt(absl::Minutes(1));  // all in ALARM
  v1::SetAlarmStateRequest set;
  set.set_alarm_name("web");
  set.set_state_value(v1::STATE_VALUE_OK);
  set.set_state_reason("manual");
  ASSERT_THAT(alarms_->SetAlarmState(set), IsOk());
  auto names = [&](const v1::DescribeAlarmsRequest& r) {
    auto resp = alarms_->DescribeAlarms(r);
    EXPECT_THAT(resp, IsOk());
    std::vector<std::string> out;
    for (const auto& a : resp->metric_alarms()) out.push_back(a.alarm_name());
    return out;
  };
  v1::DescribeAlarmsRequest r;
  EXPECT_THAT(names(r), ElementsAre("api-cpu", "api-mem", "db-cpu", "db-disk", "web"));
  r.set_alarm_name_prefix("db-");
  EXPECT_THAT(names(r), ElementsAre("db-cpu", "db-disk"));
  r.Clear();
  r.set_state_value(v1::STATE_VALUE_OK);
  EXPECT_THAT(names(r), ElementsAre("web"));
  r.Clear();
  r.set_action_prefix("arn:aws:autoscaling:");
  EXPECT_THAT(names(r), ElementsAre("db-cpu"));
  r.Clear();
  r.add_alarm_names("web");
  r.add_alarm_names("api-mem");
  r.add_alarm_names("nope");
  EXPECT_THAT(names(r), ElementsAre("api-mem", "web"));
  r.set_alarm_name_prefix("a");
  EXPECT_THAT(alarms_->DescribeAlarms(r), IsStatus(StatusCode::kInvalidArgument,
                                                   "InvalidParameterCombination",
                                                   "alarm_name_prefix"));
  r.Clear();
  r.set_max_records(101);
  EXPECT_THAT(alarms_->DescribeAlarms(r),
              IsStatus(StatusCode::kInvalidArgument, "InvalidParameterValue", "max_records"));
  // Pages of 2.
  r.Clear();
  r.set_max_records(2);
  std::vector<std::string> all;
  for (int page = 0; page < 5; ++page) {
    auto resp = alarms_->DescribeAlarms(r);
    ASSERT_THAT(resp, IsOk());
    for (const auto& a : resp->metric_alarms()) all.push_back(a.alarm_name());
    if (resp->next_token().empty()) break;
    r.set_next_token(resp->next_token());
  }
  EXPECT_THAT(all, ElementsAre("api-cpu", "api-mem", "db-cpu", "db-disk", "web"));
  EXPECT_THAT(alarms_->AlarmsWithAction(kScale), ElementsAre("db-cpu"));
}

TEST_F(AlarmsTest, DescribeAlarmHistoryOrderRangeAndPages) {
  Put(Request("a"));
  clock_.Advance(absl::Seconds(10));
  Put(Request("b"));
  Cpu(0, 90);
  EvaluateAt(absl::Minutes(1));  // both to ALARM at 10:01
  EXPECT_THAT(History(), ElementsAre("Alarm updated from INSUFFICIENT_DATA to ALARM",
                                     "Alarm updated from INSUFFICIENT_DATA to ALARM",
                                     "Alarm \"b\" created", "Alarm \"a\" created"));
  v1::DescribeAlarmHistoryRequest r;
  r.set_scan_by_timestamp_ascending(true);
  r.set_max_records(3);
  auto first = alarms_->DescribeAlarmHistory(r);
  ASSERT_THAT(first, IsOk());
  ASSERT_EQ(first->alarm_history_items_size(), 3);
  EXPECT_EQ(first->alarm_history_items(0).history_summary(), "Alarm \"a\" created");
  EXPECT_EQ(first->alarm_history_items(2).alarm_name(), "a");
  ASSERT_FALSE(first->next_token().empty());
  r.set_next_token(first->next_token());
  auto second = alarms_->DescribeAlarmHistory(r);
  ASSERT_THAT(second, IsOk());
  ASSERT_EQ(second->alarm_history_items_size(), 1);
  EXPECT_EQ(second->alarm_history_items(0).alarm_name(), "b");
  EXPECT_TRUE(second->next_token().empty());
  // Date range: [10:00:05, 10:01:00) holds only b's creation.
  v1::DescribeAlarmHistoryRequest range;
  *range.mutable_start_date() = ToProto(T0() + absl::Seconds(5));
  *range.mutable_end_date() = ToProto(T0() + absl::Minutes(1));
  auto in_range = alarms_->DescribeAlarmHistory(range);
  ASSERT_THAT(in_range, IsOk());
  ASSERT_EQ(in_range->alarm_history_items_size(), 1);
  EXPECT_EQ(in_range->alarm_history_items(0).history_summary(), "Alarm \"b\" created");
  range.set_next_token("garbage!");
  EXPECT_THAT(alarms_->DescribeAlarmHistory(range),
              IsStatus(StatusCode::kInvalidArgument, "InvalidNextToken", "next_token"));
}

TEST_F(AlarmsTest, HistoryIsKeptThirtyDays) {
  Put(Request("cpu"));
  EvaluateAt(absl::Hours(24 * 30));
  EXPECT_EQ(History().size(), 1u);  // exactly 30 days old: kept
  EvaluateAt(absl::Hours(24 * 30) + absl::Seconds(10));
  EXPECT_TRUE(History().empty());
  Reopen();
  EXPECT_TRUE(History().empty());
}

TEST_F(AlarmsTest, DeleteAlarmsIgnoresUnknownNamesAndGuardsManagedOnes) {
  Put(Request("a"));
  Put(Request("b"));
  v1::DeleteAlarmsRequest del;
  del.add_alarm_names("a");
  del.add_alarm_names("never-existed");
  ASSERT_THAT(alarms_->DeleteAlarms(del), IsOk());
  v1::DescribeAlarmsRequest all;
  auto left = alarms_->DescribeAlarms(all);
  ASSERT_THAT(left, IsOk());
  ASSERT_EQ(left->metric_alarms_size(), 1);
  EXPECT_EQ(left->metric_alarms(0).alarm_name(), "b");
  EXPECT_THAT(History("a"), ElementsAre("Alarm \"a\" deleted", "Alarm \"a\" created"));
  EXPECT_THAT(alarms_->DeleteAlarms({}), IsStatus(StatusCode::kInvalidArgument,
                                                  "MissingParameter", "alarm_names"));

  // Target tracking's alarms: only the internal calls change them.
  auto managed = Request("TargetTracking-asg-AlarmHigh");
  managed.add_alarm_actions(kScale);
  ASSERT_THAT(alarms_->PutAlarmInternal(managed), IsOk());
  EXPECT_THAT(alarms_->PutMetricAlarm(managed),
              IsStatus(StatusCode::kInvalidArgument, "ValidationError", "alarm_name"));
  del.Clear();
  del.add_alarm_names("b");
  del.add_alarm_names("TargetTracking-asg-AlarmHigh");
  EXPECT_THAT(alarms_->DeleteAlarms(del),
              IsStatus(StatusCode::kInvalidArgument, "ValidationError", "alarm_names[1]"));
  EXPECT_EQ(alarms_->Counts().states.size(), 2u);  // all or none: b is still there
  EXPECT_THAT(alarms_->AlarmsWithAction(kScale), ElementsAre("TargetTracking-asg-AlarmHigh"));
  ASSERT_THAT(alarms_->DeleteAlarmsInternal({"TargetTracking-asg-AlarmHigh", "zzz"}), IsOk());
  EXPECT_TRUE(alarms_->AlarmsWithAction(kScale).empty());
}

TEST_F(AlarmsTest, RestartAfterATransitionLosesNothingAndRepeatsNothing) {
  auto r = Request("cpu");
  r.add_alarm_actions(kScale);
  Put(r);
  Cpu(0, 90);
  EvaluateAt(absl::Minutes(1));
  EXPECT_THAT(RunArns(), ElementsAre(kScale));
  const std::vector<std::string> history = History();
  Reopen();
  EXPECT_EQ(State("cpu"), v1::STATE_VALUE_ALARM);
  EXPECT_EQ(History(), history);
  // The owner may tick the same boundary again after a restart: no duplicate.
  ASSERT_THAT(alarms_->EvaluateDue(T0() + absl::Minutes(1)), IsOk());
  EvaluateAt(absl::Seconds(90));
  EXPECT_TRUE(RunArns().empty());
  // The minute repeat continues from the stored time of the last run.
  Cpu(1, 90);
  EvaluateAt(absl::Minutes(2));
  auto runs = sink_.TakeRuns();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_TRUE(runs[0].event.repeat);
  EXPECT_EQ(runs[0].event.metric_value, 90);
  Reopen();
  EvaluateAt(absl::Minutes(2) + absl::Seconds(10));
  EXPECT_TRUE(RunArns().empty());
  EXPECT_EQ(alarms_->Counts().states.size(), 1u);
}

}  // namespace
}  // namespace thingtank::compute
