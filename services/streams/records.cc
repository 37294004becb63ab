// PutRecord(s), GetShardIterator and GetRecords.
#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/streams/core/names.h"
#include "services/streams/core/shard_iterator.h"
#include "services/streams/storage/record_keys.h"
#include "services/streams/stream_service.h"
#include "services/streams/stream_service_internal.h"
#include "services/streams/subscription.h"

namespace thingtank::streams {

using internal::CheckReadable;
using internal::Micros;
using internal::StreamNotFound;

namespace {

constexpr int kMaxRecordsPerCall = 500;
constexpr size_t kMaxRecordBytes = 1 << 20;       // data + partition key
constexpr size_t kMaxPutRecordsBytes = 5 << 20;
constexpr int kMaxGetRecords = 10000;
constexpr int64_t kMaxGetBytes = 10 << 20;

std::string RateExceeded(const std::string& stream, uint64_t shard) {
  return absl::StrCat("Rate exceeded for shard ", ShardIdOf(shard), " in stream ", stream,
                      " under account 000000000000.");
}

// One record of a put, checked.
struct Entry {
  std::string_view data;
  std::string_view partition_key;
  HashKey hash = 0;
};

absl::StatusOr<Entry> CheckEntry(const std::string& data, const std::string& partition_key,
                                 const std::string& explicit_hash_key, const std::string& where) {
  TT_RETURN_IF_ERROR(ValidatePartitionKey(partition_key, where + "partition_key"));
  if (data.size() + partition_key.size() > kMaxRecordBytes) {
    return FieldError(where + "data", "InvalidArgumentException",
                      absl::StrCat("the record is ", data.size() + partition_key.size(),
                                   " bytes with its partition key; at most 1 MiB (1048576)"));
  }
  Entry e{data, partition_key, 0};
  if (!explicit_hash_key.empty()) {
    TT_ASSIGN_OR_RETURN(e.hash, ParseHashKey(explicit_hash_key, where + "explicit_hash_key"));
  } else {
    e.hash = HashOfPartitionKey(partition_key);
  }
  return e;
}

}  // namespace

namespace internal {

absl::StatusOr<ReadOutcome> ReadShard(Db* db, uint64_t stream_id, uint64_t shard_index, storage::Position from,
                                      int max_records, int64_t max_bytes,
                                      google::protobuf::RepeatedPtrField<v1::Record>* out) {
  ReadOutcome outcome;
  auto scan = db->Scan(db->cf(storage::kRecordsFamily), storage::ShardPrefix(stream_id, shard_index));
  for (scan->SeekSuffix(storage::PositionSuffix(from)); scan->Valid(); scan->Next()) {
    if (outcome.count >= max_records) {
      outcome.more = true;
      break;
    }
    const std::string_view suffix = scan->suffix();
    std::optional<SequenceNumber> n = storage::SequenceAt(shard_index, suffix);
    const rocksdb::Slice value = scan->value();
    std::optional<storage::RecordParts> parts = storage::ParseRecordValue(std::string_view(value.data(), value.size()));
    if (!n || !parts) return absl::DataLossError("streams: unreadable record");
    const int64_t size = static_cast<int64_t>(parts->data.size() + parts->partition_key.size());
    if (outcome.count > 0 && outcome.bytes + size > max_bytes) {
      outcome.more = true;
      break;
    }
    v1::Record* r = out->Add();
    r->set_sequence_number(FormatSequenceNumber(*n));
    *r->mutable_approximate_arrival_timestamp() = ToTimestamp(n->arrival);
    r->set_data(parts->data.data(), parts->data.size());
    r->set_partition_key(parts->partition_key.data(), parts->partition_key.size());
    r->set_encryption_type(v1::ENCRYPTION_TYPE_NONE);
    ++outcome.count;
    outcome.bytes += size;
    outcome.last = *n;
  }
  TT_RETURN_IF_ERROR(scan->status());
  return outcome;
}

}  // namespace internal

absl::StatusOr<v1::PutRecordResponse> StreamService::PutRecord(const v1::PutRecordRequest& r) {
  TT_RETURN_IF_ERROR(ValidateStreamName(r.stream_name()));
  TT_ASSIGN_OR_RETURN(const Entry e, CheckEntry(r.data(), r.partition_key(), r.explicit_hash_key(), ""));
  std::optional<SequenceNumber> ordering;
  if (!r.sequence_number_for_ordering().empty()) {
    TT_RETURN_IF_ERROR(ValidateSequenceNumber(r.sequence_number_for_ordering(), "sequence_number_for_ordering"));
    ordering = ParseSequenceNumber(r.sequence_number_for_ordering());
  }
  TT_ASSIGN_OR_RETURN(std::shared_ptr<StreamState> s, Find(r.stream_name()));
  v1::PutRecordResponse out;
  {
    absl::MutexLock write_lock(&s->write_mu);
    SequenceNumber n, before;
    uint64_t index = 0;
    rocksdb::WriteBatch batch;
    {
      absl::MutexLock lock(&s->mu);
      TT_RETURN_IF_ERROR(CheckReadable(*s));
      const absl::Time now = clock_->Now();
      ShardState& shard = s->ShardFor(e.hash);
      index = shard.record.index();
      const double size = static_cast<double>(e.data.size() + e.partition_key.size());
      if (options_.limits) {
        absl::Duration wait;
        if (!shard.write_records.TryTake(now, 1, &wait) || !shard.write_bytes.TryTake(now, size, &wait)) {
          if (events_ != nullptr) events_->OnThrottled(r.stream_name(), "PutRecord");
          return Throttled(RateExceeded(r.stream_name(), index), wait, ShardIdOf(index));
        }
      }
      n = NextSequenceNumber(shard.last, now, index);
      // Greater than the caller's sequence number for ordering, too.
      if (ordering && CompareSequenceNumbers(FormatSequenceNumber(n), r.sequence_number_for_ordering()) <= 0) {
        n = SequenceNumber{ordering->arrival + absl::Microseconds(1), index, 0};
      }
      before = shard.last;
      shard.last = n;
      batch.Put(db_->cf(storage::kRecordsFamily), storage::RecordKey(s->record.id(), n),
                storage::RecordValue(e.partition_key, e.data));
      out.set_encryption_type(static_cast<v1::EncryptionType>(s->record.encryption_type()));
    }
    // Outside the state lock: readers go on while the write is on its way.
    const absl::Status written = db_->Write(&batch);
    absl::MutexLock lock(&s->mu);
    ShardState& shard = s->shards.at(index);
    if (!written.ok()) {
      shard.last = before;
      return written;
    }
    shard.has_records = true;
    for (Subscription* sub : shard.subscribers) sub->Notify();
    out.set_shard_id(ShardIdOf(index));
    out.set_sequence_number(FormatSequenceNumber(n));
  }
  if (events_ != nullptr) {
    events_->OnPut(r.stream_name(), 1, static_cast<int64_t>(e.data.size() + e.partition_key.size()));
  }
  return out;
}

absl::StatusOr<v1::PutRecordsResponse> StreamService::PutRecords(const v1::PutRecordsRequest& r) {
  TT_RETURN_IF_ERROR(ValidateStreamName(r.stream_name()));
  if (r.records_size() < 1 || r.records_size() > kMaxRecordsPerCall) {
    return FieldError("records", "InvalidArgumentException",
                      absl::StrCat("has ", r.records_size(), " records; 1 to 500 are allowed"));
  }
  std::vector<Entry> entries;
  entries.reserve(r.records_size());
  size_t total = 0;
  for (int i = 0; i < r.records_size(); ++i) {
    const v1::PutRecordsRequestEntry& rec = r.records(i);
    TT_ASSIGN_OR_RETURN(Entry e, CheckEntry(rec.data(), rec.partition_key(), rec.explicit_hash_key(),
                                            absl::StrCat("records[", i, "].")));
    total += e.data.size() + e.partition_key.size();
    entries.push_back(e);
  }
  if (total > kMaxPutRecordsBytes) {
    return FieldError("records", "InvalidArgumentException",
                      absl::StrCat("hold ", total, " bytes; at most 5 MiB (5242880) a call"));
  }
  TT_ASSIGN_OR_RETURN(std::shared_ptr<StreamState> s, Find(r.stream_name()));
  v1::PutRecordsResponse out;
  int64_t written_records = 0, written_bytes = 0, throttled = 0;
  {
    absl::MutexLock write_lock(&s->write_mu);
    absl::ReleasableMutexLock lock(&s->mu);
    TT_RETURN_IF_ERROR(CheckReadable(*s));
    const absl::Time now = clock_->Now();
    const uint64_t id = s->record.id();
    rocksdb::WriteBatch batch;
    // Shards written, with their last sequence number before this call (to
    // undo on a failed write).
    std::map<uint64_t, SequenceNumber> before;
    out.mutable_records()->Reserve(r.records_size());
    for (const Entry& e : entries) {
      ShardState& shard = s->ShardFor(e.hash);
      const uint64_t index = shard.record.index();
      v1::PutRecordsResultEntry* result = out.add_records();
      const double size = static_cast<double>(e.data.size() + e.partition_key.size());
      absl::Duration wait;
      if (options_.limits &&
          (!shard.write_records.TryTake(now, 1, &wait) || !shard.write_bytes.TryTake(now, size, &wait))) {
        result->set_error_code("ProvisionedThroughputExceededException");
        result->set_error_message(RateExceeded(r.stream_name(), index));
        ++throttled;
        continue;
      }
      before.emplace(index, shard.last);
      shard.last = NextSequenceNumber(shard.last, now, index);
      batch.Put(db_->cf(storage::kRecordsFamily), storage::RecordKey(id, shard.last),
                storage::RecordValue(e.partition_key, e.data));
      result->set_shard_id(ShardIdOf(index));
      result->set_sequence_number(FormatSequenceNumber(shard.last));
      ++written_records;
      written_bytes += static_cast<int64_t>(size);
    }
    out.set_failed_record_count(static_cast<int32_t>(throttled));
    out.set_encryption_type(static_cast<v1::EncryptionType>(s->record.encryption_type()));
    // Outside the state lock: readers go on while the write is on its way
    // (write_mu keeps writes, and so commits, in sequence-number order).
    lock.Release();
    const absl::Status written = batch.Count() > 0 ? db_->Write(&batch) : absl::OkStatus();
    absl::MutexLock relock(&s->mu);
    if (!written.ok()) {
      for (const auto& [index, last] : before) s->shards.at(index).last = last;
      return written;
    }
    for (const auto& [index, last] : before) {
      ShardState& shard = s->shards.at(index);
      shard.has_records = true;
      for (Subscription* sub : shard.subscribers) sub->Notify();
    }
  }
  if (events_ != nullptr) {
    if (written_records > 0) events_->OnPut(r.stream_name(), written_records, written_bytes);
    for (int64_t i = 0; i < throttled; ++i) events_->OnThrottled(r.stream_name(), "PutRecords");
  }
  return out;
}

absl::StatusOr<v1::GetShardIteratorResponse> StreamService::GetShardIterator(const v1::GetShardIteratorRequest& r) {
  TT_RETURN_IF_ERROR(ValidateStreamName(r.stream_name()));
  TT_RETURN_IF_ERROR(ValidateStreamName(r.shard_id(), "shard_id"));
  const v1::ShardIteratorType type = r.shard_iterator_type();
  if (type == v1::SHARD_ITERATOR_TYPE_UNSPECIFIED || !v1::ShardIteratorType_IsValid(type)) {
    return FieldError("shard_iterator_type", "InvalidArgumentException",
                      "must be AT_SEQUENCE_NUMBER, AFTER_SEQUENCE_NUMBER, TRIM_HORIZON, LATEST or AT_TIMESTAMP");
  }
  const bool by_sequence =
      type == v1::SHARD_ITERATOR_TYPE_AT_SEQUENCE_NUMBER || type == v1::SHARD_ITERATOR_TYPE_AFTER_SEQUENCE_NUMBER;
  if (by_sequence) {
    if (r.starting_sequence_number().empty()) {
      return FieldError("starting_sequence_number", "InvalidArgumentException", "is required with this iterator type");
    }
    TT_RETURN_IF_ERROR(ValidateSequenceNumber(r.starting_sequence_number(), "starting_sequence_number"));
  }
  if (type == v1::SHARD_ITERATOR_TYPE_AT_TIMESTAMP && !r.has_timestamp()) {
    return FieldError("timestamp", "InvalidArgumentException", "is required with AT_TIMESTAMP");
  }
  TT_ASSIGN_OR_RETURN(std::shared_ptr<StreamState> s, Find(r.stream_name()));
  absl::MutexLock lock(&s->mu);
  TT_RETURN_IF_ERROR(CheckReadable(*s));
  ShardState* shard = s->FindShard(r.shard_id());
  if (shard == nullptr) return internal::ShardNotFound(r.stream_name(), r.shard_id());
  const absl::Time now = clock_->Now();
  ShardIterator it;
  it.stream_name = r.stream_name();
  it.shard_id = r.shard_id();
  it.issued_at = now;
  const uint64_t index = shard->record.index();
  switch (type) {
    case v1::SHARD_ITERATOR_TYPE_LATEST:
      it.sequence_number = FormatSequenceNumber(shard->last);
      it.after = true;
      break;
    case v1::SHARD_ITERATOR_TYPE_AT_TIMESTAMP: {
      const int64_t micros = std::clamp<int64_t>(
          r.timestamp().seconds() * 1'000'000 + r.timestamp().nanos() / 1000, 0, Micros(now));
      it.sequence_number = FormatSequenceNumber({absl::FromUnixMicros(micros), index, 0});
      break;
    }
    case v1::SHARD_ITERATOR_TYPE_AT_SEQUENCE_NUMBER:
    case v1::SHARD_ITERATOR_TYPE_AFTER_SEQUENCE_NUMBER: {
      std::optional<SequenceNumber> n = ParseSequenceNumber(r.starting_sequence_number());
      if (!n || n->shard_index != index) {
        return FieldError("starting_sequence_number", "InvalidArgumentException",
                          absl::StrCat("StartingSequenceNumber ", r.starting_sequence_number(),
                                       " used in GetShardIterator on shard ", r.shard_id(), " in stream ",
                                       r.stream_name(), " under account 000000000000 is invalid because it did "
                                       "not come from this stream."));
      }
      it.sequence_number = r.starting_sequence_number();
      it.after = type == v1::SHARD_ITERATOR_TYPE_AFTER_SEQUENCE_NUMBER;
      break;
    }
    default:  // TRIM_HORIZON: the start of the shard (retention hides the rest)
      break;
  }
  v1::GetShardIteratorResponse out;
  out.set_shard_iterator(EncodeShardIterator(it, iterator_key_));
  return out;
}

absl::StatusOr<v1::GetRecordsResponse> StreamService::GetRecords(const v1::GetRecordsRequest& r) {
  if (r.shard_iterator().empty()) {
    return FieldError("shard_iterator", "InvalidArgumentException", "is required");
  }
  if (r.limit() < 0 || r.limit() > kMaxGetRecords) {
    return FieldError("limit", "InvalidArgumentException", "must be between 1 and 10000");
  }
  const int limit = r.limit() == 0 ? kMaxGetRecords : r.limit();
  const absl::Time now = clock_->Now();
  TT_ASSIGN_OR_RETURN(ShardIterator it, DecodeShardIterator(r.shard_iterator(), iterator_key_, now));
  TT_ASSIGN_OR_RETURN(std::shared_ptr<StreamState> s, Find(it.stream_name));
  uint64_t id = 0, index = 0;
  bool open = true;
  storage::Position from;
  std::vector<v1::ChildShard> children;
  {
    absl::MutexLock lock(&s->mu);
    TT_RETURN_IF_ERROR(CheckReadable(*s));
    ShardState* shard = s->FindShard(it.shard_id);
    if (shard == nullptr) return internal::ShardNotFound(it.stream_name, it.shard_id);
    id = s->record.id();
    index = shard->record.index();
    if (options_.limits) {
      absl::Duration wait;
      if (!shard->read_calls.TryTake(now, 1, &wait) ||
          (wait = shard->read_bytes.Admit(now)) > absl::ZeroDuration()) {
        if (events_ != nullptr) events_->OnThrottled(it.stream_name, "GetRecords");
        return Throttled(RateExceeded(it.stream_name, index), wait, it.shard_id);
      }
    }
    open = shard->open();
    if (!open) children = ChildShardsOf(*s, index);
    from = {Micros(internal::RetentionCutoff(*s, now)), 0};
  }
  if (!it.sequence_number.empty()) {
    std::optional<SequenceNumber> n = ParseSequenceNumber(it.sequence_number);
    if (!n) return FieldError("shard_iterator", "InvalidArgumentException", "names no position of this shard");
    from = internal::Later(from, it.after ? internal::PositionAfter(*n) : internal::PositionOf(*n));
  }
  v1::GetRecordsResponse out;
  TT_ASSIGN_OR_RETURN(internal::ReadOutcome read,
                      internal::ReadShard(db_, id, index, from, limit, kMaxGetBytes, out.mutable_records()));
  if (options_.limits && read.bytes > 0) {
    absl::MutexLock lock(&s->mu);
    if (ShardState* shard = s->FindShard(it.shard_id); shard != nullptr) {
      shard->read_bytes.Charge(static_cast<double>(read.bytes), now);
    }
  }
  if (read.last) {
    it.sequence_number = FormatSequenceNumber(*read.last);
    it.after = true;
  }
  it.issued_at = now;
  if (!open && !read.more) {
    // Drained: no next iterator, and where to go on.
    for (v1::ChildShard& child : children) *out.add_child_shards() = std::move(child);
  } else {
    out.set_next_shard_iterator(EncodeShardIterator(it, iterator_key_));
  }
  const int64_t age =
      read.more && read.last ? std::max<int64_t>(0, absl::ToInt64Milliseconds(now - read.last->arrival)) : 0;
  out.set_millis_behind_latest(age);
  if (events_ != nullptr) events_->OnRead(it.stream_name, read.count, read.bytes, age, false);
  return out;
}

}  // namespace thingtank::streams
