#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/objects/catalog.h"
#include "services/objects/content.h"
#include "services/objects/events.h"
#include "thingtank/objects/v1/objects.pb.h"

namespace thingtank::objects {

class ObjectStore;

// One PutObject stream: content is hashed and stored as it arrives; the
// object is committed (and visible) only at Finish.
class PutSession {
 public:
  absl::Status Append(std::string_view data);
  absl::StatusOr<v1::PutObjectResponse> Finish();

 private:
  friend class ObjectStore;
  PutSession(ObjectStore* store, v1::PutObjectHeader header,
             std::vector<v1::ChecksumAlgorithm> checksums);
  ObjectStore* const store_;
  const v1::PutObjectHeader header_;
  ContentSink sink_;
};

// One GetObject stream: the version was resolved (and its blobs pinned) when
// it opened; Next produces the response messages.
class ReadSession {
 public:
  ~ReadSession();
  // The first message carries the object's attributes with the first data.
  absl::Status Next(v1::GetObjectResponse* out, bool* more);
  // The content is in the version record: reading it never blocks.
  bool in_memory() const { return in_memory_; }

 private:
  friend class ObjectStore;
  ReadSession(ObjectStore* store, v1::HeadObjectResponse head, storage::VersionRecord v,
              int64_t first, std::vector<std::string> pins);
  ObjectStore* const store_;
  v1::HeadObjectResponse head_;
  ContentReader reader_;
  std::vector<std::string> pins_;
  bool in_memory_;
  bool first_ = true;
};

// Objects: put, get, head, delete, copy and tags, with S3's conditions,
// ranges, checksums and versioning. Thread-safe.
class ObjectStore {
 public:
  ObjectStore(Catalog* catalog, EventSink* events, ObjectsObserver* observer)
      : catalog_(catalog), events_(events), observer_(observer) {}

  absl::StatusOr<std::unique_ptr<PutSession>> StartPut(const v1::PutObjectHeader& header);
  // With `non_blocking` (a reactor thread): WouldBlock() where it would wait,
  // and for content in blob files.
  absl::StatusOr<std::unique_ptr<ReadSession>> OpenRead(const v1::GetObjectRequest& request,
                                                        bool non_blocking = false);
  absl::StatusOr<v1::HeadObjectResponse> HeadObject(const v1::HeadObjectRequest& request);
  absl::StatusOr<v1::DeleteObjectResponse> DeleteObject(const v1::DeleteObjectRequest& request);
  absl::StatusOr<v1::DeleteObjectsResponse> DeleteObjects(const v1::DeleteObjectsRequest& request);
  absl::StatusOr<v1::CopyObjectResponse> CopyObject(const v1::CopyObjectRequest& request);
  absl::StatusOr<v1::PutObjectTaggingResponse> PutObjectTagging(const v1::PutObjectTaggingRequest& r);
  absl::StatusOr<v1::GetObjectTaggingResponse> GetObjectTagging(const v1::GetObjectTaggingRequest& r);
  absl::StatusOr<v1::DeleteObjectTaggingResponse> DeleteObjectTagging(
      const v1::DeleteObjectTaggingRequest& r);

  // Resolves the version a read names (the latest, or by id), with the
  // errors S3 gives: NoSuchKey (latest is a delete marker, or none),
  // NoSuchVersion, MethodNotAllowed (a delete marker by id). With `pin`, its
  // blobs stay readable until Catalog::Unpin.
  absl::StatusOr<storage::VersionRecord> Resolve(std::string_view bucket, std::string_view key,
                                                 std::string_view version_id,
                                                 std::vector<std::string>* pins);

  // Stages the notification of `event` on `v` (no-op without a sink).
  void StageEvent(Txn& txn, const storage::BucketRecord& bucket, std::string_view event,
                  const storage::VersionRecord& v);
  void EventsCommitted();

  Catalog* catalog() const { return catalog_; }
  ObjectsObserver* observer() const { return observer_; }

 private:
  friend class PutSession;
  Catalog* const catalog_;
  EventSink* const events_;
  ObjectsObserver* const observer_;
};

// Headers as S3 stores them: user metadata names lowercased.
v1::ObjectHeaders Normalized(const v1::ObjectHeaders& headers);

// The API's view of a stored version.
v1::ObjectInfo ToInfo(const storage::VersionRecord& v, bool is_latest, bool with_checksums);

}  // namespace thingtank::objects
