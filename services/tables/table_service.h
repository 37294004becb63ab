#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/executor.h"
#include "services/common/lifeline.h"
#include "services/common/storage/db.h"
#include "services/tables/storage/table_store.h"
#include "services/tables/table_service_internal.h"
#include "services/tables/table_state.h"
#include "thingtank/tables/v1/tables.pb.h"

namespace thingtank::tables {

// Observer of domain events, implemented by the metrics class
// (services/tables/metrics.h). Called outside table locks from whichever
// thread did the work; implementations must be thread-safe and cheap.
class TableEvents {
 public:
  virtual ~TableEvents() = default;
  virtual void OnConsumed(const std::string& table, double read_units, double write_units) = 0;
  virtual void OnThrottled(const std::string& table) = 0;
  virtual void OnConditionalCheckFailed(const std::string& table) = 0;
  virtual void OnTtlDeleted(const std::string& table, int64_t n) = 0;
};

// One table's figures for metrics: item count and size, capacity consumed
// and requests throttled since the service started (the same events as
// TableEvents, per table), and the provisioned capacity (0 when on-demand).
struct TableStats {
  std::string table;
  int64_t item_count = 0;
  int64_t size_bytes = 0;
  double read_units_consumed = 0;
  double write_units_consumed = 0;
  int64_t throttled_reads = 0;
  int64_t throttled_writes = 0;
  int64_t provisioned_read_units = 0;
  int64_t provisioned_write_units = 0;
};

struct TableServiceOptions {
  // Clock time a new table stays CREATING.
  absl::Duration create_delay = absl::Milliseconds(100);
  // Period of the TTL sweeper (clock time).
  absl::Duration ttl_sweep_interval = absl::Seconds(1);
  // Most expired items one sweep deletes per table (the rest wait a period).
  int64_t ttl_max_deletes_per_sweep = 1000;
  // Most items one sweep looks at per table: a sweep goes on where the last
  // one stopped, so its cost is bounded whatever the table's size (a table of
  // 1M items is gone through every 100 periods). Reads hide expired items at
  // once anyway; DynamoDB itself deletes them "within a few days".
  int64_t ttl_max_scanned_per_sweep = 10000;
  // Seconds of provisioned capacity a table can save up (DynamoDB: 300).
  double burst_seconds = 300;
  // How long a TransactWriteItems client_request_token is remembered.
  absl::Duration token_ttl = absl::Minutes(10);
  std::string arn_prefix = "arn:aws:dynamodb:us-east-1:000000000000:table/";
};

// The tables domain: Amazon DynamoDB semantics over RocksDB, free of gRPC
// types. One synchronous method per RPC of thingtank.tables.v1.TablesService.
//
// Every method is thread-safe and blocks on RocksDB: run it on an executor,
// never on a gRPC reactor thread (the *NonBlocking ones, and QueryEncoded
// with non_blocking, excepted). Each write (with its condition check and the
// table's item count and size) commits in one WriteBatch under the table's
// write lock; a transaction locks its tables in id order and commits in one
// batch. Timers (CREATING -> ACTIVE, TTL sweep) run on `clock` and post their
// work to `executor`. `db`, `clock`, `executor` and `events` must outlive the
// service; destroying it cancels its timers and waits for timer work running.
class TableService {
 public:
  // Column families `db` must have been opened with.
  static std::vector<std::string> ColumnFamilies();
  // Loads every table from `db`. `events` may be null.
  static absl::StatusOr<std::unique_ptr<TableService>> Open(Db* db, Clock* clock,
                                                            Executor* executor,
                                                            TableEvents* events,
                                                            TableServiceOptions options = {});
  ~TableService();
  TableService(const TableService&) = delete;
  TableService& operator=(const TableService&) = delete;

  // Tables (table_service.cc).
  absl::StatusOr<v1::CreateTableResponse> CreateTable(const v1::CreateTableRequest& request);
  absl::StatusOr<v1::DescribeTableResponse> DescribeTable(const v1::DescribeTableRequest& request);
  absl::StatusOr<v1::ListTablesResponse> ListTables(const v1::ListTablesRequest& request);
  absl::StatusOr<v1::UpdateTableResponse> UpdateTable(const v1::UpdateTableRequest& request);
  absl::StatusOr<v1::DeleteTableResponse> DeleteTable(const v1::DeleteTableRequest& request);
  absl::StatusOr<v1::UpdateTimeToLiveResponse> UpdateTimeToLive(
      const v1::UpdateTimeToLiveRequest& request);
  absl::StatusOr<v1::DescribeTimeToLiveResponse> DescribeTimeToLive(
      const v1::DescribeTimeToLiveRequest& request);

  // Items (table_service_items.cc).
  absl::StatusOr<v1::PutItemResponse> PutItem(const v1::PutItemRequest& request);
  absl::StatusOr<v1::GetItemResponse> GetItem(const v1::GetItemRequest& request);
  // GetItem that never blocks: safe on a gRPC reactor thread. Returns
  // WouldBlock() (services/common/status.h) when the item is not in memory;
  // then call GetItem. Charges capacity only when it answers.
  absl::StatusOr<v1::GetItemResponse> GetItemNonBlocking(const v1::GetItemRequest& request);
  absl::StatusOr<v1::DeleteItemResponse> DeleteItem(const v1::DeleteItemRequest& request);
  absl::StatusOr<v1::UpdateItemResponse> UpdateItem(const v1::UpdateItemRequest& request);
  // PutItem, DeleteItem and UpdateItem that never block: safe on a gRPC
  // reactor thread. Return WouldBlock() (nothing written or charged) when
  // another thread holds the table's write lock, when the old item is not in
  // memory, when RocksDB would stall the write, or with sync_writes; then
  // call the blocking method.
  absl::StatusOr<v1::PutItemResponse> PutItemNonBlocking(const v1::PutItemRequest& request);
  absl::StatusOr<v1::DeleteItemResponse> DeleteItemNonBlocking(
      const v1::DeleteItemRequest& request);
  absl::StatusOr<v1::UpdateItemResponse> UpdateItemNonBlocking(
      const v1::UpdateItemRequest& request);

  // Reads of many items (table_service_query.cc).
  absl::StatusOr<v1::QueryResponse> Query(const v1::QueryRequest& request);
  absl::StatusOr<v1::ScanResponse> Scan(const v1::ScanRequest& request);
  // The same, with the items left as stored: `items` is the wire encoding of
  // the response's `repeated Item items = 1`, so serialize(head) + items is
  // the serialized response (protobuf concatenation merges). Items are never
  // parsed unless a filter or projection needs them: the fast path for
  // large pages (the gRPC face sends these bytes as they are).
  template <typename Response>
  struct Encoded {
    Response head;
    std::string items;
  };
  // With `non_blocking` (safe on a gRPC reactor thread): WouldBlock() when an
  // item is not in memory or the page would pass 256 KiB; nothing is charged.
  absl::StatusOr<Encoded<v1::QueryResponse>> QueryEncoded(const v1::QueryRequest& request,
                                                          bool non_blocking = false);
  absl::StatusOr<Encoded<v1::ScanResponse>> ScanEncoded(const v1::ScanRequest& request);

  // Batches and transactions (table_service_batch.cc).
  absl::StatusOr<v1::BatchGetItemResponse> BatchGetItem(const v1::BatchGetItemRequest& request);
  absl::StatusOr<v1::BatchWriteItemResponse> BatchWriteItem(
      const v1::BatchWriteItemRequest& request);
  absl::StatusOr<v1::TransactWriteItemsResponse> TransactWriteItems(
      const v1::TransactWriteItemsRequest& request);
  absl::StatusOr<v1::TransactGetItemsResponse> TransactGetItems(
      const v1::TransactGetItemsRequest& request);

  // Per-table figures (TableStats), in name order.
  std::vector<TableStats> Stats() const;

 private:
  using Lifeline = thingtank::Lifeline<TableService>;
  // One staged change of one item: put `new_item` (or delete when absent)
  // over what is stored (`old_stored_size` -1 when nothing is).
  struct Mutation {
    std::string key;
    std::optional<v1::Item> new_item;
    int64_t new_size = 0;
    int64_t old_stored_size = -1;
  };
  // Item count and size changes per table of one batch.
  struct Deltas {
    std::map<TableState*, std::pair<int64_t, int64_t>> by_table;
  };

  TableService(Db* db, Clock* clock, Executor* executor, TableEvents* events,
               TableServiceOptions options);
  absl::Status Load();

  // Registry. Each checks the name first (INVALID_ARGUMENT
  // ValidationException naming `field`). Find: NOT_FOUND
  // ResourceNotFoundException. FindActive, for table settings, also requires
  // ACTIVE (FAILED_PRECONDITION ResourceInUseException otherwise).
  // FindForItems, for item calls, answers NOT_FOUND for a table that is not
  // ACTIVE, as DynamoDB does.
  absl::StatusOr<TablePtr> Find(const std::string& name,
                                const std::string& field = "table_name") const;
  absl::StatusOr<TablePtr> FindActive(const std::string& name,
                                      const std::string& field = "table_name") const;
  absl::StatusOr<TablePtr> FindForItems(const std::string& name,
                                        const std::string& field = "table_name") const;
  TablePtr FindById(uint64_t id) const;
  v1::TableDescription Describe(const TableState& t) const;

  // Throughput: RESOURCE_EXHAUSTED when the table's bucket is empty (and
  // reports OnThrottled). Charge reports OnConsumed.
  absl::Status Admit(TableState* t, bool write);
  bool CanAdmit(TableState* t, bool write);
  void Charge(TableState* t, double read_units, double write_units);
  // Charges the buckets and the table's totals only (under locks); report
  // with Charge's event later.
  void ChargeBuckets(TableState* t, double read_units, double write_units);
  void ReportConditionFailed(const std::string& table);

  // Item access shared by the RPCs.
  internal::ReadView View(const TableState& t) const;
  // NOT_FOUND when the table was deleted meanwhile. Call under write_mu.
  absl::Status CheckLive(TableState* t) const;
  // The visible item at `key` (expired by TTL counts as absent);
  // `stored_size` gets the size of what is stored, -1 when nothing is.
  absl::StatusOr<std::optional<v1::Item>> ReadItem(const std::string& key,
                                                   const internal::ReadView& view,
                                                   int64_t* stored_size, bool non_blocking = false);
  absl::StatusOr<v1::GetItemResponse> DoGetItem(const v1::GetItemRequest& request, bool non_blocking);
  // How a one-item write gets the table's write lock: waits for it (may
  // block), or only takes it when free and must not block (WouldBlock()).
  enum class WriteMode { kBlocking, kNonBlocking };
  absl::StatusOr<v1::PutItemResponse> DoPutItem(const v1::PutItemRequest& request, WriteMode mode);
  absl::StatusOr<v1::DeleteItemResponse> DoDeleteItem(const v1::DeleteItemRequest& request,
                                                      WriteMode mode);
  absl::StatusOr<v1::UpdateItemResponse> DoUpdateItem(const v1::UpdateItemRequest& request,
                                                      WriteMode mode);
  void Stage(TableState* t, const Mutation& m, rocksdb::WriteBatch* batch, Deltas* deltas);
  // Adds the counters of every table in `deltas` to `batch`, writes it and
  // updates the in-memory counters. Call with each table's write_mu held.
  // `non_blocking` as Db::Write's.
  absl::Status Commit(rocksdb::WriteBatch* batch, const Deltas& deltas, bool non_blocking = false);
  // The one-item write of PutItem, DeleteItem and UpdateItem: under the
  // table's write_mu (taken as `mode` says) reads the item at m->key; when
  // `holds` is true of it,
  // `prepare` completes *m and says whether to write, the write is committed
  // and `respond` fills the response's attributes. Then charges
  // WriteUnits(max(old size, m->new_size)) and answers those units, or
  // ConditionalCheckFailedException when the condition did not hold.
  using OldItemFn = void(const std::optional<v1::Item>& old, const AttributeMap& old_attrs);
  absl::StatusOr<double> WriteItem(
      TableState* t, WriteMode mode, Mutation* m,
      absl::FunctionRef<bool(const AttributeMap&)> holds,
      absl::FunctionRef<absl::StatusOr<bool>(const std::optional<v1::Item>& old,
                                             const AttributeMap& old_attrs)>
          prepare,
      absl::FunctionRef<OldItemFn> respond);

  // One page of Query or Scan (table_service_query.cc).
  struct PageSpec;
  struct Page;
  absl::Status ReadPage(TableState* t, const PageSpec& spec, Page* page);
  template <typename Request, typename Response>
  absl::Status ReadPageInto(TableState* t, const PageSpec& spec, const Request& request,
                            Encoded<Response>* response);

  // Timers: CREATING -> ACTIVE, and the TTL sweeper.
  void ScheduleActivation(uint64_t table_id, absl::Time when);
  void Activate(uint64_t table_id);
  void ScheduleSweep();
  void Sweep();
  void SweepTable(const TablePtr& t);

  absl::Time Now() const { return clock_->Now(); }

  Db* const db_;
  Clock* const clock_;
  Executor* const executor_;
  TableEvents* const events_;
  const TableServiceOptions options_;
  storage::TableStore store_;
  std::shared_ptr<Lifeline> lifeline_;

  mutable absl::Mutex registry_mu_;
  std::map<std::string, TablePtr> tables_ ABSL_GUARDED_BY(registry_mu_);
  uint64_t next_table_id_ ABSL_GUARDED_BY(registry_mu_) = 1;

  // Serializes TransactWriteItems that carry a client_request_token.
  absl::Mutex token_mu_;
};

}  // namespace thingtank::tables
