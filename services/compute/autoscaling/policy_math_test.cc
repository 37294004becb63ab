#include "services/compute/autoscaling/policy_math.h"

#include <gtest/gtest.h>

#include "services/common/testing/status_matchers.h"

namespace thingtank::compute {
namespace {

TEST(PolicyMathTest, ChangeExactAndPercent) {
  EXPECT_EQ(AdjustedCapacity(v1::ADJUSTMENT_TYPE_CHANGE_IN_CAPACITY, 3, 2, 0), 5);
  EXPECT_EQ(AdjustedCapacity(v1::ADJUSTMENT_TYPE_CHANGE_IN_CAPACITY, 3, -5, 0), -2);
  EXPECT_EQ(AdjustedCapacity(v1::ADJUSTMENT_TYPE_EXACT_CAPACITY, 3, 7, 0), 7);
  // AWS's examples: 10 % of 3 is 0.3 -> 1; 25 % of 10 is 2.5 -> 2; -25 % of 10 -> -2.
  EXPECT_EQ(AdjustedCapacity(v1::ADJUSTMENT_TYPE_PERCENT_CHANGE_IN_CAPACITY, 3, 10, 0), 4);
  EXPECT_EQ(AdjustedCapacity(v1::ADJUSTMENT_TYPE_PERCENT_CHANGE_IN_CAPACITY, 10, 25, 0), 12);
  EXPECT_EQ(AdjustedCapacity(v1::ADJUSTMENT_TYPE_PERCENT_CHANGE_IN_CAPACITY, 10, -25, 0), 8);
  EXPECT_EQ(AdjustedCapacity(v1::ADJUSTMENT_TYPE_PERCENT_CHANGE_IN_CAPACITY, 3, -10, 0), 2);
  // MinAdjustmentMagnitude lifts a small change.
  EXPECT_EQ(AdjustedCapacity(v1::ADJUSTMENT_TYPE_PERCENT_CHANGE_IN_CAPACITY, 10, 10, 3), 13);
  EXPECT_EQ(AdjustedCapacity(v1::ADJUSTMENT_TYPE_PERCENT_CHANGE_IN_CAPACITY, 10, -10, 3), 7);
  EXPECT_EQ(AdjustedCapacity(v1::ADJUSTMENT_TYPE_PERCENT_CHANGE_IN_CAPACITY, 0, 50, 2), 0);
}

TEST(PolicyMathTest, MinAndMaxBound) {
  EXPECT_EQ(Bounded(5, 1, 2), 2);
  EXPECT_EQ(Bounded(-2, 1, 2), 1);
  EXPECT_EQ(Bounded(2, 1, 4), 2);
}

v1::StepAdjustment Step(std::optional<double> lower, std::optional<double> upper, int adjust) {
  v1::StepAdjustment s;
  if (lower) s.set_metric_interval_lower_bound(*lower);
  if (upper) s.set_metric_interval_upper_bound(*upper);
  s.set_scaling_adjustment(adjust);
  return s;
}

TEST(PolicyMathTest, StepsMatchTheBreachSize) {
  // Threshold 50: 50-60 -> +1, 60-70 -> +2, 70+ -> +3 (AWS's example).
  google::protobuf::RepeatedPtrField<v1::StepAdjustment> steps;
  *steps.Add() = Step(0, 10, 1);
  *steps.Add() = Step(10, 20, 2);
  *steps.Add() = Step(20, std::nullopt, 3);
  EXPECT_TRUE(ValidateSteps(steps, "step_adjustments").ok());
  EXPECT_EQ(MatchingStep(steps, 50, 50)->scaling_adjustment(), 1);
  EXPECT_EQ(MatchingStep(steps, 59.9, 50)->scaling_adjustment(), 1);
  EXPECT_EQ(MatchingStep(steps, 60, 50)->scaling_adjustment(), 2);
  EXPECT_EQ(MatchingStep(steps, 95, 50)->scaling_adjustment(), 3);
  EXPECT_FALSE(MatchingStep(steps, 40, 50).has_value());
  // Scale-in steps below the threshold.
  google::protobuf::RepeatedPtrField<v1::StepAdjustment> in;
  *in.Add() = Step(std::nullopt, -10, -2);
  *in.Add() = Step(-10, 0, -1);
  EXPECT_EQ(MatchingStep(in, 45, 50)->scaling_adjustment(), -1);
  EXPECT_EQ(MatchingStep(in, 30, 50)->scaling_adjustment(), -2);
}

TEST(PolicyMathTest, BadStepsAreRejected) {
  google::protobuf::RepeatedPtrField<v1::StepAdjustment> steps;
  EXPECT_THAT(ValidateSteps(steps, "step_adjustments"),
              IsStatus(absl::StatusCode::kInvalidArgument, "ValidationError", "step_adjustments"));
  *steps.Add() = Step(0, 20, 1);
  *steps.Add() = Step(10, std::nullopt, 2);
  EXPECT_THAT(ValidateSteps(steps, "step_adjustments"),
              IsStatus(absl::StatusCode::kInvalidArgument, "ValidationError", "step_adjustments"));
  steps.Clear();
  *steps.Add() = Step(0, 10, 1);
  *steps.Add() = Step(20, std::nullopt, 2);
  EXPECT_FALSE(ValidateSteps(steps, "step_adjustments").ok());  // a gap
  steps.Clear();
  *steps.Add() = Step(10, 10, 1);
  EXPECT_THAT(ValidateSteps(steps, "s"),
              IsStatus(absl::StatusCode::kInvalidArgument, "ValidationError", "s[0]"));
}

TEST(PolicyMathTest, TargetTracking) {
  EXPECT_EQ(TargetTrackingCapacity(2, 90, 50), 4);   // 2 * 1.8 = 3.6 -> 4
  EXPECT_EQ(TargetTrackingCapacity(4, 25, 50), 2);
  EXPECT_EQ(TargetTrackingCapacity(4, 50, 50), 4);
  EXPECT_EQ(TargetTrackingCapacity(3, 1, 50), 1);    // never below 1 while there is load
  EXPECT_EQ(TargetTrackingCapacity(3, 0, 50), 0);
  EXPECT_EQ(TargetTrackingCapacity(0, 10, 50), 1);
}

}  // namespace
}  // namespace thingtank::compute
