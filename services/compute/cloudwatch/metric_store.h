#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/storage/db.h"
#include "services/compute/cloudwatch/metric_types.h"
#include "services/compute/cloudwatch/statistics.h"
#include "thingtank/compute/v1/compute.pb.h"

namespace thingtank::compute {

struct MetricStoreOptions {
  // How long raw samples are kept (CloudWatch keeps 1-minute data 15 days).
  absl::Duration retention = absl::Hours(24 * 15);
  // Sub-minute periods (1, 5, 10, 30 s) only see data this recent
  // (CloudWatch keeps high-resolution data at its resolution for 3 hours).
  absl::Duration high_resolution_retention = absl::Hours(3);
  // ListMetrics recently_active: a sample newer than this.
  absl::Duration recently_active = absl::Hours(3);
  // Metrics per ListMetrics page.
  int list_page_size = 500;
};

// CloudWatch metrics: stores data points and answers statistics over them.
//
// Owns an in-memory index of every series (a metric: namespace, name and
// dimension set) with its samples in time order, rebuilt from RocksDB at
// Open. Samples are kept raw (a single value, a statistic set, or values with
// counts), so every statistic, percentiles included, is computed exactly from
// what was put. Each PutMetricData is committed in one WriteBatch before it
// returns (an acknowledged put survives kill -9) and only then becomes
// visible.
//
// Retention (enforced by TrimExpired on the caller's clock, e.g. once a
// minute): samples older than `retention` (15 days) are deleted, and a series
// without samples disappears (also from ListMetrics). Periods under 60 s only
// see the last 3 hours. CloudWatch's 5-minute (63 days) and 1-hour (455 days)
// roll-ups are not kept: ThingTank's data ends at 15 days.
//
// Time model: periods are aligned to the epoch (a 300 s period starts at
// :00, :05, ...), a datapoint's timestamp is its period's start, and a query
// covers every period whose start lies in [start rounded down to a period,
// end). Standard-resolution samples (storage_resolution 60) have one-minute
// granularity: in a sub-minute period they count at the start of their
// minute; high-resolution samples (1) count at their own second. Sub-minute
// periods are accepted for any data.
//
// Thread-safe: writers (puts, trimming) are serialized and hold the write
// lock across the RocksDB write; readers only take the index lock briefly.
// Methods block on RocksDB: call them on an executor. `db` and `clock` must
// outlive the store.
class MetricStore {
 public:
  // Column families `db` must have been opened with.
  static std::vector<std::string> ColumnFamilies();
  static absl::StatusOr<std::unique_ptr<MetricStore>> Open(Db* db, Clock* clock,
                                                           MetricStoreOptions options = {});
  MetricStore(const MetricStore&) = delete;
  MetricStore& operator=(const MetricStore&) = delete;

  // The RPCs. PutMetricData refuses namespaces starting with "AWS/".
  absl::StatusOr<v1::PutMetricDataResponse> PutMetricData(const v1::PutMetricDataRequest& request);
  absl::StatusOr<v1::GetMetricStatisticsResponse> GetMetricStatistics(
      const v1::GetMetricStatisticsRequest& request) const;
  absl::StatusOr<v1::GetMetricDataResponse> GetMetricData(
      const v1::GetMetricDataRequest& request) const;
  absl::StatusOr<v1::ListMetricsResponse> ListMetrics(const v1::ListMetricsRequest& request) const;

  // PutMetricData for ThingTank's own services: AWS/ namespaces allowed, the
  // same validation otherwise. Costs one validation pass, one index lookup
  // per datum and one WriteBatch per call.
  absl::Status PutInternal(const v1::PutMetricDataRequest& request);
  // PutInternal as an RPC, for the other services (their AWS/ namespaces only).
  absl::StatusOr<v1::PublishServiceMetricsResponse> PublishServiceMetrics(
      const v1::PublishServiceMetricsRequest& request);

  // One statistic of one metric for each of the `periods` periods of length
  // `period` that end at `end` (oldest first; nullopt: no data, or a
  // percentile of statistic sets). `unit`: only data of that unit
  // (UnitIndex); nullopt: any. For alarms.
  std::vector<std::optional<double>> PeriodValues(const MetricKey& metric, const Stat& stat,
                                                  std::optional<int> unit,
                                                  absl::Duration period, absl::Time end,
                                                  int periods) const;

  // Deletes what is past retention at `now`, in one WriteBatch.
  absl::Status TrimExpired(absl::Time now);

  size_t series_count() const;
  size_t sample_count() const;

 private:
  struct Series {
    uint64_t id;
    MetricKey key;
    std::deque<Sample> samples;  // by time_ms, then seq
  };
  using AggregateFn = absl::FunctionRef<void(int64_t period_start_ms, int unit, Accumulator&)>;

  MetricStore(Db* db, Clock* clock, MetricStoreOptions options);
  absl::Status Load();
  absl::Status Put(const v1::PutMetricDataRequest& request, bool allow_aws_namespace);
  const Series* Find(const MetricKey& key) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Calls `fn` for every period with data whose start is in [from_ms, to_ms),
  // oldest first; per unit too when `split_units`. `unit`: only that unit.
  void Aggregate(const Series& series, int64_t from_ms, int64_t to_ms, int64_t period_ms,
                 std::optional<int> unit, bool split_units, bool keep_distribution,
                 AggregateFn fn) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The first period start a query may report: sub-minute periods stop at
  // the high-resolution retention.
  int64_t EarliestPeriodMs(int64_t start_ms, absl::Duration period) const;

  Db* const db_;
  Clock* const clock_;
  const MetricStoreOptions options_;
  rocksdb::ColumnFamilyHandle* const series_cf_;
  rocksdb::ColumnFamilyHandle* const samples_cf_;

  // Serializes writers (puts and trimming) across their RocksDB write; taken
  // before mu_.
  absl::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  uint64_t next_series_id_ ABSL_GUARDED_BY(write_mu_) = 1;
  uint64_t next_seq_ ABSL_GUARDED_BY(write_mu_) = 1;

  mutable absl::Mutex mu_;
  // Ordered (ListMetrics) and hashed (lookups on the put and alarm paths).
  std::map<MetricKey, std::unique_ptr<Series>> series_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<MetricKey, Series*> by_key_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, Series*> by_id_ ABSL_GUARDED_BY(mu_);
  size_t sample_count_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace thingtank::compute
