#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "grpcpp/channel.h"
#include "prometheus/registry.h"
#include "services/common/async_client.h"
#include "services/common/clock.h"
#include "services/common/executor.h"
#include "services/common/lifeline.h"

namespace thingtank {

// Publishes a service's CloudWatch metrics (AWS/SQS, AWS/DynamoDB, ...) to
// the compute service once a `period` of the clock (aligned to the epoch, so
// each publication covers one whole minute), `lead` before the period ends
// so that the data is stored when compute evaluates its alarms at the
// boundary (its own CPU data is published in the same tick, before the
// evaluation), through an AsyncClient: in
// monolithic mode over the gateway's in-process channel, in microservice
// mode through --gateway-address. Without a channel (compute does not run
// here and no address is known) nothing is sent. Proto-agnostic: `build`
// returns the requests for the period that ended at `end` (for the compute
// service, thingtank.compute.v1.PublishServiceMetricsRequest messages, sent
// to `method`). A failed publication is logged (once per failure streak) and
// not retried beyond the AsyncClient's attempts: the next minute publishes
// the next data. Thread-safe.
class MetricPublisher {
 public:
  using Requests = std::vector<std::unique_ptr<google::protobuf::Message>>;
  using Build = std::function<Requests(absl::Time end)>;

  MetricPublisher(Clock* clock, Executor* executor, std::string method, Build build,
                  absl::Duration period = absl::Minutes(1), absl::Duration lead = absl::Seconds(5));
  ~MetricPublisher();
  MetricPublisher(const MetricPublisher&) = delete;
  MetricPublisher& operator=(const MetricPublisher&) = delete;

  // Starts publishing through `channel` at the next period boundary.
  void Start(std::shared_ptr<grpc::Channel> channel, prometheus::Registry* registry);
  // Cancels what is in flight; no publication after it returns.
  void Stop();

  int64_t published() const;  // requests answered OK
  int64_t failed() const;

 private:
  using Lifeline = thingtank::Lifeline<MetricPublisher>;
  // Publishes the period ending at the first boundary after `after` + lead.
  void Arm(absl::Time after);
  void Publish(absl::Time end);

  Clock* const clock_;
  Executor* const executor_;
  const std::string method_;
  const Build build_;
  const absl::Duration period_;
  const absl::Duration lead_;
  std::shared_ptr<Lifeline> life_;
  mutable absl::Mutex mu_;
  std::shared_ptr<AsyncClient> client_ ABSL_GUARDED_BY(mu_);
  int64_t published_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t failed_ ABSL_GUARDED_BY(mu_) = 0;
  bool failing_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace thingtank
