#pragma once

#include <functional>
#include <vector>

#include "prometheus/collectable.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "services/tables/table_service.h"

namespace thingtank::tables {

// Every metric of the tables service, declared in one place.
// Counters (process totals): thingtank_tables_{read,write}_units_consumed_total,
// thingtank_tables_throttled_requests_total,
// thingtank_tables_conditional_check_failures_total,
// thingtank_tables_ttl_deleted_items_total. Per table, read from the domain
// (TableService::Stats) at scrape time, at most `series_limit` tables (the
// rest summed under table="_other"): gauges thingtank_tables_items,
// thingtank_tables_size_bytes, thingtank_tables_table_provisioned_{read,write}_units
// (0 for on-demand), counters thingtank_tables_table_{read,write}_units_consumed_total
// and thingtank_tables_table_throttled_requests_total{operation="read"|"write"}.
// Utilization is consumed rate / provisioned. Thread-safe.
class TablesMetrics final : public TableEvents, public prometheus::Collectable {
 public:
  TablesMetrics(prometheus::Registry* registry, size_t series_limit);
  // Where the per-table gauges come from; set once the domain exists.
  void SetStatsSource(std::function<std::vector<TableStats>()> source);

  void OnConsumed(const std::string& table, double read_units, double write_units) override {
    if (read_units > 0) read_units_.Increment(read_units);
    if (write_units > 0) write_units_.Increment(write_units);
  }
  void OnThrottled(const std::string& table) override { throttled_.Increment(); }
  void OnConditionalCheckFailed(const std::string& table) override {
    conditional_check_failures_.Increment();
  }
  void OnTtlDeleted(const std::string& table, int64_t n) override {
    ttl_deleted_.Increment(static_cast<double>(n));
  }

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const size_t series_limit_;
  prometheus::Counter& read_units_;
  prometheus::Counter& write_units_;
  prometheus::Counter& throttled_;
  prometheus::Counter& conditional_check_failures_;
  prometheus::Counter& ttl_deleted_;
  std::function<std::vector<TableStats>()> source_;
};

}  // namespace thingtank::tables
