#pragma once

// Kinesis hash keys: 128-bit unsigned integers, written in decimal on the
// wire. A record goes to the shard whose [starting, ending] range holds the
// MD5 of its partition key (or its explicit hash key).

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace thingtank::streams {

using HashKey = unsigned __int128;

inline constexpr HashKey kMaxHashKey = ~HashKey{0}; // 2^128 - 1

// MD5 of the partition key's bytes (UTF-8 as given), the 16 bytes read as a
// big-endian integer, as Kinesis does.
HashKey HashOfPartitionKey(std::string_view partition_key);

// Decimal, no leading zeros ("0" for zero).
std::string FormatHashKey(HashKey key);

// Decimal 0 to 2^128-1 matching 0|([1-9]\d{0,38}); otherwise
// FieldError(field, "InvalidArgumentException").
absl::StatusOr<HashKey> ParseHashKey(std::string_view text,
                                     std::string_view field);

// [0, 2^128-1] split into n contiguous ranges as CreateStream does: with
// step = floor(2^128 / n), range i is [i*step, (i+1)*step - 1] and the last
// ends at 2^128-1 (it takes the remainder). Requires n >= 1.
std::vector<std::pair<HashKey, HashKey>> UniformRanges(int n);

} // namespace thingtank::streams
