#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "thingtank/compute/v1/compute.pb.h"

namespace thingtank::compute {

// The arithmetic of scaling policies, as EC2 Auto Scaling documents it. Pure
// functions; the group's min and max always bound the result.

// The capacity a simple or step adjustment asks for from `current`:
//   ChangeInCapacity: current + adjustment;
//   ExactCapacity: adjustment;
//   PercentChangeInCapacity: current + current * adjustment / 100, rounded
//   toward zero when |change| >= 1, away from zero between 0 and 1 (so
//   that a change of 0.5 is 1), and at least min_adjustment_magnitude in
//   size when that is set.
int32_t AdjustedCapacity(v1::AdjustmentType type, int32_t current, int32_t adjustment,
                         int32_t min_adjustment_magnitude);
int32_t Bounded(int32_t capacity, int32_t min_size, int32_t max_size);

// The step whose interval holds `metric - threshold` (lower bound
// inclusive, upper exclusive, missing bounds infinite); nullopt when none.
std::optional<v1::StepAdjustment> MatchingStep(
    const google::protobuf::RepeatedPtrField<v1::StepAdjustment>& steps, double metric,
    double threshold);
// Step adjustments are valid: at least one, intervals do not overlap, at
// most one open lower and one open upper bound, no gaps; `field` names them.
absl::Status ValidateSteps(const google::protobuf::RepeatedPtrField<v1::StepAdjustment>& steps,
                           const std::string& field);

// Target tracking: the capacity that brings `metric` to `target` when it is
// proportional to the load per instance: ceil(current * metric / target).
// Scale-in is never below 1 while the metric is above 0.
int32_t TargetTrackingCapacity(int32_t current, double metric, double target);

}  // namespace thingtank::compute
