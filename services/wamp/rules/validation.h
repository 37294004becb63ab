// Field checks the rule kinds share. Each returns INVALID_ARGUMENT naming the
// field under `prefix` (e.g. "rule.topic_to_queue" + ".topic").
#pragma once

#include <string>

#include "absl/status/status.h"

namespace thingtank::wamp {

// prefix.topic (required for an exact match; a valid URI or pattern for the
// match policy) and, when `pattern_allowed`, prefix.match (exact, prefix,
// wildcard; "" is exact).
absl::Status ValidateTopic(const std::string& prefix, const std::string& topic,
                           const std::string& match, bool pattern_allowed);
// prefix.queue: required, a name the queues service accepts.
absl::Status ValidateQueueField(const std::string& prefix, const std::string& queue);
// prefix.table: required, a name the tables service accepts.
absl::Status ValidateTableField(const std::string& prefix, const std::string& table);
// prefix.stream: required, a name the streams service accepts.
absl::Status ValidateStreamField(const std::string& prefix, const std::string& stream);

}  // namespace thingtank::wamp
