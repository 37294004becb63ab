#pragma once

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "prometheus/registry.h"
#include "services/common/async_client.h"
#include "services/common/clock.h"
#include "services/compute/autoscaling/autoscaling.h"

namespace thingtank::compute {

// Delivers the compute service's notifications — alarm transitions (alarm
// actions that are not scaling policies) and lifecycle hook notices — to a
// ThingTank queue or WAMP topic, through the other services' gRPC APIs (an
// AsyncClient over the gateway: in-process in monolithic mode, else
// --gateway-address). Targets, as ARNs:
//   arn:aws:sqs:<region>:<account>:<queue>    SendMessage, the JSON as the body
//   arn:thingtank:wamp:<realm>:<topic>        Publish, the JSON as kwargs (realm empty: realm1)
// Thread-safe.
class Notifier final : public LifecycleNotifier {
 public:
  Notifier(Clock* clock, std::string region, std::string account);
  ~Notifier() override;

  // Where calls go from now on; until then notifications fail UNAVAILABLE.
  void SetChannel(std::shared_ptr<grpc::Channel> channel, prometheus::Registry* registry);
  void Shutdown();

  static bool IsTarget(const std::string& arn);
  absl::Status CheckTarget(const std::string& arn, const std::string& field) override;
  // Asynchronous; a failure is logged.
  void Notify(const std::string& arn, const std::string& json) override;
  // Delivers and waits up to `timeout` for the answer (alarm actions record it).
  absl::Status NotifyAndWait(const std::string& arn, const std::string& json,
                             absl::Duration timeout);

 private:
  void Send(const std::string& arn, const std::string& json, AsyncClient::Done done);

  Clock* const clock_;
  const std::string region_;
  const std::string account_;
  absl::Mutex mu_;
  std::shared_ptr<AsyncClient> client_ ABSL_GUARDED_BY(mu_);
};

}  // namespace thingtank::compute
