#pragma once

// Per-resource gauge families with a cap on the number of labelled series:
// the first `series_limit` rows get their own series, the rest are summed
// into one series labelled "_other".

#include <cstddef>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "prometheus/metric_family.h"

namespace thingtank {

// One family: its name and help text; a gauge unless `counter` (per-resource
// totals kept by the caller, exported as counters).
struct GaugeSpec {
  const char* name;
  const char* help;
  bool counter = false;
};

// One resource (a queue, a table): its label value and one value for each
// GaugeSpec, in the same order.
struct GaugeRow {
  std::string resource;
  std::vector<double> values;
};

// One Gauge family per spec, each with a series {label=resource} per row for
// the first `series_limit` rows and, when there are more rows, a series
// {label="_other"} holding the sum of the rest.
std::vector<prometheus::MetricFamily> CappedGauges(const std::string& label,
                                                   absl::Span<const GaugeSpec> specs,
                                                   const std::vector<GaugeRow>& rows,
                                                   size_t series_limit);

}  // namespace thingtank
