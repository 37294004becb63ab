// Rules declared in the --wamp-config file: their ids (chosen by the
// operator) and their parsing from the file's "rules" array.
#pragma once

#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "services/wamp/rules/rule_kind.h"
#include "thingtank/wamp/v1/wamp.pb.h"

namespace thingtank::wamp {

// The shape of the ids CreateRule assigns: "r-" and 12 lowercase hex digits.
bool IsGeneratedRuleId(std::string_view id);

// Validates config rules without the router: ids (valid, unique, not shaped
// like generated ids) and each rule by its kind. INVALID_ARGUMENT naming
// "rules[i]...".
absl::Status ValidateConfigRules(const std::vector<v1::Rule>& rules, const RuleKinds& kinds);

}  // namespace thingtank::wamp
