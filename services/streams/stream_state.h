// In-memory state of the streams domain (internal to services/streams).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "services/common/clock.h"
#include "services/common/token_bucket.h"
#include "services/streams/core/hash_key.h"
#include "services/streams/core/sequence_number.h"
#include "services/streams/storage/stream_records.pb.h"
#include "thingtank/streams/v1/streams.pb.h"

namespace thingtank::streams {

class Subscription;

inline constexpr char kArnPrefix[] = "arn:aws:kinesis:us-east-1:000000000000:stream/";

struct ShardState {
  storage::ShardRecord record;
  HashKey start = 0;
  HashKey end = 0;
  // The last sequence number given in this shard (its starting one before
  // any record): the next record's is greater.
  SequenceNumber last;
  bool has_records = false;
  TokenBucket write_bytes, write_records, read_bytes, read_calls;
  // Subscriptions reading this shard; woken after each write.
  std::vector<Subscription*> subscribers;

  bool open() const { return record.closed_micros() == 0; }
};

struct StreamState {
  // Serialises writers (records and resharding) through their RocksDB write,
  // so records commit in sequence-number order; taken before `mu`, which
  // guards the state and is held only briefly (readers never wait for a write).
  absl::Mutex write_mu ABSL_ACQUIRED_BEFORE(mu);
  absl::Mutex mu;
  storage::StreamRecord record ABSL_GUARDED_BY(mu);  // without shards: they live in `shards`
  std::map<uint64_t, ShardState> shards ABSL_GUARDED_BY(mu);
  // Open shards' indexes by starting hash key.
  std::vector<uint64_t> open ABSL_GUARDED_BY(mu);
  Clock::TimerId transition_timer ABSL_GUARDED_BY(mu) = 0;
  bool gone ABSL_GUARDED_BY(mu) = false;  // deleted: no more writes or reads

  // The open shard holding `key` (open must be non-empty).
  ShardState& ShardFor(HashKey key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  ShardState* FindShard(const std::string& shard_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  v1::StreamStatus status() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return static_cast<v1::StreamStatus>(record.status());
  }
  std::string arn() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return kArnPrefix + record.name(); }
};

// "shardId-000000000007" and back (nullopt when not of that form).
std::string ShardIdOf(uint64_t index);
std::optional<uint64_t> ParseShardId(std::string_view id);

// 16 bytes big-endian and back.
std::string HashKeyBytes(HashKey key);
HashKey HashKeyFromBytes(std::string_view bytes);

google::protobuf::Timestamp ToTimestamp(absl::Time t);
absl::Time FromMicros(int64_t micros);

// The API view of a stored shard.
v1::Shard ShardMessage(const ShardState& shard);
// A closed shard's children (open or closed) with their parents.
std::vector<v1::ChildShard> ChildShardsOf(const StreamState& s, uint64_t parent)
    ABSL_SHARED_LOCKS_REQUIRED(s.mu);

}  // namespace thingtank::streams
