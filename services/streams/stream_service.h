// The streams domain: Kinesis Data Streams semantics over RocksDB, free of
// gRPC types. Every timer (transitions, retention, throttling, iterator
// expiry, subscription lifetime) runs on the injected Clock.
//
// Storage: one StreamRecord per stream (column family "streams", rewritten on
// every metadata change), records in "records" (storage/record_keys.h), the
// iterator key in "meta". A PutRecords is one WriteBatch: acknowledged records
// survive kill -9 (the WAL; with sync writes, power loss too).
//
// Threading: every public method is thread-safe and may block on RocksDB:
// call them off gRPC reactor threads. Locks: `mu_` (the stream map) before a
// stream's own mutex, before a subscription's. A stream's writes are
// serialised under its mutex, through the RocksDB write, so records become
// readable in sequence-number order and a reader never skips one.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/executor.h"
#include "services/common/lifeline.h"
#include "services/common/storage/db.h"
#include "services/streams/storage/stream_records.pb.h"
#include "thingtank/streams/v1/streams.pb.h"

namespace thingtank::streams {

struct StreamState;
struct ShardState;
class Subscription;

// Service settings (thingtank serve --streams-*).
struct StreamsOptions {
  // Per-shard throughput limits; off for benchmarks.
  bool limits = true;
  double write_bytes_per_second = 1 << 20;
  double write_records_per_second = 1000;
  double read_bytes_per_second = 2 << 20;
  double read_calls_per_second = 5;
  // Open shards over all streams, on-demand streams, consumers per stream.
  int shard_limit = 500;
  int on_demand_stream_limit = 50;
  int consumers_per_stream = 20;
  // How long CREATING, UPDATING and DELETING (and consumers' CREATING and
  // DELETING) last, on the clock.
  absl::Duration transition = absl::Milliseconds(200);
  // How often records past retention are deleted.
  absl::Duration trim_interval = absl::Minutes(1);
  // SubscribeToShard: lifetime, heartbeat, and the most one event carries.
  absl::Duration subscription_lifetime = absl::Minutes(5);
  absl::Duration heartbeat = absl::Seconds(5);
  int event_max_records = 10000;
  int64_t event_max_bytes = 2 << 20;
};

// What the domain reports to its metrics. Called outside the domain's locks.
class StreamEvents {
 public:
  virtual ~StreamEvents() = default;
  virtual void OnPut(const std::string& stream, int64_t records, int64_t bytes) = 0;
  // Records read by GetRecords or pushed to a subscriber; `age_ms` is the
  // call's MillisBehindLatest.
  virtual void OnRead(const std::string& stream, int64_t records, int64_t bytes, int64_t age_ms,
                      bool subscription) = 0;
  // "PutRecord", "PutRecords" (once per record), "GetRecords".
  virtual void OnThrottled(const std::string& stream, const char* operation) = 0;
  virtual void OnSubscriptions(int delta) = 0;
};

// One stream as metrics see it at scrape time.
struct StreamCounts {
  std::string stream;
  int open_shards = 0;
  int consumers = 0;
};

class StreamService {
 public:
  static std::vector<std::string> ColumnFamilies();
  // For Db::Options::tune_family: the records family is only scanned, and
  // written in key order per shard, so its memtable keeps no whole-key bloom
  // and inserts with a hint per shard prefix.
  static void TuneFamily(const std::string& name, rocksdb::ColumnFamilyOptions* options);
  // Loads every stream and each shard's last sequence number, finishes or
  // re-arms transitions, and starts retention trimming. `events` may be null.
  static absl::StatusOr<std::unique_ptr<StreamService>> Open(Db* db, Clock* clock, Executor* executor,
                                                             StreamEvents* events,
                                                             StreamsOptions options = {});
  ~StreamService();
  StreamService(const StreamService&) = delete;
  StreamService& operator=(const StreamService&) = delete;

  // Streams (stream_service.cc).
  absl::StatusOr<v1::CreateStreamResponse> CreateStream(const v1::CreateStreamRequest& r);
  absl::StatusOr<v1::DeleteStreamResponse> DeleteStream(const v1::DeleteStreamRequest& r);
  absl::StatusOr<v1::DescribeStreamResponse> DescribeStream(const v1::DescribeStreamRequest& r);
  absl::StatusOr<v1::DescribeStreamSummaryResponse> DescribeStreamSummary(
      const v1::DescribeStreamSummaryRequest& r);
  absl::StatusOr<v1::ListStreamsResponse> ListStreams(const v1::ListStreamsRequest& r);
  absl::StatusOr<v1::ListShardsResponse> ListShards(const v1::ListShardsRequest& r);
  absl::StatusOr<v1::AddTagsToStreamResponse> AddTagsToStream(const v1::AddTagsToStreamRequest& r);
  absl::StatusOr<v1::RemoveTagsFromStreamResponse> RemoveTagsFromStream(
      const v1::RemoveTagsFromStreamRequest& r);
  absl::StatusOr<v1::ListTagsForStreamResponse> ListTagsForStream(const v1::ListTagsForStreamRequest& r);
  absl::StatusOr<v1::IncreaseStreamRetentionPeriodResponse> IncreaseStreamRetentionPeriod(
      const v1::IncreaseStreamRetentionPeriodRequest& r);
  absl::StatusOr<v1::DecreaseStreamRetentionPeriodResponse> DecreaseStreamRetentionPeriod(
      const v1::DecreaseStreamRetentionPeriodRequest& r);
  absl::StatusOr<v1::StartStreamEncryptionResponse> StartStreamEncryption(
      const v1::StartStreamEncryptionRequest& r);
  absl::StatusOr<v1::StopStreamEncryptionResponse> StopStreamEncryption(
      const v1::StopStreamEncryptionRequest& r);
  absl::StatusOr<v1::UpdateStreamModeResponse> UpdateStreamMode(const v1::UpdateStreamModeRequest& r);
  absl::StatusOr<v1::DescribeLimitsResponse> DescribeLimits(const v1::DescribeLimitsRequest& r);

  // Records (records.cc).
  absl::StatusOr<v1::PutRecordResponse> PutRecord(const v1::PutRecordRequest& r);
  absl::StatusOr<v1::PutRecordsResponse> PutRecords(const v1::PutRecordsRequest& r);
  absl::StatusOr<v1::GetShardIteratorResponse> GetShardIterator(const v1::GetShardIteratorRequest& r);
  absl::StatusOr<v1::GetRecordsResponse> GetRecords(const v1::GetRecordsRequest& r);

  // Resharding (resharding.cc).
  absl::StatusOr<v1::SplitShardResponse> SplitShard(const v1::SplitShardRequest& r);
  absl::StatusOr<v1::MergeShardsResponse> MergeShards(const v1::MergeShardsRequest& r);
  absl::StatusOr<v1::UpdateShardCountResponse> UpdateShardCount(const v1::UpdateShardCountRequest& r);

  // Enhanced fan-out (consumers.cc, subscription.cc).
  absl::StatusOr<v1::RegisterStreamConsumerResponse> RegisterStreamConsumer(
      const v1::RegisterStreamConsumerRequest& r);
  absl::StatusOr<v1::DescribeStreamConsumerResponse> DescribeStreamConsumer(
      const v1::DescribeStreamConsumerRequest& r);
  absl::StatusOr<v1::ListStreamConsumersResponse> ListStreamConsumers(
      const v1::ListStreamConsumersRequest& r);
  absl::StatusOr<v1::DeregisterStreamConsumerResponse> DeregisterStreamConsumer(
      const v1::DeregisterStreamConsumerRequest& r);

  // Where a subscription's events go. `deliver` is called on the executor,
  // one event at a time: the next comes only after the owner calls
  // Subscription::Delivered(). `end` is called once, after the last event
  // was delivered (OK: lifetime over or a closed shard drained), or with the
  // error that ended it (the stream or consumer went away).
  struct SubscriptionSink {
    std::function<void(v1::SubscribeToShardResponse event)> deliver;
    std::function<void(absl::Status status)> end;
  };
  // Validates and starts a subscription; its first event follows at once.
  absl::StatusOr<std::shared_ptr<Subscription>> SubscribeToShard(const v1::SubscribeToShardRequest& r,
                                                                 SubscriptionSink sink);

  std::vector<StreamCounts> Counts() const;
  // Runs retention trimming now (tests; the clock runs it every trim_interval).
  void TrimNow();

 private:
  friend class Subscription;
  StreamService(Db* db, Clock* clock, Executor* executor, StreamEvents* events, StreamsOptions options);
  absl::Status Load();

  // Lookup. NOT_FOUND (ResourceNotFoundException) when absent.
  absl::StatusOr<std::shared_ptr<StreamState>> Find(const std::string& name) const;
  absl::StatusOr<std::shared_ptr<StreamState>> FindByArn(const std::string& arn,
                                                         const char* field) const;
  // Writes the stream's record into `batch` (its shards and consumers as in memory).
  // The stream of a consumer named by consumer_arn, or else by stream_arn
  // and consumer_name (INVALID_ARGUMENT on consumer_arn when neither).
  absl::StatusOr<std::shared_ptr<StreamState>> FindConsumerStream(const std::string& stream_arn,
                                                                  const std::string& consumer_name,
                                                                  const std::string& consumer_arn) const;
  void SaveLocked(StreamState& s, rocksdb::WriteBatch* batch) const;
  absl::Status Save(StreamState& s) const;
  // Open shards over all streams (for the shard limit).
  int OpenShardsTotal() const ABSL_LOCKS_EXCLUDED(mu_);
  // Arms the stream's transition timer (CREATING, UPDATING, DELETING end).
  void ArmTransition(const std::shared_ptr<StreamState>& s, absl::Time when);
  void EndTransition(const std::string& name, uint64_t id);
  void ArmConsumerTransition(const std::string& stream, const std::string& consumer, absl::Time when);
  void EndConsumerTransition(const std::string& stream, const std::string& consumer);
  void ArmTrim();
  // Ends every subscription of the stream (or of one consumer) with `status`.
  void EndSubscriptionsLocked(StreamState& s, const std::string& consumer_arn,
                              const absl::Status& status);
  // New shard `index` (not yet added) opening at `now`.
  ShardState NewShard(StreamState& s, unsigned __int128 start, unsigned __int128 end, absl::Time now,
                      uint64_t parent_plus_one, uint64_t adjacent_plus_one);
  // Closes shard `index` at `now`; returns its ending sequence number.
  void CloseShardLocked(StreamState& s, ShardState& shard, absl::Time now);
  void RebuildOpenLocked(StreamState& s);
  void ResetThrottles(ShardState& shard, absl::Time now) const;
  // Increase/DecreaseStreamRetentionPeriod.
  absl::Status ChangeRetention(const std::string& stream, int hours, bool increase);
  // Saves a setting change made under the stream's lock with the stream
  // UPDATING for the transition time, or restores `before`.
  absl::Status SaveUpdating(const std::shared_ptr<StreamState>& s, const storage::StreamRecord& before,
                            absl::Time now);

  Db* const db_;
  Clock* const clock_;
  Executor* const executor_;
  StreamEvents* const events_;
  const StreamsOptions options_;
  std::string iterator_key_;
  std::shared_ptr<Lifeline<StreamService>> life_;

  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<StreamState>> streams_ ABSL_GUARDED_BY(mu_);
  uint64_t next_stream_id_ ABSL_GUARDED_BY(mu_) = 1;
  Clock::TimerId trim_timer_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace thingtank::streams
