#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/metric_publisher.h"
#include "services/queues/queue_service.h"

namespace thingtank::queues {

// The queues' AWS/SQS metrics for the compute service's CloudWatch, one
// data point per queue (dimension QueueName) for the minute that ended:
// ApproximateNumberOfMessagesVisible, ApproximateNumberOfMessagesNotVisible,
// ApproximateNumberOfMessagesDelayed (Count) and ApproximateAgeOfOldestMessage
// (Seconds) as they are at the minute's end, NumberOfMessagesSent (Count)
// during the minute. Requests of at most 1,000 data points
// (thingtank.compute.v1.PublishServiceMetricsRequest), for MetricPublisher.
class SqsMetrics {
 public:
  static constexpr char kMethod[] = "/thingtank.compute.v1.CloudWatchService/PublishServiceMetrics";
  MetricPublisher::Requests Build(absl::Time end, const std::vector<QueueCounts>& counts,
                                  const std::map<std::string, int64_t>& sent_totals);

 private:
  absl::Mutex mu_;
  std::map<std::string, int64_t> last_sent_ ABSL_GUARDED_BY(mu_);
};

}  // namespace thingtank::queues
