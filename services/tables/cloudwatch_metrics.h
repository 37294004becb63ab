#pragma once

#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/metric_publisher.h"
#include "services/compute/client/service_metrics.h"
#include "services/tables/table_service.h"

namespace thingtank::tables {

// The tables' AWS/DynamoDB metrics for the compute service's CloudWatch, one
// data point per table (dimension TableName) for the minute that ended:
// ConsumedReadCapacityUnits, ConsumedWriteCapacityUnits (Count, consumed in
// the minute), ReadThrottleEvents, WriteThrottleEvents (Count, in the
// minute), ProvisionedReadCapacityUnits, ProvisionedWriteCapacityUnits
// (Count, 0 on demand). For MetricPublisher (ServiceMetricsBatch::kMethod).
class DynamoDbMetrics {
 public:
  MetricPublisher::Requests Build(absl::Time end, const std::vector<TableStats>& stats);

 private:
  absl::Mutex mu_;
  compute::TotalsDelta totals_ ABSL_GUARDED_BY(mu_);
};

}  // namespace thingtank::tables
