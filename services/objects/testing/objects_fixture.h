#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/common/testing/status_matchers.h"
#include "services/common/testing/temp_db.h"
#include "services/objects/object_service.h"

namespace thingtank::objects::testing {

// The objects domain over a temp RocksDB and blob directory on a manual
// clock, with helpers that stream content in and out as the gRPC face does.
// Parts may be as small as 1 KiB here (S3's 5 MiB in production).
class ObjectsTest : public ::testing::Test {
 protected:
  static constexpr int64_t kMinPart = 1024;

  void SetUp() override { Open(); }
  void Open();
  // A restart: the domain and the Db closed and opened again.
  void Reopen();

  void MakeBucket(const std::string& bucket, v1::VersioningStatus versioning = v1::VERSIONING_STATUS_UNSPECIFIED);
  absl::StatusOr<v1::PutObjectResponse> Put(const std::string& bucket, const std::string& key,
                                            const std::string& data, v1::PutObjectHeader header = {},
                                            size_t chunk = 4096);
  // The content a get returns (version, range as the request gives them).
  absl::StatusOr<std::string> Get(const std::string& bucket, const std::string& key,
                                  const std::string& version_id = "", const std::string& range = "",
                                  int part_number = 0);
  absl::StatusOr<v1::DeleteObjectResponse> Delete(const std::string& bucket, const std::string& key,
                                                  const std::string& version_id = "");
  absl::StatusOr<std::string> Upload(const std::string& bucket, const std::string& key);  // upload id
  absl::StatusOr<v1::UploadPartResponse> PutPart(const std::string& bucket, const std::string& key,
                                                 const std::string& upload_id, int number,
                                                 const std::string& data);
  int64_t BlobBytes();
  size_t BlobFiles();

  TempDir dir_;
  ManualClock clock_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<ObjectService> s_;
};

// MD5 by OpenSSL directly (not the code under test).
std::string RawMd5(const std::string& data);

// Deterministic content of `n` bytes (differs by seed).
std::string Content(size_t n, int seed = 0);

}  // namespace thingtank::objects::testing
