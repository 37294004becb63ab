#include "services/streams/core/shard_iterator.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "services/common/testing/status_matchers.h"

namespace thingtank::streams {
namespace {

using C = absl::StatusCode;

const absl::Time kIssued = absl::FromUnixMicros(1'764'771'000'123'456);
constexpr char kKey[] = "0123456789abcdef0123456789abcdef";

ShardIterator Sample() {
  return {"orders", "shardId-000000000003",
          "1000017647710000000000000000000000030000000000000000002", true,
          kIssued};
}

TEST(ShardIteratorTest, RoundTrip) {
  for (ShardIterator it :
       {Sample(), ShardIterator{"s", "x", "", false, kIssued},
        ShardIterator{"s", "x", "0", false, kIssued},
        ShardIterator{"s", "x", "12", true, kIssued}}) {
    const std::string token = EncodeShardIterator(it, kKey);
    EXPECT_EQ(token.find('='), std::string::npos);
    EXPECT_EQ(
        token.find_first_not_of(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos);
    auto decoded = DecodeShardIterator(token, kKey, kIssued + absl::Minutes(1));
    ASSERT_THAT(decoded, IsOk());
    EXPECT_EQ(*decoded, it);
  }
}

TEST(ShardIteratorTest, LongestFieldsFitIn512) {
  const ShardIterator it{std::string(128, 's'), std::string(128, 'h'),
                         "9" + std::string(128, '8'), true, kIssued};
  const std::string token = EncodeShardIterator(it, kKey);
  EXPECT_LE(token.size(), kMaxShardIteratorLength);
  EXPECT_EQ(token.size(), 492u);  // as documented in shard_iterator.h
  auto decoded = DecodeShardIterator(token, kKey, kIssued);
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(*decoded, it);
}

TEST(ShardIteratorTest, TamperingIsRejected) {
  const std::string token = EncodeShardIterator(Sample(), kKey);
  for (size_t i = 0; i < token.size(); ++i) {
    std::string forged = token;
    forged[i] = forged[i] == 'A' ? 'B' : 'A';
    EXPECT_THAT(DecodeShardIterator(forged, kKey, kIssued),
                IsStatus(C::kInvalidArgument, "InvalidArgumentException",
                         "shard_iterator"))
        << i;
  }
  for (const std::string &bad :
       std::vector<std::string>{std::string(), std::string("!!!!"), token + "=",
                                token + "A", token.substr(0, token.size() - 1),
                                std::string(600, 'A'), std::string("AAAA")}) {
    EXPECT_THAT(DecodeShardIterator(bad, kKey, kIssued),
                IsStatus(C::kInvalidArgument, "InvalidArgumentException",
                         "shard_iterator"));
  }
}

TEST(ShardIteratorTest, WrongKeyIsRejected) {
  const std::string token = EncodeShardIterator(Sample(), kKey);
  EXPECT_THAT(DecodeShardIterator(token, "another key", kIssued),
              IsStatus(C::kInvalidArgument, "InvalidArgumentException",
                       "shard_iterator"));
}

TEST(ShardIteratorTest, ExpiresAfterFiveMinutes) {
  const std::string token = EncodeShardIterator(Sample(), kKey);
  EXPECT_THAT(DecodeShardIterator(token, kKey, kIssued + absl::Minutes(5)),
              IsOk());
  EXPECT_THAT(
      DecodeShardIterator(token, kKey,
                          kIssued + absl::Minutes(5) + absl::Microseconds(1)),
      IsStatus(C::kFailedPrecondition, "ExpiredIteratorException"));
  // A forged token is InvalidArgument even when it would also have expired.
  EXPECT_THAT(
      DecodeShardIterator(token, "another key", kIssued + absl::Hours(1)),
      IsStatus(C::kInvalidArgument, "InvalidArgumentException",
               "shard_iterator"));
}

} // namespace
} // namespace thingtank::streams
