#pragma once

#include "absl/status/statusor.h"
#include "services/objects/catalog.h"
#include "thingtank/objects/v1/objects.pb.h"

namespace thingtank::objects {

// Buckets and their configurations (tags, versioning, lifecycle rules,
// notifications, CORS). Thread-safe.
class BucketOps {
 public:
  explicit BucketOps(Catalog* catalog) : catalog_(catalog) {}

  absl::StatusOr<v1::CreateBucketResponse> CreateBucket(const v1::CreateBucketRequest& r);
  absl::StatusOr<v1::HeadBucketResponse> HeadBucket(const v1::HeadBucketRequest& r);
  absl::StatusOr<v1::ListBucketsResponse> ListBuckets(const v1::ListBucketsRequest& r);
  absl::StatusOr<v1::DeleteBucketResponse> DeleteBucket(const v1::DeleteBucketRequest& r);
  absl::StatusOr<v1::PutBucketTaggingResponse> PutBucketTagging(const v1::PutBucketTaggingRequest& r);
  absl::StatusOr<v1::GetBucketTaggingResponse> GetBucketTagging(const v1::GetBucketTaggingRequest& r);
  absl::StatusOr<v1::DeleteBucketTaggingResponse> DeleteBucketTagging(
      const v1::DeleteBucketTaggingRequest& r);
  absl::StatusOr<v1::PutBucketVersioningResponse> PutBucketVersioning(
      const v1::PutBucketVersioningRequest& r);
  absl::StatusOr<v1::GetBucketVersioningResponse> GetBucketVersioning(
      const v1::GetBucketVersioningRequest& r);
  absl::StatusOr<v1::PutBucketLifecycleConfigurationResponse> PutBucketLifecycleConfiguration(
      const v1::PutBucketLifecycleConfigurationRequest& r);
  absl::StatusOr<v1::GetBucketLifecycleConfigurationResponse> GetBucketLifecycleConfiguration(
      const v1::GetBucketLifecycleConfigurationRequest& r);
  absl::StatusOr<v1::DeleteBucketLifecycleResponse> DeleteBucketLifecycle(
      const v1::DeleteBucketLifecycleRequest& r);
  absl::StatusOr<v1::PutBucketNotificationConfigurationResponse> PutBucketNotificationConfiguration(
      const v1::PutBucketNotificationConfigurationRequest& r);
  absl::StatusOr<v1::GetBucketNotificationConfigurationResponse> GetBucketNotificationConfiguration(
      const v1::GetBucketNotificationConfigurationRequest& r);
  absl::StatusOr<v1::PutBucketCorsResponse> PutBucketCors(const v1::PutBucketCorsRequest& r);
  absl::StatusOr<v1::GetBucketCorsResponse> GetBucketCors(const v1::GetBucketCorsRequest& r);
  absl::StatusOr<v1::DeleteBucketCorsResponse> DeleteBucketCors(const v1::DeleteBucketCorsRequest& r);

 private:
  // Reads, changes and writes a bucket record under the commit lock.
  absl::Status Change(const std::string& bucket,
                      const std::function<absl::Status(storage::BucketRecord*)>& change);

  Catalog* const catalog_;
};

}  // namespace thingtank::objects
