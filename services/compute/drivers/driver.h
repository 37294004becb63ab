#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "thingtank/compute/v1/compute.pb.h"

namespace thingtank::compute {

// What runs an instance while it is running. The scheduler (instances.h)
// owns the state machine and calls its instance's driver at the edges:
// Start when the instance becomes running, Stop when it leaves running
// (stopping or shutting-down), Restart on a reboot. Drivers never change an
// instance's state; they report CPU and health, which the scheduler turns
// into metrics and status checks. A Kubernetes driver (instances as pods)
// would implement this same interface.
//
// Calls come from the scheduler's executor, outside its locks; a driver is
// thread-safe.
class InstanceDriver {
 public:
  virtual ~InstanceDriver() = default;
  // Whether it can run `image_id` (RunInstances checks; the process driver
  // knows only the images of the operator's file).
  virtual bool HasImage(const std::string& image_id) const { return true; }
  // The launch's user data, given before every Start of the instance.
  virtual void SetUserData(const std::string& instance_id, std::string data) {}
  virtual absl::Status Start(const v1::Instance& instance) = 0;
  // `force`: no grace period (the process driver sends SIGKILL at once).
  virtual void Stop(const std::string& instance_id, bool force) = 0;
  virtual absl::Status Restart(const v1::Instance& instance) = 0;
  // CPU utilization of a running instance now, 0 to 100.
  virtual double CpuUtilization(const v1::Instance& instance, absl::Time now) = 0;
  // False once what runs the instance has failed (its process exited).
  virtual bool Healthy(const std::string& instance_id) = 0;
};

}  // namespace thingtank::compute
