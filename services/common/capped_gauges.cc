#include "services/common/capped_gauges.h"

#include <utility>

namespace thingtank {

std::vector<prometheus::MetricFamily> CappedGauges(const std::string& label,
                                                   absl::Span<const GaugeSpec> specs,
                                                   const std::vector<GaugeRow>& rows,
                                                   size_t series_limit) {
  std::vector<prometheus::MetricFamily> families;
  for (size_t g = 0; g < specs.size(); ++g) {
    prometheus::MetricFamily family;
    family.name = specs[g].name;
    family.help = specs[g].help;
    family.type = specs[g].counter ? prometheus::MetricType::Counter : prometheus::MetricType::Gauge;
    auto set = [&specs, g](prometheus::ClientMetric* metric, double value) {
      if (specs[g].counter) {
        metric->counter.value = value;
      } else {
        metric->gauge.value = value;
      }
    };
    double other = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      const double value = rows[i].values[g];
      if (i >= series_limit) {
        other += value;
        continue;
      }
      prometheus::ClientMetric metric;
      metric.label.push_back({label, rows[i].resource});
      set(&metric, value);
      family.metric.push_back(std::move(metric));
    }
    if (rows.size() > series_limit) {
      prometheus::ClientMetric metric;
      metric.label.push_back({label, "_other"});
      set(&metric, other);
      family.metric.push_back(std::move(metric));
    }
    families.push_back(std::move(family));
  }
  return families;
}

}  // namespace thingtank
