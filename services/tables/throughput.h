#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "absl/time/time.h"

namespace thingtank::tables {

// Capacity units as DynamoDB counts them.
// Reads: one unit per 4 KB strongly consistent, half that eventually
// consistent (at least 0.5 or 1).
inline double ReadUnits(int64_t bytes, bool consistent) {
  const double units = std::max<double>(1, std::ceil(static_cast<double>(bytes) / 4096.0));
  return consistent ? units : units / 2;
}
// Writes: one unit per 1 KB of the larger of the old and new item, at least 1.
inline double WriteUnits(int64_t bytes) {
  return std::max<double>(1, std::ceil(static_cast<double>(bytes) / 1024.0));
}

// A token bucket on an injected clock: refills `rate` units per second up to
// `rate * burst_seconds`. A request is admitted while the bucket is positive
// and is then charged what it actually used, so the bucket may go negative
// (large items are never starved; the debt is paid by refill). Not
// thread-safe: the owner's mutex guards it.
class TokenBucket {
 public:
  TokenBucket() = default;
  TokenBucket(double rate, double burst_seconds, absl::Time now)
      : rate_(rate), capacity_(rate * burst_seconds), tokens_(capacity_), last_(now) {}

  // Changes the rate at once, keeping the saved tokens (capped).
  void SetRate(double rate, double burst_seconds, absl::Time now) {
    Refill(now);
    rate_ = rate;
    capacity_ = rate * burst_seconds;
    tokens_ = std::min(tokens_, capacity_);
  }
  // Zero when a request may go ahead now, else how long until it may.
  absl::Duration Admit(absl::Time now) {
    Refill(now);
    if (tokens_ > 0) return absl::ZeroDuration();
    if (rate_ <= 0) return absl::Seconds(1);
    const double seconds = (-tokens_ + 1e-9) / rate_;
    return std::max(absl::Milliseconds(1), absl::Seconds(seconds));
  }
  void Charge(double units, absl::Time now) {
    Refill(now);
    tokens_ -= units;
  }
  double tokens() const { return tokens_; }

 private:
  void Refill(absl::Time now) {
    if (now > last_) {
      tokens_ = std::min(capacity_, tokens_ + rate_ * absl::ToDoubleSeconds(now - last_));
      last_ = now;
    }
  }

  double rate_ = 0;
  double capacity_ = 0;
  double tokens_ = 0;
  absl::Time last_ = absl::InfinitePast();
};

}  // namespace thingtank::tables
