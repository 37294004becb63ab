#include "services/objects/testing/objects_fixture.h"

#include <openssl/evp.h>

#include "services/objects/catalog.h"

namespace thingtank::objects::testing {

void ObjectsTest::Open() {
  auto db = OpenTempDb(dir_, Catalog::ColumnFamilies());
  ASSERT_TRUE(db.ok()) << db.status();
  db_ = *std::move(db);
  ObjectService::Options options;
  options.blob_root = dir_.path() + "/blobs";
  options.min_part_size = kMinPart;
  auto s = ObjectService::Open(db_.get(), &clock_, options);
  ASSERT_TRUE(s.ok()) << s.status();
  s_ = *std::move(s);
}

void ObjectsTest::Reopen() {
  s_.reset();
  db_.reset();
  Open();
}

void ObjectsTest::MakeBucket(const std::string& bucket, v1::VersioningStatus versioning) {
  v1::CreateBucketRequest r;
  r.set_bucket(bucket);
  ASSERT_THAT(s_->buckets->CreateBucket(r), IsOk());
  if (versioning != v1::VERSIONING_STATUS_UNSPECIFIED) {
    v1::PutBucketVersioningRequest v;
    v.set_bucket(bucket);
    v.set_status(versioning);
    ASSERT_THAT(s_->buckets->PutBucketVersioning(v), IsOk());
  }
}

absl::StatusOr<v1::PutObjectResponse> ObjectsTest::Put(const std::string& bucket, const std::string& key,
                                                       const std::string& data, v1::PutObjectHeader header,
                                                       size_t chunk) {
  header.set_bucket(bucket);
  header.set_key(key);
  TT_ASSIGN_OR_RETURN(std::unique_ptr<PutSession> put, s_->objects->StartPut(header));
  for (size_t i = 0; i < data.size(); i += chunk) TT_RETURN_IF_ERROR(put->Append(data.substr(i, chunk)));
  return put->Finish();
}

absl::StatusOr<std::string> ObjectsTest::Get(const std::string& bucket, const std::string& key,
                                             const std::string& version_id, const std::string& range,
                                             int part_number) {
  v1::GetObjectRequest r;
  r.set_bucket(bucket);
  r.set_key(key);
  r.set_version_id(version_id);
  r.set_range(range);
  r.set_part_number(part_number);
  TT_ASSIGN_OR_RETURN(std::unique_ptr<ReadSession> read, s_->objects->OpenRead(r));
  std::string out;
  bool more = true;
  while (more) {
    v1::GetObjectResponse m;
    TT_RETURN_IF_ERROR(read->Next(&m, &more));
    out += m.data();
  }
  return out;
}

absl::StatusOr<v1::DeleteObjectResponse> ObjectsTest::Delete(const std::string& bucket, const std::string& key,
                                                             const std::string& version_id) {
  v1::DeleteObjectRequest r;
  r.set_bucket(bucket);
  r.set_key(key);
  r.set_version_id(version_id);
  return s_->objects->DeleteObject(r);
}

absl::StatusOr<std::string> ObjectsTest::Upload(const std::string& bucket, const std::string& key) {
  v1::CreateMultipartUploadRequest r;
  r.set_bucket(bucket);
  r.set_key(key);
  TT_ASSIGN_OR_RETURN(v1::CreateMultipartUploadResponse u, s_->multipart->CreateMultipartUpload(r));
  return u.upload_id();
}

absl::StatusOr<v1::UploadPartResponse> ObjectsTest::PutPart(const std::string& bucket, const std::string& key,
                                                            const std::string& upload_id, int number,
                                                            const std::string& data) {
  v1::UploadPartHeader h;
  h.set_bucket(bucket);
  h.set_key(key);
  h.set_upload_id(upload_id);
  h.set_part_number(number);
  TT_ASSIGN_OR_RETURN(std::unique_ptr<PartSession> part, s_->multipart->StartPart(h));
  TT_RETURN_IF_ERROR(part->Append(data));
  return part->Finish();
}

int64_t ObjectsTest::BlobBytes() { return s_->blobs->TotalBytes().value(); }
size_t ObjectsTest::BlobFiles() { return s_->blobs->List().value().size(); }

std::string RawMd5(const std::string& data) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), d, &n, EVP_md5(), nullptr);
  return std::string(reinterpret_cast<char*>(d), n);
}

std::string Content(size_t n, int seed) {
  std::string s(n, '\0');
  uint32_t x = 2463534242u + static_cast<uint32_t>(seed) * 7919u;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s[i] = static_cast<char>(x & 0xff);
  }
  return s;
}

}  // namespace thingtank::objects::testing
