#include "services/common/token_bucket.h"

#include <algorithm>

namespace thingtank {

TokenBucket::TokenBucket(double rate_per_second, double capacity, absl::Time now)
    : rate_(rate_per_second), capacity_(capacity), tokens_(capacity), last_(now) {}

void TokenBucket::SetRate(double rate_per_second, double capacity, absl::Time now) {
  Refill(now);
  rate_ = rate_per_second;
  capacity_ = capacity;
  tokens_ = std::min(tokens_, capacity_);
}

bool TokenBucket::TryTake(absl::Time now, double n, absl::Duration* retry_after) {
  Refill(now);
  if (tokens_ >= n) {
    tokens_ -= n;
    return true;
  }
  *retry_after = n > capacity_ ? absl::InfiniteDuration() : TimeUntil(now, n, /*strictly=*/false);
  return false;
}

absl::Duration TokenBucket::Admit(absl::Time now) {
  Refill(now);
  if (tokens_ > 0) return absl::ZeroDuration();
  return TimeUntil(now, 0, /*strictly=*/true);
}

void TokenBucket::Charge(double n, absl::Time now) {
  Refill(now);
  tokens_ -= n;
}

void TokenBucket::Refill(absl::Time now) {
  if (now <= last_) return;  // no time passed, or it went backwards
  if (rate_ > 0) {
    tokens_ = std::min(capacity_, tokens_ + rate_ * absl::ToDoubleSeconds(now - last_));
  }
  last_ = now;
}

absl::Duration TokenBucket::TimeUntil(absl::Time now, double target, bool strictly) const {
  if (rate_ <= 0) return absl::InfiniteDuration();
  // Refill at last_ + d yields tokens_ + rate_ * d (below the cap, since
  // target <= capacity_). Round d up to whole nanoseconds until that is
  // enough, so that waiting exactly d always succeeds.
  absl::Duration d = absl::Ceil(absl::Seconds((target - tokens_) / rate_), absl::Nanoseconds(1));
  auto enough = [&](absl::Duration x) {
    const double after = tokens_ + rate_ * absl::ToDoubleSeconds(x);
    return strictly ? after > target : after >= target;
  };
  for (absl::Duration step = absl::Nanoseconds(1); !enough(d); step *= 2) d += step;
  const absl::Duration gap = now < last_ ? last_ - now : absl::ZeroDuration();
  return gap + d;
}

}  // namespace thingtank
