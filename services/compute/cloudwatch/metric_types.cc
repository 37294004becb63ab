#include "services/compute/cloudwatch/metric_types.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>

namespace thingtank::compute {
namespace {

const std::array<std::string, 27>& Units() {
  static const auto* units = new std::array<std::string, 27>{
      "None",          "Seconds",          "Microseconds",     "Milliseconds",
      "Bytes",         "Kilobytes",        "Megabytes",        "Gigabytes",
      "Terabytes",     "Bits",             "Kilobits",         "Megabits",
      "Gigabits",      "Terabits",         "Percent",          "Count",
      "Bytes/Second",  "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second",
      "Terabytes/Second", "Bits/Second",   "Kilobits/Second",  "Megabits/Second",
      "Gigabits/Second",  "Terabits/Second", "Count/Second"};
  return *units;
}

}  // namespace

MetricKey MetricKey::From(absl::string_view ns, absl::string_view name,
                          const google::protobuf::RepeatedPtrField<v1::Dimension>& dimensions) {
  MetricKey key;
  key.ns = std::string(ns);
  key.name = std::string(name);
  key.dimensions.reserve(dimensions.size());
  for (const auto& d : dimensions) key.dimensions.emplace_back(d.name(), d.value());
  std::sort(key.dimensions.begin(), key.dimensions.end());
  return key;
}

v1::Metric MetricKey::ToProto() const {
  v1::Metric m;
  m.set_namespace_(ns);
  m.set_metric_name(name);
  for (const auto& [n, v] : dimensions) {
    auto* d = m.add_dimensions();
    d->set_name(n);
    d->set_value(v);
  }
  return m;
}

Stat Stat::Of(v1::Statistic statistic) {
  Stat s;
  switch (statistic) {
    case v1::STATISTIC_SAMPLE_COUNT: s.kind = Kind::kSampleCount; break;
    case v1::STATISTIC_SUM: s.kind = Kind::kSum; break;
    case v1::STATISTIC_MINIMUM: s.kind = Kind::kMinimum; break;
    case v1::STATISTIC_MAXIMUM: s.kind = Kind::kMaximum; break;
    default: s.kind = Kind::kAverage; break;
  }
  s.name = StatisticName(statistic);
  return s;
}

Stat Stat::Percentile(double p, std::string name) {
  Stat s;
  s.kind = Kind::kPercentile;
  s.percentile = p;
  s.name = std::move(name);
  return s;
}

std::string StatisticName(v1::Statistic statistic) {
  switch (statistic) {
    case v1::STATISTIC_SAMPLE_COUNT: return "SampleCount";
    case v1::STATISTIC_AVERAGE: return "Average";
    case v1::STATISTIC_SUM: return "Sum";
    case v1::STATISTIC_MINIMUM: return "Minimum";
    case v1::STATISTIC_MAXIMUM: return "Maximum";
    default: return "";
  }
}

std::optional<Stat> ParsePercentile(absl::string_view s) {
  if (s.size() < 2 || s[0] != 'p') return std::nullopt;
  absl::string_view num = s.substr(1);
  size_t i = 0;
  size_t int_digits = 0;
  while (i < num.size() && std::isdigit(static_cast<unsigned char>(num[i]))) ++i, ++int_digits;
  if (int_digits == 0 || int_digits > 3) return std::nullopt;
  if (i < num.size()) {
    if (num[i] != '.') return std::nullopt;
    ++i;
    size_t decimals = 0;
    while (i < num.size() && std::isdigit(static_cast<unsigned char>(num[i]))) ++i, ++decimals;
    if (decimals == 0 || decimals > 10 || i != num.size()) return std::nullopt;
  }
  const double p = std::strtod(std::string(num).c_str(), nullptr);
  if (p < 0 || p > 100) return std::nullopt;
  return Stat::Percentile(p, std::string(s));
}

std::optional<Stat> ParseStat(absl::string_view s) {
  for (v1::Statistic st : {v1::STATISTIC_SAMPLE_COUNT, v1::STATISTIC_AVERAGE, v1::STATISTIC_SUM,
                           v1::STATISTIC_MINIMUM, v1::STATISTIC_MAXIMUM}) {
    if (s == StatisticName(st)) return Stat::Of(st);
  }
  return ParsePercentile(s);
}

std::optional<int> UnitIndex(absl::string_view name) {
  const auto& units = Units();
  for (size_t i = 0; i < units.size(); ++i) {
    if (units[i] == name) return static_cast<int>(i);
  }
  return std::nullopt;
}

const std::string& UnitName(int index) { return Units().at(static_cast<size_t>(index)); }

}  // namespace thingtank::compute
