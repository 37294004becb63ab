#pragma once

#include "absl/status/statusor.h"
#include "services/objects/catalog.h"
#include "thingtank/objects/v1/objects.pb.h"

namespace thingtank::objects {

// The listings: current objects (ListObjectsV2), every version and delete
// marker (ListObjectVersions) and uploads in progress (ListMultipartUploads),
// each one ordered scan of its column family with delimiter roll-up
// (core/listing.h) and seeks past rolled-up prefixes. Reads a consistent
// view per key, not a snapshot of the whole listing (as S3). Thread-safe.
class Lister {
 public:
  explicit Lister(Catalog* catalog) : catalog_(catalog) {}

  absl::StatusOr<v1::ListObjectsV2Response> ListObjectsV2(const v1::ListObjectsV2Request& r);
  absl::StatusOr<v1::ListObjectVersionsResponse> ListObjectVersions(
      const v1::ListObjectVersionsRequest& r);
  absl::StatusOr<v1::ListMultipartUploadsResponse> ListMultipartUploads(
      const v1::ListMultipartUploadsRequest& r);

 private:
  Catalog* const catalog_;
};

}  // namespace thingtank::objects
