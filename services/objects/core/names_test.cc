#include "services/objects/core/names.h"

#include <string>

#include <gtest/gtest.h>

#include "services/common/testing/status_matchers.h"

namespace thingtank::objects {
namespace {

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;
using Map = google::protobuf::Map<std::string, std::string>;

TEST(BucketNameTest, Valid) {
  const std::string valid[] = {"abc",          "my-bucket",     "my.bucket.2024",  "1bucket",
                               "a-b.c-d",      "docexamplebucket1", "192.168.5.4x", "1.2.3",
                               "xn-bucket",    "bucket-s3alia", "sthree",          "amzn-s3-demo",
                               std::string(63, 'a')};
  for (const std::string& name : valid) {
    EXPECT_THAT(ValidateBucketName(name), IsOk()) << name;
  }
}

TEST(BucketNameTest, EachRule) {
  const char* invalid[] = {
      "ab",                        // too short
      "",                          // too short
      "MyBucket",                  // uppercase
      "my_bucket",                 // underscore
      "my bucket",                 // space
      "-bucket",                   // begins with a hyphen
      "bucket-",                   // ends with a hyphen
      ".bucket",                   // begins with a dot
      "bucket.",                   // ends with a dot
      "my..bucket",                // two adjacent dots
      "192.168.5.4",               // IPv4 form
      "999.999.999.999",           // IPv4 form, whatever the numbers
      "xn--bucket",                // reserved prefix
      "sthree-bucket",             // reserved prefix
      "sthree-configurator",       // reserved prefix
      "amzn-s3-demo-bucket",       // reserved prefix
      "bucket-s3alias",            // reserved suffix
      "bucket--ol-s3",             // reserved suffix
      "bucket.mrap",               // reserved suffix
      "bucket--x-s3",              // reserved suffix
      "bucket--table-s3",          // reserved suffix
  };
  for (const char* name : invalid) {
    EXPECT_THAT(ValidateBucketName(name), IsStatus(kInvalid, "InvalidBucketName", "bucket"))
        << name;
  }
  EXPECT_THAT(ValidateBucketName(std::string(64, 'a')),
              IsStatus(kInvalid, "InvalidBucketName", "bucket"));
}

TEST(BucketNameTest, MessageNamesTheRule) {
  EXPECT_NE(ValidateBucketName("my..bucket").message().find("two adjacent periods"),
            std::string::npos);
  EXPECT_NE(ValidateBucketName("192.168.5.4").message().find("IP address"), std::string::npos);
  EXPECT_NE(ValidateBucketName("bucket-s3alias").message().find("-s3alias"), std::string::npos);
}

TEST(KeyTest, Rules) {
  EXPECT_THAT(ValidateKey("a"), IsOk());
  EXPECT_THAT(ValidateKey("../x//y/"), IsOk());
  EXPECT_THAT(ValidateKey("photos/\xC3\xA9t\xC3\xA9/\xF0\x9F\x98\x80.jpg"), IsOk());
  EXPECT_THAT(ValidateKey(std::string(1024, 'k')), IsOk());
  EXPECT_THAT(ValidateKey(""), IsStatus(kInvalid, "InvalidArgument", "key"));
  EXPECT_THAT(ValidateKey(std::string(1025, 'k')), IsStatus(kInvalid, "KeyTooLongError", "key"));
  // 512 two-byte characters: 1,024 bytes; one more is too long.
  std::string e_acute;
  for (int i = 0; i < 512; ++i) e_acute += "\xC3\xA9";
  EXPECT_THAT(ValidateKey(e_acute), IsOk());
  EXPECT_THAT(ValidateKey(e_acute + "x"), IsStatus(kInvalid, "KeyTooLongError", "key"));
  EXPECT_THAT(ValidateKey("", "source_key"), IsStatus(kInvalid, "InvalidArgument", "source_key"));
}

TEST(KeyTest, InvalidUtf8) {
  for (const char* bad : {"\xff", "a\x80", "\xC3", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80",
                          "\xF4\x90\x80\x80", "\xF8\x88\x80\x80\x80", "\xE2\x82"}) {
    EXPECT_THAT(ValidateKey(bad), IsStatus(kInvalid, "InvalidArgument", "key"))
        << testing::PrintToString(bad);
  }
}

TEST(Utf8Test, CountsCodePoints) {
  size_t n = 0;
  ASSERT_TRUE(IsValidUtf8("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80", &n));
  EXPECT_EQ(n, 4u);
  EXPECT_TRUE(IsValidUtf8("\xEF\xBF\xBF"));      // U+FFFF
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
  EXPECT_TRUE(IsValidUtf8(std::string("a\0b", 3)));
}

TEST(UserMetadataTest, Valid) {
  Map m;
  EXPECT_THAT(ValidateUserMetadata(m), IsOk());
  m["color"] = "blue";
  m["x-y_z.1"] = "caf\xC3\xA9 \tau lait";
  m["empty"] = "";
  EXPECT_THAT(ValidateUserMetadata(m), IsOk());
}

TEST(UserMetadataTest, TotalSize) {
  Map m;
  m["k"] = std::string(2047, 'v');  // 1 + 2047 = 2048: allowed
  EXPECT_THAT(ValidateUserMetadata(m), IsOk());
  m["k"] += "v";
  EXPECT_THAT(ValidateUserMetadata(m), IsStatus(kInvalid, "MetadataTooLarge", "headers.metadata"));
  Map many;
  for (int i = 0; i < 100; ++i) many["key" + std::to_string(i)] = std::string(16, 'v');
  EXPECT_THAT(ValidateUserMetadata(many),
              IsStatus(kInvalid, "MetadataTooLarge", "headers.metadata"));
}

TEST(UserMetadataTest, Names) {
  for (const char* name : {"", "Color", "has space", "col:on", "a(b)", "caf\xC3\xA9", "a\nb"}) {
    Map m;
    m[name] = "v";
    EXPECT_THAT(ValidateUserMetadata(m), IsStatus(kInvalid, "InvalidArgument", "headers.metadata"))
        << testing::PrintToString(name);
  }
}

TEST(UserMetadataTest, Values) {
  for (const char* value : {"a\r\nb", "a\nb", "a\rb", "bell\x07", "del\x7f", "\xff\xfe"}) {
    Map m;
    m["k"] = value;
    EXPECT_THAT(ValidateUserMetadata(m), IsStatus(kInvalid, "InvalidArgument", "headers.metadata"))
        << testing::PrintToString(value);
  }
}

TEST(TagsTest, Counts) {
  Map tags;
  for (int i = 0; i < 10; ++i) tags["k" + std::to_string(i)] = "v";
  EXPECT_THAT(ValidateTags(tags, 10, "tags"), IsOk());
  tags["k10"] = "v";
  const absl::Status s = ValidateTags(tags, 10, "tags");
  EXPECT_THAT(s, IsStatus(kInvalid, "InvalidTag", "tags"));
  EXPECT_EQ(s.message(), "tags: Object tags cannot be greater than 10");
  EXPECT_THAT(ValidateTags(tags, 50, "tags"), IsOk());
  for (int i = 11; i < 51; ++i) tags["k" + std::to_string(i)] = "v";
  EXPECT_THAT(ValidateTags(tags, 50, "tags"), IsStatus(kInvalid, "InvalidTag", "tags"));
}

TEST(TagsTest, KeysAndValues) {
  // 128 characters of key (3 bytes each), 256 of value: allowed.
  std::string key;
  for (int i = 0; i < 128; ++i) key += "\xE2\x82\xAC";
  Map ok;
  ok[key] = std::string(256, 'v');
  ok["empty-value"] = "";
  ok["Project"] = "a b+c-d=e.f_g:h/i@j";
  EXPECT_THAT(ValidateTags(ok, 10, "tags"), IsOk());

  const std::pair<std::string, std::string> bad[] = {
      {"", "v"},
      {std::string(129, 'k'), "v"},
      {"k", std::string(257, 'v')},
      {"aws:createdBy", "v"},
      {"AWS:x", "v"},
      {"\xff", "v"},
      {"k", "\xC3"},
      {"k\n", "v"},
  };
  for (const auto& [k, v] : bad) {
    Map m;
    m[k] = v;
    EXPECT_THAT(ValidateTags(m, 10, "header.tags"),
                IsStatus(kInvalid, "InvalidTag", "header.tags"))
        << testing::PrintToString(k) << " " << testing::PrintToString(v.substr(0, 8));
  }
}

}  // namespace
}  // namespace thingtank::objects
