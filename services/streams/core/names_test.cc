#include "services/streams/core/names.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "services/common/testing/status_matchers.h"

namespace thingtank::streams {
namespace {

using C = absl::StatusCode;

TEST(NamesTest, StreamNames) {
  for (const std::string &name : std::vector<std::string>{
           "a", "my-stream_1.0", "A.B-c_D", std::string(128, 'x')}) {
    EXPECT_THAT(ValidateStreamName(name), IsOk()) << name;
  }
  for (const std::string &name :
       std::vector<std::string>{"", std::string(129, 'x'), "has space",
                                "slash/", "colon:", "caf\xc3\xa9"}) {
    EXPECT_THAT(ValidateStreamName(name),
                IsStatus(C::kInvalidArgument, "InvalidArgumentException",
                         "stream_name"))
        << name;
  }
  EXPECT_THAT(
      ValidateStreamName("", "shard_id"),
      IsStatus(C::kInvalidArgument, "InvalidArgumentException", "shard_id"));
}

TEST(NamesTest, PartitionKeysCountUnicodeCharacters) {
  std::string euros;
  for (int i = 0; i < 256; ++i)
    euros += "\xe2\x82\xac"; // 256 characters, 768 bytes
  for (const std::string &key :
       std::vector<std::string>{std::string("k"), std::string(256, 'k'), euros,
                                std::string("\xf0\x9f\x98\x80")}) {
    EXPECT_THAT(ValidatePartitionKey(key), IsOk());
  }
  for (const std::string &key : std::vector<std::string>{
           std::string(), std::string(257, 'k'), euros + "k",
           std::string("\xff"), std::string("\xc0\xaf"), // overlong
           std::string("\xed\xa0\x80"),                  // surrogate
           std::string("\xe2\x82")}) {                   // truncated
    EXPECT_THAT(ValidatePartitionKey(key),
                IsStatus(C::kInvalidArgument, "InvalidArgumentException",
                         "partition_key"));
  }
}

} // namespace
} // namespace thingtank::streams
