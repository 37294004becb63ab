#include "services/wamp/rules/rule_kind.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/log.h"
#include "services/common/status.h"

namespace thingtank::wamp {

RuleKinds& RuleKinds::Add(std::unique_ptr<RuleKind> kind) {
  if (Find(kind->kind_case()) != nullptr) {
    TT_LOG_ERROR("wamp rules: kind {} registered twice", kind->name());
    abort();
  }
  kinds_.push_back(std::move(kind));
  return *this;
}

const RuleKind* RuleKinds::Find(v1::Rule::KindCase kind_case) const {
  for (const auto& k : kinds_) {
    if (k->kind_case() == kind_case) return k.get();
  }
  return nullptr;
}

std::vector<std::string> RuleKinds::names() const {
  std::vector<std::string> out;
  for (const auto& k : kinds_) out.emplace_back(k->name());
  return out;
}

absl::Status RuleKinds::Validate(const v1::Rule& rule, const std::string& p) const {
  const RuleKind* kind = Find(rule);
  if (kind == nullptr) {
    return InvalidField(p + ".kind", absl::StrCat("set exactly one of ", absl::StrJoin(names(), ", ")));
  }
  return kind->Validate(rule, absl::StrCat(p, ".", std::string(kind->name())));
}

}  // namespace thingtank::wamp
