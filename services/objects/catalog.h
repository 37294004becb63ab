#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "rocksdb/write_batch.h"
#include "services/common/clock.h"
#include "services/common/status.h"
#include "services/common/storage/db.h"
#include "services/objects/storage/blob_store.h"
#include "services/objects/storage/object_records.pb.h"

namespace thingtank::objects {

// Objects and bytes of one bucket, every version counted (S3's
// NumberOfObjects and BucketSizeBytes), delete markers apart.
struct BucketCounts {
  int64_t objects = 0;
  int64_t bytes = 0;
  int64_t delete_markers = 0;
};

class Txn;
class Catalog;

// Blob ids a read pinned (Txn::Pin), released when this goes.
class PinnedBlobs {
 public:
  explicit PinnedBlobs(Catalog* catalog) : catalog_(catalog) {}
  ~PinnedBlobs();
  PinnedBlobs(const PinnedBlobs&) = delete;
  PinnedBlobs& operator=(const PinnedBlobs&) = delete;
  std::vector<std::string> ids;

 private:
  Catalog* const catalog_;
};

// The metadata of every bucket, version, upload and part in RocksDB, and the
// blob files' reference counts. Every change runs as one transaction under
// one commit lock and lands in one WriteBatch, so it is atomic and ordered:
// a put becomes visible whole at its commit, a reader sees the version
// before or after it. Blob files are freed after the batch that drops their
// last reference is written (a crash in between leaves an orphan file, swept
// at start-up); a file a reader has pinned is freed when the reader is done.
// Thread-safe.
class Catalog {
 public:
  static std::vector<std::string> ColumnFamilies();
  // Loads the sequence number and bucket counts, and removes orphan blobs.
  static absl::StatusOr<std::unique_ptr<Catalog>> Open(Db* db, BlobStore* blobs, Clock* clock);

  // Runs `fn` under the commit lock and writes what it staged, if anything,
  // when it returns OK (its error is returned as is, nothing written).
  absl::Status Run(const std::function<absl::Status(Txn&)>& fn);
  // The same for reads on a gRPC reactor thread: WouldBlock() (status.h)
  // when the lock is taken or a read would go to disk. `fn` must not stage.
  absl::Status RunNonBlocking(const std::function<absl::Status(Txn&)>& fn);

  // Reads that need no lock (a snapshot of one key).
  absl::StatusOr<storage::BucketRecord> GetBucket(std::string_view bucket, bool non_blocking = false) const;
  absl::StatusOr<std::vector<storage::BucketRecord>> ListBuckets() const;

  // Releases what Txn::Pin pinned.
  void Unpin(const std::vector<std::string>& blob_ids);

  absl::flat_hash_map<std::string, BucketCounts> Counts() const;
  int64_t uploads_in_progress() const;
  Db* db() const { return db_; }
  BlobStore* blobs() const { return blobs_; }
  Clock* clock() const { return clock_; }
  rocksdb::ColumnFamilyHandle* cf(std::string_view name) const { return db_->cf(name); }

  // Orphans removed at Open (for tests and the start-up log).
  int64_t orphans_removed() const { return orphans_removed_; }

 private:
  friend class Txn;
  Catalog(Db* db, BlobStore* blobs, Clock* clock) : db_(db), blobs_(blobs), clock_(clock) {}
  absl::Status Load();
  absl::Status SweepOrphans();

  Db* const db_;
  BlobStore* const blobs_;
  Clock* const clock_;
  int64_t orphans_removed_ = 0;

  mutable absl::Mutex mu_;
  uint64_t seq_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, BucketCounts> counts_ ABSL_GUARDED_BY(mu_);
  int64_t uploads_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, int> pins_ ABSL_GUARDED_BY(mu_);
  // Freed while pinned: removed at the last Unpin.
  absl::flat_hash_set<std::string> doomed_ ABSL_GUARDED_BY(mu_);
};

// One transaction of Catalog::Run: reads see the store as of the lock (not
// what this transaction staged), writes are staged into one batch. Made only
// by Catalog::Run, used on its thread.
class Txn {
 public:
  absl::Time now() const { return now_; }
  uint64_t NextSeq() { return ++seq_; }

  absl::StatusOr<storage::BucketRecord> Bucket(std::string_view bucket);
  void PutBucket(const storage::BucketRecord& record);
  void DeleteBucket(std::string_view bucket);

  // The key's newest version or delete marker, if any.
  absl::StatusOr<std::optional<storage::VersionRecord>> Latest(std::string_view bucket,
                                                               std::string_view key);
  // One version by id ("null" included); nullopt if absent.
  absl::StatusOr<std::optional<storage::VersionRecord>> Version(std::string_view bucket,
                                                                std::string_view key,
                                                                std::string_view version_id);
  // The newest version of a key other than those with seq in `excluding`.
  absl::StatusOr<std::optional<storage::VersionRecord>> NewestExcept(
      std::string_view bucket, std::string_view key, const std::vector<uint64_t>& excluding);

  // Stages a version (taking a reference on its blobs: `new_blob_sizes`
  // names blobs created for it, which get their record here).
  void AddVersion(std::string_view bucket, const storage::VersionRecord& v);
  // Stages a version's removal, releasing its blobs.
  void RemoveVersion(std::string_view bucket, const storage::VersionRecord& v);
  // Rewrites a version in place (tags); no reference changes.
  void RewriteVersion(std::string_view bucket, const storage::VersionRecord& v, bool is_latest);
  void SetLatest(std::string_view bucket, const storage::VersionRecord& v);
  void ClearLatest(std::string_view bucket, std::string_view key);

  // Blob references: a new blob file gets its record with one reference.
  void NewBlob(const std::string& blob_id, int64_t size);
  void Ref(const std::string& blob_id);
  void Unref(const std::string& blob_id);
  void RefExtents(const google::protobuf::RepeatedPtrField<storage::Extent>& extents, int delta);

  // Uploads in progress (counted for metrics).
  void UploadStarted() { ++uploads_delta_; }
  void UploadEnded() { --uploads_delta_; }

  // Keeps the blobs of what this transaction read readable until Unpin.
  void Pin(const std::vector<std::string>& blob_ids);

  // Direct staging (marks the transaction as writing).
  rocksdb::WriteBatch* batch() {
    touched_ = true;
    return &batch_;
  }
  Db* db() const { return catalog_->db_; }
  rocksdb::ColumnFamilyHandle* cf(std::string_view name) const { return catalog_->db_->cf(name); }

 private:
  friend class Catalog;
  explicit Txn(Catalog* catalog, uint64_t seq, absl::Time now, bool non_blocking = false)
      : catalog_(catalog), seq_(seq), now_(now), non_blocking_(non_blocking) {}
  void CountVersion(std::string_view bucket, const storage::VersionRecord& v, int sign);

  Catalog* const catalog_;
  uint64_t seq_;
  const absl::Time now_;
  const bool non_blocking_;  // reads only from memory (RunNonBlocking)
  rocksdb::WriteBatch batch_;
  bool touched_ = false;
  std::map<std::string, int64_t> new_blobs_;    // id -> size
  std::map<std::string, int64_t> ref_deltas_;   // id -> delta
  std::map<std::string, BucketCounts> count_deltas_;
  int64_t uploads_delta_ = 0;
  std::vector<std::pair<std::string, bool>> bucket_changes_;  // name, exists after
  std::vector<std::string> pins_;
};

}  // namespace thingtank::objects
