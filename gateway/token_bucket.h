#pragma once

#include "absl/time/time.h"

namespace thingtank::gateway {

// A token bucket on the injected clock's time. Not thread-safe: the owner
// locks.
class TokenBucket {
 public:
  TokenBucket(double rate_per_second, double burst, absl::Time now)
      : rate_(rate_per_second), burst_(burst), tokens_(burst), last_(now) {}

  // Takes one token if there is one. Otherwise returns false and sets
  // `retry_after` to when the next token will be there.
  bool TryTake(absl::Time now, absl::Duration* retry_after) {
    if (now > last_) {
      tokens_ = std::min(burst_, tokens_ + absl::ToDoubleSeconds(now - last_) * rate_);
      last_ = now;
    }
    if (tokens_ >= 1.0) {
      tokens_ -= 1.0;
      return true;
    }
    *retry_after = absl::Seconds((1.0 - tokens_) / rate_);
    return false;
  }

 private:
  double rate_;
  double burst_;
  double tokens_;
  absl::Time last_;
};

}  // namespace thingtank::gateway
