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
  // Every per-table family, in one block; their rows below follow this order.
  static constexpr GaugeSpec kPerTable[] = {
      {"thingtank_tables_items", "Items in the table."},
      {"thingtank_tables_size_bytes", "Size of the table's items, computed as DynamoDB does."},
      {"thingtank_tables_table_provisioned_read_units",
       "Provisioned read capacity units of the table (0 for on-demand)."},
      {"thingtank_tables_table_provisioned_write_units",
       "Provisioned write capacity units of the table (0 for on-demand)."},
      {"thingtank_tables_table_read_units_consumed_total",
       "Read capacity units the table consumed."},
      {"thingtank_tables_table_write_units_consumed_total",
       "Write capacity units the table consumed."},
      {"thingtank_tables_table_throttled_requests_total",
       "Requests to the table refused for exceeding its provisioned throughput, by operation."},
      {"", ""},  // the write half of the one above, merged into it
  };
  constexpr size_t kFirstCounter = 4;
  constexpr size_t kThrottledReads = 6;
  std::vector<GaugeRow> rows;
  for (const TableStats& s : source_()) {
    rows.push_back({s.table,
                    {static_cast<double>(s.item_count), static_cast<double>(s.size_bytes),
                     static_cast<double>(s.provisioned_read_units),
                     static_cast<double>(s.provisioned_write_units), s.read_units_consumed,
                     s.write_units_consumed, static_cast<double>(s.throttled_reads),
                     static_cast<double>(s.throttled_writes)}});
  }
  std::vector<prometheus::MetricFamily> families =
      CappedGauges("table", kPerTable, rows, series_limit_);
  // Counters: the same capped series, typed as counters.
  for (size_t i = kFirstCounter; i < families.size(); ++i) {
    families[i].type = prometheus::MetricType::Counter;
    for (prometheus::ClientMetric& m : families[i].metric) {
      m.counter.value = m.gauge.value;
      m.gauge.value = 0;
    }
  }
  // Throttled reads and writes: one family labelled operation="read"/"write".
  prometheus::MetricFamily& throttled = families[kThrottledReads];
  prometheus::MetricFamily writes = std::move(families[kThrottledReads + 1]);
  families.pop_back();
  for (prometheus::ClientMetric& m : throttled.metric) m.label.push_back({"operation", "read"});
  for (prometheus::ClientMetric& m : writes.metric) {
    m.label.push_back({"operation", "write"});
    throttled.metric.push_back(std::move(m));
  }
  return families;
}

}  // namespace thingtank::tables
