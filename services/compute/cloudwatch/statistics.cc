#include "services/compute/cloudwatch/statistics.h"

#include <algorithm>
#include <cmath>

namespace thingtank::compute {

Sample Sample::Single(int64_t time_ms, double value) {
  Sample s;
  s.time_ms = time_ms;
  s.count = 1;
  s.sum = s.min = s.max = value;
  return s;
}

Sample Sample::Set(int64_t time_ms, double count, double sum, double min, double max) {
  Sample s;
  s.time_ms = time_ms;
  s.count = count;
  s.sum = sum;
  s.min = min;
  s.max = max;
  s.has_distribution = min == max;
  return s;
}

Sample Sample::Distribution(int64_t time_ms, const std::vector<double>& values,
                            const std::vector<double>& counts) {
  Sample s;
  s.time_ms = time_ms;
  s.values = std::make_unique<std::vector<std::pair<double, double>>>();
  s.values->reserve(values.size());
  bool first = true;
  for (size_t i = 0; i < values.size(); ++i) {
    const double v = values[i];
    const double c = counts.empty() ? 1.0 : counts[i];
    s.values->emplace_back(v, c);
    s.count += c;
    s.sum += v * c;
    s.min = first ? v : std::min(s.min, v);
    s.max = first ? v : std::max(s.max, v);
    first = false;
  }
  return s;
}

void Accumulator::Add(const Sample& s) {
  if (!any_) {
    min_ = s.min;
    max_ = s.max;
    any_ = true;
  } else {
    min_ = std::min(min_, s.min);
    max_ = std::max(max_, s.max);
  }
  count_ += s.count;
  sum_ += s.sum;
  if (!keep_distribution_) return;
  if (!s.has_distribution) {
    distribution_ok_ = false;
  } else if (s.values) {
    distribution_.insert(distribution_.end(), s.values->begin(), s.values->end());
  } else {
    distribution_.emplace_back(s.min, s.count);
  }
  sorted_ = false;
}

std::optional<double> Accumulator::Value(const Stat& stat) {
  switch (stat.kind) {
    case Stat::Kind::kSampleCount: return count_;
    case Stat::Kind::kSum: return sum_;
    case Stat::Kind::kMinimum: return min_;
    case Stat::Kind::kMaximum: return max_;
    case Stat::Kind::kAverage:
      if (count_ <= 0) return std::nullopt;
      return sum_ / count_;
    case Stat::Kind::kPercentile: return PercentileValue(stat.percentile);
  }
  return std::nullopt;
}

// Nearest rank over the weighted values: the smallest value whose cumulative
// count reaches p% of the total (p0 is the minimum, p100 the maximum).
std::optional<double> Accumulator::PercentileValue(double p) {
  if (!keep_distribution_ || !distribution_ok_ || distribution_.empty()) return std::nullopt;
  if (!sorted_) {
    std::sort(distribution_.begin(), distribution_.end());
    sorted_ = true;
  }
  double total = 0;
  for (const auto& [v, c] : distribution_) total += c;
  if (p <= 0 || total <= 0) return distribution_.front().first;
  const double rank = std::ceil(p / 100.0 * total - 1e-9);
  double cumulative = 0;
  for (const auto& [v, c] : distribution_) {
    cumulative += c;
    if (cumulative >= rank) return v;
  }
  return distribution_.back().first;
}

}  // namespace thingtank::compute
