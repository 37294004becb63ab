#include "services/common/token_bucket.h"

#include <gtest/gtest.h>

#include "services/common/clock.h"

namespace thingtank {
namespace {

TEST(TokenBucketTest, StartsFullAndRefillsAtRate) {
  ManualClock clock;
  TokenBucket bucket(/*rate_per_second=*/4, /*capacity=*/2, clock.Now());
  absl::Duration retry;
  EXPECT_TRUE(bucket.TryTake(clock.Now(), &retry));
  EXPECT_TRUE(bucket.TryTake(clock.Now(), &retry));
  EXPECT_FALSE(bucket.TryTake(clock.Now(), &retry));
  clock.Advance(absl::Milliseconds(250));  // one token at 4/s
  EXPECT_TRUE(bucket.TryTake(clock.Now(), &retry));
  EXPECT_FALSE(bucket.TryTake(clock.Now(), &retry));
  clock.Advance(absl::Milliseconds(125));  // half a token
  EXPECT_FALSE(bucket.TryTake(clock.Now(), &retry));
  EXPECT_DOUBLE_EQ(bucket.tokens(), 0.5);
}

TEST(TokenBucketTest, RefillStopsAtCapacity) {
  ManualClock clock;
  TokenBucket bucket(/*rate_per_second=*/10, /*capacity=*/3, clock.Now());
  absl::Duration retry;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(bucket.TryTake(clock.Now(), &retry));
  clock.Advance(absl::Hours(1));
  EXPECT_EQ(bucket.Admit(clock.Now()), absl::ZeroDuration());
  EXPECT_DOUBLE_EQ(bucket.tokens(), 3);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(bucket.TryTake(clock.Now(), &retry));
  EXPECT_FALSE(bucket.TryTake(clock.Now(), &retry));
}

TEST(TokenBucketTest, TakesNUnitsAllOrNothing) {
  ManualClock clock;
  TokenBucket bucket(/*rate_per_second=*/1, /*capacity=*/10, clock.Now());
  absl::Duration retry;
  EXPECT_TRUE(bucket.TryTake(clock.Now(), 7, &retry));
  EXPECT_FALSE(bucket.TryTake(clock.Now(), 5, &retry));
  EXPECT_DOUBLE_EQ(bucket.tokens(), 3);  // the failed take took nothing
  EXPECT_EQ(retry, absl::Seconds(2));
  EXPECT_TRUE(bucket.TryTake(clock.Now(), 3, &retry));
  EXPECT_FALSE(bucket.TryTake(clock.Now(), 11, &retry));  // more than it can ever hold
  EXPECT_EQ(retry, absl::InfiniteDuration());
}

TEST(TokenBucketTest, RetryAfterIsExact) {
  ManualClock clock;
  // Rates whose periods are not whole nanoseconds.
  for (double rate : {3.0, 7.0, 0.3, 1000.0 / 3}) {
    TokenBucket bucket(rate, /*capacity=*/1, clock.Now());
    absl::Duration retry;
    ASSERT_TRUE(bucket.TryTake(clock.Now(), &retry));
    ASSERT_FALSE(bucket.TryTake(clock.Now(), &retry));
    ASSERT_GT(retry, absl::ZeroDuration());
    TokenBucket early = bucket;
    absl::Duration unused;
    EXPECT_FALSE(early.TryTake(clock.Now() + retry - absl::Nanoseconds(1), &unused)) << rate;
    clock.Advance(retry);
    EXPECT_TRUE(bucket.TryTake(clock.Now(), &unused)) << rate;
  }
  TokenBucket halves(/*rate_per_second=*/2, /*capacity=*/3, clock.Now());
  absl::Duration retry;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(halves.TryTake(clock.Now(), &retry));
  ASSERT_FALSE(halves.TryTake(clock.Now(), &retry));
  EXPECT_EQ(retry, absl::Milliseconds(500));
}

TEST(TokenBucketTest, DebtIsAdmittedOnceThenPaidByRefill) {
  ManualClock clock;
  TokenBucket bucket(/*rate_per_second=*/10, /*capacity=*/10, clock.Now());
  EXPECT_EQ(bucket.Admit(clock.Now()), absl::ZeroDuration());
  bucket.Charge(25, clock.Now());  // a large item: admitted, then charged in full
  EXPECT_DOUBLE_EQ(bucket.tokens(), -15);
  const absl::Duration wait = bucket.Admit(clock.Now());
  EXPECT_GE(wait, absl::Milliseconds(1500));
  EXPECT_LT(wait, absl::Milliseconds(1500) + absl::Microseconds(1));
  TokenBucket early = bucket;
  EXPECT_GT(early.Admit(clock.Now() + wait - absl::Nanoseconds(1)), absl::ZeroDuration());
  clock.Advance(wait);
  EXPECT_EQ(bucket.Admit(clock.Now()), absl::ZeroDuration());
}

TEST(TokenBucketTest, SetRateKeepsBalanceCappedAndDebt) {
  ManualClock clock;
  TokenBucket bucket(/*rate_per_second=*/10, /*capacity=*/100, clock.Now());
  bucket.SetRate(1, 5, clock.Now());
  EXPECT_DOUBLE_EQ(bucket.tokens(), 5);
  bucket.Charge(8, clock.Now());
  bucket.SetRate(2, 10, clock.Now());
  EXPECT_DOUBLE_EQ(bucket.tokens(), -3);
  EXPECT_EQ(bucket.Admit(clock.Now()), absl::Milliseconds(1500) + absl::Nanoseconds(1));
}

TEST(TokenBucketTest, ZeroRateNeverAdmits) {
  ManualClock clock;
  TokenBucket empty;
  absl::Duration retry;
  EXPECT_FALSE(empty.TryTake(clock.Now(), &retry));
  EXPECT_EQ(retry, absl::InfiniteDuration());
  EXPECT_EQ(empty.Admit(clock.Now()), absl::InfiniteDuration());
  clock.Advance(absl::Hours(24));
  EXPECT_EQ(empty.Admit(clock.Now()), absl::InfiniteDuration());
  EXPECT_DOUBLE_EQ(empty.tokens(), 0);
}

TEST(TokenBucketTest, TimeGoingBackwardsNeitherAddsNorRemovesTokens) {
  ManualClock clock;
  const absl::Time t0 = clock.Now();
  TokenBucket bucket(/*rate_per_second=*/1, /*capacity=*/2, t0);
  absl::Duration retry;
  ASSERT_TRUE(bucket.TryTake(t0, &retry));
  ASSERT_TRUE(bucket.TryTake(t0, &retry));
  // A reading from before the last refill: no refill, and the retry counts
  // the gap back to the last refill.
  EXPECT_FALSE(bucket.TryTake(t0 - absl::Seconds(10), &retry));
  EXPECT_EQ(retry, absl::Seconds(11));
  EXPECT_DOUBLE_EQ(bucket.tokens(), 0);
  // Back to the present: refill resumes from where it was, nothing was lost.
  EXPECT_TRUE(bucket.TryTake(t0 + absl::Seconds(1), &retry));
  EXPECT_FALSE(bucket.TryTake(t0 + absl::Seconds(1), &retry));
  // Going back and forth does not count the same interval twice.
  EXPECT_FALSE(bucket.TryTake(t0, &retry));
  EXPECT_FALSE(bucket.TryTake(t0 + absl::Seconds(1), &retry));
  EXPECT_TRUE(bucket.TryTake(t0 + absl::Seconds(2), &retry));
}

}  // namespace
}  // namespace thingtank
