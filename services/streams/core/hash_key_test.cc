#include "services/streams/core/hash_key.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "services/common/testing/status_matchers.h"

namespace thingtank::streams {
namespace {

constexpr char kMax[] = "340282366920938463463374607431768211455"; // 2^128 - 1

TEST(HashKeyTest, KnownMd5Vectors) {
  // int.from_bytes(hashlib.md5(k.encode()).digest(), 'big') in Python.
  const std::pair<std::string, std::string> cases[] = {
      {"", "281949768489412648962353822266799178366"},
      {"a", "16955237001963240173058271559858726497"},
      {"0", "276215275525073243129443018166533317850"},
      {"partition-key-1", "33365116028791453877729010807000998774"},
      {"user_42", "257867450821218689917071653355033817712"},
      {"h\xc3\xa9llo", "252973414135665226741597071662034525008"},
  };
  for (const auto &[key, want] : cases) {
    EXPECT_EQ(FormatHashKey(HashOfPartitionKey(key)), want) << key;
  }
}

TEST(HashKeyTest, FormatAndParseRoundTrip) {
  EXPECT_EQ(FormatHashKey(0), "0");
  EXPECT_EQ(FormatHashKey(kMaxHashKey), kMax);
  for (const std::string &text : std::vector<std::string>{
           "0", "1", "9", "10", "18446744073709551616", kMax}) {
    auto parsed = ParseHashKey(text, "explicit_hash_key");
    ASSERT_THAT(parsed, IsOk()) << text;
    EXPECT_EQ(FormatHashKey(*parsed), text);
  }
  EXPECT_EQ(*ParseHashKey(kMax, "f"), kMaxHashKey);
}

TEST(HashKeyTest, BadHashKeysNameTheField) {
  for (const std::string &text : std::vector<std::string>{
           "", "-1", "01", "00", "+1", " 1", "1 ", "1a", "0x10",
           "340282366920938463463374607431768211456",     // 2^128
           "999999999999999999999999999999999999999",     // 39 digits, too big
           "1000000000000000000000000000000000000000"}) { // 40 digits
    EXPECT_THAT(ParseHashKey(text, "explicit_hash_key"),
                IsStatus(absl::StatusCode::kInvalidArgument,
                         "InvalidArgumentException", "explicit_hash_key"))
        << text;
  }
}

TEST(HashKeyTest, UniformRangesAreContiguousAndCover) {
  for (int n : {1, 2, 3, 4, 7, 8, 100}) {
    const auto ranges = UniformRanges(n);
    ASSERT_EQ(ranges.size(), static_cast<size_t>(n));
    EXPECT_EQ(ranges.front().first, 0u);
    EXPECT_EQ(ranges.back().second, kMaxHashKey);
    for (int i = 0; i < n; ++i) {
      EXPECT_LE(ranges[i].first, ranges[i].second) << n << " " << i;
      if (i > 0) {
        EXPECT_EQ(ranges[i].first, ranges[i - 1].second + 1) << n << " " << i;
      }
    }
  }
}

TEST(HashKeyTest, UniformRangesMatchCreateStream) {
  // Two shards: split at 2^127, as Kinesis's DescribeStream shows.
  auto two = UniformRanges(2);
  EXPECT_EQ(FormatHashKey(two[0].second),
            "170141183460469231731687303715884105727");
  EXPECT_EQ(FormatHashKey(two[1].first),
            "170141183460469231731687303715884105728");
  // Three: step floor(2^128/3) = 113427455640312821154458202477256070485.
  auto three = UniformRanges(3);
  EXPECT_EQ(FormatHashKey(three[0].second),
            "113427455640312821154458202477256070484");
  EXPECT_EQ(FormatHashKey(three[1].first),
            "113427455640312821154458202477256070485");
  EXPECT_EQ(FormatHashKey(three[2].first),
            "226854911280625642308916404954512140970");
  // Seven: step floor(2^128/7); the last takes the remainder.
  auto seven = UniformRanges(7);
  EXPECT_EQ(FormatHashKey(seven[1].first),
            "48611766702991209066196372490252601636");
  EXPECT_EQ(FormatHashKey(seven[6].first),
            "291670600217947254397178234941515609816");
  EXPECT_EQ(seven[6].second, kMaxHashKey);
}

} // namespace
} // namespace thingtank::streams
