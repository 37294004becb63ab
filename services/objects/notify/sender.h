#pragma once

#include <functional>
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

namespace thingtank::objects::notify {

// Sends one notification to a ThingTank queue or WAMP topic through the
// other services' gRPC APIs (an AsyncClient over the channel given once the
// server runs: in-process, or the gateway):
//   arn:aws:sqs:<region>:<account>:<queue>   SendMessage, the JSON as the body
//   arn:thingtank:wamp:<realm>:<topic>       Publish, the JSON as kwargs (realm empty: realm1)
// One attempt per Send (the deliverer retries, on its own schedule).
// Thread-safe.
class Sender {
 public:
  using Done = std::function<void(absl::Status)>;

  Sender(Clock* clock, absl::Duration deadline) : clock_(clock), deadline_(deadline) {}
  ~Sender() { Shutdown(); }

  // Where calls go from now on; until then Send fails UNAVAILABLE.
  void SetChannel(std::shared_ptr<grpc::Channel> channel, prometheus::Registry* registry);
  bool connected() const;
  // Cancels calls in flight (their `done` runs with CANCELLED before this
  // returns) and refuses new ones. Idempotent.
  void Shutdown();

  // `done` runs once, from a gRPC thread (or at once on this one when not
  // connected or the ARN is not a destination: INVALID_ARGUMENT).
  void Send(const std::string& arn, const std::string& json, Done done);

 private:
  Clock* const clock_;
  const absl::Duration deadline_;
  mutable absl::Mutex mu_;
  std::shared_ptr<AsyncClient> client_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace thingtank::objects::notify
