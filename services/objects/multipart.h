#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/objects/catalog.h"
#include "services/objects/content.h"
#include "services/objects/objects.h"
#include "thingtank/objects/v1/objects.pb.h"

namespace thingtank::objects {

class MultipartOps;

// One UploadPart stream: stored as it arrives, the part recorded at Finish
// (replacing a part of that number).
class PartSession {
 public:
  absl::Status Append(std::string_view data);
  absl::StatusOr<v1::UploadPartResponse> Finish();

 private:
  friend class MultipartOps;
  PartSession(MultipartOps* ops, v1::UploadPartHeader header, storage::UploadRecord upload,
              std::vector<v1::ChecksumAlgorithm> checksums);
  MultipartOps* const ops_;
  const v1::UploadPartHeader header_;
  const storage::UploadRecord upload_;
  ContentSink sink_;
};

// Multipart uploads: parts are blob files of their own; completing an
// upload writes one version whose extents are the listed parts' (no byte is
// copied), drops the upload and frees the parts it did not list, in one
// transaction. Thread-safe.
class MultipartOps {
 public:
  // `min_part_size`: S3's 5 MiB for every part but the last (tests lower it).
  MultipartOps(Catalog* catalog, ObjectStore* objects, int64_t min_part_size = 5 * 1024 * 1024)
      : catalog_(catalog), objects_(objects), min_part_size_(min_part_size) {}

  absl::StatusOr<v1::CreateMultipartUploadResponse> CreateMultipartUpload(
      const v1::CreateMultipartUploadRequest& r);
  absl::StatusOr<std::unique_ptr<PartSession>> StartPart(const v1::UploadPartHeader& header);
  absl::StatusOr<v1::UploadPartCopyResponse> UploadPartCopy(const v1::UploadPartCopyRequest& r);
  absl::StatusOr<v1::ListPartsResponse> ListParts(const v1::ListPartsRequest& r);
  absl::StatusOr<v1::CompleteMultipartUploadResponse> CompleteMultipartUpload(
      const v1::CompleteMultipartUploadRequest& r);
  absl::StatusOr<v1::AbortMultipartUploadResponse> AbortMultipartUpload(
      const v1::AbortMultipartUploadRequest& r);

 private:
  friend class PartSession;
  // Stages `part` as part `number` of the upload, releasing a part it replaces.
  absl::Status StagePart(Txn& txn, const std::string& upload_id, const storage::PartRecord& part);

  Catalog* const catalog_;
  ObjectStore* const objects_;
  const int64_t min_part_size_;
};

}  // namespace thingtank::objects
