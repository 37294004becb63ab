#pragma once

// The pure parts of `thingtank streams ...` (no gRPC calls, no clock): flag
// values (stream modes, starting positions, hash keys), the default split
// point, PutRecords batching and the records to retry, the backoff after
// throttling, and which shards a reader of a whole stream takes in which
// order. Internal to tools/thingtank/cli.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "thingtank/streams/v1/streams.pb.h"

namespace thingtank::cli::streams {

namespace v1 = thingtank::streams::v1;

// ---------------------------------------------------------------------------
// Flag values.

// "provisioned" or "on-demand" (case forgiven); false otherwise.
bool ParseStreamMode(std::string_view text, v1::StreamMode* out);

// --from: trim-horizon, latest, at-sequence, after-sequence, at-timestamp
// (case forgiven); false otherwise.
bool ParseIteratorType(std::string_view text, v1::ShardIteratorType* out);
// The --from name of a type ("trim-horizon"); "" for UNSPECIFIED.
std::string IteratorTypeName(v1::ShardIteratorType type);
inline constexpr const char* kIteratorTypeNames =
    "trim-horizon, latest, at-sequence, after-sequence or at-timestamp";

// ---------------------------------------------------------------------------
// Hash keys: 128-bit unsigned integers in decimal.

using HashKey = unsigned __int128;

// Decimal digits 0 to 2^128-1 (no sign, no leading zeros but "0"); false
// otherwise.
bool ParseHashKey(std::string_view text, HashKey* out);
std::string FormatHashKey(HashKey key);

// The starting hash key that splits `range` into two halves as even as they
// can be: start + (end - start) / 2 + 1 (2^127 for the whole key space), so
// the first child keeps [start, key - 1] and the second [key, end]. False
// with `error` set when the range is not two decimal keys, start <= end, of
// at least two keys.
bool MidpointHashKey(const v1::HashKeyRange& range, std::string* out, std::string* error);

// ---------------------------------------------------------------------------
// PutRecords batches.

inline constexpr int kMaxBatchRecords = 500;
inline constexpr size_t kMaxBatchBytes = 5 * 1024 * 1024;
inline constexpr const char* kThroughputExceeded = "ProvisionedThroughputExceededException";

// What an entry counts against the 5 MiB of a PutRecords call: its data and
// partition key.
size_t EntryBytes(const v1::PutRecordsRequestEntry& entry);

// True when a batch of `records` entries and `bytes` bytes has room for one
// more of `entry_bytes` (an empty batch always has: the server judges a
// record too large on its own).
bool BatchHasRoom(int records, size_t bytes, size_t entry_bytes);

// The indexes of the records of `response` that failed with
// ProvisionedThroughputExceededException, in order: the ones to send again.
std::vector<int> ThrottledRecords(const v1::PutRecordsResponse& response);

// ---------------------------------------------------------------------------
// Backoff.

// The wait before retry `attempt` (1 for the first) of a throttled call: 100
// ms doubling up to 2 s, scaled by `jitter` (0 to 1) into its upper half, and
// never less than the server's RetryInfo delay when it gave one.
int64_t BackoffNanos(int attempt, std::optional<int64_t> server_delay_nanos, double jitter);

// ---------------------------------------------------------------------------
// Reading a whole stream: parents before children.

// The shards a reader of the whole stream starts with: the open ones when
// `open_only` (reading from latest), else the roots (shards none of whose
// parents is listed), in the order given.
std::vector<std::string> StartingShards(const std::vector<v1::Shard>& shards, bool open_only);

// Which shards have been started and drained, so that a child starts once
// every parent being read is drained (a merged shard after both of its
// parents). Not thread-safe.
class ShardWalk {
 public:
  // Marks `shard_id` started; false if it already was.
  bool Start(const std::string& shard_id);
  // Marks `shard_id` drained; returns the children (given by the closed
  // shard's last GetRecords) that may start now and were not started yet,
  // marking them started.
  std::vector<std::string> Drained(const std::string& shard_id,
                                   const std::vector<v1::ChildShard>& children);

 private:
  std::set<std::string> started_;
  std::set<std::string> drained_;
};

}  // namespace thingtank::cli::streams
