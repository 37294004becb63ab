#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/metric_publisher.h"
#include "services/compute/client/service_metrics.h"
#include "services/streams/metrics.h"

namespace thingtank::streams {

// The streams' AWS/Kinesis metrics for the compute service's CloudWatch, one
// data point per stream (dimension StreamName) for the minute that ended:
// IncomingRecords and IncomingBytes (written during the minute),
// GetRecords.Records and GetRecords.Bytes (read or pushed), 
// GetRecords.IteratorAgeMilliseconds (the largest MillisBehindLatest of the
// minute's reads), WriteProvisionedThroughputExceeded and
// ReadProvisionedThroughputExceeded (Count). For MetricPublisher.
class KinesisMetrics {
 public:
  MetricPublisher::Requests Build(absl::Time end, const std::vector<StreamCounts>& streams,
                                  const std::map<std::string, StreamsMetrics::Totals>& totals,
                                  const std::map<std::string, int64_t>& iterator_ages);

 private:
  absl::Mutex mu_;
  compute::TotalsDelta delta_ ABSL_GUARDED_BY(mu_);
};

}  // namespace thingtank::streams
