#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
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
// model is stored with the instance. A queue-depth model reads the queue's
// depth from `SetQueueDepth`'s source and shares it among the running
// instances that follow that queue (`SetSharing`, which the scheduler calls
// before each round of samples). Thread-safe.
class SimulatedDriver final : public InstanceDriver {
 public:
  // A queue's visible messages now, if known (from CloudWatch's AWS/SQS).
  using QueueDepth = std::function<std::optional<double>(const std::string& queue)>;

  void SetQueueDepth(QueueDepth depth) {
    absl::MutexLock lock(&mu_);
    depth_ = std::move(depth);
  }
  // Running instances per followed queue.
  void SetSharing(std::map<std::string, int> sharing) {
    absl::MutexLock lock(&mu_);
    sharing_ = std::move(sharing);
  }

  absl::Status Start(const v1::Instance&) override { return absl::OkStatus(); }
  void Stop(const std::string&, bool) override {}
  absl::Status Restart(const v1::Instance&) override { return absl::OkStatus(); }
  double CpuUtilization(const v1::Instance& instance, absl::Time now) override;
  bool Healthy(const std::string&) override { return true; }

 private:
  absl::Mutex mu_;
  QueueDepth depth_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> sharing_ ABSL_GUARDED_BY(mu_);
};

}  // namespace thingtank::compute
