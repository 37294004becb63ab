#include "services/queues/storage/queue_store.h"

#include <string_view>

#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/common/storage/key_codec.h"
#include "services/queues/storage/queue_keys.h"

namespace thingtank::queues::storage {
namespace {

template <typename Proto>
absl::StatusOr<Proto> Parse(std::string_view bytes, std::string_view what) {
  Proto p;
  if (!p.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(
        absl::StrCat("queues storage: corrupt ", absl::string_view(what.data(), what.size()), " record"));
  }
  return p;
}

std::string_view View(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

}  // namespace

std::vector<std::string> QueueStore::ColumnFamilies() {
  return {kMetaCf, kMessagesCf, kStateCf, kDedupCf};
}

QueueStore::QueueStore(Db* db)
    : db_(db),
      meta_(db->cf(kMetaCf)),
      messages_(db->cf(kMessagesCf)),
      state_(db->cf(kStateCf)),
      dedup_(db->cf(kDedupCf)) {}

absl::Status QueueStore::ForEachQueue(const std::function<absl::Status(QueueRecord)>& fn) {
  auto it = db_->Scan(meta_, RegistryPrefix());
  for (; it->Valid(); it->Next()) {
    TT_ASSIGN_OR_RETURN(QueueRecord record, Parse<QueueRecord>(View(it->value()), "queue"));
    TT_RETURN_IF_ERROR(fn(std::move(record)));
  }
  return it->status();
}

absl::StatusOr<uint64_t> QueueStore::NextQueueId() {
  TT_ASSIGN_OR_RETURN(std::optional<std::string> value, db_->Get(meta_, NextIdKey()));
  if (!value) return 1;
  std::string_view in(*value);
  auto id = keys::ConsumeUint64(&in);
  if (!id) return absl::DataLossError("queues storage: corrupt next queue id");
  return *id;
}

absl::StatusOr<QueueCounters> QueueStore::Counters(uint64_t queue_id) {
  TT_ASSIGN_OR_RETURN(std::optional<std::string> value, db_->Get(meta_, CountersKey(queue_id)));
  if (!value) return QueueCounters();
  return Parse<QueueCounters>(*value, "counters");
}

absl::Status QueueStore::ForEachMessage(
    uint64_t queue_id, const std::function<absl::Status(uint64_t, MessageRecord)>& fn) {
  auto it = db_->Scan(messages_, QueuePrefix(queue_id));
  for (; it->Valid(); it->Next()) {
    std::string_view suffix = it->suffix();
    auto seq = keys::ConsumeUint64(&suffix);
    if (!seq) return absl::DataLossError("queues storage: corrupt message key");
    TT_ASSIGN_OR_RETURN(MessageRecord record, Parse<MessageRecord>(View(it->value()), "message"));
    TT_RETURN_IF_ERROR(fn(*seq, std::move(record)));
  }
  return it->status();
}

absl::Status QueueStore::ForEachState(
    uint64_t queue_id, const std::function<absl::Status(uint64_t, MessageState)>& fn) {
  auto it = db_->Scan(state_, QueuePrefix(queue_id));
  for (; it->Valid(); it->Next()) {
    std::string_view suffix = it->suffix();
    auto seq = keys::ConsumeUint64(&suffix);
    if (!seq) return absl::DataLossError("queues storage: corrupt state key");
    TT_ASSIGN_OR_RETURN(MessageState state, Parse<MessageState>(View(it->value()), "state"));
    TT_RETURN_IF_ERROR(fn(*seq, std::move(state)));
  }
  return it->status();
}

absl::Status QueueStore::ForEachDedup(
    uint64_t queue_id, const std::function<absl::Status(std::string, DedupRecord)>& fn) {
  auto it = db_->Scan(dedup_, QueuePrefix(queue_id));
  for (; it->Valid(); it->Next()) {
    TT_ASSIGN_OR_RETURN(DedupRecord record, Parse<DedupRecord>(View(it->value()), "dedup"));
    TT_RETURN_IF_ERROR(fn(std::string(it->suffix()), std::move(record)));
  }
  return it->status();
}

absl::StatusOr<MessageRecord> QueueStore::GetMessage(uint64_t queue_id, uint64_t seq,
                                                     bool non_blocking) {
  TT_ASSIGN_OR_RETURN(std::optional<std::string> value,
                      db_->Get(messages_, MessageKey(queue_id, seq), non_blocking));
  if (!value) return absl::NotFoundError("queues storage: message record missing");
  return Parse<MessageRecord>(*value, "message");
}

void QueueStore::PutQueue(rocksdb::WriteBatch* b, const QueueRecord& record) {
  b->Put(meta_, RegistryKey(record.name()), record.SerializeAsString());
}

void QueueStore::PutNextQueueId(rocksdb::WriteBatch* b, uint64_t next_id) {
  std::string value;
  keys::AppendUint64(&value, next_id);
  b->Put(meta_, NextIdKey(), value);
}

void QueueStore::PutCounters(rocksdb::WriteBatch* b, uint64_t queue_id, uint64_t next_seq) {
  QueueCounters c;
  c.set_next_seq(next_seq);
  b->Put(meta_, CountersKey(queue_id), c.SerializeAsString());
}

void QueueStore::PutMessage(rocksdb::WriteBatch* b, uint64_t queue_id, uint64_t seq,
                            const MessageRecord& record) {
  b->Put(messages_, MessageKey(queue_id, seq), record.SerializeAsString());
}

void QueueStore::PutState(rocksdb::WriteBatch* b, uint64_t queue_id, uint64_t seq,
                          const MessageState& state) {
  b->Put(state_, MessageKey(queue_id, seq), state.SerializeAsString());
}

void QueueStore::DeleteMessage(rocksdb::WriteBatch* b, uint64_t queue_id, uint64_t seq) {
  const std::string key = MessageKey(queue_id, seq);
  b->Delete(messages_, key);
  b->Delete(state_, key);
}

void QueueStore::PutDedup(rocksdb::WriteBatch* b, uint64_t queue_id, const std::string& dedup_id,
                          const DedupRecord& record) {
  b->Put(dedup_, DedupKey(queue_id, dedup_id), record.SerializeAsString());
}

void QueueStore::DeleteDedup(rocksdb::WriteBatch* b, uint64_t queue_id,
                             const std::string& dedup_id) {
  b->Delete(dedup_, DedupKey(queue_id, dedup_id));
}

void QueueStore::DeleteAllMessages(rocksdb::WriteBatch* b, uint64_t queue_id) {
  const std::string prefix = QueuePrefix(queue_id);
  db_->DeletePrefix(b, messages_, prefix);
  db_->DeletePrefix(b, state_, prefix);
}

void QueueStore::DeleteQueue(rocksdb::WriteBatch* b, uint64_t queue_id, const std::string& name) {
  const std::string prefix = QueuePrefix(queue_id);
  b->Delete(meta_, RegistryKey(name));
  for (auto* cf : {meta_, messages_, state_, dedup_}) db_->DeletePrefix(b, cf, prefix);
}

}  // namespace thingtank::queues::storage
