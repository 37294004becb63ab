#include "services/objects/multipart.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "services/objects/core/byte_range.h"
#include "services/objects/core/checksums.h"
#include "services/objects/core/conditions.h"
#include "services/objects/core/names.h"
#include "services/objects/core/s3_errors.h"
#include "services/objects/storage/object_keys.h"
#include "services/objects/versioning.h"

namespace thingtank::objects {
namespace {

using google::protobuf::util::TimeUtil;

constexpr int kMaxParts = 10000;
constexpr int64_t kMaxPartSize = 5LL * 1024 * 1024 * 1024;

absl::Status ValidatePartNumber(int32_t n, std::string_view field) {
  if (n < 1 || n > kMaxParts) {
    return s3::FieldError(field, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive");
  }
  return absl::OkStatus();
}

absl::Status NoSuchUpload(std::string_view upload_id) {
  return s3::Error("NoSuchUpload",
                   "The specified upload does not exist. The upload ID may be invalid, or the upload "
                   "may have been aborted or completed.",
                   {{"UploadId", std::string(upload_id)}});
}

absl::StatusOr<storage::UploadRecord> ReadUpload(Txn& txn, const std::string& bucket,
                                                 const std::string& key, const std::string& upload_id) {
  TT_RETURN_IF_ERROR(txn.Bucket(bucket).status());
  TT_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                      txn.db()->Get(txn.cf(keys::kUploads), keys::UploadKey(bucket, key, upload_id)));
  if (!bytes) return NoSuchUpload(upload_id);
  storage::UploadRecord u;
  if (!u.ParseFromString(*bytes)) return absl::DataLossError("corrupt upload record");
  return u;
}

absl::StatusOr<std::vector<storage::PartRecord>> ReadParts(Txn& txn, const std::string& upload_id) {
  std::vector<storage::PartRecord> parts;
  auto it = txn.db()->Scan(txn.cf(keys::kParts), keys::PartsPrefix(upload_id));
  for (it->SeekSuffix(""); it->Valid(); it->Next()) {
    storage::PartRecord p;
    if (!p.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("corrupt part record");
    }
    parts.push_back(std::move(p));
  }
  TT_RETURN_IF_ERROR(it->status());
  return parts;
}

// Drops an upload and every part it holds (their blobs released), except
// the part numbers in `kept` (their references pass to the new object).
void DropUpload(Txn& txn, const std::string& bucket, const storage::UploadRecord& u,
                const std::vector<storage::PartRecord>& parts, const std::vector<int32_t>& kept) {
  for (const storage::PartRecord& p : parts) {
    txn.batch()->Delete(txn.cf(keys::kParts), keys::PartKey(u.upload_id(), p.part_number()));
    if (std::find(kept.begin(), kept.end(), p.part_number()) == kept.end()) {
      txn.RefExtents(p.extents(), -1);
    }
  }
  txn.batch()->Delete(txn.cf(keys::kUploads), keys::UploadKey(bucket, u.key(), u.upload_id()));
  txn.UploadEnded();
}

}  // namespace

absl::StatusOr<v1::CreateMultipartUploadResponse> MultipartOps::CreateMultipartUpload(
    const v1::CreateMultipartUploadRequest& r) {
  TT_RETURN_IF_ERROR(ValidateKey(r.key(), "key"));
  TT_RETURN_IF_ERROR(ValidateUserMetadata(Normalized(r.headers()).metadata()));
  TT_RETURN_IF_ERROR(ValidateTags(r.tags(), 10, "tags"));
  storage::UploadRecord u;
  TT_RETURN_IF_ERROR(catalog_->Run([&](Txn& txn) -> absl::Status {
    TT_RETURN_IF_ERROR(txn.Bucket(r.bucket()).status());
    u.set_key(r.key());
    u.set_upload_id(keys::MakeUploadId(txn.NextSeq()));
    u.set_initiated_micros(absl::ToUnixMicros(txn.now()));
    *u.mutable_headers() = Normalized(r.headers());
    u.set_checksum_algorithm(r.checksum_algorithm());
    *u.mutable_tags() = r.tags();
    txn.batch()->Put(txn.cf(keys::kUploads), keys::UploadKey(r.bucket(), r.key(), u.upload_id()),
                     u.SerializeAsString());
    txn.UploadStarted();
    return absl::OkStatus();
  }));
  v1::CreateMultipartUploadResponse response;
  response.set_bucket(r.bucket());
  response.set_key(r.key());
  response.set_upload_id(u.upload_id());
  return response;
}

// ---------------------------------------------------------------- parts

PartSession::PartSession(MultipartOps* ops, v1::UploadPartHeader header, storage::UploadRecord upload,
                         std::vector<v1::ChecksumAlgorithm> checksums)
    : ops_(ops),
      header_(std::move(header)),
      upload_(std::move(upload)),
      sink_(ops->catalog_->blobs(), std::move(checksums), /*allow_inline=*/false) {}

absl::Status PartSession::Append(std::string_view data) {
  if (ops_->objects_->observer() != nullptr) {
    ops_->objects_->observer()->BytesIn(static_cast<int64_t>(data.size()));
  }
  if (sink_.size() + static_cast<int64_t>(data.size()) > kMaxPartSize) {
    return s3::Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed part size (5 GiB)");
  }
  return sink_.Append(data);
}

absl::StatusOr<v1::UploadPartResponse> PartSession::Finish() {
  TT_RETURN_IF_ERROR(sink_.Finish());
  if (header_.has_content_length() && header_.content_length() >= 0 &&
      header_.content_length() != sink_.size()) {
    return s3::FieldError("header.content_length", "IncompleteBody",
                          "You did not provide the number of bytes specified by the Content-Length");
  }
  TT_RETURN_IF_ERROR(
      VerifyDigest(sink_.digest(), header_.content_md5(), header_.checksums(), "header.content_md5"));
  storage::PartRecord part;
  part.set_part_number(header_.part_number());
  part.set_md5(sink_.digest().md5);
  *part.mutable_checksums() = sink_.digest().checksums;
  TT_RETURN_IF_ERROR(ops_->catalog_->Run([&](Txn& txn) -> absl::Status {
    TT_RETURN_IF_ERROR(ReadUpload(txn, header_.bucket(), header_.key(), header_.upload_id()).status());
    sink_.MoveInto(txn, &part);
    part.set_modified_micros(absl::ToUnixMicros(txn.now()));
    return ops_->StagePart(txn, header_.upload_id(), part);
  }));
  sink_.Committed();
  v1::UploadPartResponse response;
  response.set_etag(QuoteEtag(sink_.digest().EtagHex()));
  *response.mutable_checksums() = sink_.digest().checksums;
  return response;
}

absl::Status MultipartOps::StagePart(Txn& txn, const std::string& upload_id,
                                     const storage::PartRecord& part) {
  std::string part_key = keys::PartKey(upload_id, part.part_number());
  TT_ASSIGN_OR_RETURN(std::optional<std::string> old, txn.db()->Get(txn.cf(keys::kParts), part_key));
  if (old) {
    storage::PartRecord replaced;
    if (!replaced.ParseFromString(*old)) return absl::DataLossError("corrupt part record");
    txn.RefExtents(replaced.extents(), -1);
  }
  txn.batch()->Put(txn.cf(keys::kParts), part_key, part.SerializeAsString());
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<PartSession>> MultipartOps::StartPart(const v1::UploadPartHeader& h) {
  TT_RETURN_IF_ERROR(ValidateKey(h.key(), "header.key"));
  TT_RETURN_IF_ERROR(ValidatePartNumber(h.part_number(), "header.part_number"));
  storage::UploadRecord upload;
  TT_RETURN_IF_ERROR(catalog_->Run([&](Txn& txn) -> absl::Status {
    TT_ASSIGN_OR_RETURN(upload, ReadUpload(txn, h.bucket(), h.key(), h.upload_id()));
    return absl::OkStatus();
  }));
  std::vector<v1::ChecksumAlgorithm> checksums;
  TT_ASSIGN_OR_RETURN(checksums, ChecksumsToCompute(upload.checksum_algorithm(), h.checksums()));
  return std::unique_ptr<PartSession>(new PartSession(this, h, std::move(upload), std::move(checksums)));
}

absl::StatusOr<v1::UploadPartCopyResponse> MultipartOps::UploadPartCopy(const v1::UploadPartCopyRequest& r) {
  TT_RETURN_IF_ERROR(ValidateKey(r.key(), "key"));
  TT_RETURN_IF_ERROR(ValidateKey(r.source_key(), "source_key"));
  TT_RETURN_IF_ERROR(ValidatePartNumber(r.part_number(), "part_number"));
  storage::UploadRecord upload;
  TT_RETURN_IF_ERROR(catalog_->Run([&](Txn& txn) -> absl::Status {
    TT_ASSIGN_OR_RETURN(upload, ReadUpload(txn, r.bucket(), r.key(), r.upload_id()));
    return absl::OkStatus();
  }));
  PinnedBlobs pins(catalog_);
  TT_ASSIGN_OR_RETURN(storage::VersionRecord source,
                      objects_->Resolve(r.source_bucket(), r.source_key(), r.source_version_id(), &pins.ids));
  absl::Status cond = CheckReadConditions(r.source_conditions(), StateOf(source), catalog_->clock()->Now());
  if (!cond.ok()) {
    return s3::Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
  }
  int64_t first = 0;
  int64_t length = source.size();
  if (!r.source_range().empty()) {
    absl::StatusOr<std::optional<ByteRange>> range =
        ParseRange(r.source_range(), static_cast<uint64_t>(source.size()), "source_range");
    if (!range.ok()) {
      return s3::FieldError("source_range", "InvalidArgument",
                            absl::StrCat("The x-amz-copy-source-range value must be of the form "
                                         "bytes=first-last where first and last are the zero-based "
                                         "offsets of the first and last bytes to copy: ",
                                         range.status().message()));
    }
    if (*range) {
      first = static_cast<int64_t>((*range)->first);
      length = static_cast<int64_t>((*range)->length());
    }
  }
  // The part's MD5 (and the upload's checksum) are of the copied range: read, never written again.
  std::vector<v1::ChecksumAlgorithm> checksums;
  if (upload.checksum_algorithm() != v1::CHECKSUM_ALGORITHM_UNSPECIFIED) {
    checksums.push_back(upload.checksum_algorithm());
  }
  TT_ASSIGN_OR_RETURN(Digest digest, DigestOf(catalog_->blobs(), source, first, length, checksums));
  storage::PartRecord part;
  part.set_part_number(r.part_number());
  part.set_size(length);
  part.set_md5(digest.md5);
  *part.mutable_checksums() = digest.checksums;
  std::unique_ptr<BlobStore::Writer> inline_copy;
  if (source.extents_size() == 0 && length > 0) {
    // Inline content has no blob to share: this small part gets its own file.
    TT_ASSIGN_OR_RETURN(inline_copy, catalog_->blobs()->Create());
    TT_RETURN_IF_ERROR(inline_copy->Append(std::string_view(source.inline_data()).substr(
        static_cast<size_t>(first), static_cast<size_t>(length))));
    TT_RETURN_IF_ERROR(inline_copy->Finish());
  }
  TT_RETURN_IF_ERROR(catalog_->Run([&](Txn& txn) -> absl::Status {
    TT_RETURN_IF_ERROR(ReadUpload(txn, r.bucket(), r.key(), r.upload_id()).status());
    // The source must still hold its blobs' references (it may have gone).
    TT_ASSIGN_OR_RETURN(std::optional<storage::VersionRecord> still,
                        txn.Version(r.source_bucket(), r.source_key(), source.version_id()));
    if (!still) {
      return s3::Error("OperationAborted", "The copy source changed during the copy; please try again.");
    }
    part.set_modified_micros(absl::ToUnixMicros(txn.now()));
    if (inline_copy != nullptr) {
      storage::Extent* e = part.add_extents();
      e->set_blob_id(inline_copy->id());
      e->set_offset(0);
      e->set_length(length);
      txn.NewBlob(inline_copy->id(), length);
      txn.Ref(inline_copy->id());
    } else {
      *part.mutable_extents() = SliceExtents(source, first, length);
      txn.RefExtents(part.extents(), +1);
    }
    return StagePart(txn, r.upload_id(), part);
  }));
  if (inline_copy != nullptr) inline_copy->Keep();
  v1::UploadPartCopyResponse response;
  response.set_etag(QuoteEtag(digest.EtagHex()));
  *response.mutable_last_modified() = TimeUtil::MicrosecondsToTimestamp(part.modified_micros());
  response.set_copy_source_version_id(source.version_id());
  *response.mutable_checksums() = digest.checksums;
  return response;
}

absl::StatusOr<v1::ListPartsResponse> MultipartOps::ListParts(const v1::ListPartsRequest& r) {
  if (r.max_parts() < 0) return s3::FieldError("max_parts", "InvalidArgument", "must not be negative");
  int limit = r.max_parts() == 0 || r.max_parts() > 1000 ? 1000 : r.max_parts();
  storage::UploadRecord upload;
  std::vector<storage::PartRecord> parts;
  TT_RETURN_IF_ERROR(catalog_->Run([&](Txn& txn) -> absl::Status {
    TT_ASSIGN_OR_RETURN(upload, ReadUpload(txn, r.bucket(), r.key(), r.upload_id()));
    TT_ASSIGN_OR_RETURN(parts, ReadParts(txn, r.upload_id()));
    return absl::OkStatus();
  }));
  v1::ListPartsResponse response;
  response.set_checksum_algorithm(upload.checksum_algorithm());
  *response.mutable_initiated() = TimeUtil::MicrosecondsToTimestamp(upload.initiated_micros());
  for (const storage::PartRecord& p : parts) {
    if (p.part_number() <= r.part_number_marker()) continue;
    if (response.parts_size() == limit) {
      response.set_is_truncated(true);
      response.set_next_part_number_marker(response.parts(limit - 1).part_number());
      break;
    }
    v1::Part* out = response.add_parts();
    out->set_part_number(p.part_number());
    out->set_etag(QuoteEtag(Digest{p.md5(), {}}.EtagHex()));
    out->set_size(p.size());
    *out->mutable_last_modified() = TimeUtil::MicrosecondsToTimestamp(p.modified_micros());
    *out->mutable_checksums() = p.checksums();
  }
  return response;
}

absl::StatusOr<v1::CompleteMultipartUploadResponse> MultipartOps::CompleteMultipartUpload(
    const v1::CompleteMultipartUploadRequest& r) {
  TT_RETURN_IF_ERROR(ValidateKey(r.key(), "key"));
  if (r.parts_size() == 0) {
    return s3::FieldError("parts", "MalformedXML",
                          "The XML you provided was not well-formed or did not validate against our published schema");
  }
  for (int i = 0; i < r.parts_size(); ++i) {
    TT_RETURN_IF_ERROR(ValidatePartNumber(r.parts(i).part_number(), absl::StrCat("parts[", i, "].part_number")));
    if (i > 0 && r.parts(i).part_number() <= r.parts(i - 1).part_number()) {
      return s3::Error("InvalidPartOrder",
                       "The list of parts was not in ascending order. The parts list must be specified "
                       "in order by part number.");
    }
  }
  storage::VersionRecord committed;
  TT_RETURN_IF_ERROR(catalog_->Run([&](Txn& txn) -> absl::Status {
    TT_ASSIGN_OR_RETURN(storage::BucketRecord bucket, txn.Bucket(r.bucket()));
    TT_ASSIGN_OR_RETURN(storage::UploadRecord upload, ReadUpload(txn, r.bucket(), r.key(), r.upload_id()));
    TT_ASSIGN_OR_RETURN(std::vector<storage::PartRecord> parts, ReadParts(txn, r.upload_id()));
    absl::flat_hash_map<int32_t, const storage::PartRecord*> by_number;
    for (const storage::PartRecord& p : parts) by_number[p.part_number()] = &p;
    storage::VersionRecord v;
    v.set_key(r.key());
    *v.mutable_headers() = upload.headers();
    *v.mutable_tags() = upload.tags();
    std::vector<std::string> md5s;
    std::vector<std::string> part_checksums;
    std::vector<int32_t> kept;
    int64_t size = 0;
    for (int i = 0; i < r.parts_size(); ++i) {
      const v1::CompletedPart& want = r.parts(i);
      auto found = by_number.find(want.part_number());
      const storage::PartRecord* p = found == by_number.end() ? nullptr : found->second;
      if (p == nullptr || UnquoteEtag(want.etag()) != Digest{p->md5(), {}}.EtagHex()) {
        return s3::Error("InvalidPart",
                         "One or more of the specified parts could not be found. The part may not have "
                         "been uploaded, or the specified entity tag may not match the part's entity tag.",
                         {{"PartNumber", absl::StrCat(want.part_number())}});
      }
      if (i + 1 < r.parts_size() && p->size() < min_part_size_) {
        return s3::Error("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.",
                         {{"PartNumber", absl::StrCat(want.part_number())},
                          {"ProposedSize", absl::StrCat(p->size())},
                          {"MinSizeAllowed", absl::StrCat(min_part_size_)}});
      }
      v1::ChecksumAlgorithm alg = upload.checksum_algorithm();
      if (alg != v1::CHECKSUM_ALGORITHM_UNSPECIFIED) {
        std::string given = ChecksumOf(want.checksums(), alg);
        if (!given.empty() && given != ChecksumOf(p->checksums(), alg)) {
          return s3::Error("InvalidPart", absl::StrCat("The checksum of part ", want.part_number(),
                                                       " does not match the uploaded part"));
        }
        part_checksums.push_back(ChecksumOf(p->checksums(), alg));
      }
      md5s.push_back(p->md5());
      kept.push_back(p->part_number());
      for (const storage::Extent& e : p->extents()) *v.add_extents() = e;
      v.add_part_sizes(p->size());
      size += p->size();
    }
    v.set_size(size);
    std::string etag = UnquoteEtag(MultipartEtag(md5s));
    v.set_etag(etag);
    if (upload.checksum_algorithm() != v1::CHECKSUM_ALGORITHM_UNSPECIFIED) {
      TT_ASSIGN_OR_RETURN(std::string composite,
                          CompositeChecksum(upload.checksum_algorithm(), part_checksums));
      SetChecksum(v.mutable_checksums(), upload.checksum_algorithm(), composite);
    }
    // The listed parts' references pass to the object: DropUpload keeps
    // them, and AddVersion (in StageWrite) would take one more per extent.
    DropUpload(txn, r.bucket(), upload, parts, kept);
    txn.RefExtents(v.extents(), -1);
    TT_ASSIGN_OR_RETURN(committed, StageWrite(txn, bucket, std::move(v), r.conditions()));
    objects_->StageEvent(txn, bucket, "ObjectCreated:CompleteMultipartUpload", committed);
    return absl::OkStatus();
  }));
  objects_->EventsCommitted();
  v1::CompleteMultipartUploadResponse response;
  response.set_location(absl::StrCat("/", r.bucket(), "/", r.key()));
  response.set_bucket(r.bucket());
  response.set_key(r.key());
  response.set_etag(QuoteEtag(committed.etag()));
  response.set_version_id(committed.version_id());
  *response.mutable_checksums() = committed.checksums();
  response.set_size(committed.size());
  return response;
}

absl::StatusOr<v1::AbortMultipartUploadResponse> MultipartOps::AbortMultipartUpload(
    const v1::AbortMultipartUploadRequest& r) {
  TT_RETURN_IF_ERROR(ValidateKey(r.key(), "key"));
  TT_RETURN_IF_ERROR(catalog_->Run([&](Txn& txn) -> absl::Status {
    TT_ASSIGN_OR_RETURN(storage::UploadRecord upload, ReadUpload(txn, r.bucket(), r.key(), r.upload_id()));
    TT_ASSIGN_OR_RETURN(std::vector<storage::PartRecord> parts, ReadParts(txn, r.upload_id()));
    DropUpload(txn, r.bucket(), upload, parts, {});
    return absl::OkStatus();
  }));
  return v1::AbortMultipartUploadResponse();
}

}  // namespace thingtank::objects
