#pragma once

#include "absl/time/time.h"

namespace thingtank {

// A token bucket on the injected clock's time: `rate_per_second` tokens flow
// in, up to `capacity` (the burst); a new bucket starts full. It is spent in
// one of two ways:
//  - TryTake(n): all or nothing; when the tokens are not there, says exactly
//    how long until they will be (the gateway's per-key rate limits).
//  - Admit, then Charge(n): a request is let in while the balance is positive
//    and is then charged what it really used, so the balance may go negative;
//    refill pays the debt (provisioned throughput: a large item is never
//    starved, it only delays the next request).
//
// Time going backwards (a `now` before the last refill) neither adds nor
// removes tokens: refill resumes once time passes the last refill again, and
// the delays returned count that gap. Not thread-safe: the owner locks.
class TokenBucket {
 public:
  // Rate 0 and capacity 0: TryTake and Admit never succeed.
  TokenBucket() = default;
  TokenBucket(double rate_per_second, double capacity, absl::Time now);

  // Changes rate and capacity from `now` on, keeping the balance (capped at
  // the new capacity; a debt is kept).
  void SetRate(double rate_per_second, double capacity, absl::Time now);

  // Takes `n` tokens if the balance has them. Otherwise takes nothing,
  // returns false and sets `retry_after` to the time until `n` tokens will be
  // there (InfiniteDuration() when they never will: rate 0 or n > capacity).
  bool TryTake(absl::Time now, double n, absl::Duration* retry_after);
  bool TryTake(absl::Time now, absl::Duration* retry_after) {
    return TryTake(now, 1.0, retry_after);
  }

  // Zero when the balance is positive at `now`; otherwise the time until
  // refill makes it positive (InfiniteDuration() at rate 0).
  absl::Duration Admit(absl::Time now);
  // Spends `n` tokens, going into debt if need be.
  void Charge(double n, absl::Time now);

  // The balance as of the last call (negative: a debt).
  double tokens() const { return tokens_; }
  double rate() const { return rate_; }
  double capacity() const { return capacity_; }

 private:
  void Refill(absl::Time now);
  // The time from `now` until the balance reaches `target` (strictly above it
  // when `strictly`), rounded up so that refill at that time gets there.
  absl::Duration TimeUntil(absl::Time now, double target, bool strictly) const;

  double rate_ = 0;
  double capacity_ = 0;
  double tokens_ = 0;
  absl::Time last_ = absl::InfinitePast();
};

}  // namespace thingtank
