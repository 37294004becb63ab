#pragma once

// Sequence numbers: decimal strings that compare as big integers. The ones we
// make are strictly increasing per shard, increase with arrival time over a
// shard's life, and are distinct across the shards of a stream (the shard
// index is part of the number).
//
// Layout of ours: exactly 56 decimal digits, fixed width, so that string
// order is numeric order:
//
//   digit  0        version, always 1 (so there is no leading zero)
//   digits 1..20    arrival time, microseconds since the Unix epoch
//   digits 21..35   shard index (the 12-digit number of "shardId-NNN...")
//   digits 36..55   per-shard counter among records of the same microsecond
//
//   e.g. 1 00001764771000000000 000000000000003 00000000000000000002
//        (spaces added) = the third record of shard 3 at 2025-12-03T14:10Z.
//
// Time is the most significant part, so a later arrival sorts after every
// earlier one of any shard; the counter breaks ties within a microsecond.
// Clients may send any decimal string (e.g. a real Kinesis sequence number);
// CompareSequenceNumbers orders those too.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace thingtank::streams {

inline constexpr size_t kSequenceNumberDigits = 56;
inline constexpr uint64_t kMaxShardIndex = 999'999'999'999'999; // 15 digits

struct SequenceNumber {
  absl::Time arrival; // whole microseconds, not before the Unix epoch
  uint64_t shard_index = 0;
  uint64_t counter = 0;

  friend bool operator==(const SequenceNumber &a, const SequenceNumber &b) {
    return a.arrival == b.arrival && a.shard_index == b.shard_index &&
           a.counter == b.counter;
  }
};

// The 56-digit form above. Arrival is truncated to microseconds. A time
// before the epoch or a shard index over kMaxShardIndex is a caller's broken
// invariant (aborts).
std::string FormatSequenceNumber(const SequenceNumber &n);

// The number to give the next record of shard `shard_index` arriving at
// `now`, after `last` (the shard's previous one, if any): arrival is
// max(now, last.arrival) in whole microseconds; the counter is last's + 1
// when the arrival equals last's, else 0. So it is always greater than
// `last`, even when the clock steps back.
SequenceNumber NextSequenceNumber(const std::optional<SequenceNumber> &last,
                                  absl::Time now, uint64_t shard_index);

// Any sequence number a client may send: matches 0|([1-9]\d{0,128});
// otherwise FieldError(field, "InvalidArgumentException").
absl::Status ValidateSequenceNumber(std::string_view text,
                                    std::string_view field);

// The parts of one of ours, or nullopt when `text` is not in our layout
// (wrong width, version or characters) — which may still be a valid number
// to compare against.
std::optional<SequenceNumber> ParseSequenceNumber(std::string_view text);

// Big-integer order of two decimal strings of any length (leading zeros
// ignored; both must be only digits): negative, zero or positive.
int CompareSequenceNumbers(std::string_view a, std::string_view b);

} // namespace thingtank::streams
