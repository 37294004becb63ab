#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "services/common/token_bucket.h"
#include "services/tables/capacity_units.h"
#include "services/tables/storage/table_keys.h"
#include "services/tables/storage/table_records.pb.h"

namespace thingtank::tables {

// One table in memory. `write_mu` serializes every check-and-write of the
// table (held across the RocksDB read, condition and write; writers on
// reactor threads only try it); `mu` guards the
// settings, counters and buckets and is held only briefly. Order: write_mu
// before mu; never registry_mu_ while holding either.
struct TableState {
  TableState(uint64_t id, std::string name, storage::KeySchema schema)
      : id(id), name(std::move(name)), schema(std::move(schema)),
        prefix(storage::TablePrefix(id)) {}

  const uint64_t id;
  const std::string name;
  const storage::KeySchema schema;  // fixed at creation
  const std::string prefix;         // storage::TablePrefix(id)

  absl::Mutex write_mu;
  mutable absl::Mutex mu ABSL_ACQUIRED_AFTER(write_mu);
  storage::TableRecord record ABSL_GUARDED_BY(mu);
  int64_t item_count ABSL_GUARDED_BY(mu) = 0;
  int64_t size_bytes ABSL_GUARDED_BY(mu) = 0;
  TokenBucket read_bucket ABSL_GUARDED_BY(mu);
  TokenBucket write_bucket ABSL_GUARDED_BY(mu);
  // Totals since start, for per-table metrics (TableStats).
  double read_units_consumed ABSL_GUARDED_BY(mu) = 0;
  double write_units_consumed ABSL_GUARDED_BY(mu) = 0;
  int64_t throttled_reads ABSL_GUARDED_BY(mu) = 0;
  int64_t throttled_writes ABSL_GUARDED_BY(mu) = 0;
  // Set (under write_mu and mu) when the table is deleted.
  bool deleted ABSL_GUARDED_BY(mu) = false;
  // Where the next TTL sweep starts (an item key; empty: the table's start).
  std::string sweep_from ABSL_GUARDED_BY(mu);
};

using TablePtr = std::shared_ptr<TableState>;

// A provisioned-throughput bucket: `units` per second, saving up to
// `burst_seconds` of unused capacity (DynamoDB's burst credit), starting full.
inline TokenBucket ProvisionedBucket(double units, double burst_seconds, absl::Time now) {
  return TokenBucket(units, units * burst_seconds, now);
}

}  // namespace thingtank::tables
