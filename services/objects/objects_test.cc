// The objects domain: puts and gets, conditions, checksums, versioning,
// copies, pins and orphans, on a temp RocksDB and a manual clock.

#include <atomic>
#include <thread>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/objects/core/checksums.h"
#include "services/objects/storage/object_keys.h"
#include "services/objects/testing/objects_fixture.h"

namespace thingtank::objects {
namespace {

using ::testing::ElementsAre;
using testing::Content;
using C = absl::StatusCode;

std::string Md5Hex(const std::string& data) { return absl::BytesToHexString(testing::RawMd5(data)); }
std::string Md5B64(const std::string& data) { return absl::Base64Escape(testing::RawMd5(data)); }

TEST(ObjectKeys, EscapedKeysSortBeforeLongerKeysAndVersionsNewestFirst) {
  // "a" < "a\0" < "a\x01" < "a/" and, within "a", seq 9 before seq 2.
  std::vector<std::string> encoded = {
      keys::VersionKey("b", std::string("a/", 2), 1), keys::VersionKey("b", "a", 2),
      keys::VersionKey("b", std::string("a\x01", 2), 1), keys::VersionKey("b", "a", 9),
      keys::VersionKey("b", std::string("a\0", 2), 1)};
  std::sort(encoded.begin(), encoded.end());
  std::vector<std::pair<std::string, uint64_t>> decoded;
  for (const std::string& k : encoded) {
    auto parts = keys::ParseVersionSuffix(std::string_view(k).substr(keys::BucketPrefix("b").size()));
    ASSERT_TRUE(parts.has_value());
    decoded.emplace_back(parts->key, parts->seq);
  }
  EXPECT_THAT(decoded, ElementsAre(std::pair<std::string, uint64_t>("a", 9), std::pair<std::string, uint64_t>("a", 2),
                                   std::pair<std::string, uint64_t>(std::string("a\0", 2), 1),
                                   std::pair<std::string, uint64_t>(std::string("a\x01", 2), 1),
                                   std::pair<std::string, uint64_t>("a/", 1)));
  // Another bucket's keys never interleave: the bucket name is length-prefixed.
  EXPECT_FALSE(keys::VersionKey("ab", "c", 1).rfind(keys::BucketPrefix("a"), 0) == 0);
}

TEST(ObjectKeys, VersionIdsNameTheirSeqAndForgeriesAreRejected) {
  std::string id = keys::MakeVersionId(42);
  ASSERT_EQ(id.size(), 32u);
  EXPECT_EQ(keys::SeqOfVersionId(id), 42u);
  EXPECT_FALSE(keys::SeqOfVersionId("null").has_value());
  EXPECT_FALSE(keys::SeqOfVersionId("../../etc/passwd").has_value());
  EXPECT_FALSE(keys::SeqOfVersionId(std::string(32, 'G')).has_value());
}

using ObjectsDomainTest = testing::ObjectsTest;

TEST_F(ObjectsDomainTest, SmallAndLargeObjectsRoundTripWithMd5Etags) {
  MakeBucket("bkt");
  for (size_t size : {size_t{0}, size_t{1}, size_t{65536}, size_t{65537}, size_t{3 << 20}}) {
    std::string data = Content(size, static_cast<int>(size));
    auto put = Put("bkt", "k" + std::to_string(size), data);
    ASSERT_THAT(put, IsOk());
    EXPECT_EQ(put->etag(), "\"" + Md5Hex(data) + "\"");
    EXPECT_EQ(put->version_id(), "null");
    EXPECT_EQ(Get("bkt", "k" + std::to_string(size)).value(), data);
  }
  // Inline up to 64 KiB: only the two larger objects have files.
  EXPECT_EQ(BlobFiles(), 2u);
  EXPECT_EQ(BlobBytes(), 65537 + (3 << 20));
}

TEST_F(ObjectsDomainTest, OverwriteFreesTheOldBlobAndSurvivesRestart) {
  MakeBucket("bkt");
  ASSERT_THAT(Put("bkt", "k", Content(200000, 1)), IsOk());
  ASSERT_THAT(Put("bkt", "k", Content(300000, 2)), IsOk());
  EXPECT_EQ(BlobBytes(), 300000);
  Reopen();
  EXPECT_EQ(Get("bkt", "k").value(), Content(300000, 2));
  EXPECT_EQ(s_->catalog->Counts()["bkt"].objects, 1);
  EXPECT_EQ(s_->catalog->Counts()["bkt"].bytes, 300000);
}

TEST_F(ObjectsDomainTest, RangesAndTheirErrors) {
  MakeBucket("bkt");
  std::string data = Content(100000);
  ASSERT_THAT(Put("bkt", "k", data), IsOk());
  EXPECT_EQ(Get("bkt", "k", "", "bytes=0-9").value(), data.substr(0, 10));
  EXPECT_EQ(Get("bkt", "k", "", "bytes=99990-").value(), data.substr(99990));
  EXPECT_EQ(Get("bkt", "k", "", "bytes=-5").value(), data.substr(99995));
  EXPECT_EQ(Get("bkt", "k", "", "bytes=99999-200000").value(), data.substr(99999));
  EXPECT_THAT(Get("bkt", "k", "", "bytes=100000-"), IsStatus(C::kOutOfRange, "InvalidRange"));
  EXPECT_THAT(Get("bkt", "k", "", "bytes=9-1"), IsStatus(C::kInvalidArgument, "InvalidArgument", "range"));
  EXPECT_THAT(Get("bkt", "k", "", "", 2), IsStatus(C::kOutOfRange, "InvalidPartNumber"));
  EXPECT_EQ(Get("bkt", "k", "", "", 1).value(), data);
}

TEST_F(ObjectsDomainTest, WrongContentMd5IsBadDigestAndLeavesTheOldObject) {
  MakeBucket("bkt");
  ASSERT_THAT(Put("bkt", "k", "old"), IsOk());
  v1::PutObjectHeader h;
  h.set_content_md5(Md5B64("something else"));
  EXPECT_THAT(Put("bkt", "k", Content(200000), h), IsStatus(C::kInvalidArgument, "BadDigest", "header.content_md5"));
  EXPECT_EQ(Get("bkt", "k").value(), "old");
  EXPECT_EQ(BlobFiles(), 0u);  // the rejected upload's file is gone
  h.set_content_md5(Md5B64("new"));
  EXPECT_THAT(Put("bkt", "k", "new", h), IsOk());
}

TEST_F(ObjectsDomainTest, ChecksumsAreComputedStoredAndChecked) {
  MakeBucket("bkt");
  v1::PutObjectHeader h;
  h.set_checksum_algorithm(v1::CHECKSUM_ALGORITHM_CRC32);
  auto put = Put("bkt", "k", "123456789", h);
  ASSERT_THAT(put, IsOk());
  EXPECT_EQ(put->checksums().crc32(), "y/Q5Jg==");  // 0xCBF43926
  v1::PutObjectHeader wrong;
  wrong.mutable_checksums()->set_crc32c("AAAAAA==");
  EXPECT_THAT(Put("bkt", "k", "123456789", wrong), IsStatus(C::kInvalidArgument, "BadDigest", "checksums.crc32c"));
  v1::HeadObjectRequest head;
  head.set_bucket("bkt");
  head.set_key("k");
  head.set_checksum_mode(v1::CHECKSUM_MODE_ENABLED);
  EXPECT_EQ(s_->objects->HeadObject(head)->info().checksums().crc32(), "y/Q5Jg==");
}

TEST_F(ObjectsDomainTest, KeysAreOpaqueAndBoundedAndMetadataLimited) {
  MakeBucket("bkt");
  for (const std::string key : {"../x", "a//b", "trailing/", "/lead", "sp ace", "ünï"}) {
    ASSERT_THAT(Put("bkt", key, key), IsOk()) << key;
    EXPECT_EQ(Get("bkt", key).value(), key);
  }
  EXPECT_THAT(Put("bkt", std::string(1025, 'k'), "x"), IsStatus(C::kInvalidArgument, "KeyTooLongError", "header.key"));
  EXPECT_THAT(Put("bkt", std::string(1024, 'k'), "x"), IsOk());
  v1::PutObjectHeader h;
  (*h.mutable_headers()->mutable_metadata())["big"] = std::string(2100, 'v');
  EXPECT_THAT(Put("bkt", "m", "x", h), IsStatus(C::kInvalidArgument, "MetadataTooLarge"));
  v1::PutObjectHeader missing;
  EXPECT_THAT(Put("nobucket", "k", "x", missing), IsStatus(C::kNotFound, "NoSuchBucket"));
}

TEST_F(ObjectsDomainTest, CreateOnlyPutsOfOneKeyLetExactlyOneWin) {
  MakeBucket("bkt");
  for (int round = 0; round < 20; ++round) {
    std::string key = "race" + std::to_string(round);
    std::atomic<int> won{0}, lost{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        v1::PutObjectHeader h;
        h.mutable_conditions()->set_if_none_match("*");
        auto r = Put("bkt", key, Content(100000, t), h);
        if (r.ok()) {
          ++won;
        } else if (ErrorReason(r.status()) == "PreconditionFailed") {
          ++lost;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(won.load(), 1);
    EXPECT_EQ(lost.load(), 3);
  }
  EXPECT_EQ(BlobFiles(), 20u);  // the losers' files are gone
}

TEST_F(ObjectsDomainTest, ReadConditions) {
  MakeBucket("bkt");
  auto put = Put("bkt", "k", "v");
  v1::GetObjectRequest r;
  r.set_bucket("bkt");
  r.set_key("k");
  r.mutable_conditions()->set_if_none_match(put->etag());
  EXPECT_THAT(s_->objects->OpenRead(r), IsStatus(C::kFailedPrecondition, "NotModified"));
  r.mutable_conditions()->Clear();
  r.mutable_conditions()->set_if_match("\"0000\"");
  EXPECT_THAT(s_->objects->OpenRead(r), IsStatus(C::kFailedPrecondition, "PreconditionFailed"));
  v1::PutObjectHeader h;
  h.mutable_conditions()->set_if_match("\"0000\"");
  EXPECT_THAT(Put("bkt", "k", "w", h), IsStatus(C::kFailedPrecondition, "PreconditionFailed"));
  h.mutable_conditions()->set_if_match(put->etag());
  EXPECT_THAT(Put("bkt", "k", "w", h), IsOk());
  EXPECT_THAT(Put("bkt", "none", "w", h), IsStatus(C::kNotFound, "NoSuchKey"));
}

// S3's versioning state table: unversioned, enabled, suspended.
TEST_F(ObjectsDomainTest, UnversionedBucketsKeepOneNullVersion) {
  MakeBucket("bkt");
  ASSERT_THAT(Put("bkt", "k", "1"), IsOk());
  ASSERT_THAT(Put("bkt", "k", "2"), IsOk());
  v1::ListObjectVersionsRequest l;
  l.set_bucket("bkt");
  auto versions = s_->lister->ListObjectVersions(l);
  ASSERT_EQ(versions->versions_size(), 1);
  EXPECT_EQ(versions->versions(0).version_id(), "null");
  auto del = Delete("bkt", "k");
  EXPECT_FALSE(del->delete_marker());
  EXPECT_THAT(Get("bkt", "k"), IsStatus(C::kNotFound, "NoSuchKey"));
  EXPECT_EQ(s_->lister->ListObjectVersions(l)->versions_size(), 0);
}

TEST_F(ObjectsDomainTest, EnabledVersioningKeepsVersionsAndDeleteMarkers) {
  MakeBucket("bkt", v1::VERSIONING_STATUS_ENABLED);
  auto v1put = Put("bkt", "k", "one");
  clock_.Advance(absl::Seconds(1));
  auto v2put = Put("bkt", "k", "two");
  ASSERT_NE(v1put->version_id(), v2put->version_id());
  EXPECT_EQ(Get("bkt", "k").value(), "two");
  EXPECT_EQ(Get("bkt", "k", v1put->version_id()).value(), "one");
  auto marker = Delete("bkt", "k");
  ASSERT_TRUE(marker->delete_marker());
  EXPECT_THAT(Get("bkt", "k"), IsStatus(C::kNotFound, "NoSuchKey"));
  EXPECT_THAT(Get("bkt", "k", marker->version_id()), IsStatus(C::kFailedPrecondition, "MethodNotAllowed"));
  EXPECT_THAT(Get("bkt", "k", keys::MakeVersionId(999)), IsStatus(C::kNotFound, "NoSuchVersion"));
  v1::ListObjectsV2Request list;
  list.set_bucket("bkt");
  EXPECT_EQ(s_->lister->ListObjectsV2(list)->contents_size(), 0);
  v1::ListObjectVersionsRequest l;
  l.set_bucket("bkt");
  auto all = s_->lister->ListObjectVersions(l);
  ASSERT_EQ(all->versions_size(), 2);
  ASSERT_EQ(all->delete_markers_size(), 1);
  EXPECT_TRUE(all->delete_markers(0).is_latest());
  EXPECT_EQ(all->versions(0).version_id(), v2put->version_id());  // newest first
  EXPECT_FALSE(all->versions(0).is_latest());
  // Removing the marker by id brings the object back.
  auto undo = Delete("bkt", "k", marker->version_id());
  EXPECT_TRUE(undo->delete_marker());
  EXPECT_EQ(Get("bkt", "k").value(), "two");
  // Removing the newest version for good makes the older one current.
  ASSERT_THAT(Delete("bkt", "k", v2put->version_id()), IsOk());
  EXPECT_EQ(Get("bkt", "k").value(), "one");
  EXPECT_EQ(s_->catalog->Counts()["bkt"].objects, 1);
}

TEST_F(ObjectsDomainTest, SuspendedVersioningWritesAndReplacesTheNullVersion) {
  MakeBucket("bkt", v1::VERSIONING_STATUS_ENABLED);
  auto kept = Put("bkt", "k", "enabled-era");
  v1::PutBucketVersioningRequest suspend;
  suspend.set_bucket("bkt");
  suspend.set_status(v1::VERSIONING_STATUS_SUSPENDED);
  ASSERT_THAT(s_->buckets->PutBucketVersioning(suspend), IsOk());
  EXPECT_EQ(Put("bkt", "k", "null-1")->version_id(), "null");
  EXPECT_EQ(Put("bkt", "k", "null-2")->version_id(), "null");  // replaces null-1
  v1::ListObjectVersionsRequest l;
  l.set_bucket("bkt");
  auto all = s_->lister->ListObjectVersions(l);
  ASSERT_EQ(all->versions_size(), 2);
  EXPECT_EQ(all->versions(0).version_id(), "null");
  EXPECT_EQ(all->versions(1).version_id(), kept->version_id());
  EXPECT_EQ(Get("bkt", "k", "null").value(), "null-2");
  auto marker = Delete("bkt", "k");
  EXPECT_TRUE(marker->delete_marker());
  EXPECT_EQ(marker->version_id(), "null");  // the null version went with it
  all = s_->lister->ListObjectVersions(l);
  EXPECT_EQ(all->versions_size(), 1);
  EXPECT_EQ(all->delete_markers_size(), 1);
  EXPECT_EQ(Get("bkt", "k", kept->version_id()).value(), "enabled-era");
}

TEST_F(ObjectsDomainTest, CopySharesContentUntilTheLastReferenceGoes) {
  MakeBucket("bkt");
  std::string data = Content(500000);
  ASSERT_THAT(Put("bkt", "src", data), IsOk());
  v1::CopyObjectRequest c;
  c.set_source_bucket("bkt");
  c.set_source_key("src");
  c.set_bucket("bkt");
  c.set_key("dst");
  c.set_metadata_directive(v1::METADATA_DIRECTIVE_REPLACE);
  (*c.mutable_headers()->mutable_metadata())["Color"] = "blue";
  auto copied = s_->objects->CopyObject(c);
  ASSERT_THAT(copied, IsOk()) << copied.status();
  EXPECT_EQ(copied->etag(), "\"" + Md5Hex(data) + "\"");
  EXPECT_EQ(BlobBytes(), 500000);  // no byte copied
  ASSERT_THAT(Delete("bkt", "src"), IsOk());
  EXPECT_EQ(Get("bkt", "dst").value(), data);
  v1::HeadObjectRequest h;
  h.set_bucket("bkt");
  h.set_key("dst");
  EXPECT_EQ(s_->objects->HeadObject(h)->info().headers().metadata().at("color"), "blue");
  ASSERT_THAT(Delete("bkt", "dst"), IsOk());
  EXPECT_EQ(BlobFiles(), 0u);
  // Copying an object onto itself without a change is refused, as in S3.
  ASSERT_THAT(Put("bkt", "self", "x"), IsOk());
  c.set_source_key("self");
  c.set_key("self");
  c.set_metadata_directive(v1::METADATA_DIRECTIVE_COPY);
  EXPECT_THAT(s_->objects->CopyObject(c), IsStatus(C::kInvalidArgument, "InvalidRequest"));
}

TEST_F(ObjectsDomainTest, AReaderKeepsReadingWhatIsDeletedUnderIt) {
  MakeBucket("bkt");
  std::string data = Content(3 << 20);
  ASSERT_THAT(Put("bkt", "k", data), IsOk());
  v1::GetObjectRequest r;
  r.set_bucket("bkt");
  r.set_key("k");
  auto read = s_->objects->OpenRead(r);
  ASSERT_THAT(read, IsOk());
  ASSERT_THAT(Delete("bkt", "k"), IsOk());
  ASSERT_THAT(Put("bkt", "k", "replaced"), IsOk());
  std::string got;
  bool more = true;
  while (more) {
    v1::GetObjectResponse m;
    ASSERT_THAT((*read)->Next(&m, &more), IsOk());
    got += m.data();
  }
  EXPECT_EQ(got, data);
  EXPECT_EQ(BlobFiles(), 1u);  // still pinned
  read->reset();
  EXPECT_EQ(BlobFiles(), 0u);
}

TEST_F(ObjectsDomainTest, FilesNoRecordNamesAreSweptAtStart) {
  MakeBucket("bkt");
  ASSERT_THAT(Put("bkt", "kept", Content(100000)), IsOk());
  {  // a put cut short: its file written, never committed
    auto w = s_->blobs->Create();
    ASSERT_THAT(w, IsOk());
    ASSERT_THAT((*w)->Append(Content(70000)), IsOk());
    ASSERT_THAT((*w)->Finish(), IsOk());
    (*w)->Keep();  // as if the process died before the commit
  }
  EXPECT_EQ(BlobFiles(), 2u);
  Reopen();
  EXPECT_EQ(s_->catalog->orphans_removed(), 1);
  EXPECT_EQ(BlobFiles(), 1u);
  EXPECT_EQ(Get("bkt", "kept").value(), Content(100000));
}

TEST_F(ObjectsDomainTest, BucketsRefuseDeletionWhileNotEmpty) {
  MakeBucket("bkt", v1::VERSIONING_STATUS_ENABLED);
  v1::CreateBucketRequest again;
  again.set_bucket("bkt");
  EXPECT_THAT(s_->buckets->CreateBucket(again), IsStatus(C::kAlreadyExists, "BucketAlreadyOwnedByYou"));
  ASSERT_THAT(Put("bkt", "k", "x"), IsOk());
  ASSERT_THAT(Delete("bkt", "k"), IsOk());  // a delete marker and a version remain
  v1::DeleteBucketRequest d;
  d.set_bucket("bkt");
  EXPECT_THAT(s_->buckets->DeleteBucket(d), IsStatus(C::kFailedPrecondition, "BucketNotEmpty"));
  v1::ListObjectVersionsRequest l;
  l.set_bucket("bkt");
  auto all = s_->lister->ListObjectVersions(l);
  for (const auto& v : all->versions()) ASSERT_THAT(Delete("bkt", v.key(), v.version_id()), IsOk());
  for (const auto& v : all->delete_markers()) ASSERT_THAT(Delete("bkt", v.key(), v.version_id()), IsOk());
  EXPECT_THAT(s_->buckets->DeleteBucket(d), IsOk());
  v1::HeadBucketRequest h;
  h.set_bucket("bkt");
  EXPECT_THAT(s_->buckets->HeadBucket(h), IsStatus(C::kNotFound, "NoSuchBucket"));
}

}  // namespace
}  // namespace thingtank::objects

namespace thingtank::objects {
namespace {

TEST_F(ObjectsDomainTest, NonBlockingReadsServeSmallObjectsAndDeferTheRest) {
  MakeBucket("bkt");
  ASSERT_THAT(Put("bkt", "small", "tiny"), IsOk());
  ASSERT_THAT(Put("bkt", "large", Content(200000)), IsOk());
  v1::GetObjectRequest r;
  r.set_bucket("bkt");
  r.set_key("small");
  auto small = s_->objects->OpenRead(r, /*non_blocking=*/true);
  ASSERT_THAT(small, IsOk());
  EXPECT_TRUE((*small)->in_memory());
  v1::GetObjectResponse m;
  bool more = true;
  ASSERT_THAT((*small)->Next(&m, &more), IsOk());
  EXPECT_EQ(m.data(), "tiny");
  EXPECT_FALSE(more);
  r.set_key("large");
  EXPECT_TRUE(IsWouldBlock(s_->objects->OpenRead(r, /*non_blocking=*/true).status()));
  r.set_key("missing");
  EXPECT_THAT(s_->objects->OpenRead(r, /*non_blocking=*/true), IsStatus(absl::StatusCode::kNotFound, "NoSuchKey"));
  // The first message of a large object carries a short first chunk.
  r.set_key("large");
  auto large = s_->objects->OpenRead(r);
  ASSERT_THAT(large, IsOk());
  ASSERT_THAT((*large)->Next(&m, &more), IsOk());
  EXPECT_EQ(m.data().size(), static_cast<size_t>(kFirstReadChunk));
  EXPECT_TRUE(more);
}

}  // namespace
}  // namespace thingtank::objects
