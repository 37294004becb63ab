#include "services/objects/lister.h"

#include <optional>
#include <string>

#include "absl/strings/match.h"
#include "google/protobuf/util/time_util.h"
#include "services/common/storage/key_codec.h"
#include "services/objects/core/listing.h"
#include "services/objects/core/s3_errors.h"
#include "services/common/string_views.h"
#include "services/objects/objects.h"
#include "services/objects/storage/object_keys.h"

namespace thingtank::objects {
namespace {

constexpr int kMaxKeys = 1000;

// Positions `it` (bounded to keys starting with `bound`) at the first key
// >= `target` (full keys). False when no such key can be in bounds.
bool SeekTo(Db::PrefixIterator* it, std::string_view bound, std::string_view target) {
  if (target <= bound) {
    it->SeekSuffix("");
    return true;
  }
  if (absl::StartsWith(Av(target), Av(bound))) {
    it->SeekSuffix(target.substr(bound.size()));
    return true;
  }
  return false;  // past every key starting with `bound`
}

absl::StatusOr<int> Limit(int requested, std::string_view field) {
  if (requested < 0) return s3::FieldError(field, "InvalidArgument", "must not be negative");
  return requested == 0 || requested > kMaxKeys ? kMaxKeys : requested;
}

template <typename Record>
absl::StatusOr<Record> Parse(const rocksdb::Slice& bytes) {
  Record r;
  if (!r.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError("corrupt record in a listing");
  }
  return r;
}

}  // namespace

absl::StatusOr<v1::ListObjectsV2Response> Lister::ListObjectsV2(const v1::ListObjectsV2Request& r) {
  TT_ASSIGN_OR_RETURN(int limit, Limit(r.max_keys(), "max_keys"));
  TT_RETURN_IF_ERROR(catalog_->GetBucket(r.bucket()).status());
  // Where to resume: after a key, or after everything under a common prefix.
  std::string resume;
  bool resume_is_prefix = false;
  if (!r.continuation_token().empty()) {
    TT_ASSIGN_OR_RETURN(auto token, DecodeListToken(r.continuation_token()));
    resume = token.first;
    resume_is_prefix = token.second == "p";
  } else {
    resume = r.start_after();
  }
  const std::string bucket_prefix = keys::BucketPrefix(r.bucket());
  const std::string bound = bucket_prefix + r.prefix();
  auto it = catalog_->db()->Scan(catalog_->cf(keys::kLatest), bound);
  bool in_range = true;
  if (resume.empty()) {
    it->SeekSuffix("");
  } else if (resume_is_prefix) {
    std::string next = thingtank::keys::PrefixSuccessor(resume);
    in_range = !next.empty() && SeekTo(it.get(), bound, bucket_prefix + next);
  } else {
    in_range = SeekTo(it.get(), bound, bucket_prefix + resume + std::string(1, '\0'));
  }
  v1::ListObjectsV2Response out;
  out.set_prefix(r.prefix());
  out.set_delimiter(r.delimiter());
  out.set_max_keys(limit);
  out.set_start_after(r.start_after());
  out.set_continuation_token(r.continuation_token());
  std::string last;
  bool last_is_prefix = false;
  int count = 0;
  while (in_range && it->Valid()) {
    TT_ASSIGN_OR_RETURN(auto v, Parse<storage::VersionRecord>(it->value()));
    if (v.delete_marker()) {
      it->Next();
      continue;
    }
    std::optional<std::string> rolled = RolledUpPrefix(v.key(), r.prefix(), r.delimiter());
    if (count == limit) {  // one more entry exists: the listing is cut here
      out.set_is_truncated(true);
      out.set_next_continuation_token(EncodeListToken(last, last_is_prefix ? "p" : "k"));
      break;
    }
    ++count;
    if (rolled) {
      out.add_common_prefixes(*rolled);
      last = *rolled;
      last_is_prefix = true;
      std::string next = thingtank::keys::PrefixSuccessor(*rolled);
      in_range = !next.empty() && SeekTo(it.get(), bound, bucket_prefix + next);
      continue;
    }
    v1::ObjectInfo* info = out.add_contents();
    *info = ToInfo(v, /*is_latest=*/true, /*with_checksums=*/false);
    info->clear_headers();
    info->clear_version_id();
    if (!r.fetch_owner()) info->clear_owner();
    last = v.key();
    last_is_prefix = false;
    it->Next();
  }
  TT_RETURN_IF_ERROR(it->status());
  out.set_key_count(count);
  return out;
}

absl::StatusOr<v1::ListObjectVersionsResponse> Lister::ListObjectVersions(
    const v1::ListObjectVersionsRequest& r) {
  TT_ASSIGN_OR_RETURN(int limit, Limit(r.max_keys(), "max_keys"));
  TT_RETURN_IF_ERROR(catalog_->GetBucket(r.bucket()).status());
  if (!r.version_id_marker().empty() && r.key_marker().empty()) {
    return s3::FieldError("version_id_marker", "InvalidArgument",
                          "A version-id marker cannot be specified without a key marker.");
  }
  const std::string bucket_prefix = keys::BucketPrefix(r.bucket());
  const std::string bound = keys::VersionsWithPrefix(r.bucket(), r.prefix());
  auto it = catalog_->db()->Scan(catalog_->cf(keys::kVersions), bound);
  bool in_range = true;
  if (r.key_marker().empty()) {
    it->SeekSuffix("");
  } else if (!r.delimiter().empty() && absl::EndsWith(r.key_marker(), r.delimiter()) &&
             absl::StartsWith(r.key_marker(), r.prefix()) &&
             RolledUpPrefix(r.key_marker(), r.prefix(), r.delimiter()) == r.key_marker()) {
    // The marker is a common prefix of the previous page: skip all under it.
    std::string next = thingtank::keys::PrefixSuccessor(keys::VersionsWithPrefix(r.bucket(), r.key_marker()));
    in_range = !next.empty() && SeekTo(it.get(), bound, next);
  } else if (r.version_id_marker().empty()) {
    std::string next = thingtank::keys::PrefixSuccessor(keys::VersionsOfKey(r.bucket(), r.key_marker()));
    in_range = !next.empty() && SeekTo(it.get(), bound, next);
  } else {
    // After one version of the marker key: find its seq.
    std::optional<uint64_t> seq;
    TT_RETURN_IF_ERROR(catalog_->Run([&](Txn& txn) -> absl::Status {
      TT_ASSIGN_OR_RETURN(auto v, txn.Version(r.bucket(), r.key_marker(), r.version_id_marker()));
      if (v) seq = v->seq();
      return absl::OkStatus();
    }));
    if (!seq) {
      return s3::FieldError("version_id_marker", "InvalidArgument", "Invalid version id specified");
    }
    in_range = SeekTo(it.get(), bound,
                      keys::VersionKey(r.bucket(), r.key_marker(), *seq) + std::string(1, '\0'));
  }
  v1::ListObjectVersionsResponse out;
  std::string current_key;
  std::optional<uint64_t> latest_seq;
  std::string last_key, last_version;
  int count = 0;
  while (in_range && it->Valid()) {
    TT_ASSIGN_OR_RETURN(auto v, Parse<storage::VersionRecord>(it->value()));
    std::optional<std::string> rolled = RolledUpPrefix(v.key(), r.prefix(), r.delimiter());
    if (count == limit) {
      out.set_is_truncated(true);
      out.set_next_key_marker(last_key);
      out.set_next_version_id_marker(last_version);
      break;
    }
    ++count;
    if (rolled) {
      out.add_common_prefixes(*rolled);
      last_key = *rolled;
      last_version.clear();
      std::string next = thingtank::keys::PrefixSuccessor(keys::VersionsWithPrefix(r.bucket(), *rolled));
      in_range = !next.empty() && SeekTo(it.get(), bound, next);
      continue;
    }
    if (v.key() != current_key) {
      current_key = v.key();
      latest_seq.reset();
      TT_ASSIGN_OR_RETURN(std::optional<std::string> latest,
                          catalog_->db()->Get(catalog_->cf(keys::kLatest), keys::LatestKey(r.bucket(), v.key())));
      if (latest) {
        TT_ASSIGN_OR_RETURN(auto l, Parse<storage::VersionRecord>(rocksdb::Slice(*latest)));
        latest_seq = l.seq();
      }
    }
    bool is_latest = latest_seq && *latest_seq == v.seq();
    v1::ObjectInfo info = ToInfo(v, is_latest, /*with_checksums=*/false);
    info.clear_headers();
    if (v.delete_marker()) {
      *out.add_delete_markers() = std::move(info);
    } else {
      *out.add_versions() = std::move(info);
    }
    last_key = v.key();
    last_version = v.version_id();
    it->Next();
  }
  TT_RETURN_IF_ERROR(it->status());
  return out;
}

absl::StatusOr<v1::ListMultipartUploadsResponse> Lister::ListMultipartUploads(
    const v1::ListMultipartUploadsRequest& r) {
  TT_ASSIGN_OR_RETURN(int limit, Limit(r.max_uploads(), "max_uploads"));
  TT_RETURN_IF_ERROR(catalog_->GetBucket(r.bucket()).status());
  const std::string bound = keys::UploadsWithPrefix(r.bucket(), r.prefix());
  auto it = catalog_->db()->Scan(catalog_->cf(keys::kUploads), bound);
  bool in_range = true;
  if (r.key_marker().empty()) {
    it->SeekSuffix("");
  } else if (r.upload_id_marker().empty()) {
    std::string next = thingtank::keys::PrefixSuccessor(keys::VersionsOfKey(r.bucket(), r.key_marker()));
    in_range = !next.empty() && SeekTo(it.get(), bound, next);
  } else {
    in_range = SeekTo(it.get(), bound,
                      keys::UploadKey(r.bucket(), r.key_marker(), r.upload_id_marker()) + std::string(1, '\0'));
  }
  v1::ListMultipartUploadsResponse out;
  std::string last_key, last_upload;
  int count = 0;
  while (in_range && it->Valid()) {
    TT_ASSIGN_OR_RETURN(auto u, Parse<storage::UploadRecord>(it->value()));
    std::optional<std::string> rolled = RolledUpPrefix(u.key(), r.prefix(), r.delimiter());
    if (count == limit) {
      out.set_is_truncated(true);
      out.set_next_key_marker(last_key);
      out.set_next_upload_id_marker(last_upload);
      break;
    }
    ++count;
    if (rolled) {
      out.add_common_prefixes(*rolled);
      last_key = *rolled;
      last_upload.clear();
      std::string next = thingtank::keys::PrefixSuccessor(keys::UploadsWithPrefix(r.bucket(), *rolled));
      in_range = !next.empty() && SeekTo(it.get(), bound, next);
      continue;
    }
    v1::MultipartUpload* m = out.add_uploads();
    m->set_key(u.key());
    m->set_upload_id(u.upload_id());
    *m->mutable_initiated() = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(u.initiated_micros());
    m->set_checksum_algorithm(u.checksum_algorithm());
    last_key = u.key();
    last_upload = u.upload_id();
    it->Next();
  }
  TT_RETURN_IF_ERROR(it->status());
  return out;
}

}  // namespace thingtank::objects
