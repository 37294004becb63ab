#include "services/compute/cloudwatch/alarm_rules.h"

#include <gtest/gtest.h>

#include "nlohmann/json.hpp"

namespace thingtank::compute {
namespace {

constexpr v1::StateValue kOk = v1::STATE_VALUE_OK;
constexpr v1::StateValue kAlarm = v1::STATE_VALUE_ALARM;
constexpr v1::StateValue kInsufficient = v1::STATE_VALUE_INSUFFICIENT_DATA;
constexpr double X = 100;  // breaching
constexpr double O = 0;    // not breaching

absl::Time T0() {
  return absl::FromCivil(absl::CivilSecond(2026, 2, 12, 10, 0, 0), absl::UTCTimeZone());
}

v1::MetricAlarm Alarm(int m, int n, v1::TreatMissingData treat,
                      v1::StateValue state = v1::STATE_VALUE_INSUFFICIENT_DATA) {
  v1::MetricAlarm a;
  a.set_alarm_name("cpu");
  a.set_metric_name("CPUUtilization");
  a.set_namespace_("AWS/EC2");
  a.set_statistic(v1::STATISTIC_AVERAGE);
  a.set_period(60);
  a.set_evaluation_periods(n);
  a.set_datapoints_to_alarm(m);
  a.set_threshold(70);
  a.set_comparison_operator(v1::COMPARISON_OPERATOR_GREATER_THAN_THRESHOLD);
  a.set_treat_missing_data(treat);
  a.set_state_value(state);
  return a;
}

// The decided state, or UNSPECIFIED when the alarm keeps its state.
v1::StateValue Decide(const v1::MetricAlarm& a, std::vector<std::optional<double>> values) {
  auto d = DecideAlarmState(a, values, T0(), T0() + absl::Minutes(values.size()));
  return d.state.value_or(v1::STATE_VALUE_UNSPECIFIED);
}

// CloudWatch's documented table (alarms-and-missing-data): 3 of 3, an
// evaluation range of 5 periods (oldest first here, as "0 - X - X").
TEST(AlarmRulesTest, DocumentedMissingDataTable) {
  const auto none = std::nullopt;
  struct Row {
    std::vector<std::optional<double>> values;
    v1::StateValue missing, ignore, breaching, not_breaching;
  };
  const v1::StateValue keep = v1::STATE_VALUE_UNSPECIFIED;
  const std::vector<Row> rows = {
      {{O, none, X, none, X}, kOk, kOk, kOk, kOk},
      {{O, none, none, none, none}, kOk, kOk, kOk, kOk},
      {{none, none, none, none, none}, kInsufficient, keep, kAlarm, kOk},
      {{O, X, X, none, X}, kAlarm, kAlarm, kAlarm, kAlarm},
      {{none, none, X, none, none}, kAlarm, keep, kAlarm, kOk},
  };
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& row = rows[i];
    // Start from OK so that a decided INSUFFICIENT_DATA or ALARM is a change.
    EXPECT_EQ(Decide(Alarm(3, 3, v1::TREAT_MISSING_DATA_MISSING, kOk), row.values), row.missing)
        << "row " << i;
    EXPECT_EQ(Decide(Alarm(3, 3, v1::TREAT_MISSING_DATA_IGNORE, kOk), row.values), row.ignore)
        << "row " << i;
    EXPECT_EQ(Decide(Alarm(3, 3, v1::TREAT_MISSING_DATA_BREACHING, kOk), row.values),
              row.breaching)
        << "row " << i;
    EXPECT_EQ(Decide(Alarm(3, 3, v1::TREAT_MISSING_DATA_NOT_BREACHING, kOk), row.values),
              row.not_breaching)
        << "row " << i;
  }
}

TEST(AlarmRulesTest, TwoOfThree) {
  const auto a = Alarm(2, 3, v1::TREAT_MISSING_DATA_MISSING);
  EXPECT_EQ(Decide(a, {X, O, X}), kAlarm);
  EXPECT_EQ(Decide(a, {O, X, X}), kAlarm);
  EXPECT_EQ(Decide(a, {X, O, O}), kOk);
  EXPECT_EQ(Decide(a, {O, O, X}), kOk);
}

TEST(AlarmRulesTest, EachOperatorAtAndAroundTheThreshold) {
  struct Case {
    v1::ComparisonOperator op;
    bool below, at, above;
  };
  const std::vector<Case> cases = {
      {v1::COMPARISON_OPERATOR_GREATER_THAN_OR_EQUAL_TO_THRESHOLD, false, true, true},
      {v1::COMPARISON_OPERATOR_GREATER_THAN_THRESHOLD, false, false, true},
      {v1::COMPARISON_OPERATOR_LESS_THAN_THRESHOLD, true, false, false},
      {v1::COMPARISON_OPERATOR_LESS_THAN_OR_EQUAL_TO_THRESHOLD, true, true, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Breaches(c.op, 69.999, 70), c.below) << c.op;
    EXPECT_EQ(Breaches(c.op, 70, 70), c.at) << c.op;
    EXPECT_EQ(Breaches(c.op, 70.001, 70), c.above) << c.op;
  }
}

TEST(AlarmRulesTest, ReasonTextsAsCloudWatchWritesThem) {
  auto a = Alarm(2, 2, v1::TREAT_MISSING_DATA_MISSING, kOk);
  auto d = DecideAlarmState(a, {90, 90}, T0() + absl::Minutes(1), T0() + absl::Minutes(3));
  ASSERT_EQ(d.state, kAlarm);
  EXPECT_EQ(d.reason,
            "Threshold Crossed: 2 datapoints [90.0 (12/02/26 10:02:00), 90.0 (12/02/26 "
            "10:01:00)] were greater than the threshold (70.0).");
  EXPECT_EQ(d.newest_value, 90);
  auto data = nlohmann::json::parse(d.reason_data);
  EXPECT_EQ(data["version"], "1.0");
  EXPECT_EQ(data["statistic"], "Average");
  EXPECT_EQ(data["period"], 60);
  EXPECT_EQ(data["threshold"], 70.0);
  EXPECT_EQ(data["queryDate"], "2026-02-12T10:03:00.000+0000");
  EXPECT_EQ(data["startDate"], "2026-02-12T10:01:00.000+0000");
  EXPECT_EQ(data["recentDatapoints"], nlohmann::json::parse("[90.0, 90.0]"));
  EXPECT_EQ(data["evaluatedDatapoints"][0]["timestamp"], "2026-02-12T10:02:00.000+0000");

  auto m_of_n = Alarm(2, 3, v1::TREAT_MISSING_DATA_MISSING, kOk);
  d = DecideAlarmState(m_of_n, {90, 10, 80.5}, T0(), T0() + absl::Minutes(3));
  EXPECT_EQ(d.reason,
            "Threshold Crossed: 2 out of the last 3 datapoints [80.5 (12/02/26 10:02:00), 90.0 "
            "(12/02/26 10:00:00)] were greater than the threshold (70.0) (minimum 2 datapoints "
            "for OK -> ALARM transition).");
  auto ok = Alarm(1, 1, v1::TREAT_MISSING_DATA_MISSING, kAlarm);
  d = DecideAlarmState(ok, {12.25}, T0(), T0() + absl::Minutes(1));
  EXPECT_EQ(d.reason,
            "Threshold Crossed: 1 datapoint [12.25 (12/02/26 10:00:00)] was not greater than the "
            "threshold (70.0).");
  d = DecideAlarmState(ok, {std::nullopt}, T0(), T0() + absl::Minutes(1));
  EXPECT_EQ(d.state, kInsufficient);
  EXPECT_EQ(d.reason, "Insufficient Data: 1 datapoint was unknown.");
  auto breaching = Alarm(3, 3, v1::TREAT_MISSING_DATA_BREACHING, kOk);
  d = DecideAlarmState(breaching, {std::nullopt, std::nullopt, std::nullopt}, T0(),
                       T0() + absl::Minutes(3));
  EXPECT_EQ(d.reason,
            "Threshold Crossed: no datapoints were received for 3 periods and 3 missing "
            "datapoints were treated as [Breaching].");
  // Unchanged state: no texts are built.
  d = DecideAlarmState(Alarm(1, 1, v1::TREAT_MISSING_DATA_MISSING, kAlarm), {90}, T0(),
                       T0() + absl::Minutes(1));
  EXPECT_EQ(d.state, kAlarm);
  EXPECT_TRUE(d.reason.empty());
}

TEST(AlarmRulesTest, FormatsValuesLikeJava) {
  EXPECT_EQ(FormatValue(90), "90.0");
  EXPECT_EQ(FormatValue(0.5), "0.5");
  EXPECT_EQ(FormatValue(-3), "-3.0");
  EXPECT_EQ(FormatValue(1e10), "1.0E10");
  EXPECT_EQ(FormatValue(33.333333333333336), "33.333333333333336");
}

}  // namespace
}  // namespace thingtank::compute
