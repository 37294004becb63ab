#include "services/objects/versioning.h"

#include <utility>
#include <vector>

#include "services/objects/storage/object_keys.h"

namespace thingtank::objects {

ObjectState StateOf(const storage::VersionRecord& v) {
  return ObjectState{v.etag(), absl::FromUnixMicros(v.modified_micros())};
}

std::optional<ObjectState> CurrentState(const std::optional<storage::VersionRecord>& latest) {
  if (!latest || latest->delete_marker()) return std::nullopt;
  return StateOf(*latest);
}

namespace {

// Removes the key's "null" version, if any (a write or delete in a bucket
// that is not versioning-enabled replaces it). Returns its seq.
absl::StatusOr<std::optional<storage::VersionRecord>> RemoveNullVersion(Txn& txn,
                                                                        std::string_view bucket,
                                                                        std::string_view key) {
  TT_ASSIGN_OR_RETURN(std::optional<storage::VersionRecord> null_version,
                      txn.Version(bucket, key, keys::kNullVersion));
  if (null_version) txn.RemoveVersion(bucket, *null_version);
  return null_version;
}

}  // namespace

absl::StatusOr<storage::VersionRecord> StageWrite(Txn& txn, const storage::BucketRecord& bucket,
                                                  storage::VersionRecord v,
                                                  const v1::Conditions& conditions) {
  TT_ASSIGN_OR_RETURN(std::optional<storage::VersionRecord> latest, txn.Latest(bucket.name(), v.key()));
  TT_RETURN_IF_ERROR(CheckWriteConditions(conditions, CurrentState(latest)));
  uint64_t seq = txn.NextSeq();
  v.set_seq(seq);
  v.set_modified_micros(absl::ToUnixMicros(txn.now()));
  if (bucket.versioning() == v1::VERSIONING_STATUS_ENABLED) {
    v.set_version_id(keys::MakeVersionId(seq));
  } else if (bucket.versioning() == v1::VERSIONING_STATUS_UNSPECIFIED) {
    // Never versioned: the key's only version, if any, is its latest.
    v.set_version_id(keys::kNullVersion);
    if (latest) txn.RemoveVersion(bucket.name(), *latest);
  } else {
    v.set_version_id(keys::kNullVersion);
    TT_RETURN_IF_ERROR(RemoveNullVersion(txn, bucket.name(), v.key()).status());
  }
  txn.AddVersion(bucket.name(), v);
  txn.SetLatest(bucket.name(), v);
  return v;
}

absl::StatusOr<DeleteOutcome> StageDelete(Txn& txn, const storage::BucketRecord& bucket,
                                          std::string_view key, std::string_view version_id) {
  DeleteOutcome out;
  const std::string& name = bucket.name();
  TT_ASSIGN_OR_RETURN(std::optional<storage::VersionRecord> latest, txn.Latest(name, key));
  if (!version_id.empty()) {
    TT_ASSIGN_OR_RETURN(std::optional<storage::VersionRecord> v, txn.Version(name, key, version_id));
    if (!v) return out;
    txn.RemoveVersion(name, *v);
    out.delete_marker = v->delete_marker();
    out.version_id = v->version_id();
    out.removed_anything = true;
    if (latest && latest->seq() == v->seq()) {
      TT_ASSIGN_OR_RETURN(std::optional<storage::VersionRecord> next,
                          txn.NewestExcept(name, key, {v->seq()}));
      if (next) {
        txn.SetLatest(name, *next);
      } else {
        txn.ClearLatest(name, key);
      }
    }
    out.removed = std::move(v);
    return out;
  }
  if (bucket.versioning() == v1::VERSIONING_STATUS_UNSPECIFIED) {
    TT_ASSIGN_OR_RETURN(std::optional<storage::VersionRecord> removed,
                        RemoveNullVersion(txn, name, key));
    if (!removed) return out;
    out.removed_anything = true;
    out.version_id.clear();
    TT_ASSIGN_OR_RETURN(std::optional<storage::VersionRecord> next,
                        txn.NewestExcept(name, key, {removed->seq()}));
    if (next) {
      txn.SetLatest(name, *next);
    } else {
      txn.ClearLatest(name, key);
    }
    out.removed = std::move(removed);
    return out;
  }
  // Versioned (enabled or suspended): a delete marker becomes the latest.
  storage::VersionRecord marker;
  marker.set_key(std::string(key));
  marker.set_delete_marker(true);
  uint64_t seq = txn.NextSeq();
  marker.set_seq(seq);
  marker.set_modified_micros(absl::ToUnixMicros(txn.now()));
  if (bucket.versioning() == v1::VERSIONING_STATUS_ENABLED) {
    marker.set_version_id(keys::MakeVersionId(seq));
  } else {
    marker.set_version_id(keys::kNullVersion);
    TT_ASSIGN_OR_RETURN(std::optional<storage::VersionRecord> removed,
                        RemoveNullVersion(txn, name, key));
    out.removed = std::move(removed);
  }
  txn.AddVersion(name, marker);
  txn.SetLatest(name, marker);
  out.delete_marker = true;
  out.version_id = marker.version_id();
  out.removed_anything = true;
  return out;
}

}  // namespace thingtank::objects
