#pragma once

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/compute/drivers/driver.h"
#include "thingtank/compute/v1/compute.pb.h"

namespace thingtank::compute {

// The load model's CPU utilization at `now`, clipped to 0..100; 0 without a model.
double LoadAt(const v1::LoadModel& load, absl::Time now);
// A load model a caller may set: percentages within 0..100, a sine period of
// at least 1 s, a step time; `field` names it in the error.
absl::Status ValidateLoad(const v1::LoadModel& load, const std::string& field);

// The default driver: nothing runs; a running instance reports the CPU its
// load model gives (SetInstanceLoad changes it) and is always healthy. The
// model is stored with the instance, so this driver keeps no state.
class SimulatedDriver final : public InstanceDriver {
 public:
  absl::Status Start(const v1::Instance&) override { return absl::OkStatus(); }
  void Stop(const std::string&, bool) override {}
  absl::Status Restart(const v1::Instance&) override { return absl::OkStatus(); }
  double CpuUtilization(const v1::Instance& instance, absl::Time now) override {
    return LoadAt(instance.load(), now);
  }
  bool Healthy(const std::string&) override { return true; }
};

}  // namespace thingtank::compute
