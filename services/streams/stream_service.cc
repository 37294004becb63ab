#include "services/streams/stream_service.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "openssl/rand.h"
#include "rocksdb/slice_transform.h"
#include "services/common/status.h"
#include "services/common/string_views.h"
#include "services/streams/core/names.h"
#include "services/streams/storage/record_keys.h"
#include "services/streams/stream_service_internal.h"
#include "services/streams/subscription.h"

namespace thingtank::streams {

using internal::CheckActive;
using internal::Micros;
using internal::PageLimit;
using internal::StreamNotFound;
using internal::ValidateTags;
using internal::kMaxTags;

namespace {

constexpr char kServiceKey[] = "service";
constexpr int kMinRetentionHours = 24;
constexpr int kMaxRetentionHours = 8760;
constexpr int kOnDemandShards = 4;

// The fields StreamDescription and StreamDescriptionSummary share.
template <typename Description>
void DescribeInto(const StreamState& s, Description* d) ABSL_SHARED_LOCKS_REQUIRED(s.mu) {
  const storage::StreamRecord& rec = s.record;
  d->set_stream_name(rec.name());
  d->set_stream_arn(s.arn());
  d->set_stream_status(s.status());
  d->set_stream_mode(static_cast<v1::StreamMode>(rec.mode()));
  d->set_retention_period_hours(rec.retention_hours());
  *d->mutable_stream_creation_timestamp() = ToTimestamp(FromMicros(rec.created_micros()));
  d->set_encryption_type(static_cast<v1::EncryptionType>(rec.encryption_type()));
  d->set_key_id(rec.key_id());
}

}  // namespace

std::vector<std::string> StreamService::ColumnFamilies() {
  return {storage::kRecordsFamily, storage::kStreamsFamily, storage::kMetaFamily};
}

void StreamService::TuneFamily(const std::string& name, rocksdb::ColumnFamilyOptions* options) {
  if (name != storage::kRecordsFamily) return;
  options->memtable_whole_key_filtering = false;
  options->memtable_prefix_bloom_size_ratio = 0;
  // Stream id + shard index: consecutive inserts of a shard land together.
  options->memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(16));
}

StreamService::StreamService(Db* db, Clock* clock, Executor* executor, StreamEvents* events,
                             StreamsOptions options)
    : db_(db), clock_(clock), executor_(executor), events_(events), options_(std::move(options)),
      life_(Lifeline<StreamService>::Create(this, executor, clock)) {}

absl::StatusOr<std::unique_ptr<StreamService>> StreamService::Open(Db* db, Clock* clock, Executor* executor,
                                                                   StreamEvents* events,
                                                                   StreamsOptions options) {
  std::unique_ptr<StreamService> service(new StreamService(db, clock, executor, events, std::move(options)));
  TT_RETURN_IF_ERROR(service->Load());
  service->ArmTrim();
  return service;
}

StreamService::~StreamService() {
  life_->Detach();
  absl::MutexLock lock(&mu_);
  stopping_ = true;
  clock_->Cancel(trim_timer_);
  for (auto& [name, s] : streams_) {
    absl::MutexLock stream_lock(&s->mu);
    clock_->Cancel(s->transition_timer);
  }
}

void StreamService::ResetThrottles(ShardState& shard, absl::Time now) const {
  const StreamsOptions& o = options_;
  shard.write_bytes = TokenBucket(o.write_bytes_per_second, o.write_bytes_per_second, now);
  shard.write_records = TokenBucket(o.write_records_per_second, o.write_records_per_second, now);
  shard.read_bytes = TokenBucket(o.read_bytes_per_second, o.read_bytes_per_second, now);
  shard.read_calls = TokenBucket(o.read_calls_per_second, o.read_calls_per_second, now);
}

absl::Status StreamService::Load() {
  TT_ASSIGN_OR_RETURN(std::optional<std::string> meta, db_->Get(db_->cf(storage::kMetaFamily), kServiceKey));
  storage::ServiceRecord service;
  if (meta.has_value()) {
    if (!service.ParseFromString(*meta)) return absl::DataLossError("streams: unreadable service record");
  } else {
    std::string key(32, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(key.data()), static_cast<int>(key.size())) != 1) {
      return absl::InternalError("streams: no random bytes for the iterator key");
    }
    service.set_iterator_key(key);
    service.set_next_stream_id(1);
    TT_RETURN_IF_ERROR(db_->Put(db_->cf(storage::kMetaFamily), kServiceKey, service.SerializeAsString()));
  }
  iterator_key_ = service.iterator_key();

  const absl::Time now = clock_->Now();
  std::vector<std::shared_ptr<StreamState>> loaded;
  uint64_t next_id = std::max<uint64_t>(service.next_stream_id(), 1);
  auto scan = db_->Scan(db_->cf(storage::kStreamsFamily), "");
  for (scan->SeekSuffix(""); scan->Valid(); scan->Next()) {
    storage::StreamRecord record;
    if (!record.ParseFromArray(scan->value().data(), static_cast<int>(scan->value().size()))) {
      return absl::DataLossError(absl::StrCat("streams: unreadable record of stream ", Av(scan->suffix())));
    }
    auto s = std::make_shared<StreamState>();
    absl::MutexLock lock(&s->mu);
    for (const storage::ShardRecord& r : record.shards()) {
      ShardState shard;
      shard.record = r;
      shard.start = HashKeyFromBytes(r.starting_hash_key());
      shard.end = HashKeyFromBytes(r.ending_hash_key());
      std::optional<SequenceNumber> start = ParseSequenceNumber(r.starting_sequence_number());
      if (!start) return absl::DataLossError("streams: unreadable starting sequence number");
      shard.last = *start;
      // The shard's newest record, if any, gives the last sequence number.
      const std::string prefix = storage::ShardPrefix(record.id(), r.index());
      rocksdb::ReadOptions read;
      std::unique_ptr<rocksdb::Iterator> it(db_->raw()->NewIterator(read, db_->cf(storage::kRecordsFamily)));
      it->SeekForPrev(prefix + std::string(16, '\xff'));
      if (it->Valid() && it->key().starts_with(prefix)) {
        std::optional<SequenceNumber> last = storage::SequenceAt(
            r.index(), std::string_view(it->key().data() + prefix.size(), it->key().size() - prefix.size()));
        if (!last) return absl::DataLossError("streams: unreadable record key");
        shard.last = *last;
        shard.has_records = true;
      }
      TT_RETURN_IF_ERROR(FromRocks(it->status()));
      ResetThrottles(shard, now);
      s->shards.emplace(r.index(), std::move(shard));
    }
    record.clear_shards();
    s->record = std::move(record);
    next_id = std::max(next_id, s->record.id() + 1);
    RebuildOpenLocked(*s);
    loaded.push_back(s);
  }
  TT_RETURN_IF_ERROR(scan->status());

  absl::MutexLock lock(&mu_);
  next_stream_id_ = next_id;
  for (const auto& s : loaded) {
    absl::MutexLock stream_lock(&s->mu);
    streams_[s->record.name()] = s;
    const auto status = s->status();
    if (status != v1::STREAM_STATUS_ACTIVE) ArmTransition(s, FromMicros(s->record.transition_end_micros()));
    for (const storage::ConsumerRecord& c : s->record.consumers()) {
      if (c.status() != v1::CONSUMER_STATUS_ACTIVE) {
        ArmConsumerTransition(s->record.name(), c.name(), FromMicros(c.transition_end_micros()));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<StreamState>> StreamService::Find(const std::string& name) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = streams_.find(name);
  if (it == streams_.end()) return StreamNotFound(name);
  return it->second;
}

absl::StatusOr<std::shared_ptr<StreamState>> StreamService::FindByArn(const std::string& arn,
                                                                      const char* field) const {
  const std::string_view prefix = kArnPrefix;
  if (arn.substr(0, prefix.size()) != prefix) {
    return FieldError(field, "InvalidArgumentException",
                      absl::StrCat("is not a stream ARN (", kArnPrefix, "<name>)"));
  }
  const std::string name = arn.substr(prefix.size());
  TT_RETURN_IF_ERROR(ValidateStreamName(name, field));
  return Find(name);
}

void StreamService::SaveLocked(StreamState& s, rocksdb::WriteBatch* batch) const {
  storage::StreamRecord record = s.record;
  for (const auto& [index, shard] : s.shards) *record.add_shards() = shard.record;
  batch->Put(db_->cf(storage::kStreamsFamily), record.name(), record.SerializeAsString());
}

absl::Status StreamService::Save(StreamState& s) const {
  rocksdb::WriteBatch batch;
  SaveLocked(s, &batch);
  return db_->Write(&batch);
}

int StreamService::OpenShardsTotal() const {
  std::vector<std::shared_ptr<StreamState>> all;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (const auto& [name, s] : streams_) all.push_back(s);
  }
  int total = 0;
  for (const auto& s : all) {
    absl::MutexLock lock(&s->mu);
    if (!s->gone) total += static_cast<int>(s->open.size());
  }
  return total;
}

void StreamService::RebuildOpenLocked(StreamState& s) {
  s.open.clear();
  for (const auto& [index, shard] : s.shards) {
    if (shard.open()) s.open.push_back(index);
  }
  std::sort(s.open.begin(), s.open.end(),
            [&s](uint64_t a, uint64_t b) { return s.shards.at(a).start < s.shards.at(b).start; });
}

ShardState StreamService::NewShard(StreamState& s, HashKey start, HashKey end, absl::Time now,
                                   uint64_t parent_plus_one, uint64_t adjacent_plus_one) {
  const uint64_t index = s.record.next_shard_index();
  s.record.set_next_shard_index(index + 1);
  ShardState shard;
  shard.start = start;
  shard.end = end;
  // A child starts after everything its parents hold (their last arrival).
  absl::Time at = absl::FromUnixMicros(Micros(now));
  for (uint64_t p : {parent_plus_one, adjacent_plus_one}) {
    auto it = p == 0 ? s.shards.end() : s.shards.find(p - 1);
    if (it != s.shards.end()) at = std::max(at, it->second.last.arrival);
  }
  shard.last = SequenceNumber{at, index, 0};
  storage::ShardRecord& r = shard.record;
  r.set_index(index);
  r.set_parent_plus_one(parent_plus_one);
  r.set_adjacent_parent_plus_one(adjacent_plus_one);
  r.set_starting_hash_key(HashKeyBytes(start));
  r.set_ending_hash_key(HashKeyBytes(end));
  r.set_starting_sequence_number(FormatSequenceNumber(shard.last));
  r.set_created_micros(Micros(now));
  ResetThrottles(shard, now);
  return shard;
}

void StreamService::CloseShardLocked(StreamState& s, ShardState& shard, absl::Time now) {
  shard.record.set_closed_micros(std::max<int64_t>(Micros(now), 1));
  shard.record.set_ending_sequence_number(FormatSequenceNumber(shard.last));
  // Subscribers drain what is left and end with the children.
  for (Subscription* sub : shard.subscribers) sub->Notify();
}

void StreamService::ArmTransition(const std::shared_ptr<StreamState>& s, absl::Time when) {
  const std::string name = s->record.name();
  const uint64_t id = s->record.id();
  clock_->Cancel(s->transition_timer);
  std::shared_ptr<Lifeline<StreamService>> life = life_;
  s->transition_timer = clock_->RunAt(when, [life, name, id] {
    Lifeline<StreamService>::Post(life, [name, id](StreamService* service) { service->EndTransition(name, id); });
  });
}

void StreamService::EndTransition(const std::string& name, uint64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = streams_.find(name);
  if (it == streams_.end()) return;
  std::shared_ptr<StreamState> s = it->second;
  absl::MutexLock write_lock(&s->write_mu);
  absl::MutexLock stream_lock(&s->mu);
  if (s->record.id() != id) return;
  s->transition_timer = 0;
  const auto status = s->status();
  if (status == v1::STREAM_STATUS_DELETING) {
    rocksdb::WriteBatch batch;
    batch.Delete(db_->cf(storage::kStreamsFamily), name);
    batch.DeleteRange(db_->cf(storage::kRecordsFamily), storage::StreamPrefix(id), storage::StreamPrefix(id + 1));
    if (absl::Status w = db_->Write(&batch); !w.ok()) {
      ArmTransition(s, clock_->Now() + options_.transition);  // try again
      return;
    }
    s->gone = true;
    EndSubscriptionsLocked(*s, "", StreamNotFound(name));
    streams_.erase(it);
    return;
  }
  if (status == v1::STREAM_STATUS_CREATING || status == v1::STREAM_STATUS_UPDATING) {
    s->record.set_status(v1::STREAM_STATUS_ACTIVE);
    if (!Save(*s).ok()) {
      s->record.set_status(status);
      ArmTransition(s, clock_->Now() + options_.transition);
    }
  }
}

void StreamService::EndSubscriptionsLocked(StreamState& s, const std::string& consumer_arn,
                                           const absl::Status& status) {
  for (auto& [index, shard] : s.shards) {
    for (Subscription* sub : shard.subscribers) {
      if (consumer_arn.empty() || sub->consumer_arn() == consumer_arn) sub->EndWith(status);
    }
  }
}

void StreamService::ArmTrim() {
  std::shared_ptr<Lifeline<StreamService>> life = life_;
  absl::MutexLock lock(&mu_);
  if (stopping_) return;
  trim_timer_ = clock_->RunAfter(options_.trim_interval, [life] {
    Lifeline<StreamService>::Post(life, [](StreamService* service) {
      service->TrimNow();
      service->ArmTrim();
    });
  });
}

void StreamService::TrimNow() {
  std::vector<std::shared_ptr<StreamState>> all;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (const auto& [name, s] : streams_) all.push_back(s);
  }
  const absl::Time now = clock_->Now();
  for (const auto& s : all) {
    // What to trim, under the lock; the reads and deletes outside it (a
    // SubscribeToShard starts on a reactor thread and takes this lock).
    uint64_t id = 0;
    absl::Time cutoff;
    std::vector<uint64_t> shards, expired;
    {
      absl::MutexLock lock(&s->mu);
      if (s->gone) continue;
      id = s->record.id();
      cutoff = internal::RetentionCutoff(*s, now);
      for (const auto& [index, shard] : s->shards) {
        shards.push_back(index);
        // A shard closed before the cutoff holds nothing retained: it goes.
        if (!shard.open() && shard.record.closed_micros() < Micros(cutoff) && shard.subscribers.empty()) {
          expired.push_back(index);
        }
      }
    }
    rocksdb::WriteBatch batch;
    for (uint64_t index : shards) {
      const std::string prefix = storage::ShardPrefix(id, index);
      const bool gone = std::find(expired.begin(), expired.end(), index) != expired.end();
      const std::string limit =
          gone ? storage::ShardPrefix(id, index + 1) : prefix + storage::PositionSuffix({Micros(cutoff), 0});
      auto scan = db_->Scan(db_->cf(storage::kRecordsFamily), prefix);
      scan->SeekSuffix("");
      if (scan->Valid() && scan->key().compare(limit) < 0) {
        batch.DeleteRange(db_->cf(storage::kRecordsFamily), prefix, limit);
      }
    }
    if (batch.Count() > 0 && !db_->Write(&batch).ok()) continue;  // retried at the next trim
    if (expired.empty()) continue;
    absl::MutexLock lock(&s->mu);
    if (s->gone) continue;
    const std::map<uint64_t, ShardState> before = s->shards;
    for (uint64_t index : expired) {
      auto it = s->shards.find(index);
      if (it != s->shards.end() && it->second.subscribers.empty()) s->shards.erase(it);  // none came since
    }
    if (!Save(*s).ok()) s->shards = before;  // dropped at the next trim
  }
}

// ---------------------------------------------------------------- streams

absl::StatusOr<v1::CreateStreamResponse> StreamService::CreateStream(const v1::CreateStreamRequest& r) {
  TT_RETURN_IF_ERROR(ValidateStreamName(r.stream_name()));
  v1::StreamMode mode = r.stream_mode() == v1::STREAM_MODE_UNSPECIFIED ? v1::STREAM_MODE_PROVISIONED
                                                                       : r.stream_mode();
  if (!v1::StreamMode_IsValid(mode)) {
    return FieldError("stream_mode", "InvalidArgumentException", "must be PROVISIONED or ON_DEMAND");
  }
  int shards = r.shard_count();
  if (mode == v1::STREAM_MODE_ON_DEMAND) {
    shards = kOnDemandShards;
  } else if (shards < 1 || shards > 10000) {
    return FieldError("shard_count", "InvalidArgumentException", "must be between 1 and 10000");
  }
  if (r.tags_size() > kMaxTags) {
    return FieldError("tags", "InvalidArgumentException", "at most 50 tags");
  }
  TT_RETURN_IF_ERROR(ValidateTags(r.tags(), "tags"));
  const int open_total = OpenShardsTotal();
  const absl::Time now = clock_->Now();

  absl::MutexLock lock(&mu_);
  if (streams_.count(r.stream_name()) > 0) {
    return Error("ResourceInUseException",
                 absl::StrCat("Stream ", r.stream_name(), " under account 000000000000 already exists."));
  }
  if (open_total + shards > options_.shard_limit) {
    return Error("LimitExceededException",
                 absl::StrCat("This request would exceed the shard limit for the account 000000000000 in "
                              "us-east-1. Current shard count for the account: ",
                              open_total, ". Limit: ", options_.shard_limit, ". Number of additional shards "
                              "that would have resulted from this request: ", shards, "."));
  }
  if (mode == v1::STREAM_MODE_ON_DEMAND) {
    int on_demand = 0;
    for (const auto& [name, other] : streams_) {
      absl::MutexLock other_lock(&other->mu);
      if (other->record.mode() == v1::STREAM_MODE_ON_DEMAND) ++on_demand;
    }
    if (on_demand >= options_.on_demand_stream_limit) {
      return Error("LimitExceededException",
                   absl::StrCat("at most ", options_.on_demand_stream_limit, " on-demand streams"));
    }
  }
  auto s = std::make_shared<StreamState>();
  absl::MutexLock stream_lock(&s->mu);
  storage::StreamRecord& rec = s->record;
  rec.set_name(r.stream_name());
  rec.set_id(next_stream_id_);
  rec.set_status(v1::STREAM_STATUS_CREATING);
  rec.set_mode(mode);
  rec.set_retention_hours(kMinRetentionHours);
  rec.set_created_micros(Micros(now));
  rec.set_transition_end_micros(Micros(now + options_.transition));
  rec.set_encryption_type(v1::ENCRYPTION_TYPE_NONE);
  for (const auto& [key, value] : r.tags()) (*rec.mutable_tags())[key] = value;
  for (const auto& [start, end] : UniformRanges(shards)) {
    ShardState shard = NewShard(*s, start, end, now, 0, 0);
    const uint64_t index = shard.record.index();
    s->shards.emplace(index, std::move(shard));
  }
  RebuildOpenLocked(*s);

  storage::ServiceRecord service;
  service.set_next_stream_id(next_stream_id_ + 1);
  service.set_iterator_key(iterator_key_);
  rocksdb::WriteBatch batch;
  SaveLocked(*s, &batch);
  batch.Put(db_->cf(storage::kMetaFamily), kServiceKey, service.SerializeAsString());
  TT_RETURN_IF_ERROR(db_->Write(&batch));
  ++next_stream_id_;
  streams_[r.stream_name()] = s;
  ArmTransition(s, now + options_.transition);
  return v1::CreateStreamResponse();
}

absl::StatusOr<v1::DeleteStreamResponse> StreamService::DeleteStream(const v1::DeleteStreamRequest& r) {
  TT_RETURN_IF_ERROR(ValidateStreamName(r.stream_name()));
  TT_ASSIGN_OR_RETURN(std::shared_ptr<StreamState> s, Find(r.stream_name()));
  absl::MutexLock lock(&s->mu);
  if (s->gone) return StreamNotFound(r.stream_name());
  if (s->status() == v1::STREAM_STATUS_DELETING) return v1::DeleteStreamResponse();
  if (s->record.consumers_size() > 0 && !r.enforce_consumer_deletion()) {
    return Error("ResourceInUseException",
                 absl::StrCat("Stream ", r.stream_name(), " has ", s->record.consumers_size(),
                              " registered consumers: deregister them or set enforce_consumer_deletion"));
  }
  const absl::Time now = clock_->Now();
  const storage::StreamRecord before = s->record;
  s->record.set_status(v1::STREAM_STATUS_DELETING);
  s->record.set_transition_end_micros(Micros(now + options_.transition));
  s->record.clear_consumers();
  if (absl::Status saved = Save(*s); !saved.ok()) {
    s->record = before;
    return saved;
  }
  EndSubscriptionsLocked(*s, "", StreamNotFound(r.stream_name()));
  ArmTransition(s, now + options_.transition);
  return v1::DeleteStreamResponse();
}

absl::StatusOr<v1::DescribeStreamResponse> StreamService::DescribeStream(const v1::DescribeStreamRequest& r) {
  TT_RETURN_IF_ERROR(ValidateStreamName(r.stream_name()));
  TT_ASSIGN_OR_RETURN(const int limit, PageLimit(r.limit(), 100, 10000, "limit"));
  uint64_t after = 0;
  bool has_after = false;
  if (!r.exclusive_start_shard_id().empty()) {
    std::optional<uint64_t> index = ParseShardId(r.exclusive_start_shard_id());
    if (!index) {
      return FieldError("exclusive_start_shard_id", "InvalidArgumentException", "is not a shard id");
    }
    after = *index;
    has_after = true;
  }
  TT_ASSIGN_OR_RETURN(std::shared_ptr<StreamState> s, Find(r.stream_name()));
  absl::MutexLock lock(&s->mu);
  if (s->gone) return StreamNotFound(r.stream_name());
  v1::DescribeStreamResponse out;
  v1::StreamDescription* d = out.mutable_stream_description();
  DescribeInto(*s, d);
  for (auto it = has_after ? s->shards.upper_bound(after) : s->shards.begin(); it != s->shards.end(); ++it) {
    if (d->shards_size() == limit) {
      d->set_has_more_shards(true);
      break;
    }
    *d->add_shards() = ShardMessage(it->second);
  }
  return out;
}

absl::StatusOr<v1::DescribeStreamSummaryResponse> StreamService::DescribeStreamSummary(
    const v1::DescribeStreamSummaryRequest& r) {
  TT_RETURN_IF_ERROR(ValidateStreamName(r.stream_name()));
  TT_ASSIGN_OR_RETURN(std::shared_ptr<StreamState> s, Find(r.stream_name()));
  absl::MutexLock lock(&s->mu);
  if (s->gone) return StreamNotFound(r.stream_name());
  v1::DescribeStreamSummaryResponse out;
  v1::StreamDescriptionSummary* d = out.mutable_stream_description_summary();
  DescribeInto(*s, d);
  const storage::StreamRecord& rec = s->record;
  d->set_open_shard_count(static_cast<int32_t>(s->open.size()));
  d->set_consumer_count(rec.consumers_size());
  return out;
}

absl::StatusOr<v1::ListStreamsResponse> StreamService::ListStreams(const v1::ListStreamsRequest& r) {
  TT_ASSIGN_OR_RETURN(const int limit, PageLimit(r.limit(), 100, 10000, "limit"));
  std::string after = r.exclusive_start_stream_name();
  if (!r.next_token().empty()) {
    std::string decoded;
    if (!absl::WebSafeBase64Unescape(Av(r.next_token()), &decoded) || decoded.substr(0, 3) != "ls:") {
      return FieldError("next_token", "InvalidArgumentException", "is not a token of ListStreams");
    }
    after = decoded.substr(3);
  }
  std::vector<std::shared_ptr<StreamState>> page;
  bool more = false;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (auto it = after.empty() ? streams_.begin() : streams_.upper_bound(after); it != streams_.end(); ++it) {
      if (static_cast<int>(page.size()) == limit) {
        more = true;
        break;
      }
      page.push_back(it->second);
    }
  }
  v1::ListStreamsResponse out;
  for (const auto& s : page) {
    absl::MutexLock lock(&s->mu);
    out.add_stream_names(s->record.name());
    v1::StreamSummary* summary = out.add_stream_summaries();
    summary->set_stream_name(s->record.name());
    summary->set_stream_arn(s->arn());
    summary->set_stream_status(s->status());
    summary->set_stream_mode(static_cast<v1::StreamMode>(s->record.mode()));
    *summary->mutable_stream_creation_timestamp() = ToTimestamp(FromMicros(s->record.created_micros()));
  }
  out.set_has_more_streams(more);
  if (more) out.set_next_token(absl::WebSafeBase64Escape(absl::StrCat("ls:", out.stream_names().rbegin()->c_str())));
  return out;
}

absl::StatusOr<v1::ListShardsResponse> StreamService::ListShards(const v1::ListShardsRequest& request) {
  v1::ListShardsRequest r = request;
  if (!r.next_token().empty()) {
    if (!r.stream_name().empty() || !r.exclusive_start_shard_id().empty()) {
      return FieldError("next_token", "InvalidArgumentException",
                        "cannot be given with stream_name or exclusive_start_shard_id");
    }
    std::string decoded;
    v1::ListShardsRequest from_token;
    if (!absl::WebSafeBase64Unescape(Av(r.next_token()), &decoded) || !from_token.ParseFromString(decoded) ||
        from_token.stream_name().empty()) {
      return FieldError("next_token", "InvalidArgumentException", "is not a token of ListShards");
    }
    const int max_results = r.max_results();
    r = from_token;
    if (max_results != 0) r.set_max_results(max_results);
  }
  TT_RETURN_IF_ERROR(ValidateStreamName(r.stream_name()));
  TT_ASSIGN_OR_RETURN(const int limit, PageLimit(r.max_results(), 1000, 10000, "max_results"));
  std::optional<uint64_t> after;
  if (!r.exclusive_start_shard_id().empty()) {
    after = ParseShardId(r.exclusive_start_shard_id());
    if (!after) return FieldError("exclusive_start_shard_id", "InvalidArgumentException", "is not a shard id");
  }
  const v1::ShardFilter& filter = r.shard_filter();
  std::optional<uint64_t> filter_after;
  if (filter.type() == v1::SHARD_FILTER_TYPE_AFTER_SHARD_ID) {
    filter_after = ParseShardId(filter.shard_id());
    if (!filter_after) {
      return FieldError("shard_filter.shard_id", "InvalidArgumentException", "is required: a shard id");
    }
  } else if (!filter.shard_id().empty()) {
    return FieldError("shard_filter.shard_id", "InvalidArgumentException", "only with AFTER_SHARD_ID");
  }
  const bool timed = filter.type() == v1::SHARD_FILTER_TYPE_AT_TIMESTAMP ||
                     filter.type() == v1::SHARD_FILTER_TYPE_FROM_TIMESTAMP;
  if (timed && !filter.has_timestamp()) {
    return FieldError("shard_filter.timestamp", "InvalidArgumentException", "is required with this filter");
  }
  if (!v1::ShardFilterType_IsValid(filter.type())) {
    return FieldError("shard_filter.type", "InvalidArgumentException", "is not a filter type");
  }
  TT_ASSIGN_OR_RETURN(std::shared_ptr<StreamState> s, Find(r.stream_name()));
  absl::MutexLock lock(&s->mu);
  if (s->gone) return StreamNotFound(r.stream_name());
  const absl::Time now = clock_->Now();
  const int64_t created = s->record.created_micros();
  const int64_t horizon = std::max(Micros(internal::RetentionCutoff(*s, now)), created);
  const int64_t at = timed ? std::max(filter.timestamp().seconds() * 1'000'000 + filter.timestamp().nanos() / 1000,
                                      created)
                           : horizon;
  // Open at `t`: created by then and not closed by then.
  auto open_at = [](const ShardState& sh, int64_t t) {
    return sh.record.created_micros() <= t && (sh.open() || sh.record.closed_micros() > t);
  };
  auto keep = [&](const ShardState& sh) {
    switch (filter.type()) {
      case v1::SHARD_FILTER_TYPE_AFTER_SHARD_ID: return sh.record.index() > *filter_after;
      case v1::SHARD_FILTER_TYPE_AT_TRIM_HORIZON: return open_at(sh, horizon);
      case v1::SHARD_FILTER_TYPE_AT_LATEST: return sh.open();
      case v1::SHARD_FILTER_TYPE_AT_TIMESTAMP: return open_at(sh, at);
      case v1::SHARD_FILTER_TYPE_FROM_TIMESTAMP: return sh.open() || sh.record.closed_micros() > at;
      default: return true;  // none, FROM_TRIM_HORIZON: every retained shard
    }
  };
  v1::ListShardsResponse out;
  uint64_t last = 0;
  bool more = false;
  for (auto it = after ? s->shards.upper_bound(*after) : s->shards.begin(); it != s->shards.end(); ++it) {
    if (!keep(it->second)) continue;
    if (out.shards_size() == limit) {
      more = true;
      break;
    }
    *out.add_shards() = ShardMessage(it->second);
    last = it->first;
  }
  if (more) {
    v1::ListShardsRequest next = r;
    next.clear_next_token();
    next.set_exclusive_start_shard_id(ShardIdOf(last));
    out.set_next_token(absl::WebSafeBase64Escape(next.SerializeAsString()));
  }
  return out;
}

}  // namespace thingtank::streams
