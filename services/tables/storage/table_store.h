#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rocksdb/write_batch.h"
#include "services/common/storage/db.h"
#include "services/tables/storage/table_records.pb.h"

namespace thingtank::tables::storage {

// RocksDB access for the tables service: typed reads, and writes staged into a
// caller-owned WriteBatch so every request commits in one batch. Owns only the
// column family handles; thread-safe as Db is. Layout: storage/table_keys.h.
class TableStore {
 public:
  static std::vector<std::string> ColumnFamilies();
  explicit TableStore(Db* db);

  // Meta.
  absl::Status ForEachTable(const std::function<absl::Status(TableRecord)>& fn);
  absl::StatusOr<uint64_t> NextTableId();
  absl::StatusOr<TableCounters> Counters(uint64_t table_id);
  absl::StatusOr<std::optional<TokenRecord>> GetToken(const std::string& token);
  absl::Status ForEachToken(const std::function<void(std::string_view token, const TokenRecord&)>& fn);

  void PutTable(rocksdb::WriteBatch* b, const TableRecord& record);
  void PutNextTableId(rocksdb::WriteBatch* b, uint64_t next_id);
  void PutCounters(rocksdb::WriteBatch* b, uint64_t table_id, const TableCounters& counters);
  void PutToken(rocksdb::WriteBatch* b, const std::string& token, const TokenRecord& record);
  void DeleteToken(rocksdb::WriteBatch* b, std::string_view token);
  // The registry entry, the counters and every item of a table.
  void DeleteTable(rocksdb::WriteBatch* b, uint64_t table_id, const std::string& name);

  // Items, by full item key (table_keys.h).
  // With `non_blocking`: memtables and block cache only, else WouldBlock().
  absl::StatusOr<std::optional<std::string>> GetItem(const std::string& key, bool non_blocking = false);
  void PutItem(rocksdb::WriteBatch* b, const std::string& key, const std::string& value);
  void DeleteItem(rocksdb::WriteBatch* b, const std::string& key);
  // Visits items with lo <= key < hi in order (reverse: descending) until `fn`
  // returns false. With `non_blocking`, memtables and block cache only, and
  // WouldBlock() when an item needs a file read.
  absl::Status ForEachItem(
      const std::string& lo, const std::string& hi, bool non_blocking, bool reverse,
      const std::function<bool(std::string_view key, std::string_view value)>& fn);

  absl::Status Write(rocksdb::WriteBatch* b, bool non_blocking = false) {
    return db_->Write(b, non_blocking);
  }

 private:
  Db* const db_;
  rocksdb::ColumnFamilyHandle* const meta_;
  rocksdb::ColumnFamilyHandle* const items_;
};

}  // namespace thingtank::tables::storage
