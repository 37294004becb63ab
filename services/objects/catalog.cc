#include "services/objects/catalog.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "services/common/storage/key_codec.h"
#include "services/objects/core/s3_errors.h"
#include "services/objects/storage/object_keys.h"

namespace thingtank::objects {
namespace {

template <typename Record>
absl::StatusOr<Record> ParseRecord(std::string_view bytes, std::string_view what) {
  Record record;
  if (!record.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(absl::StrCat("corrupt ", std::string(what), " record"));
  }
  return record;
}

std::string Serialized(const google::protobuf::Message& m) {
  std::string out;
  m.SerializeToString(&out);
  return out;
}

}  // namespace

std::vector<std::string> Catalog::ColumnFamilies() {
  return {keys::kBuckets, keys::kLatest, keys::kVersions, keys::kUploads,
          keys::kParts,   keys::kBlobs,  keys::kOutbox};
}

absl::StatusOr<std::unique_ptr<Catalog>> Catalog::Open(Db* db, BlobStore* blobs, Clock* clock) {
  std::unique_ptr<Catalog> catalog(new Catalog(db, blobs, clock));
  TT_RETURN_IF_ERROR(catalog->Load());
  TT_RETURN_IF_ERROR(catalog->SweepOrphans());
  return catalog;
}

absl::Status Catalog::Load() {
  absl::MutexLock lock(&mu_);
  TT_ASSIGN_OR_RETURN(std::optional<std::string> seq, db_->Get(db_->cf("default"), keys::kSeqKey));
  if (seq) {
    std::string_view in = *seq;
    std::optional<uint64_t> v = thingtank::keys::ConsumeUint64(&in);
    if (!v) return absl::DataLossError("corrupt sequence number");
    seq_ = *v;
  }
  auto buckets = db_->Scan(cf(keys::kBuckets), "");
  for (buckets->SeekSuffix(""); buckets->Valid(); buckets->Next()) {
    counts_[std::string(buckets->suffix())];
  }
  TT_RETURN_IF_ERROR(buckets->status());
  // Counts by bucket: one pass over the versions (laptop scale; a persisted
  // counter would replace this for billions of versions).
  for (auto& [bucket, counts] : counts_) {
    auto it = db_->Scan(cf(keys::kVersions), keys::BucketPrefix(bucket));
    for (it->SeekSuffix(""); it->Valid(); it->Next()) {
      TT_ASSIGN_OR_RETURN(auto v, ParseRecord<storage::VersionRecord>(
                                      std::string_view(it->value().data(), it->value().size()),
                                      "version"));
      if (v.delete_marker()) {
        ++counts.delete_markers;
      } else {
        ++counts.objects;
        counts.bytes += v.size();
      }
    }
    TT_RETURN_IF_ERROR(it->status());
  }
  auto uploads = db_->Scan(cf(keys::kUploads), "");
  for (uploads->SeekSuffix(""); uploads->Valid(); uploads->Next()) ++uploads_;
  return uploads->status();
}

absl::Status Catalog::SweepOrphans() {
  TT_ASSIGN_OR_RETURN(std::vector<std::string> ids, blobs_->List());
  for (const std::string& id : ids) {
    TT_ASSIGN_OR_RETURN(std::optional<std::string> record, db_->Get(cf(keys::kBlobs), id));
    if (record) continue;
    TT_RETURN_IF_ERROR(blobs_->Remove(id));
    ++orphans_removed_;
  }
  if (orphans_removed_ > 0) {
    TT_LOG_INFO("objects: removed {} orphan blob files (uploads cut short)", orphans_removed_);
  }
  return absl::OkStatus();
}

absl::Status Catalog::Run(const std::function<absl::Status(Txn&)>& fn) {
  std::vector<std::string> to_remove;
  {
    absl::MutexLock lock(&mu_);
    Txn txn(this, seq_, clock_->Now());
    TT_RETURN_IF_ERROR(fn(txn));
    if (txn.touched_) {
      for (const auto& [id, size] : txn.new_blobs_) {
        storage::BlobRecord record;
        record.set_size(size);
        record.set_refs(0);
        int64_t delta = txn.ref_deltas_[id];
        record.set_refs(delta);
        if (delta > 0) {
          txn.batch_.Put(cf(keys::kBlobs), id, Serialized(record));
        } else {
          to_remove.push_back(id);  // made and dropped in one go
        }
      }
      for (const auto& [id, delta] : txn.ref_deltas_) {
        if (delta == 0 || txn.new_blobs_.count(id) > 0) continue;
        TT_ASSIGN_OR_RETURN(std::optional<std::string> bytes, db_->Get(cf(keys::kBlobs), id));
        if (!bytes) return absl::DataLossError(absl::StrCat("blob ", id, " has no record"));
        TT_ASSIGN_OR_RETURN(auto record, ParseRecord<storage::BlobRecord>(*bytes, "blob"));
        record.set_refs(record.refs() + delta);
        if (record.refs() > 0) {
          txn.batch_.Put(cf(keys::kBlobs), id, Serialized(record));
        } else {
          txn.batch_.Delete(cf(keys::kBlobs), id);
          to_remove.push_back(id);
        }
      }
      if (txn.seq_ != seq_) {
        std::string seq;
        thingtank::keys::AppendUint64(&seq, txn.seq_);
        txn.batch_.Put(db_->cf("default"), keys::kSeqKey, seq);
      }
      TT_RETURN_IF_ERROR(db_->Write(&txn.batch_));
      seq_ = txn.seq_;
      for (const auto& [bucket, exists] : txn.bucket_changes_) {
        if (exists) {
          counts_[bucket];
        } else {
          counts_.erase(bucket);
        }
      }
      for (const auto& [bucket, delta] : txn.count_deltas_) {
        auto it = counts_.find(bucket);
        if (it == counts_.end()) continue;  // the bucket went in this transaction
        it->second.objects += delta.objects;
        it->second.bytes += delta.bytes;
        it->second.delete_markers += delta.delete_markers;
      }
      uploads_ += txn.uploads_delta_;
    }
    for (const std::string& id : txn.pins_) ++pins_[id];
    // A blob a reader still holds is freed when it lets go.
    auto pinned = std::partition(to_remove.begin(), to_remove.end(),
                                 [this](const std::string& id) { return !pins_.contains(id); });
    for (auto it = pinned; it != to_remove.end(); ++it) doomed_.insert(*it);
    to_remove.erase(pinned, to_remove.end());
  }
  for (const std::string& id : to_remove) {
    absl::Status s = blobs_->Remove(id);
    if (!s.ok()) TT_LOG_WARN("objects: cannot remove blob {}: {} (swept at next start)", id, s.ToString());
  }
  return absl::OkStatus();
}

absl::Status Catalog::RunNonBlocking(const std::function<absl::Status(Txn&)>& fn) {
  if (!mu_.TryLock()) return WouldBlock();
  absl::Status status;
  {
    Txn txn(this, seq_, clock_->Now(), /*non_blocking=*/true);
    status = fn(txn);
    if (status.ok() && txn.touched_) status = absl::InternalError("a non-blocking transaction staged a change");
    if (status.ok()) {
      for (const std::string& id : txn.pins_) ++pins_[id];
    }
  }
  mu_.Unlock();
  return status;
}

void Catalog::Unpin(const std::vector<std::string>& blob_ids) {
  std::vector<std::string> to_remove;
  {
    absl::MutexLock lock(&mu_);
    for (const std::string& id : blob_ids) {
      auto it = pins_.find(id);
      if (it == pins_.end()) continue;
      if (--it->second > 0) continue;
      pins_.erase(it);
      if (doomed_.erase(id) > 0) to_remove.push_back(id);
    }
  }
  for (const std::string& id : to_remove) {
    absl::Status s = blobs_->Remove(id);
    if (!s.ok()) TT_LOG_WARN("objects: cannot remove blob {}: {} (swept at next start)", id, s.ToString());
  }
}

PinnedBlobs::~PinnedBlobs() { catalog_->Unpin(ids); }

absl::StatusOr<storage::BucketRecord> Catalog::GetBucket(std::string_view bucket, bool non_blocking) const {
  TT_ASSIGN_OR_RETURN(std::optional<std::string> bytes, db_->Get(cf(keys::kBuckets), bucket, non_blocking));
  if (!bytes) {
    return s3::Error("NoSuchBucket", absl::StrCat("The specified bucket does not exist: ", std::string(bucket)),
                     {{"BucketName", std::string(bucket)}});
  }
  return ParseRecord<storage::BucketRecord>(*bytes, "bucket");
}

absl::StatusOr<std::vector<storage::BucketRecord>> Catalog::ListBuckets() const {
  std::vector<storage::BucketRecord> out;
  auto it = db_->Scan(cf(keys::kBuckets), "");
  for (it->SeekSuffix(""); it->Valid(); it->Next()) {
    TT_ASSIGN_OR_RETURN(auto record, ParseRecord<storage::BucketRecord>(
                                         std::string_view(it->value().data(), it->value().size()),
                                         "bucket"));
    out.push_back(std::move(record));
  }
  TT_RETURN_IF_ERROR(it->status());
  return out;
}

absl::flat_hash_map<std::string, BucketCounts> Catalog::Counts() const {
  absl::MutexLock lock(&mu_);
  return counts_;
}

int64_t Catalog::uploads_in_progress() const {
  absl::MutexLock lock(&mu_);
  return uploads_;
}

// ---------------------------------------------------------------- Txn

absl::StatusOr<storage::BucketRecord> Txn::Bucket(std::string_view bucket) {
  return catalog_->GetBucket(bucket, non_blocking_);
}

void Txn::PutBucket(const storage::BucketRecord& record) {
  touched_ = true;
  batch_.Put(cf(keys::kBuckets), record.name(), Serialized(record));
  bucket_changes_.emplace_back(record.name(), true);
}

void Txn::DeleteBucket(std::string_view bucket) {
  touched_ = true;
  batch_.Delete(cf(keys::kBuckets), bucket);
  bucket_changes_.emplace_back(std::string(bucket), false);
}

absl::StatusOr<std::optional<storage::VersionRecord>> Txn::Latest(std::string_view bucket,
                                                                  std::string_view key) {
  TT_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                      db()->Get(cf(keys::kLatest), keys::LatestKey(bucket, key), non_blocking_));
  if (!bytes) return std::optional<storage::VersionRecord>();
  TT_ASSIGN_OR_RETURN(auto v, ParseRecord<storage::VersionRecord>(*bytes, "version"));
  return std::optional<storage::VersionRecord>(std::move(v));
}

absl::StatusOr<std::optional<storage::VersionRecord>> Txn::Version(std::string_view bucket,
                                                                   std::string_view key,
                                                                   std::string_view version_id) {
  if (version_id == keys::kNullVersion) {
    if (non_blocking_) return WouldBlock();  // a scan may read files
    auto it = db()->Scan(cf(keys::kVersions), keys::VersionsOfKey(bucket, key));
    for (it->SeekSuffix(""); it->Valid(); it->Next()) {
      TT_ASSIGN_OR_RETURN(auto v, ParseRecord<storage::VersionRecord>(
                                      std::string_view(it->value().data(), it->value().size()),
                                      "version"));
      if (v.version_id() == keys::kNullVersion) return std::optional<storage::VersionRecord>(std::move(v));
    }
    TT_RETURN_IF_ERROR(it->status());
    return std::optional<storage::VersionRecord>();
  }
  std::optional<uint64_t> seq = keys::SeqOfVersionId(version_id);
  if (!seq) return std::optional<storage::VersionRecord>();
  TT_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                      db()->Get(cf(keys::kVersions), keys::VersionKey(bucket, key, *seq), non_blocking_));
  if (!bytes) return std::optional<storage::VersionRecord>();
  TT_ASSIGN_OR_RETURN(auto v, ParseRecord<storage::VersionRecord>(*bytes, "version"));
  if (v.version_id() != version_id) return std::optional<storage::VersionRecord>();
  return std::optional<storage::VersionRecord>(std::move(v));
}

absl::StatusOr<std::optional<storage::VersionRecord>> Txn::NewestExcept(
    std::string_view bucket, std::string_view key, const std::vector<uint64_t>& excluding) {
  auto it = db()->Scan(cf(keys::kVersions), keys::VersionsOfKey(bucket, key));
  for (it->SeekSuffix(""); it->Valid(); it->Next()) {
    TT_ASSIGN_OR_RETURN(auto v, ParseRecord<storage::VersionRecord>(
                                    std::string_view(it->value().data(), it->value().size()),
                                    "version"));
    if (std::find(excluding.begin(), excluding.end(), v.seq()) != excluding.end()) continue;
    return std::optional<storage::VersionRecord>(std::move(v));
  }
  TT_RETURN_IF_ERROR(it->status());
  return std::optional<storage::VersionRecord>();
}

void Txn::CountVersion(std::string_view bucket, const storage::VersionRecord& v, int sign) {
  BucketCounts& c = count_deltas_[std::string(bucket)];
  if (v.delete_marker()) {
    c.delete_markers += sign;
  } else {
    c.objects += sign;
    c.bytes += sign * v.size();
  }
}

void Txn::AddVersion(std::string_view bucket, const storage::VersionRecord& v) {
  touched_ = true;
  batch_.Put(cf(keys::kVersions), keys::VersionKey(bucket, v.key(), v.seq()), Serialized(v));
  RefExtents(v.extents(), +1);
  CountVersion(bucket, v, +1);
}

void Txn::RemoveVersion(std::string_view bucket, const storage::VersionRecord& v) {
  touched_ = true;
  batch_.Delete(cf(keys::kVersions), keys::VersionKey(bucket, v.key(), v.seq()));
  RefExtents(v.extents(), -1);
  CountVersion(bucket, v, -1);
}

void Txn::RewriteVersion(std::string_view bucket, const storage::VersionRecord& v, bool is_latest) {
  touched_ = true;
  batch_.Put(cf(keys::kVersions), keys::VersionKey(bucket, v.key(), v.seq()), Serialized(v));
  if (is_latest) SetLatest(bucket, v);
}

void Txn::SetLatest(std::string_view bucket, const storage::VersionRecord& v) {
  touched_ = true;
  batch_.Put(cf(keys::kLatest), keys::LatestKey(bucket, v.key()), Serialized(v));
}

void Txn::ClearLatest(std::string_view bucket, std::string_view key) {
  touched_ = true;
  batch_.Delete(cf(keys::kLatest), keys::LatestKey(bucket, key));
}

void Txn::NewBlob(const std::string& blob_id, int64_t size) {
  touched_ = true;
  new_blobs_[blob_id] = size;
}

void Txn::Ref(const std::string& blob_id) {
  touched_ = true;
  ++ref_deltas_[blob_id];
}

void Txn::Unref(const std::string& blob_id) {
  touched_ = true;
  --ref_deltas_[blob_id];
}

void Txn::RefExtents(const google::protobuf::RepeatedPtrField<storage::Extent>& extents, int delta) {
  for (const storage::Extent& e : extents) {
    touched_ = true;
    ref_deltas_[e.blob_id()] += delta;
  }
}

void Txn::Pin(const std::vector<std::string>& blob_ids) {
  pins_.insert(pins_.end(), blob_ids.begin(), blob_ids.end());
}

}  // namespace thingtank::objects
