#include "services/tables/metrics.h"

#include "services/common/capped_gauges.h"

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
  static constexpr GaugeSpec kGauges[] = {
      {"thingtank_tables_items", "Items in the table."},
      {"thingtank_tables_size_bytes", "Size of the table's items, computed as DynamoDB does."},
  };
  std::vector<GaugeRow> rows;
  for (const TableStats& s : source_()) {
    rows.push_back({s.table, {static_cast<double>(s.item_count), static_cast<double>(s.size_bytes)}});
  }
  return CappedGauges("table", kGauges, rows, series_limit_);
}

}  // namespace thingtank::tables
