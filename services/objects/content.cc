#include "services/objects/content.h"

#include <algorithm>
#include <utility>

#include "services/objects/core/s3_errors.h"

namespace thingtank::objects {

ContentSink::ContentSink(BlobStore* blobs, std::vector<v1::ChecksumAlgorithm> checksums,
                         bool allow_inline)
    : blobs_(blobs), hasher_(std::move(checksums)), allow_inline_(allow_inline) {}

absl::Status ContentSink::Append(std::string_view data) {
  if (size_ + static_cast<int64_t>(data.size()) > kMaxObjectSize) {
    return s3::Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size (5 GiB)");
  }
  hasher_.Update(data);
  size_ += static_cast<int64_t>(data.size());
  if (writer_ == nullptr && allow_inline_ && size_ <= kInlineMax) {
    inline_.append(data);
    return absl::OkStatus();
  }
  if (writer_ == nullptr) TT_RETURN_IF_ERROR(Spill());
  return writer_->Append(data);
}

absl::Status ContentSink::Spill() {
  TT_ASSIGN_OR_RETURN(writer_, blobs_->Create());
  if (!inline_.empty()) {
    TT_RETURN_IF_ERROR(writer_->Append(inline_));
    std::string().swap(inline_);
  }
  return absl::OkStatus();
}

absl::Status ContentSink::Finish() {
  digest_ = hasher_.Finish();
  if (writer_ == nullptr && !allow_inline_) TT_RETURN_IF_ERROR(Spill());
  if (writer_ != nullptr) TT_RETURN_IF_ERROR(writer_->Finish());
  return absl::OkStatus();
}

void ContentSink::MoveInto(Txn& txn, storage::VersionRecord* v) {
  v->set_size(size_);
  if (writer_ == nullptr) {
    v->set_inline_data(std::move(inline_));
    return;
  }
  storage::Extent* e = v->add_extents();
  e->set_blob_id(writer_->id());
  e->set_offset(0);
  e->set_length(size_);
  txn.NewBlob(writer_->id(), size_);
}

void ContentSink::MoveInto(Txn& txn, storage::PartRecord* p) {
  p->set_size(size_);
  storage::Extent* e = p->add_extents();
  e->set_blob_id(writer_->id());
  e->set_offset(0);
  e->set_length(size_);
  txn.NewBlob(writer_->id(), size_);
  txn.Ref(writer_->id());
}

void ContentSink::Committed() {
  if (writer_ != nullptr) writer_->Keep();
}

ContentReader::ContentReader(BlobStore* blobs, storage::VersionRecord v, int64_t first,
                             int64_t length)
    : blobs_(blobs), v_(std::move(v)), pos_(first), left_(length) {}

absl::Status ContentReader::Next(std::string* out, int64_t max) {
  out->clear();
  if (left_ == 0) return absl::OkStatus();
  int64_t n = std::min(left_, max);
  if (v_.extents_size() == 0) {
    out->assign(v_.inline_data(), static_cast<size_t>(pos_), static_cast<size_t>(n));
    pos_ += n;
    left_ -= n;
    return absl::OkStatus();
  }
  // Advance to the extent holding pos_, then read no further than its end.
  while (extent_ < v_.extents_size() && pos_ >= extent_start_ + v_.extents(extent_).length()) {
    extent_start_ += v_.extents(extent_).length();
    ++extent_;
  }
  if (extent_ >= v_.extents_size()) return absl::DataLossError("object shorter than its size");
  const storage::Extent& e = v_.extents(extent_);
  if (open_extent_ != extent_) {
    if (open_extent_ < 0 || v_.extents(open_extent_).blob_id() != e.blob_id()) {
      TT_ASSIGN_OR_RETURN(open_, blobs_->OpenForRead(e.blob_id()));
    }
    open_extent_ = extent_;
  }
  int64_t within = pos_ - extent_start_;
  n = std::min(n, e.length() - within);
  TT_RETURN_IF_ERROR(open_->ReadAt(e.offset() + within, n, out));
  pos_ += n;
  left_ -= n;
  return absl::OkStatus();
}

std::vector<std::string> BlobIdsOf(const google::protobuf::RepeatedPtrField<storage::Extent>& extents) {
  std::vector<std::string> ids;
  for (const storage::Extent& e : extents) {
    if (ids.empty() || ids.back() != e.blob_id()) ids.push_back(e.blob_id());
  }
  return ids;
}

absl::StatusOr<Digest> DigestOf(BlobStore* blobs, const storage::VersionRecord& v, int64_t first,
                                int64_t length, std::vector<v1::ChecksumAlgorithm> checksums) {
  ContentHasher hasher(std::move(checksums));
  ContentReader reader(blobs, v, first, length);
  std::string chunk;
  while (!reader.done()) {
    TT_RETURN_IF_ERROR(reader.Next(&chunk));
    hasher.Update(chunk);
  }
  return hasher.Finish();
}

google::protobuf::RepeatedPtrField<storage::Extent> SliceExtents(const storage::VersionRecord& v,
                                                                 int64_t first, int64_t length) {
  google::protobuf::RepeatedPtrField<storage::Extent> out;
  int64_t start = 0;
  const int64_t end = first + length;
  for (const storage::Extent& e : v.extents()) {
    int64_t e_end = start + e.length();
    int64_t lo = std::max(first, start);
    int64_t hi = std::min(end, e_end);
    if (lo < hi) {
      storage::Extent* s = out.Add();
      s->set_blob_id(e.blob_id());
      s->set_offset(e.offset() + (lo - start));
      s->set_length(hi - lo);
    }
    start = e_end;
    if (start >= end) break;
  }
  return out;
}

}  // namespace thingtank::objects
