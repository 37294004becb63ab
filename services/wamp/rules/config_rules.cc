#include "services/wamp/rules/config_rules.h"

#include <algorithm>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "services/common/status.h"
#include "services/wamp/rules.h"
#include "services/wamp/rules/template.h"

namespace thingtank::wamp {
namespace {

// A config rule's id: chosen by the operator, 1..64 of letters, digits,
// '-', '_', '.', and not shaped like a generated id (those belong to rules
// created by RPC, which config never touches).
absl::Status ValidateConfigId(const std::string& id, const std::string& p) {
  if (id.empty()) return InvalidField(p + ".id", "is required");
  if (id.size() > 64) return InvalidField(p + ".id", "is longer than 64 characters");
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return InvalidField(p + ".id", "may hold only letters, digits, '-', '_' and '.'");
  }
  if (IsGeneratedRuleId(id)) {
    return InvalidField(p + ".id",
                        "has the shape of a generated id (r- and 12 hex digits), reserved for "
                        "rules created by CreateRule");
  }
  return absl::OkStatus();
}

}  // namespace

bool IsGeneratedRuleId(std::string_view id) {
  if (id.size() != 14 || id.substr(0, 2) != "r-") return false;
  return std::all_of(id.begin() + 2, id.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

absl::Status ValidateConfigRules(const std::vector<v1::Rule>& rules, const RuleKinds& kinds) {
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < rules.size(); ++i) {
    const std::string p = absl::StrCat("rules[", i, "]");
    TT_RETURN_IF_ERROR(ValidateConfigId(rules[i].id(), p));
    auto [it, inserted] = seen.emplace(rules[i].id(), i);
    if (!inserted) {
      return InvalidField(p + ".id", absl::StrCat("\"", rules[i].id(), "\" is already used by rules[",
                                                  it->second, "]"));
    }
    TT_RETURN_IF_ERROR(kinds.Validate(rules[i], p));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<v1::Rule>> ParseConfigRules(std::string_view json_text,
                                                       const RuleKinds& kinds) {
  const Json doc = Json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return absl::InvalidArgumentError("not valid JSON");
  if (!doc.is_object()) return absl::InvalidArgumentError("the config must be a JSON object");
  std::vector<v1::Rule> rules;
  auto list = doc.find("rules");
  if (list == doc.end() || list->is_null()) return rules;
  if (!list->is_array()) return InvalidField("rules", "must be an array of rules");
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;  // a misspelt field is an error
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string p = absl::StrCat("rules[", i, "]");
    const Json& item = (*list)[i];
    if (!item.is_object()) return InvalidField(p, "must be an object");
    v1::Rule rule;
    auto status = google::protobuf::util::JsonStringToMessage(DumpJson(item), &rule, options);
    if (!status.ok()) return InvalidField(p, std::string(status.message()));
    rules.push_back(std::move(rule));
  }
  TT_RETURN_IF_ERROR(ValidateConfigRules(rules, kinds));
  return rules;
}

}  // namespace thingtank::wamp
