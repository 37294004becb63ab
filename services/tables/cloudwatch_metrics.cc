#include "services/tables/cloudwatch_metrics.h"

#include "absl/strings/str_cat.h"

namespace thingtank::tables {

MetricPublisher::Requests DynamoDbMetrics::Build(absl::Time end, const std::vector<TableStats>& stats) {
  compute::ServiceMetricsBatch batch("AWS/DynamoDB", end - absl::Minutes(1));
  absl::MutexLock lock(&mu_);
  for (const TableStats& t : stats) {
    const std::vector<std::pair<std::string, std::string>> dims = {{"TableName", t.table}};
    batch.Add("ConsumedReadCapacityUnits", dims,
              totals_.Delta(absl::StrCat(t.table, "/read"), t.read_units_consumed), "Count");
    batch.Add("ConsumedWriteCapacityUnits", dims,
              totals_.Delta(absl::StrCat(t.table, "/write"), t.write_units_consumed), "Count");
    batch.Add("ReadThrottleEvents", dims,
              totals_.Delta(absl::StrCat(t.table, "/rthrottle"), static_cast<double>(t.throttled_reads)),
              "Count");
    batch.Add("WriteThrottleEvents", dims,
              totals_.Delta(absl::StrCat(t.table, "/wthrottle"), static_cast<double>(t.throttled_writes)),
              "Count");
    batch.Add("ProvisionedReadCapacityUnits", dims, static_cast<double>(t.provisioned_read_units), "Count");
    batch.Add("ProvisionedWriteCapacityUnits", dims, static_cast<double>(t.provisioned_write_units),
              "Count");
  }
  totals_.Next();
  return batch.Take();
}

}  // namespace thingtank::tables
