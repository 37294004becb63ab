#include "services/tables/storage/table_store.h"

#include <memory>

#include "services/common/status.h"
#include "services/common/storage/key_codec.h"
#include "services/tables/storage/table_keys.h"

namespace thingtank::tables::storage {
namespace {

constexpr char kMetaCf[] = "tables_meta";
constexpr char kItemsCf[] = "tables_items";

absl::Status Corrupt(std::string_view what) {
  return absl::DataLossError(std::string("tables: corrupt ") + std::string(what));
}

}  // namespace

std::vector<std::string> TableStore::ColumnFamilies() { return {kMetaCf, kItemsCf}; }

TableStore::TableStore(Db* db) : db_(db), meta_(db->cf(kMetaCf)), items_(db->cf(kItemsCf)) {}

absl::Status TableStore::ForEachTable(const std::function<absl::Status(TableRecord)>& fn) {
  auto it = db_->Scan(meta_, "T");
  for (; it->Valid(); it->Next()) {
    TableRecord record;
    if (!record.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Corrupt("table record");
    }
    TT_RETURN_IF_ERROR(fn(std::move(record)));
  }
  return it->status();
}

absl::StatusOr<uint64_t> TableStore::NextTableId() {
  TT_ASSIGN_OR_RETURN(std::optional<std::string> v, db_->Get(meta_, NextTableIdKey()));
  if (!v) return 1;
  std::string_view in = *v;
  std::optional<uint64_t> id = keys::ConsumeUint64(&in);
  if (!id) return Corrupt("next table id");
  return *id;
}

absl::StatusOr<TableCounters> TableStore::Counters(uint64_t table_id) {
  TT_ASSIGN_OR_RETURN(std::optional<std::string> v, db_->Get(meta_, CountersKey(table_id)));
  TableCounters c;
  if (v && !c.ParseFromString(*v)) return Corrupt("table counters");
  return c;
}

absl::StatusOr<std::optional<TokenRecord>> TableStore::GetToken(const std::string& token) {
  TT_ASSIGN_OR_RETURN(std::optional<std::string> v, db_->Get(meta_, TokenKey(token)));
  if (!v) return std::optional<TokenRecord>();
  TokenRecord r;
  if (!r.ParseFromString(*v)) return Corrupt("token record");
  return std::optional<TokenRecord>(std::move(r));
}

absl::Status TableStore::ForEachToken(
    const std::function<void(std::string_view, const TokenRecord&)>& fn) {
  auto it = db_->Scan(meta_, "K");
  for (; it->Valid(); it->Next()) {
    std::string_view rest = it->suffix();
    std::optional<std::string_view> token = keys::ConsumeResource(&rest);
    TokenRecord r;
    if (!token || !r.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Corrupt("token record");
    }
    fn(*token, r);
  }
  return it->status();
}

void TableStore::PutTable(rocksdb::WriteBatch* b, const TableRecord& record) {
  b->Put(meta_, TableRecordKey(record.description().table_name()), record.SerializeAsString());
}

void TableStore::PutNextTableId(rocksdb::WriteBatch* b, uint64_t next_id) {
  std::string v;
  keys::AppendUint64(&v, next_id);
  b->Put(meta_, NextTableIdKey(), v);
}

void TableStore::PutCounters(rocksdb::WriteBatch* b, uint64_t table_id,
                             const TableCounters& counters) {
  b->Put(meta_, CountersKey(table_id), counters.SerializeAsString());
}

void TableStore::PutToken(rocksdb::WriteBatch* b, const std::string& token,
                          const TokenRecord& record) {
  b->Put(meta_, TokenKey(token), record.SerializeAsString());
}

void TableStore::DeleteToken(rocksdb::WriteBatch* b, std::string_view token) {
  b->Delete(meta_, TokenKey(token));
}

void TableStore::DeleteTable(rocksdb::WriteBatch* b, uint64_t table_id, const std::string& name) {
  b->Delete(meta_, TableRecordKey(name));
  b->Delete(meta_, CountersKey(table_id));
  db_->DeletePrefix(b, items_, TablePrefix(table_id));
}

absl::StatusOr<std::optional<std::string>> TableStore::GetItem(const std::string& key,
                                                              bool non_blocking) {
  return db_->Get(items_, key, non_blocking);
}

void TableStore::PutItem(rocksdb::WriteBatch* b, const std::string& key, const std::string& value) {
  b->Put(items_, key, value);
}

void TableStore::DeleteItem(rocksdb::WriteBatch* b, const std::string& key) {
  b->Delete(items_, key);
}

absl::Status TableStore::ForEachItem(
    const std::string& lo, const std::string& hi, bool non_blocking, bool reverse,
    const std::function<bool(std::string_view, std::string_view)>& fn) {
  if (!(lo < hi)) return absl::OkStatus();
  rocksdb::ReadOptions options;
  if (non_blocking) options.read_tier = rocksdb::kBlockCacheTier;
  rocksdb::Slice lo_slice(lo);
  rocksdb::Slice hi_slice(hi);
  options.iterate_lower_bound = &lo_slice;
  options.iterate_upper_bound = &hi_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->raw()->NewIterator(options, items_));
  if (reverse) {
    it->SeekToLast();
  } else {
    it->Seek(lo_slice);
  }
  while (it->Valid()) {
    if (!fn(std::string_view(it->key().data(), it->key().size()),
            std::string_view(it->value().data(), it->value().size()))) {
      break;
    }
    if (reverse) {
      it->Prev();
    } else {
      it->Next();
    }
  }
  if (non_blocking && it->status().IsIncomplete()) return WouldBlock();
  return FromRocks(it->status());
}

}  // namespace thingtank::tables::storage
