#include "gateway/api_keys.h"
#include "gateway/forwarder.h"
#include "services/common/token_bucket.h"

#include "gtest/gtest.h"

namespace thingtank::gateway {
namespace {

TEST(ApiKeysTest, ParsesKeysWithDefaultsAndComments) {
  auto keys = ParseApiKeys(
      "# id secret services rate burst\n"
      "admin s3cret *\n"
      "device devsecret queues,tables 5 10  # a comment\n");
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_TRUE(keys->at("admin").Allows("queues"));
  EXPECT_TRUE(keys->at("device").Allows("tables"));
  EXPECT_FALSE(keys->at("device").Allows("compute"));
  EXPECT_EQ(keys->at("device").rate_per_second, 5);
  EXPECT_EQ(keys->at("device").burst, 10);
}

TEST(ApiKeysTest, ErrorsNameTheLine) {
  auto bad_rate = ParseApiKeys("a b *\nc d * fast\n");
  ASSERT_FALSE(bad_rate.ok());
  EXPECT_EQ(bad_rate.status().message(), "api keys line 2: rate \"fast\" is not a positive number");
  auto dup = ParseApiKeys("a b *\na c *\n");
  EXPECT_EQ(dup.status().message(), "api keys line 2: key id \"a\" appears twice");
  EXPECT_FALSE(ParseApiKeys("# nothing\n").ok());
  EXPECT_FALSE(ParseApiKeys("onlyid\n").ok());
}

TEST(TokenBucketTest, AllowsBurstThenRefillsAtRate) {
  absl::Time t = absl::FromUnixSeconds(100);
  TokenBucket bucket(/*rate_per_second=*/2, /*burst=*/3, t);
  absl::Duration retry;
  EXPECT_TRUE(bucket.TryTake(t, &retry));
  EXPECT_TRUE(bucket.TryTake(t, &retry));
  EXPECT_TRUE(bucket.TryTake(t, &retry));
  EXPECT_FALSE(bucket.TryTake(t, &retry));
  EXPECT_EQ(retry, absl::Milliseconds(500));
  t += absl::Milliseconds(500);
  EXPECT_TRUE(bucket.TryTake(t, &retry));
  EXPECT_FALSE(bucket.TryTake(t, &retry));
  t += absl::Seconds(10);  // Refills only up to the burst.
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(bucket.TryTake(t, &retry));
  EXPECT_FALSE(bucket.TryTake(t, &retry));
}

TEST(BackendsTest, AServiceWithoutAnApiIsRefusedNamingIt) {
  prometheus::Registry registry;
  RpcMetrics metrics(&registry);
  auto backends = Backends::Create({{"nope", "127.0.0.1:1"}}, {}, nullptr, &metrics,
                                   absl::Seconds(1));
  ASSERT_FALSE(backends.ok());
  EXPECT_EQ(backends.status().message(),
            "--backends: this gateway knows no API of service \"nope\"");
}

}  // namespace
}  // namespace thingtank::gateway
