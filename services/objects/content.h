#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/objects/catalog.h"
#include "services/objects/core/checksums.h"
#include "services/objects/storage/blob_store.h"
#include "services/objects/storage/object_records.pb.h"
#include "thingtank/objects/v1/objects.pb.h"

namespace thingtank::objects {

// Content up to this size lives inside its version record (one RocksDB
// write per put); larger content goes to a blob file as it streams in.
inline constexpr int64_t kInlineMax = 64 * 1024;
inline constexpr int64_t kMaxObjectSize = 5LL * 1024 * 1024 * 1024;
// The data carried by one GetObject message; the first (with the object's
// attributes) carries less, so time to first byte does not wait for a MiB.
inline constexpr int64_t kReadChunk = 1024 * 1024;
inline constexpr int64_t kFirstReadChunk = 16 * 1024;

// Takes streamed content: hashes it in one pass (MD5 and the requested
// checksums), keeps it in memory while it is at most kInlineMax (and inline
// is allowed), else writes it to a new blob file. A sink destroyed before
// its content was committed removes its file. One stream's; not thread-safe.
class ContentSink {
 public:
  ContentSink(BlobStore* blobs, std::vector<v1::ChecksumAlgorithm> checksums, bool allow_inline);
  // EntityTooLarge past 5 GiB.
  absl::Status Append(std::string_view data);
  absl::Status Finish();

  int64_t size() const { return size_; }
  const Digest& digest() const { return digest_; }
  // Moves the content into `v` (inline data or one extent) and, for a blob,
  // registers the new file with `txn` (its record and first reference come
  // with the commit). Call once, inside the committing transaction.
  void MoveInto(Txn& txn, storage::VersionRecord* v);
  void MoveInto(Txn& txn, storage::PartRecord* p);
  // After the transaction that took the content committed: the blob file
  // stays. Without it, the sink removes its file when it goes.
  void Committed();

 private:
  absl::Status Spill();

  BlobStore* const blobs_;
  ContentHasher hasher_;
  const bool allow_inline_;
  int64_t size_ = 0;
  std::string inline_;
  std::unique_ptr<BlobStore::Writer> writer_;
  Digest digest_;
};

// Reads a byte range of a version's content in chunks of at most kReadChunk,
// from its inline data or across its extents. The blobs must be pinned for
// the reader's lifetime (Txn::Pin). One stream's; not thread-safe.
class ContentReader {
 public:
  ContentReader(BlobStore* blobs, storage::VersionRecord v, int64_t first, int64_t length);
  bool done() const { return left_ == 0; }
  // The next chunk (replacing *out).
  absl::Status Next(std::string* out, int64_t max = kReadChunk);

 private:
  BlobStore* const blobs_;
  const storage::VersionRecord v_;
  int64_t pos_;   // absolute offset in the object
  int64_t left_;
  int extent_ = 0;         // index of the extent holding pos_
  int64_t extent_start_ = 0;  // object offset where extents_[extent_] starts
  std::unique_ptr<BlobStore::Reader> open_;
  int open_extent_ = -1;
};

// The blob ids a version's content uses.
std::vector<std::string> BlobIdsOf(const google::protobuf::RepeatedPtrField<storage::Extent>& extents);

// Hashes the given range of a version's content (for a copy that needs a
// new checksum, or an upload part copied from a range).
absl::StatusOr<Digest> DigestOf(BlobStore* blobs, const storage::VersionRecord& v, int64_t first,
                                int64_t length, std::vector<v1::ChecksumAlgorithm> checksums);

// The extents covering [first, first+length) of a version (inline content is
// not covered: callers copy inline bytes).
google::protobuf::RepeatedPtrField<storage::Extent> SliceExtents(const storage::VersionRecord& v,
                                                                 int64_t first, int64_t length);

}  // namespace thingtank::objects
