#pragma once

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/time/time.h"
#include "services/common/metric_publisher.h"
#include "services/objects/catalog.h"

namespace thingtank::objects {

// The buckets' AWS/S3 storage metrics for the compute service's CloudWatch,
// for the minute that ended (S3 itself publishes them daily): BucketSizeBytes
// (Bytes; dimensions BucketName, StorageType=StandardStorage) and
// NumberOfObjects (Count; BucketName, StorageType=AllStorageTypes), every
// version counted, as S3 does. For MetricPublisher.
MetricPublisher::Requests S3StorageMetrics(absl::Time end,
                                           const absl::flat_hash_map<std::string, BucketCounts>& counts);

}  // namespace thingtank::objects
