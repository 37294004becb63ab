#include "services/wamp/rules/validation.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/wamp/codec/uri.h"
#include "services/wamp/target_names.h"

namespace thingtank::wamp {

absl::Status ValidateTopic(const std::string& prefix, const std::string& topic,
                           const std::string& match, bool pattern_allowed) {
  MatchPolicy policy = MatchPolicy::kExact;
  if (pattern_allowed && !match.empty()) {
    std::optional<MatchPolicy> parsed = ParseMatchPolicy(match);
    if (!parsed) {
      return InvalidField(prefix + ".match", "must be one of exact, prefix, wildcard");
    }
    policy = *parsed;
  }
  if (topic.empty() && policy == MatchPolicy::kExact) {
    return InvalidField(prefix + ".topic", "is required");
  }
  if (!IsValidUri(topic, policy)) {
    return InvalidField(prefix + ".topic", absl::StrCat("is not a valid URI for match ",
                                                        std::string(MatchPolicyName(policy))));
  }
  return absl::OkStatus();
}

absl::Status ValidateQueueField(const std::string& prefix, const std::string& queue) {
  if (queue.empty()) return InvalidField(prefix + ".queue", "is required");
  if (!IsValidQueueName(queue)) return InvalidField(prefix + ".queue", kQueueNameRule);
  return absl::OkStatus();
}

absl::Status ValidateTableField(const std::string& prefix, const std::string& table) {
  if (table.empty()) return InvalidField(prefix + ".table", "is required");
  if (!IsValidTableName(table)) return InvalidField(prefix + ".table", kTableNameRule);
  return absl::OkStatus();
}

absl::Status ValidateStreamField(const std::string& prefix, const std::string& stream) {
  if (stream.empty()) return InvalidField(prefix + ".stream", "is required");
  if (!IsValidStreamName(stream)) return InvalidField(prefix + ".stream", kStreamNameRule);
  return absl::OkStatus();
}

}  // namespace thingtank::wamp
