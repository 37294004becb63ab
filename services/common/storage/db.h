#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"

namespace thingtank {

// rocksdb::Status to absl::Status: the one translation point (kBusy and
// kTryAgain become UNAVAILABLE, kCorruption DATA_LOSS, kIOError UNAVAILABLE).
absl::Status FromRocks(const rocksdb::Status& s);

// A RocksDB database with named column families. Owns the DB and its handles;
// thread-safe as RocksDB is. Writes go through the WAL; with sync_writes each
// write is fsynced before it returns (power-loss durable), otherwise it is
// process-crash durable (the OS has it once Write returns).
//
// Calls block on disk: never call them from a gRPC reactor thread.
class Db {
 public:
  struct Options {
    std::string path;
    std::vector<std::string> column_families;  // "default" is always opened.
    bool sync_writes = false;
    // Where RocksDB does its file I/O; null: rocksdb::Env::Default(). For
    // tests (FaultInjectionEnv in services/common/testing); not owned, must
    // outlive the Db.
    rocksdb::Env* env = nullptr;
    // Adjusts the options of one column family before Open (e.g. a family
    // that is only scanned, written in key order). Null: all alike.
    std::function<void(const std::string& name, rocksdb::ColumnFamilyOptions* options)> tune_family = nullptr;
  };

  static absl::StatusOr<std::unique_ptr<Db>> Open(const Options& options);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // The handle of a column family named at Open; crashes on an unknown name.
  rocksdb::ColumnFamilyHandle* cf(std::string_view name) const;

  // With `non_blocking`, returns WouldBlock() (status.h) instead of waiting:
  // when RocksDB would stall or slow the write down (too many memtables or
  // level-0 files), and always with sync_writes (an fsync blocks). Otherwise
  // the write costs a memtable insert and one write(2) into the page cache:
  // fit for a gRPC reactor thread.
  absl::Status Write(rocksdb::WriteBatch* batch, bool non_blocking = false);
  absl::Status Put(rocksdb::ColumnFamilyHandle* cf, std::string_view key,
                   std::string_view value);
  // nullopt when the key is absent. With `non_blocking`, reads only the
  // memtables and the block cache, and returns WouldBlock() (status.h) where
  // it would have to read a file: safe to call on a gRPC reactor thread.
  absl::StatusOr<std::optional<std::string>> Get(rocksdb::ColumnFamilyHandle* cf,
                                                 std::string_view key, bool non_blocking = false);
  // An iterator bounded to keys starting with `prefix`. The returned object
  // owns the bound it uses.
  class PrefixIterator;
  std::unique_ptr<PrefixIterator> Scan(rocksdb::ColumnFamilyHandle* cf,
                                       std::string_view prefix);
  // Deletes every key starting with `prefix` in `cf` as part of `batch`.
  void DeletePrefix(rocksdb::WriteBatch* batch, rocksdb::ColumnFamilyHandle* cf,
                    std::string_view prefix);

  rocksdb::DB* raw() { return db_.get(); }

 private:
  Db() = default;
  // Writes `batch`; after an I/O error, resumes RocksDB and writes again if
  // the disk has recovered.
  rocksdb::Status WriteOrRecover(const rocksdb::WriteOptions& options,
                                 rocksdb::WriteBatch* batch);
  std::unique_ptr<rocksdb::DB> db_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*, std::less<>> cfs_;
  rocksdb::WriteOptions write_options_;
  std::string path_;  // for log lines
};

// Iterates keys that start with one prefix, in order.
class Db::PrefixIterator {
 public:
  PrefixIterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, std::string_view prefix);
  bool Valid() const { return it_->Valid(); }
  void Next() { it_->Next(); }
  // Seeks to the first key >= prefix + suffix.
  void SeekSuffix(std::string_view suffix);
  rocksdb::Slice key() const { return it_->key(); }
  rocksdb::Slice value() const { return it_->value(); }
  // The key with the prefix removed.
  std::string_view suffix() const;
  absl::Status status() const { return FromRocks(it_->status()); }

 private:
  std::string prefix_;
  std::string upper_;
  rocksdb::Slice upper_slice_;
  rocksdb::ReadOptions options_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

}  // namespace thingtank
