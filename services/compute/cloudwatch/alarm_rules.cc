#include "services/compute/cloudwatch/alarm_rules.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "services/compute/cloudwatch/metric_types.h"

namespace thingtank::compute {
namespace {

struct Point {
  absl::Time start;
  std::optional<double> value;
};

std::string OperatorPhrase(v1::ComparisonOperator op) {
  switch (op) {
    case v1::COMPARISON_OPERATOR_GREATER_THAN_OR_EQUAL_TO_THRESHOLD:
      return "greater than or equal to";
    case v1::COMPARISON_OPERATOR_GREATER_THAN_THRESHOLD: return "greater than";
    case v1::COMPARISON_OPERATOR_LESS_THAN_THRESHOLD: return "less than";
    case v1::COMPARISON_OPERATOR_LESS_THAN_OR_EQUAL_TO_THRESHOLD: return "less than or equal to";
    default: return "compared with";
  }
}

std::string Plural(int n, absl::string_view word) {
  return absl::StrCat(n, " ", word, n == 1 ? "" : "s");
}
absl::string_view WasWere(int n) { return n == 1 ? "was" : "were"; }

// "90.0 (12/02/26 10:02:00)": the reason's form of a datapoint.
std::string ReasonPoint(const Point& p) {
  return absl::StrCat(FormatValue(*p.value), " (",
                      absl::FormatTime("%d/%m/%y %H:%M:%S", p.start, absl::UTCTimeZone()), ")");
}

std::string StatName(const v1::MetricAlarm& alarm) {
  return alarm.extended_statistic().empty() ? StatisticName(alarm.statistic())
                                            : alarm.extended_statistic();
}

std::string ReasonData(const v1::MetricAlarm& alarm, const std::vector<Point>& evaluated,
                       absl::Time query_time) {
  nlohmann::json j;
  j["version"] = "1.0";
  j["queryDate"] = IsoTime(query_time);
  if (!evaluated.empty()) j["startDate"] = IsoTime(evaluated.back().start);
  if (alarm.extended_statistic().empty()) {
    j["statistic"] = StatName(alarm);
  } else {
    j["extendedStatistic"] = alarm.extended_statistic();
  }
  if (!alarm.unit().empty()) j["unit"] = alarm.unit();
  j["period"] = alarm.period();
  nlohmann::json recent = nlohmann::json::array();
  for (auto it = evaluated.rbegin(); it != evaluated.rend(); ++it) {
    if (it->value) recent.push_back(*it->value);
  }
  j["recentDatapoints"] = recent;
  j["threshold"] = alarm.threshold();
  if (!evaluated.empty()) {
    nlohmann::json points = nlohmann::json::array();
    for (const Point& p : evaluated) {
      nlohmann::json e;
      e["timestamp"] = IsoTime(p.start);
      if (p.value) e["value"] = *p.value;
      points.push_back(e);
    }
    j["evaluatedDatapoints"] = points;
  }
  return j.dump();
}

std::string CrossedReason(const v1::MetricAlarm& alarm, v1::StateValue state, int n, int m,
                          const std::vector<Point>& real, int filled, bool filled_breach) {
  const bool alarm_state = state == v1::STATE_VALUE_ALARM;
  std::vector<std::string> listed;
  for (const Point& p : real) {
    if (Breaches(alarm.comparison_operator(), *p.value, alarm.threshold()) == alarm_state) {
      listed.push_back(ReasonPoint(p));
    }
  }
  const std::string fill_text =
      filled == 0 ? ""
                  : absl::StrCat(Plural(filled, "missing datapoint"), " ", WasWere(filled),
                                 " treated as [", filled_breach ? "Breaching" : "NonBreaching",
                                 "]");
  if (real.empty()) {
    return absl::StrCat("Threshold Crossed: no datapoints were received for ",
                        Plural(n, "period"), " and ", fill_text, ".");
  }
  const int k = static_cast<int>(listed.size());
  std::string text = "Threshold Crossed: ";
  if (k > 0 || filled == 0) {
    absl::StrAppend(&text, m == n ? Plural(k, "datapoint")
                                  : absl::StrCat(k, " out of the last ", Plural(n, "datapoint")),
                    " [", absl::StrJoin(listed, ", "), "] ", WasWere(k), " ",
                    alarm_state ? "" : "not ", OperatorPhrase(alarm.comparison_operator()),
                    " the threshold (", FormatValue(alarm.threshold()), ")");
    if (filled > 0) absl::StrAppend(&text, " and ");
  }
  absl::StrAppend(&text, fill_text);
  if (m != n) {
    const int needed = alarm_state ? m : n - m + 1;
    absl::StrAppend(&text, " (minimum ", Plural(needed, "datapoint"), " for ",
                    alarm_state ? StateName(alarm.state_value() == v1::STATE_VALUE_ALARM
                                                ? v1::STATE_VALUE_OK
                                                : alarm.state_value())
                                : "ALARM",
                    " -> ", StateName(state), " transition)");
  }
  absl::StrAppend(&text, ".");
  return text;
}

nlohmann::json StateJson(const v1::MetricAlarm& a) {
  nlohmann::json j;
  j["stateValue"] = StateName(a.state_value());
  j["stateReason"] = a.state_reason();
  if (!a.state_reason_data().empty()) {
    auto data = nlohmann::json::parse(a.state_reason_data(), nullptr, /*allow_exceptions=*/false);
    if (!data.is_discarded()) j["stateReasonData"] = data;
  }
  return j;
}

}  // namespace

bool Breaches(v1::ComparisonOperator op, double value, double threshold) {
  switch (op) {
    case v1::COMPARISON_OPERATOR_GREATER_THAN_OR_EQUAL_TO_THRESHOLD: return value >= threshold;
    case v1::COMPARISON_OPERATOR_GREATER_THAN_THRESHOLD: return value > threshold;
    case v1::COMPARISON_OPERATOR_LESS_THAN_THRESHOLD: return value < threshold;
    case v1::COMPARISON_OPERATOR_LESS_THAN_OR_EQUAL_TO_THRESHOLD: return value <= threshold;
    default: return false;
  }
}

std::string StateName(v1::StateValue state) {
  switch (state) {
    case v1::STATE_VALUE_OK: return "OK";
    case v1::STATE_VALUE_ALARM: return "ALARM";
    case v1::STATE_VALUE_INSUFFICIENT_DATA: return "INSUFFICIENT_DATA";
    default: return "UNSPECIFIED";
  }
}

std::string FormatValue(double v) {
  if (!std::isfinite(v)) return v != v ? "NaN" : (v > 0 ? "Infinity" : "-Infinity");
  const double a = std::fabs(v);
  if (a != 0 && (a < 1e-3 || a >= 1e7)) {
    // Java's scientific form: "1.0E10", "2.5E-4".
    int exp = static_cast<int>(std::floor(std::log10(a)));
    double mantissa = v / std::pow(10.0, exp);
    if (std::fabs(mantissa) >= 10) mantissa /= 10, ++exp;
    std::string m = FormatValue(mantissa);
    return absl::StrCat(m, "E", exp);
  }
  for (int precision = 1; precision <= 17; ++precision) {
    std::string s = absl::StrFormat("%.*g", precision, v);
    if (s.find('e') == std::string::npos && std::strtod(s.c_str(), nullptr) == v) {
      if (s.find('.') == std::string::npos) absl::StrAppend(&s, ".0");
      return s;
    }
  }
  return absl::StrFormat("%.17g", v);
}

std::string IsoTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3S+0000", t, absl::UTCTimeZone());
}

AlarmDecision DecideAlarmState(const v1::MetricAlarm& alarm,
                               const std::vector<std::optional<double>>& values,
                               absl::Time range_start, absl::Time query_time) {
  const int n = alarm.evaluation_periods();
  const int m = alarm.datapoints_to_alarm() > 0 ? alarm.datapoints_to_alarm() : n;
  // Decide first without allocating (most evaluations change nothing): the
  // newest N real datapoints, newest first.
  int r = 0;
  int breaching = 0;
  AlarmDecision d;
  for (auto it = values.rbegin(); it != values.rend() && r < n; ++it) {
    if (!*it) continue;
    if (r == 0) d.newest_value = **it;
    ++r;
    breaching += Breaches(alarm.comparison_operator(), **it, alarm.threshold());
  }
  const int filled = n - r;
  int fill_used = 0;  // missing periods counted in the reason
  bool fill_breach = false;
  if (r >= n) {
    d.state = breaching >= m ? v1::STATE_VALUE_ALARM : v1::STATE_VALUE_OK;
  } else {
    switch (alarm.treat_missing_data()) {
      case v1::TREAT_MISSING_DATA_BREACHING:
        d.state = breaching + filled >= m ? v1::STATE_VALUE_ALARM : v1::STATE_VALUE_OK;
        fill_used = filled;
        fill_breach = true;
        break;
      case v1::TREAT_MISSING_DATA_NOT_BREACHING:
        d.state = breaching >= m ? v1::STATE_VALUE_ALARM : v1::STATE_VALUE_OK;
        fill_used = filled;
        break;
      case v1::TREAT_MISSING_DATA_IGNORE:
        if (r == 0) break;
        if (breaching >= m) {
          d.state = v1::STATE_VALUE_ALARM;
        } else if (breaching + filled < m) {
          d.state = v1::STATE_VALUE_OK;
        }
        break;
      default:  // missing
        if (r == 0) {
          d.state = v1::STATE_VALUE_INSUFFICIENT_DATA;
        } else {
          d.state = breaching >= std::min(m, r) ? v1::STATE_VALUE_ALARM : v1::STATE_VALUE_OK;
        }
        break;
    }
  }
  // Texts only for a change.
  if (!d.state || *d.state == alarm.state_value()) return d;

  // The evaluated periods, newest first: the real ones and the newest
  // missing ones that were filled.
  const absl::Duration period = absl::Seconds(alarm.period());
  std::vector<Point> real;
  std::vector<Point> evaluated;
  int missing = 0;
  for (int i = static_cast<int>(values.size()) - 1; i >= 0; --i) {
    const Point p{range_start + period * i, values[static_cast<size_t>(i)]};
    if (p.value && static_cast<int>(real.size()) < n) {
      real.push_back(p);
      evaluated.push_back(p);
    } else if (!p.value && missing < filled) {
      ++missing;
      evaluated.push_back(p);
    }
  }
  if (*d.state == v1::STATE_VALUE_INSUFFICIENT_DATA) {
    d.reason = absl::StrCat("Insufficient Data: ", Plural(n, "datapoint"), " ", WasWere(n),
                            " unknown.");
  } else {
    d.reason = CrossedReason(alarm, *d.state, n, m, real, fill_used, fill_breach);
  }
  d.reason_data = ReasonData(alarm, evaluated, query_time);
  return d;
}

std::string StateUpdateHistoryData(const v1::MetricAlarm& old_alarm,
                                   const v1::MetricAlarm& new_alarm) {
  nlohmann::json j;
  j["version"] = "1.0";
  j["oldState"] = StateJson(old_alarm);
  j["newState"] = StateJson(new_alarm);
  return j.dump();
}

}  // namespace thingtank::compute
