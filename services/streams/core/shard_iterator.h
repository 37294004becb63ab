#pragma once

// Shard iterators: opaque tokens naming a position in one shard, signed so
// that a client can neither forge nor alter one, and valid for 5 minutes.
//
// Token: web-safe base64 (no padding) of
//   version byte (1)
//   varint length + stream name
//   varint length + shard id
//   1 byte: 0 = at the sequence number, 1 = after it
//   varint digit count + the sequence number's digits, two per byte (BCD,
//     an odd count padded with 0xF)
//   8 bytes: issued-at, microseconds since the Unix epoch, big-endian
//   32 bytes: HMAC-SHA256 under the caller's key of everything before it
// With the limits below a token is at most 492 characters (Kinesis allows
// 512).

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace thingtank::streams {

inline constexpr absl::Duration kShardIteratorLifetime = absl::Minutes(5);
inline constexpr size_t kMaxShardIteratorLength = 512;

struct ShardIterator {
  std::string stream_name; // 1-128 characters (ValidateStreamName)
  std::string shard_id;    // 1-128 characters
  // Empty: the start of the shard (before every record). Otherwise a valid
  // sequence number (ValidateSequenceNumber), not necessarily one of ours.
  std::string sequence_number;
  bool after = false;   // true: just after sequence_number; false: at it
  absl::Time issued_at; // kept in whole microseconds

  friend bool operator==(const ShardIterator &a, const ShardIterator &b) {
    return a.stream_name == b.stream_name && a.shard_id == b.shard_id &&
           a.sequence_number == b.sequence_number && a.after == b.after &&
           a.issued_at == b.issued_at;
  }
};

// The signed token. Fields outside the limits above are a caller's broken
// invariant (aborts). `key` is the service's secret (one per data dir).
std::string EncodeShardIterator(const ShardIterator &it, std::string_view key);

// The fields of a token made by EncodeShardIterator under `key`.
// Malformed, forged, altered or signed under another key ->
// FieldError("shard_iterator", "InvalidArgumentException"); then, when
// now - issued_at > 5 minutes -> Error("ExpiredIteratorException")
// (FAILED_PRECONDITION).
absl::StatusOr<ShardIterator> DecodeShardIterator(std::string_view token,
                                                  std::string_view key,
                                                  absl::Time now);

} // namespace thingtank::streams
