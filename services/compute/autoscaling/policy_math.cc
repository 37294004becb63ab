#include "services/compute/autoscaling/policy_math.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "services/common/status.h"

namespace thingtank::compute {

int32_t AdjustedCapacity(v1::AdjustmentType type, int32_t current, int32_t adjustment,
                         int32_t min_adjustment_magnitude) {
  switch (type) {
    case v1::ADJUSTMENT_TYPE_EXACT_CAPACITY:
      return adjustment;
    case v1::ADJUSTMENT_TYPE_PERCENT_CHANGE_IN_CAPACITY: {
      double change = current * adjustment / 100.0;
      int32_t whole;
      if (std::fabs(change) >= 1) {
        whole = static_cast<int32_t>(std::trunc(change));
      } else if (change == 0) {
        whole = 0;
      } else {
        whole = change > 0 ? 1 : -1;
      }
      if (min_adjustment_magnitude > 0 && whole != 0 && std::abs(whole) < min_adjustment_magnitude) {
        whole = whole > 0 ? min_adjustment_magnitude : -min_adjustment_magnitude;
      }
      return current + whole;
    }
    case v1::ADJUSTMENT_TYPE_CHANGE_IN_CAPACITY:
    default:
      return current + adjustment;
  }
}

int32_t Bounded(int32_t capacity, int32_t min_size, int32_t max_size) {
  return std::clamp(capacity, min_size, std::max(min_size, max_size));
}

std::optional<v1::StepAdjustment> MatchingStep(
    const google::protobuf::RepeatedPtrField<v1::StepAdjustment>& steps, double metric,
    double threshold) {
  const double diff = metric - threshold;
  for (const v1::StepAdjustment& step : steps) {
    double lower = step.has_metric_interval_lower_bound() ? step.metric_interval_lower_bound()
                                                          : -std::numeric_limits<double>::infinity();
    double upper = step.has_metric_interval_upper_bound() ? step.metric_interval_upper_bound()
                                                          : std::numeric_limits<double>::infinity();
    // A step bounded below by 0 holds 0 itself; one bounded above by 0 does too
    // when nothing is below it, as AWS treats (-inf, 0] for scale-in steps.
    if (diff >= lower && (diff < upper || (upper == 0 && diff == 0 && lower < 0))) return step;
  }
  return std::nullopt;
}

absl::Status ValidateSteps(const google::protobuf::RepeatedPtrField<v1::StepAdjustment>& steps,
                           const std::string& field) {
  if (steps.empty()) return InvalidField(field, "a step scaling policy needs at least one step",
                                         "ValidationError");
  std::vector<std::pair<double, double>> intervals;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  for (int i = 0; i < steps.size(); ++i) {
    const v1::StepAdjustment& s = steps[i];
    double lower = s.has_metric_interval_lower_bound() ? s.metric_interval_lower_bound() : -kInf;
    double upper = s.has_metric_interval_upper_bound() ? s.metric_interval_upper_bound() : kInf;
    if (!(lower < upper)) {
      return InvalidField(absl::StrCat(field, "[", i, "]"),
                          "the lower bound must be less than the upper bound", "ValidationError");
    }
    intervals.emplace_back(lower, upper);
  }
  std::sort(intervals.begin(), intervals.end());
  for (size_t i = 1; i < intervals.size(); ++i) {
    if (intervals[i].first < intervals[i - 1].second) {
      return InvalidField(field, "step intervals overlap", "ValidationError");
    }
    if (intervals[i].first > intervals[i - 1].second) {
      return InvalidField(field, "step intervals leave a gap", "ValidationError");
    }
  }
  return absl::OkStatus();
}

int32_t TargetTrackingCapacity(int32_t current, double metric, double target) {
  if (target <= 0) return current;
  if (current <= 0) return metric > 0 ? 1 : 0;
  double wanted = std::ceil(current * metric / target - 1e-9);
  if (metric > 0) wanted = std::max(wanted, 1.0);
  return static_cast<int32_t>(std::min<double>(wanted, std::numeric_limits<int32_t>::max()));
}

}  // namespace thingtank::compute
