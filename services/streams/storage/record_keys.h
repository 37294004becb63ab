#pragma once

// Where a stream's records live: column family "records", one key per record
//
//   stream id (8 bytes BE) | shard index (8 BE) | arrival µs (8 BE) | counter (8 BE)
//
// so a shard's records are one contiguous range in sequence-number order
// (arrival time, then the per-microsecond counter: the order of our sequence
// numbers, core/sequence_number.h), a stream's shards are adjacent, and
// retention trimming is one DeleteRange per shard (everything before the
// cutoff's arrival time). The value is the partition key and the data:
//
//   varint partition key length | partition key | data

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "services/streams/core/sequence_number.h"

namespace thingtank::streams::storage {

inline constexpr char kRecordsFamily[] = "records";
inline constexpr char kStreamsFamily[] = "streams";
inline constexpr char kMetaFamily[] = "meta";

// The 16-byte prefix of one shard's records.
std::string ShardPrefix(uint64_t stream_id, uint64_t shard_index);
// The 8-byte prefix of every record of a stream.
std::string StreamPrefix(uint64_t stream_id);

// Position in a shard, the 16 bytes after the shard prefix.
struct Position {
  int64_t arrival_micros = 0;
  uint64_t counter = 0;
};
std::string PositionSuffix(const Position& p);
std::optional<Position> ParsePositionSuffix(std::string_view suffix);

// The full key of the record with sequence number `n` of stream `stream_id`.
std::string RecordKey(uint64_t stream_id, const SequenceNumber& n);

// The stored value, and back.
std::string RecordValue(std::string_view partition_key, std::string_view data);
struct RecordParts {
  std::string_view partition_key;
  std::string_view data;
};
std::optional<RecordParts> ParseRecordValue(std::string_view value);

// The sequence number of a record stored at `suffix` of shard `shard_index`.
std::optional<SequenceNumber> SequenceAt(uint64_t shard_index, std::string_view suffix);

}  // namespace thingtank::streams::storage
