#include "services/objects/objects.h"

#include <utility>

#include "absl/strings/ascii.h"
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

constexpr size_t kMaxObjectTags = 10;
constexpr int kMaxDeleteObjects = 1000;

google::protobuf::Timestamp ToTimestamp(int64_t micros) {
  return TimeUtil::MicrosecondsToTimestamp(micros);
}

absl::Status ValidateVersionId(std::string_view version_id, std::string_view field) {
  if (version_id.empty() || version_id == keys::kNullVersion || keys::SeqOfVersionId(version_id)) {
    return absl::OkStatus();
  }
  return s3::FieldError(field, "InvalidArgument", "Invalid version id specified");
}

}  // namespace

v1::ObjectHeaders Normalized(const v1::ObjectHeaders& headers) {
  v1::ObjectHeaders out = headers;
  out.clear_metadata();
  for (const auto& [name, value] : headers.metadata()) {
    (*out.mutable_metadata())[absl::AsciiStrToLower(name)] = value;
  }
  return out;
}

namespace {

// A copy source's conditions fail with PreconditionFailed, never NotModified.
absl::Status CheckCopySourceConditions(const v1::Conditions& c, const storage::VersionRecord& v,
                                       absl::Time now) {
  absl::Status s = CheckReadConditions(c, StateOf(v), now);
  if (!s.ok() && ErrorReason(s) == "NotModified") {
    return s3::Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold");
  }
  return s;
}

// Resolves the version a read or copy names, inside a transaction.
absl::StatusOr<storage::VersionRecord> ResolveIn(Txn& txn, std::string_view bucket,
                                                 std::string_view key, std::string_view version_id,
                                                 bool* is_latest) {
  TT_RETURN_IF_ERROR(txn.Bucket(bucket).status());
  TT_ASSIGN_OR_RETURN(std::optional<storage::VersionRecord> latest, txn.Latest(bucket, key));
  if (version_id.empty()) {
    if (!latest || latest->delete_marker()) {
      std::map<std::string, std::string> meta{{"Key", std::string(key)}};
      if (latest) meta["DeleteMarker"] = "true";
      return s3::Error("NoSuchKey", "The specified key does not exist.", meta);
    }
    if (is_latest != nullptr) *is_latest = true;
    return *std::move(latest);
  }
  TT_ASSIGN_OR_RETURN(std::optional<storage::VersionRecord> v, txn.Version(bucket, key, version_id));
  if (!v) {
    return s3::Error("NoSuchVersion", "The specified version does not exist.",
                     {{"Key", std::string(key)}, {"VersionId", std::string(version_id)}});
  }
  if (v->delete_marker()) {
    return s3::Error("MethodNotAllowed", "The specified method is not allowed against this resource.",
                     {{"DeleteMarker", "true"}, {"VersionId", v->version_id()}});
  }
  if (is_latest != nullptr) *is_latest = latest && latest->seq() == v->seq();
  return *std::move(v);
}

// The range a get or head answers: all, a byte range, or one part.
struct Answer {
  int64_t first = 0;
  int64_t length = 0;
  std::string content_range;
};

absl::StatusOr<Answer> AnswerOf(const storage::VersionRecord& v, std::string_view range,
                                int32_t part_number) {
  Answer a;
  a.length = v.size();
  if (!range.empty() && part_number != 0) {
    return s3::FieldError("part_number", "InvalidArgument",
                          "Cannot specify both Range header and partNumber query parameter");
  }
  if (part_number < 0 || part_number > 10000) {
    return s3::FieldError("part_number", "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive");
  }
  if (part_number > 0) {
    if (v.part_sizes_size() == 0) {
      if (part_number != 1) return s3::Error("InvalidPartNumber", "The requested partnumber is not satisfiable");
      return a;
    }
    if (part_number > v.part_sizes_size()) {
      return s3::Error("InvalidPartNumber", "The requested partnumber is not satisfiable");
    }
    for (int i = 0; i < part_number - 1; ++i) a.first += v.part_sizes(i);
    a.length = v.part_sizes(part_number - 1);
    ByteRange r{static_cast<uint64_t>(a.first), static_cast<uint64_t>(a.first + a.length - 1)};
    if (a.length > 0) a.content_range = ContentRange(r, static_cast<uint64_t>(v.size()));
    return a;
  }
  TT_ASSIGN_OR_RETURN(std::optional<ByteRange> r, ParseRange(range, static_cast<uint64_t>(v.size())));
  if (r) {
    a.first = static_cast<int64_t>(r->first);
    a.length = static_cast<int64_t>(r->length());
    a.content_range = ContentRange(*r, static_cast<uint64_t>(v.size()));
  }
  return a;
}

absl::StatusOr<v1::HeadObjectResponse> HeadOf(const storage::VersionRecord& v, bool is_latest,
                                              std::string_view range, int32_t part_number,
                                              const v1::Conditions& conditions,
                                              v1::ChecksumMode mode, absl::Time now,
                                              int64_t* first) {
  TT_RETURN_IF_ERROR(CheckReadConditions(conditions, StateOf(v), now));
  TT_ASSIGN_OR_RETURN(Answer a, AnswerOf(v, range, part_number));
  bool whole = a.content_range.empty();
  v1::HeadObjectResponse head;
  *head.mutable_info() = ToInfo(v, is_latest, mode == v1::CHECKSUM_MODE_ENABLED && whole);
  head.set_content_range(a.content_range);
  head.set_content_length(a.length);
  *first = a.first;
  return head;
}

}  // namespace

v1::ObjectInfo ToInfo(const storage::VersionRecord& v, bool is_latest, bool with_checksums) {
  v1::ObjectInfo info;
  info.set_key(v.key());
  info.set_version_id(v.version_id());
  info.set_size(v.size());
  if (!v.delete_marker()) info.set_etag(QuoteEtag(v.etag()));
  *info.mutable_last_modified() = ToTimestamp(v.modified_micros());
  *info.mutable_headers() = v.headers();
  if (with_checksums) *info.mutable_checksums() = v.checksums();
  info.set_parts_count(v.part_sizes_size());
  if (!v.delete_marker()) info.set_storage_class("STANDARD");
  info.set_delete_marker(v.delete_marker());
  info.set_is_latest(is_latest);
  info.set_tag_count(v.tags_size());
  info.mutable_owner()->set_id("thingtank");
  info.mutable_owner()->set_display_name("thingtank");
  return info;
}

// ---------------------------------------------------------------- put

PutSession::PutSession(ObjectStore* store, v1::PutObjectHeader header,
                       std::vector<v1::ChecksumAlgorithm> checksums)
    : store_(store),
      header_(std::move(header)),
      sink_(store->catalog()->blobs(), std::move(checksums), /*allow_inline=*/true) {}

absl::Status PutSession::Append(std::string_view data) {
  if (store_->observer() != nullptr) store_->observer()->BytesIn(static_cast<int64_t>(data.size()));
  return sink_.Append(data);
}

absl::StatusOr<v1::PutObjectResponse> PutSession::Finish() {
  TT_RETURN_IF_ERROR(sink_.Finish());
  if (header_.has_content_length() && header_.content_length() >= 0 &&
      header_.content_length() != sink_.size()) {
    return s3::FieldError("header.content_length", "IncompleteBody",
                          absl::StrCat("You did not provide the number of bytes specified by the "
                                       "Content-Length: ", header_.content_length(), " declared, ",
                                       sink_.size(), " sent"));
  }
  TT_RETURN_IF_ERROR(
      VerifyDigest(sink_.digest(), header_.content_md5(), header_.checksums(), "header.content_md5"));
  storage::VersionRecord v;
  v.set_key(header_.key());
  v.set_etag(sink_.digest().EtagHex());
  *v.mutable_headers() = Normalized(header_.headers());
  *v.mutable_checksums() = sink_.digest().checksums;
  *v.mutable_tags() = header_.tags();
  storage::VersionRecord committed;
  TT_RETURN_IF_ERROR(store_->catalog()->Run([&](Txn& txn) -> absl::Status {
    TT_ASSIGN_OR_RETURN(storage::BucketRecord bucket, txn.Bucket(header_.bucket()));
    sink_.MoveInto(txn, &v);
    TT_ASSIGN_OR_RETURN(committed, StageWrite(txn, bucket, std::move(v), header_.conditions()));
    store_->StageEvent(txn, bucket, "ObjectCreated:Put", committed);
    return absl::OkStatus();
  }));
  sink_.Committed();
  store_->EventsCommitted();
  v1::PutObjectResponse response;
  response.set_etag(QuoteEtag(committed.etag()));
  response.set_version_id(committed.version_id());
  *response.mutable_checksums() = committed.checksums();
  response.set_size(committed.size());
  return response;
}

absl::StatusOr<std::unique_ptr<PutSession>> ObjectStore::StartPut(const v1::PutObjectHeader& header) {
  TT_RETURN_IF_ERROR(ValidateKey(header.key(), "header.key"));
  TT_RETURN_IF_ERROR(ValidateUserMetadata(Normalized(header.headers()).metadata()));
  TT_RETURN_IF_ERROR(ValidateTags(header.tags(), kMaxObjectTags, "header.tags"));
  if (header.has_content_length() && header.content_length() > kMaxObjectSize) {
    return s3::FieldError("header.content_length", "EntityTooLarge",
                          "Your proposed upload exceeds the maximum allowed size (5 GiB)");
  }
  TT_ASSIGN_OR_RETURN(std::vector<v1::ChecksumAlgorithm> checksums,
                      ChecksumsToCompute(header.checksum_algorithm(), header.checksums()));
  TT_RETURN_IF_ERROR(catalog_->GetBucket(header.bucket()).status());
  return std::unique_ptr<PutSession>(new PutSession(this, header, std::move(checksums)));
}

// ---------------------------------------------------------------- get, head

ReadSession::ReadSession(ObjectStore* store, v1::HeadObjectResponse head, storage::VersionRecord v,
                         int64_t first, std::vector<std::string> pins)
    : store_(store),
      head_(std::move(head)),
      reader_(store->catalog()->blobs(), v, first, head_.content_length()),
      pins_(std::move(pins)),
      in_memory_(v.extents_size() == 0) {}

ReadSession::~ReadSession() { store_->catalog()->Unpin(pins_); }

absl::Status ReadSession::Next(v1::GetObjectResponse* out, bool* more) {
  int64_t chunk = kReadChunk;
  if (first_) {
    first_ = false;
    *out->mutable_info() = std::move(*head_.mutable_info());
    out->set_content_range(head_.content_range());
    out->set_content_length(head_.content_length());
    chunk = kFirstReadChunk;  // the first bytes reach the caller sooner
  }
  TT_RETURN_IF_ERROR(reader_.Next(out->mutable_data(), chunk));
  if (store_->observer() != nullptr) store_->observer()->BytesOut(static_cast<int64_t>(out->data().size()));
  *more = !reader_.done();
  return absl::OkStatus();
}

absl::StatusOr<storage::VersionRecord> ObjectStore::Resolve(std::string_view bucket,
                                                            std::string_view key,
                                                            std::string_view version_id,
                                                            std::vector<std::string>* pins) {
  storage::VersionRecord v;
  TT_RETURN_IF_ERROR(catalog_->Run([&](Txn& txn) -> absl::Status {
    TT_ASSIGN_OR_RETURN(v, ResolveIn(txn, bucket, key, version_id, nullptr));
    if (pins != nullptr) {
      *pins = BlobIdsOf(v.extents());
      txn.Pin(*pins);
    }
    return absl::OkStatus();
  }));
  return v;
}

absl::StatusOr<std::unique_ptr<ReadSession>> ObjectStore::OpenRead(const v1::GetObjectRequest& r,
                                                                  bool non_blocking) {
  TT_RETURN_IF_ERROR(ValidateKey(r.key(), "key"));
  TT_RETURN_IF_ERROR(ValidateVersionId(r.version_id(), "version_id"));
  storage::VersionRecord v;
  bool is_latest = false;
  std::vector<std::string> pins;
  auto resolve = [&](Txn& txn) -> absl::Status {
    TT_ASSIGN_OR_RETURN(v, ResolveIn(txn, r.bucket(), r.key(), r.version_id(), &is_latest));
    // Content in files is read on the executor (and pinning it would mean
    // unpinning, under the lock, if the reactor thread gave up).
    if (non_blocking && v.extents_size() > 0) return WouldBlock();
    pins = BlobIdsOf(v.extents());
    txn.Pin(pins);
    return absl::OkStatus();
  };
  TT_RETURN_IF_ERROR(non_blocking ? catalog_->RunNonBlocking(resolve) : catalog_->Run(resolve));
  int64_t first = 0;
  absl::StatusOr<v1::HeadObjectResponse> head =
      HeadOf(v, is_latest, r.range(), r.part_number(), r.conditions(), r.checksum_mode(),
             catalog_->clock()->Now(), &first);
  if (!head.ok()) {
    catalog_->Unpin(pins);
    return head.status();
  }
  return std::unique_ptr<ReadSession>(
      new ReadSession(this, *std::move(head), std::move(v), first, std::move(pins)));
}

absl::StatusOr<v1::HeadObjectResponse> ObjectStore::HeadObject(const v1::HeadObjectRequest& r) {
  TT_RETURN_IF_ERROR(ValidateKey(r.key(), "key"));
  TT_RETURN_IF_ERROR(ValidateVersionId(r.version_id(), "version_id"));
  storage::VersionRecord v;
  bool is_latest = false;
  TT_RETURN_IF_ERROR(catalog_->Run([&](Txn& txn) -> absl::Status {
    TT_ASSIGN_OR_RETURN(v, ResolveIn(txn, r.bucket(), r.key(), r.version_id(), &is_latest));
    return absl::OkStatus();
  }));
  int64_t first = 0;
  return HeadOf(v, is_latest, r.range(), r.part_number(), r.conditions(), r.checksum_mode(),
                catalog_->clock()->Now(), &first);
}

// ---------------------------------------------------------------- delete

absl::StatusOr<v1::DeleteObjectResponse> ObjectStore::DeleteObject(const v1::DeleteObjectRequest& r) {
  TT_RETURN_IF_ERROR(ValidateKey(r.key(), "key"));
  TT_RETURN_IF_ERROR(ValidateVersionId(r.version_id(), "version_id"));
  DeleteOutcome outcome;
  TT_RETURN_IF_ERROR(catalog_->Run([&](Txn& txn) -> absl::Status {
    TT_ASSIGN_OR_RETURN(storage::BucketRecord bucket, txn.Bucket(r.bucket()));
    TT_ASSIGN_OR_RETURN(outcome, StageDelete(txn, bucket, r.key(), r.version_id()));
    if (outcome.removed_anything) {
      storage::VersionRecord event_subject;
      event_subject.set_key(r.key());
      event_subject.set_version_id(outcome.version_id);
      bool marker_made = outcome.delete_marker && r.version_id().empty();
      StageEvent(txn, bucket, marker_made ? "ObjectRemoved:DeleteMarkerCreated" : "ObjectRemoved:Delete",
                 event_subject);
    }
    return absl::OkStatus();
  }));
  EventsCommitted();
  v1::DeleteObjectResponse response;
  response.set_delete_marker(outcome.delete_marker);
  response.set_version_id(outcome.version_id);
  return response;
}

absl::StatusOr<v1::DeleteObjectsResponse> ObjectStore::DeleteObjects(const v1::DeleteObjectsRequest& r) {
  if (r.objects_size() == 0 || r.objects_size() > kMaxDeleteObjects) {
    return s3::FieldError("objects", "MalformedXML", "Between 1 and 1000 objects may be deleted at once");
  }
  TT_RETURN_IF_ERROR(catalog_->GetBucket(r.bucket()).status());
  v1::DeleteObjectsResponse response;
  for (const v1::ObjectIdentifier& id : r.objects()) {
    v1::DeleteObjectRequest one;
    one.set_bucket(r.bucket());
    one.set_key(id.key());
    one.set_version_id(id.version_id());
    absl::StatusOr<v1::DeleteObjectResponse> done = DeleteObject(one);
    if (!done.ok()) {
      v1::DeleteError* e = response.add_errors();
      e->set_key(id.key());
      e->set_version_id(id.version_id());
      e->set_code(ErrorReason(done.status()));
      e->set_message(std::string(done.status().message()));
      continue;
    }
    if (r.quiet()) continue;
    v1::DeletedObject* d = response.add_deleted();
    d->set_key(id.key());
    d->set_version_id(id.version_id());
    d->set_delete_marker(done->delete_marker());
    if (done->delete_marker() && id.version_id().empty()) {
      d->set_delete_marker_version_id(done->version_id());
    }
  }
  return response;
}

// ---------------------------------------------------------------- copy

absl::StatusOr<v1::CopyObjectResponse> ObjectStore::CopyObject(const v1::CopyObjectRequest& r) {
  TT_RETURN_IF_ERROR(ValidateKey(r.source_key(), "source_key"));
  TT_RETURN_IF_ERROR(ValidateKey(r.key(), "key"));
  TT_RETURN_IF_ERROR(ValidateVersionId(r.source_version_id(), "source_version_id"));
  bool replace_meta = r.metadata_directive() == v1::METADATA_DIRECTIVE_REPLACE;
  bool replace_tags = r.tagging_directive() == v1::METADATA_DIRECTIVE_REPLACE;
  if (replace_meta) TT_RETURN_IF_ERROR(ValidateUserMetadata(Normalized(r.headers()).metadata()));
  if (replace_tags) TT_RETURN_IF_ERROR(ValidateTags(r.tags(), kMaxObjectTags, "tags"));
  // The source, pinned; a checksum it lacks is computed outside the lock.
  PinnedBlobs pins(catalog_);
  TT_ASSIGN_OR_RETURN(storage::VersionRecord source,
                      Resolve(r.source_bucket(), r.source_key(), r.source_version_id(), &pins.ids));
  TT_RETURN_IF_ERROR(CheckCopySourceConditions(r.source_conditions(), source, catalog_->clock()->Now()));
  v1::Checksums checksums = source.checksums();
  v1::ChecksumAlgorithm alg = r.checksum_algorithm();
  if (alg != v1::CHECKSUM_ALGORITHM_UNSPECIFIED && ChecksumOf(checksums, alg).empty()) {
    TT_ASSIGN_OR_RETURN(Digest d, DigestOf(catalog_->blobs(), source, 0, source.size(), {alg}));
    checksums = d.checksums;
  }
  bool same_object = r.source_bucket() == r.bucket() && r.source_key() == r.key();
  if (same_object && !replace_meta && !replace_tags && alg == v1::CHECKSUM_ALGORITHM_UNSPECIFIED) {
    return s3::Error("InvalidRequest",
                     "This copy request is illegal because it is trying to copy an object to itself "
                     "without changing the object's metadata, storage class, website redirect "
                     "location or encryption attributes.");
  }
  storage::VersionRecord committed;
  TT_RETURN_IF_ERROR(catalog_->Run([&](Txn& txn) -> absl::Status {
    TT_ASSIGN_OR_RETURN(storage::BucketRecord bucket, txn.Bucket(r.bucket()));
    TT_ASSIGN_OR_RETURN(storage::VersionRecord now_source,
                        ResolveIn(txn, r.source_bucket(), r.source_key(), r.source_version_id(), nullptr));
    if (now_source.seq() != source.seq()) {
      return s3::Error("OperationAborted",
                       "A conflicting operation changed the copy source; please try again.");
    }
    storage::VersionRecord v;
    v.set_key(r.key());
    v.set_size(source.size());
    v.set_etag(source.etag());
    *v.mutable_checksums() = checksums;
    v.set_inline_data(source.inline_data());
    *v.mutable_extents() = source.extents();
    *v.mutable_part_sizes() = source.part_sizes();
    *v.mutable_headers() = replace_meta ? Normalized(r.headers()) : source.headers();
    *v.mutable_tags() = replace_tags ? r.tags() : source.tags();
    TT_ASSIGN_OR_RETURN(committed, StageWrite(txn, bucket, std::move(v), r.conditions()));
    StageEvent(txn, bucket, "ObjectCreated:Copy", committed);
    return absl::OkStatus();
  }));
  EventsCommitted();
  v1::CopyObjectResponse response;
  response.set_etag(QuoteEtag(committed.etag()));
  *response.mutable_last_modified() = ToTimestamp(committed.modified_micros());
  response.set_version_id(committed.version_id());
  response.set_copy_source_version_id(source.version_id());
  *response.mutable_checksums() = committed.checksums();
  return response;
}

// ---------------------------------------------------------------- tagging

namespace {

// Runs `change` on the version a tagging call names and rewrites it.
absl::StatusOr<std::string> ChangeTags(Catalog* catalog, std::string_view bucket,
                                       std::string_view key, std::string_view version_id,
                                       const std::function<void(storage::VersionRecord*)>& change) {
  std::string id;
  TT_RETURN_IF_ERROR(catalog->Run([&](Txn& txn) -> absl::Status {
    bool is_latest = false;
    TT_ASSIGN_OR_RETURN(storage::VersionRecord v, ResolveIn(txn, bucket, key, version_id, &is_latest));
    change(&v);
    txn.RewriteVersion(bucket, v, is_latest);
    id = v.version_id();
    return absl::OkStatus();
  }));
  return id;
}

}  // namespace

absl::StatusOr<v1::PutObjectTaggingResponse> ObjectStore::PutObjectTagging(
    const v1::PutObjectTaggingRequest& r) {
  TT_RETURN_IF_ERROR(ValidateKey(r.key(), "key"));
  TT_RETURN_IF_ERROR(ValidateVersionId(r.version_id(), "version_id"));
  TT_RETURN_IF_ERROR(ValidateTags(r.tags(), kMaxObjectTags, "tags"));
  TT_ASSIGN_OR_RETURN(std::string id, ChangeTags(catalog_, r.bucket(), r.key(), r.version_id(),
                                                 [&](storage::VersionRecord* v) {
                                                   *v->mutable_tags() = r.tags();
                                                 }));
  v1::PutObjectTaggingResponse response;
  response.set_version_id(id);
  return response;
}

absl::StatusOr<v1::GetObjectTaggingResponse> ObjectStore::GetObjectTagging(
    const v1::GetObjectTaggingRequest& r) {
  TT_RETURN_IF_ERROR(ValidateKey(r.key(), "key"));
  TT_RETURN_IF_ERROR(ValidateVersionId(r.version_id(), "version_id"));
  TT_ASSIGN_OR_RETURN(storage::VersionRecord v, Resolve(r.bucket(), r.key(), r.version_id(), nullptr));
  v1::GetObjectTaggingResponse response;
  response.set_version_id(v.version_id());
  *response.mutable_tags() = v.tags();
  return response;
}

absl::StatusOr<v1::DeleteObjectTaggingResponse> ObjectStore::DeleteObjectTagging(
    const v1::DeleteObjectTaggingRequest& r) {
  TT_RETURN_IF_ERROR(ValidateKey(r.key(), "key"));
  TT_RETURN_IF_ERROR(ValidateVersionId(r.version_id(), "version_id"));
  TT_ASSIGN_OR_RETURN(std::string id, ChangeTags(catalog_, r.bucket(), r.key(), r.version_id(),
                                                 [](storage::VersionRecord* v) { v->clear_tags(); }));
  v1::DeleteObjectTaggingResponse response;
  response.set_version_id(id);
  return response;
}

void ObjectStore::StageEvent(Txn& txn, const storage::BucketRecord& bucket, std::string_view event,
                             const storage::VersionRecord& v) {
  if (events_ != nullptr && bucket.notifications_size() > 0) events_->Stage(txn, bucket, event, v);
}

void ObjectStore::EventsCommitted() {
  if (events_ != nullptr) events_->Committed();
}

}  // namespace thingtank::objects
