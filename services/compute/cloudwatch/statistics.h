#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "services/compute/cloudwatch/metric_types.h"

namespace thingtank::compute {

// One stored data point of a series: a single value, a statistic set, or
// values with counts, reduced to what statistics need. Move-only (the value
// list of a values-with-counts point is owned on the heap: most points are
// single values and stay 56 bytes).
struct Sample {
  int64_t time_ms = 0;  // when it was measured, ms since the epoch
  uint64_t seq = 0;     // arrival order; with series and time, the storage key
  double count = 0;     // sample count
  double sum = 0;
  double min = 0;
  double max = 0;
  uint8_t unit = kUnitNone;  // UnitIndex
  bool high_resolution = false;
  // Percentiles can be taken: a single value, values with counts, or a
  // statistic set whose minimum equals its maximum (CloudWatch's rule).
  bool has_distribution = true;
  // For values with counts: (value, count) pairs. Null otherwise: the
  // distribution is `min` weighted `count`.
  std::unique_ptr<std::vector<std::pair<double, double>>> values;

  static Sample Single(int64_t time_ms, double value);
  static Sample Set(int64_t time_ms, double count, double sum, double min, double max);
  // `counts` empty: 1 each.
  static Sample Distribution(int64_t time_ms, const std::vector<double>& values,
                             const std::vector<double>& counts);
};

// Period start (ms since the epoch) a sample counts in, for periods aligned to
// the epoch. Standard-resolution samples have one-minute granularity: in a
// sub-minute period they count at the start of their minute.
inline int64_t PeriodStartMs(const Sample& s, int64_t period_ms) {
  int64_t t = s.time_ms;
  if (!s.high_resolution) t -= ((t % 60'000) + 60'000) % 60'000;
  return t - (((t % period_ms) + period_ms) % period_ms);
}

// Aggregates samples of one period and answers any statistic of them.
class Accumulator {
 public:
  // `keep_distribution`: collect values for percentiles (costs a vector).
  explicit Accumulator(bool keep_distribution) : keep_distribution_(keep_distribution) {}
  void Add(const Sample& s);
  bool empty() const { return count_ == 0 && !any_; }
  // nullopt: a percentile of data without a distribution (statistic sets).
  std::optional<double> Value(const Stat& stat);
  double count() const { return count_; }

 private:
  std::optional<double> PercentileValue(double p);

  bool keep_distribution_;
  bool any_ = false;
  double count_ = 0;
  double sum_ = 0;
  double min_ = 0;
  double max_ = 0;
  bool distribution_ok_ = true;
  bool sorted_ = false;
  std::vector<std::pair<double, double>> distribution_;
};

}  // namespace thingtank::compute
