#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "thingtank/compute/v1/compute.pb.h"

namespace thingtank::compute {

// A metric's identity: namespace, name and dimension set. Dimensions are kept
// sorted by name, so two keys built from the same set in any order are equal
// (CloudWatch matches dimensions as an exact, order-independent set).
struct MetricKey {
  std::string ns;
  std::string name;
  std::vector<std::pair<std::string, std::string>> dimensions;  // sorted by name

  static MetricKey From(absl::string_view ns, absl::string_view name,
                        const google::protobuf::RepeatedPtrField<v1::Dimension>& dimensions);
  // As the API shows it (dimensions in name order).
  v1::Metric ToProto() const;

  friend bool operator<(const MetricKey& a, const MetricKey& b) {
    if (a.ns != b.ns) return a.ns < b.ns;
    if (a.name != b.name) return a.name < b.name;
    return a.dimensions < b.dimensions;
  }
  friend bool operator==(const MetricKey& a, const MetricKey& b) {
    return a.ns == b.ns && a.name == b.name && a.dimensions == b.dimensions;
  }
  template <typename H>
  friend H AbslHashValue(H h, const MetricKey& k) {
    return H::combine(std::move(h), k.ns, k.name, k.dimensions);
  }
};

// One statistic: SampleCount, Average, Sum, Minimum, Maximum or a percentile.
struct Stat {
  enum class Kind { kSampleCount, kAverage, kSum, kMinimum, kMaximum, kPercentile };
  Kind kind = Kind::kAverage;
  double percentile = 0;  // 0 to 100, for kPercentile
  std::string name;       // "Average", "p99.9": as CloudWatch prints it

  static Stat Of(v1::Statistic statistic);  // statistic must be set
  static Stat Percentile(double p, std::string name);
};

// "SampleCount", "Average", "Sum", "Minimum", "Maximum" or a percentile.
std::optional<Stat> ParseStat(absl::string_view s);
// "p0" to "p100", with up to 10 decimals ("p99.9"); nullopt otherwise.
std::optional<Stat> ParsePercentile(absl::string_view s);
// "Average" for STATISTIC_AVERAGE, ...; empty for UNSPECIFIED.
std::string StatisticName(v1::Statistic statistic);

// CloudWatch's units ("Seconds", ..., "Count/Second", "None"): the index of
// `name` in the table, or nullopt when it is not one.
std::optional<int> UnitIndex(absl::string_view name);
const std::string& UnitName(int index);
inline constexpr int kUnitNone = 0;

}  // namespace thingtank::compute
