// Multipart uploads and listings of the objects domain.

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/objects/testing/objects_fixture.h"

namespace thingtank::objects {
namespace {

using ::testing::ElementsAre;
using testing::Content;
using C = absl::StatusCode;
using MultipartTest = testing::ObjectsTest;
using ListingTest = testing::ObjectsTest;

using testing::RawMd5;

v1::CompleteMultipartUploadRequest CompleteRequest(const std::string& upload_id,
                                                   const std::vector<std::pair<int, std::string>>& parts) {
  v1::CompleteMultipartUploadRequest r;
  r.set_bucket("bkt");
  r.set_key("k");
  r.set_upload_id(upload_id);
  for (const auto& [n, etag] : parts) {
    auto* p = r.add_parts();
    p->set_part_number(n);
    p->set_etag(etag);
  }
  return r;
}

TEST_F(MultipartTest, ThreePartsMakeOneObjectWithTheS3Etag) {
  MakeBucket("bkt");
  auto id = Upload("bkt", "k");
  ASSERT_THAT(id, IsOk());
  std::vector<std::string> data = {Content(5000, 1), Content(4000, 2), Content(10, 3)};
  std::vector<std::pair<int, std::string>> etags;
  for (int i = 0; i < 3; ++i) {
    auto part = PutPart("bkt", "k", *id, i + 1, data[i]);
    ASSERT_THAT(part, IsOk()) << part.status();
    etags.emplace_back(i + 1, part->etag());
  }
  int64_t before = BlobBytes();
  auto done = s_->multipart->CompleteMultipartUpload(CompleteRequest(*id, etags));
  ASSERT_THAT(done, IsOk());
  std::string expected = absl::BytesToHexString(RawMd5(RawMd5(data[0]) + RawMd5(data[1]) + RawMd5(data[2])));
  EXPECT_EQ(done->etag(), "\"" + expected + "-3\"");
  EXPECT_EQ(BlobBytes(), before);  // no data copied
  EXPECT_EQ(Get("bkt", "k").value(), data[0] + data[1] + data[2]);
  EXPECT_EQ(Get("bkt", "k", "", "", 2).value(), data[1]);
  EXPECT_EQ(Get("bkt", "k", "", "bytes=4990-5009").value(), (data[0] + data[1]).substr(4990, 20));
  EXPECT_EQ(s_->catalog->uploads_in_progress(), 0);
  v1::ListPartsRequest lp;
  lp.set_bucket("bkt");
  lp.set_key("k");
  lp.set_upload_id(*id);
  EXPECT_THAT(s_->multipart->ListParts(lp), IsStatus(C::kNotFound, "NoSuchUpload"));
}

TEST_F(MultipartTest, S3sCompletionErrors) {
  MakeBucket("bkt");
  auto id = Upload("bkt", "k");
  auto p1 = PutPart("bkt", "k", *id, 1, Content(500, 1));  // under the 1 KiB minimum here
  auto p2 = PutPart("bkt", "k", *id, 2, Content(2000, 2));
  EXPECT_THAT(s_->multipart->CompleteMultipartUpload(CompleteRequest(*id, {{1, p1->etag()}, {2, p2->etag()}})),
              IsStatus(C::kInvalidArgument, "EntityTooSmall"));
  EXPECT_THAT(s_->multipart->CompleteMultipartUpload(CompleteRequest(*id, {{2, p2->etag()}, {1, p1->etag()}})),
              IsStatus(C::kInvalidArgument, "InvalidPartOrder"));
  EXPECT_THAT(s_->multipart->CompleteMultipartUpload(CompleteRequest(*id, {{2, "\"00\""}})),
              IsStatus(C::kInvalidArgument, "InvalidPart"));
  EXPECT_THAT(s_->multipart->CompleteMultipartUpload(CompleteRequest(*id, {{3, p2->etag()}})),
              IsStatus(C::kInvalidArgument, "InvalidPart"));
  EXPECT_THAT(s_->multipart->CompleteMultipartUpload(CompleteRequest("feedface", {{1, p1->etag()}})),
              IsStatus(C::kNotFound, "NoSuchUpload"));
  EXPECT_THAT(PutPart("bkt", "k", "feedface", 1, "x"), IsStatus(C::kNotFound, "NoSuchUpload"));
  EXPECT_THAT(PutPart("bkt", "k", *id, 10001, "x"), IsStatus(C::kInvalidArgument, "InvalidArgument", "header.part_number"));
  // The last part alone may be small; part 1 unlisted is freed with the upload.
  ASSERT_THAT(s_->multipart->CompleteMultipartUpload(CompleteRequest(*id, {{2, p2->etag()}})), IsOk());
  EXPECT_EQ(Get("bkt", "k").value(), Content(2000, 2));
  EXPECT_EQ(BlobBytes(), 2000);
}

TEST_F(MultipartTest, ReuploadReplacesAPartAndAbortFreesEverything) {
  MakeBucket("bkt");
  auto id = Upload("bkt", "k");
  ASSERT_THAT(PutPart("bkt", "k", *id, 1, Content(3000, 1)), IsOk());
  ASSERT_THAT(PutPart("bkt", "k", *id, 1, Content(4000, 2)), IsOk());
  EXPECT_EQ(BlobBytes(), 4000);
  v1::ListPartsRequest lp;
  lp.set_bucket("bkt");
  lp.set_key("k");
  lp.set_upload_id(*id);
  auto parts = s_->multipart->ListParts(lp);
  ASSERT_EQ(parts->parts_size(), 1);
  EXPECT_EQ(parts->parts(0).size(), 4000);
  v1::ListMultipartUploadsRequest lu;
  lu.set_bucket("bkt");
  EXPECT_EQ(s_->lister->ListMultipartUploads(lu)->uploads_size(), 1);
  v1::AbortMultipartUploadRequest a;
  a.set_bucket("bkt");
  a.set_key("k");
  a.set_upload_id(*id);
  ASSERT_THAT(s_->multipart->AbortMultipartUpload(a), IsOk());
  EXPECT_EQ(BlobFiles(), 0u);
  EXPECT_EQ(s_->lister->ListMultipartUploads(lu)->uploads_size(), 0);
}

TEST_F(MultipartTest, UploadPartCopySharesARangeOfTheSource) {
  MakeBucket("bkt");
  std::string src = Content(300000);
  ASSERT_THAT(Put("bkt", "src", src), IsOk());
  auto id = Upload("bkt", "k");
  v1::UploadPartCopyRequest c;
  c.set_bucket("bkt");
  c.set_key("k");
  c.set_upload_id(*id);
  c.set_part_number(1);
  c.set_source_bucket("bkt");
  c.set_source_key("src");
  c.set_source_range("bytes=1000-199999");
  auto part = s_->multipart->UploadPartCopy(c);
  ASSERT_THAT(part, IsOk());
  EXPECT_EQ(part->etag(), "\"" + absl::BytesToHexString(RawMd5(src.substr(1000, 199000))) + "\"");
  ASSERT_THAT(s_->multipart->CompleteMultipartUpload(CompleteRequest(*id, {{1, part->etag()}})), IsOk());
  EXPECT_EQ(BlobBytes(), 300000);  // shared, not copied
  ASSERT_THAT(Delete("bkt", "src"), IsOk());
  EXPECT_EQ(Get("bkt", "k").value(), src.substr(1000, 199000));
}

std::vector<std::string> Keys(const v1::ListObjectsV2Response& r) {
  std::vector<std::string> out;
  for (const auto& c : r.contents()) out.push_back(c.key());
  return out;
}

TEST_F(ListingTest, DelimiterRollsUpAndKeysThatArePrefixesSortInPlace) {
  MakeBucket("bkt");
  for (const char* k : {"a", "a/b", "a/c/d", "a//x", "a0", "b", "trailing/"}) ASSERT_THAT(Put("bkt", k, k), IsOk());
  v1::ListObjectsV2Request r;
  r.set_bucket("bkt");
  r.set_delimiter("/");
  auto top = s_->lister->ListObjectsV2(r);
  EXPECT_THAT(Keys(*top), ElementsAre("a", "a0", "b"));
  EXPECT_THAT(top->common_prefixes(), ElementsAre("a/", "trailing/"));
  EXPECT_EQ(top->key_count(), 5);
  r.set_prefix("a/");
  auto under = s_->lister->ListObjectsV2(r);
  EXPECT_THAT(Keys(*under), ElementsAre("a/b"));
  EXPECT_THAT(under->common_prefixes(), ElementsAre("a//", "a/c/"));
  r.clear_delimiter();
  r.clear_prefix();
  r.set_start_after("a/b");
  EXPECT_THAT(Keys(*s_->lister->ListObjectsV2(r)), ElementsAre("a/c/d", "a0", "b", "trailing/"));
}

TEST_F(ListingTest, ContinuationTokensWalkEveryEntryOnce) {
  MakeBucket("bkt");
  std::vector<std::string> all;
  for (int i = 0; i < 25; ++i) {
    std::string k = absl::StrCat("k", i < 10 ? "0" : "", i);
    all.push_back(k);
    ASSERT_THAT(Put("bkt", k, "x"), IsOk());
  }
  for (int i = 0; i < 3; ++i) ASSERT_THAT(Put("bkt", absl::StrCat("dir/", i), "x"), IsOk());
  v1::ListObjectsV2Request r;
  r.set_bucket("bkt");
  r.set_max_keys(4);
  r.set_delimiter("/");
  std::vector<std::string> seen;
  int pages = 0;
  while (true) {
    auto page = s_->lister->ListObjectsV2(r);
    ASSERT_THAT(page, IsOk());
    ++pages;
    for (const auto& p : page->common_prefixes()) seen.push_back(p);
    for (const auto& c : page->contents()) seen.push_back(c.key());
    if (!page->is_truncated()) break;
    r.set_continuation_token(page->next_continuation_token());
  }
  std::vector<std::string> expected = {"dir/"};
  expected.insert(expected.end(), all.begin(), all.end());
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(pages, 7);  // 26 entries, 4 a page
  r.set_continuation_token("garbage!");
  EXPECT_THAT(s_->lister->ListObjectsV2(r), IsStatus(C::kInvalidArgument, "InvalidArgument", "continuation_token"));
}

TEST_F(ListingTest, VersionListingPagesWithKeyAndVersionMarkers) {
  MakeBucket("bkt", v1::VERSIONING_STATUS_ENABLED);
  for (int i = 0; i < 3; ++i) {
    ASSERT_THAT(Put("bkt", "k", absl::StrCat(i)), IsOk());
    ASSERT_THAT(Put("bkt", "l", absl::StrCat(i)), IsOk());
  }
  ASSERT_THAT(Delete("bkt", "l"), IsOk());
  v1::ListObjectVersionsRequest r;
  r.set_bucket("bkt");
  r.set_max_keys(2);
  std::vector<std::string> seen;
  while (true) {
    auto page = s_->lister->ListObjectVersions(r);
    ASSERT_THAT(page, IsOk());
    for (const auto& v : page->versions()) seen.push_back(v.key() + (v.is_latest() ? "*" : ""));
    for (const auto& v : page->delete_markers()) seen.push_back(v.key() + "-marker" + (v.is_latest() ? "*" : ""));
    if (!page->is_truncated()) break;
    r.set_key_marker(page->next_key_marker());
    r.set_version_id_marker(page->next_version_id_marker());
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_THAT(seen, ElementsAre("k", "k", "k*", "l", "l", "l", "l-marker*"));
}

}  // namespace
}  // namespace thingtank::objects
