#pragma once

// Kinesis's rules for names and partition keys. Each returns OK or a
// FieldError(field, "InvalidArgumentException", <the rule broken>).

#include <string_view>

#include "absl/status/status.h"

namespace thingtank::streams {

// Stream names (and the same rule for shard ids, consumer names): 1-128
// characters of [a-zA-Z0-9_.-].
absl::Status ValidateStreamName(std::string_view name,
                                std::string_view field = "stream_name");

// A partition key: 1-256 Unicode characters (code points) of valid UTF-8.
absl::Status ValidatePartitionKey(std::string_view key,
                                  std::string_view field = "partition_key");

} // namespace thingtank::streams
