#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/metric_publisher.h"
#include "services/compute/client/service_metrics.h"
#include "services/queues/queue_service.h"

namespace thingtank::queues {

// The queues' AWS/SQS metrics for the compute service's CloudWatch, one
// data point per queue (dimension QueueName) for the minute that ended:
// ApproximateNumberOfMessagesVisible, ApproximateNumberOfMessagesNotVisible,
// ApproximateNumberOfMessagesDelayed (Count) and ApproximateAgeOfOldestMessage
// (Seconds) as they are at the minute's end, NumberOfMessagesSent (Count)
// during the minute. For MetricPublisher (method ServiceMetricsBatch::kMethod).
class SqsMetrics {
 public:
  MetricPublisher::Requests Build(absl::Time end, const std::vector<QueueCounts>& counts,
                                  const std::map<std::string, int64_t>& sent_totals);

 private:
  absl::Mutex mu_;
  compute::TotalsDelta sent_ ABSL_GUARDED_BY(mu_);
};

}  // namespace thingtank::queues
