#include "services/common/storage/key_codec.h"

#include <algorithm>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace thingtank::keys {
namespace {

TEST(KeyCodecTest, Int64EncodingPreservesOrder) {
  std::mt19937_64 rng(42);
  std::vector<int64_t> values = {INT64_MIN, -1, 0, 1, INT64_MAX};
  for (int i = 0; i < 2000; ++i) values.push_back(static_cast<int64_t>(rng()));
  for (size_t i = 0; i + 1 < values.size(); ++i) {
    std::string a, b;
    AppendInt64(&a, values[i]);
    AppendInt64(&b, values[i + 1]);
    EXPECT_EQ(values[i] < values[i + 1], a < b) << values[i] << " vs " << values[i + 1];
    std::string_view in = a;
    EXPECT_EQ(ConsumeInt64(&in), values[i]);
    EXPECT_TRUE(in.empty());
  }
}

TEST(KeyCodecTest, Uint64EncodingPreservesOrder) {
  std::string a, b;
  AppendUint64(&a, 255);
  AppendUint64(&b, 256);
  EXPECT_LT(a, b);
}

TEST(KeyCodecTest, ResourcePrefixesNeverCollide) {
  // "ab" + key "c" must not share a prefix with "abc" + anything.
  std::string p1, p2;
  AppendResource(&p1, "ab");
  p1 += "c";
  AppendResource(&p2, "abc");
  EXPECT_NE(p1.substr(0, std::min(p1.size(), p2.size())), p2.substr(0, std::min(p1.size(), p2.size())));
  std::string_view in = p2;
  EXPECT_EQ(ConsumeResource(&in), "abc");
  EXPECT_TRUE(in.empty());
}

TEST(KeyCodecTest, ConsumeRejectsShortInput) {
  std::string_view in("\x00\x00\x00\x05" "ab", 6);
  EXPECT_EQ(ConsumeResource(&in), std::nullopt);
  std::string_view seven("1234567");
  EXPECT_EQ(ConsumeUint64(&seven), std::nullopt);
}

TEST(KeyCodecTest, PrefixSuccessor) {
  EXPECT_EQ(PrefixSuccessor("ab"), "ac");
  EXPECT_EQ(PrefixSuccessor(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixSuccessor(std::string("\xff\xff", 2)), "");
}

}  // namespace
}  // namespace thingtank::keys
