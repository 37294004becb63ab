#include "services/common/storage/db.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "services/common/log.h"
#include "services/common/status.h"
#include "services/common/storage/key_codec.h"

namespace thingtank {

absl::Status FromRocks(const rocksdb::Status& s) {
  if (s.ok()) return absl::OkStatus();
  const std::string msg = absl::StrCat("storage: ", s.ToString());
  switch (s.code()) {
    case rocksdb::Status::kNotFound: return absl::NotFoundError(msg);
    case rocksdb::Status::kCorruption: return absl::DataLossError(msg);
    case rocksdb::Status::kInvalidArgument: return absl::InvalidArgumentError(msg);
    case rocksdb::Status::kNotSupported: return absl::UnimplementedError(msg);
    case rocksdb::Status::kBusy:
    case rocksdb::Status::kTryAgain: return absl::AbortedError(msg);
    case rocksdb::Status::kTimedOut: return absl::DeadlineExceededError(msg);
    case rocksdb::Status::kIOError:
    case rocksdb::Status::kIncomplete:
    case rocksdb::Status::kShutdownInProgress: return absl::UnavailableError(msg);
    default: return absl::InternalError(msg);
  }
}

absl::StatusOr<std::unique_ptr<Db>> Db::Open(const Options& options) {
  std::error_code ec;
  std::filesystem::create_directories(options.path, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create data directory ", options.path, ": ", ec.message()));
  }
  rocksdb::Options db_options;
  if (options.env != nullptr) db_options.env = options.env;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.IncreaseParallelism(2);
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 3;
  // No background auto-resume after a retryable I/O error: the next write
  // resumes (WriteOrRecover), so recovery follows the caller's retry rather
  // than a timer of RocksDB's own.
  db_options.max_bgerror_resume_count = 0;
  rocksdb::ColumnFamilyOptions cf_options;
  rocksdb::BlockBasedTableOptions table;
  // Bloom filters (10 bits per key, ~1% false positives) in every file and
  // in the memtables: a point read of an absent key (the old item of a new
  // key, on every insert) is answered from memory instead of reading a data
  // block, so it also stays on the non-blocking path (Get non_blocking).
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf_options.memtable_whole_key_filtering = true;
  cf_options.memtable_prefix_bloom_size_ratio = 0.02;  // of the write buffer: ~1.3 MiB

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, cf_options);
  for (const auto& name : options.column_families) {
    if (name == rocksdb::kDefaultColumnFamilyName) continue;
    rocksdb::ColumnFamilyOptions family = cf_options;
    if (options.tune_family) options.tune_family(name, &family);
    descriptors.emplace_back(name, family);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, descriptors, &handles, &raw);
  if (!s.ok()) return FromRocks(s);
  std::unique_ptr<Db> db(new Db());
  db->db_.reset(raw);
  for (size_t i = 0; i < handles.size(); ++i) db->cfs_[descriptors[i].name] = handles[i];
  db->write_options_.sync = options.sync_writes;
  db->path_ = options.path;
  return db;
}

Db::~Db() {
  if (!db_) return;
  for (auto& [name, handle] : cfs_) {
    if (rocksdb::Status s = db_->DestroyColumnFamilyHandle(handle); !s.ok()) {
      TT_LOG_WARN("db {}: cannot release column family {}: {}", path_, name, s.ToString());
    }
  }
  // Everything acknowledged is in the WAL already; a failed close loses nothing.
  if (rocksdb::Status s = db_->Close(); !s.ok()) {
    TT_LOG_WARN("db {}: close: {}", path_, s.ToString());
  }
}

rocksdb::ColumnFamilyHandle* Db::cf(std::string_view name) const {
  auto it = cfs_.find(name);
  if (it == cfs_.end()) {
    fprintf(stderr, "fatal: unknown column family %.*s\n", static_cast<int>(name.size()),
            name.data());
    abort();
  }
  return it->second;
}

rocksdb::Status Db::WriteOrRecover(const rocksdb::WriteOptions& options,
                                   rocksdb::WriteBatch* batch) {
  rocksdb::Status s = db_->Write(options, batch);
  if (!s.IsIOError()) return s;
  // A failed WAL or file write stops RocksDB for writes (a sticky background
  // error). When the error was retryable (a transient fault), Resume() clears
  // it once the disk is healthy again; then this write, which was not applied
  // (RocksDB inserts a batch into the memtable only after its WAL record is
  // written), goes in now. While the disk still fails, or after an error
  // RocksDB deems fatal, Resume fails and the error stands (UNAVAILABLE).
  if (!db_->Resume().ok()) return s;
  return db_->Write(options, batch);
}

absl::Status Db::Write(rocksdb::WriteBatch* batch, bool non_blocking) {
  if (!non_blocking) return FromRocks(WriteOrRecover(write_options_, batch));
  if (write_options_.sync) return WouldBlock();
  rocksdb::WriteOptions options = write_options_;
  options.no_slowdown = true;
  rocksdb::Status s = db_->Write(options, batch);
  if (s.IsIncomplete()) return WouldBlock();
  // Recovery (Resume) writes files: not on a reactor thread; the caller
  // retries where it may block.
  if (s.IsIOError()) return WouldBlock();
  return FromRocks(s);
}

absl::Status Db::Put(rocksdb::ColumnFamilyHandle* cf, std::string_view key,
                     std::string_view value) {
  rocksdb::WriteBatch batch;
  batch.Put(cf, rocksdb::Slice(key.data(), key.size()),
            rocksdb::Slice(value.data(), value.size()));
  return FromRocks(WriteOrRecover(write_options_, &batch));
}

absl::StatusOr<std::optional<std::string>> Db::Get(rocksdb::ColumnFamilyHandle* cf,
                                                   std::string_view key, bool non_blocking) {
  std::string value;
  rocksdb::ReadOptions options;
  if (non_blocking) options.read_tier = rocksdb::kBlockCacheTier;
  rocksdb::Status s = db_->Get(options, cf, rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (non_blocking && s.IsIncomplete()) return WouldBlock();
  if (!s.ok()) return FromRocks(s);
  return std::optional<std::string>(std::move(value));
}

std::unique_ptr<Db::PrefixIterator> Db::Scan(rocksdb::ColumnFamilyHandle* cf,
                                             std::string_view prefix) {
  return std::make_unique<PrefixIterator>(db_.get(), cf, prefix);
}

void Db::DeletePrefix(rocksdb::WriteBatch* batch, rocksdb::ColumnFamilyHandle* cf,
                      std::string_view prefix) {
  // Point deletes rather than DeleteRange: queues hold few enough keys, and
  // point tombstones keep reads simple.
  auto it = Scan(cf, prefix);
  for (; it->Valid(); it->Next()) batch->Delete(cf, it->key());
}

Db::PrefixIterator::PrefixIterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                                   std::string_view prefix)
    : prefix_(prefix), upper_(keys::PrefixSuccessor(prefix)) {
  if (!upper_.empty()) {
    upper_slice_ = rocksdb::Slice(upper_);
    options_.iterate_upper_bound = &upper_slice_;
  }
  it_.reset(db->NewIterator(options_, cf));
  it_->Seek(prefix_);
}

void Db::PrefixIterator::SeekSuffix(std::string_view suffix) {
  std::string target = prefix_;
  target.append(suffix);
  it_->Seek(target);
}

std::string_view Db::PrefixIterator::suffix() const {
  rocksdb::Slice k = it_->key();
  return std::string_view(k.data() + prefix_.size(), k.size() - prefix_.size());
}

}  // namespace thingtank
