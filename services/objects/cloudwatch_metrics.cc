#include "services/objects/cloudwatch_metrics.h"

#include "services/compute/client/service_metrics.h"

namespace thingtank::objects {

MetricPublisher::Requests S3StorageMetrics(absl::Time end,
                                           const absl::flat_hash_map<std::string, BucketCounts>& counts) {
  compute::ServiceMetricsBatch batch("AWS/S3", end - absl::Minutes(1));
  for (const auto& [bucket, c] : counts) {
    batch.Add("BucketSizeBytes", {{"BucketName", bucket}, {"StorageType", "StandardStorage"}},
              static_cast<double>(c.bytes), "Bytes");
    batch.Add("NumberOfObjects", {{"BucketName", bucket}, {"StorageType", "AllStorageTypes"}},
              static_cast<double>(c.objects), "Count");
  }
  return batch.Take();
}

}  // namespace thingtank::objects
