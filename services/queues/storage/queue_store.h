#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rocksdb/write_batch.h"
#include "services/common/storage/db.h"
#include "services/queues/storage/queue_records.pb.h"

namespace thingtank::queues::storage {

// RocksDB access for the queues service: typed reads, and writes staged into a
// caller-owned WriteBatch so that every request commits in one batch. Owns no
// state besides the column family handles; thread-safe as Db is.
class QueueStore {
 public:
  static std::vector<std::string> ColumnFamilies();
  explicit QueueStore(Db* db);

  // Reading (used at open).
  absl::Status ForEachQueue(const std::function<absl::Status(QueueRecord)>& fn);
  absl::StatusOr<uint64_t> NextQueueId();
  absl::StatusOr<QueueCounters> Counters(uint64_t queue_id);
  absl::Status ForEachMessage(uint64_t queue_id,
                              const std::function<absl::Status(uint64_t, MessageRecord)>& fn);
  absl::Status ForEachState(uint64_t queue_id,
                            const std::function<absl::Status(uint64_t, MessageState)>& fn);
  absl::Status ForEachDedup(uint64_t queue_id,
                            const std::function<absl::Status(std::string, DedupRecord)>& fn);
  // A message's immutable record; NOT_FOUND (reason-less) when absent. With
  // `non_blocking`, WouldBlock() where it would have to read a file.
  absl::StatusOr<MessageRecord> GetMessage(uint64_t queue_id, uint64_t seq,
                                           bool non_blocking = false);

  // Staging writes.
  void PutQueue(rocksdb::WriteBatch* b, const QueueRecord& record);
  void PutNextQueueId(rocksdb::WriteBatch* b, uint64_t next_id);
  void PutCounters(rocksdb::WriteBatch* b, uint64_t queue_id, uint64_t next_seq);
  void PutMessage(rocksdb::WriteBatch* b, uint64_t queue_id, uint64_t seq,
                  const MessageRecord& record);
  void PutState(rocksdb::WriteBatch* b, uint64_t queue_id, uint64_t seq,
                const MessageState& state);
  // Deletes the record and the state of a message.
  void DeleteMessage(rocksdb::WriteBatch* b, uint64_t queue_id, uint64_t seq);
  void PutDedup(rocksdb::WriteBatch* b, uint64_t queue_id, const std::string& dedup_id,
                const DedupRecord& record);
  void DeleteDedup(rocksdb::WriteBatch* b, uint64_t queue_id, const std::string& dedup_id);
  // Every message and state of a queue.
  void DeleteAllMessages(rocksdb::WriteBatch* b, uint64_t queue_id);
  // The queue's registry entry and everything under its prefix.
  void DeleteQueue(rocksdb::WriteBatch* b, uint64_t queue_id, const std::string& name);

  // With `non_blocking`, WouldBlock() instead of stalling or fsyncing (Db::Write).
  absl::Status Write(rocksdb::WriteBatch* b, bool non_blocking = false) {
    return db_->Write(b, non_blocking);
  }

 private:
  Db* const db_;
  rocksdb::ColumnFamilyHandle* const meta_;
  rocksdb::ColumnFamilyHandle* const messages_;
  rocksdb::ColumnFamilyHandle* const state_;
  rocksdb::ColumnFamilyHandle* const dedup_;
};

}  // namespace thingtank::queues::storage
