#include "services/tables/metrics.h"

namespace thingtank::tables {
namespace {

prometheus::Counter& Total(prometheus::Registry* registry, const std::string& name,
                           const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(*registry).Add({});
}

}  // namespace

TablesMetrics::TablesMetrics(prometheus::Registry* registry, size_t series_limit)
    : series_limit_(series_limit),
      read_units_(Total(registry, "thingtank_tables_read_units_consumed_total",
                        "Read capacity units consumed.")),
      write_units_(Total(registry, "thingtank_tables_write_units_consumed_total",
                         "Write capacity units consumed.")),
      throttled_(Total(registry, "thingtank_tables_throttled_requests_total",
                       "Requests refused for exceeding provisioned throughput.")),
      conditional_check_failures_(Total(registry, "thingtank_tables_conditional_check_failures_total",
                                        "Writes refused because their condition did not hold.")),
      ttl_deleted_(Total(registry, "thingtank_tables_ttl_deleted_items_total",
                         "Items deleted by time to live.")) {}

void TablesMetrics::SetStatsSource(std::function<std::vector<TableStats>()> source) {
  source_ = std::move(source);
}

std::vector<prometheus::MetricFamily> TablesMetrics::Collect() const {
  if (!source_) return {};
  struct Gauge {
    const char* name;
    const char* help;
    int64_t TableStats::*field;
  };
  static constexpr Gauge kGauges[] = {
      {"thingtank_tables_items", "Items in the table.", &TableStats::item_count},
      {"thingtank_tables_size_bytes", "Size of the table's items, computed as DynamoDB does.",
       &TableStats::size_bytes},
  };
  const std::vector<TableStats> stats = source_();
  std::vector<prometheus::MetricFamily> families;
  for (const Gauge& gauge : kGauges) {
    prometheus::MetricFamily family;
    family.name = gauge.name;
    family.help = gauge.help;
    family.type = prometheus::MetricType::Gauge;
    double other = 0;
    for (size_t i = 0; i < stats.size(); ++i) {
      const double value = static_cast<double>(stats[i].*gauge.field);
      if (i >= series_limit_) {
        other += value;
        continue;
      }
      prometheus::ClientMetric metric;
      metric.label.push_back({"table", stats[i].table});
      metric.gauge.value = value;
      family.metric.push_back(std::move(metric));
    }
    if (stats.size() > series_limit_) {
      prometheus::ClientMetric metric;
      metric.label.push_back({"table", "_other"});
      metric.gauge.value = other;
      family.metric.push_back(std::move(metric));
    }
    families.push_back(std::move(family));
  }
  return families;
}

}  // namespace thingtank::tables
