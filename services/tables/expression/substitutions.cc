// Substitutions, error helpers and document-path utilities shared by every
// grammar.

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/status.h"
#include "services/tables/expression/ast.h"

namespace thingtank::tables::expr {

std::string FieldLabel(absl::string_view field) {
  size_t dot = field.rfind('.');
  if (dot != absl::string_view::npos) field = field.substr(dot + 1);
  std::string label;
  bool upper = true;
  for (char c : field) {
    if (c == '_') {
      upper = true;
      continue;
    }
    label.push_back(upper ? absl::ascii_toupper(static_cast<unsigned char>(c)) : c);
    upper = false;
  }
  return label;
}

absl::Status ExpressionError(absl::string_view field, absl::string_view message) {
  return InvalidField(field, absl::StrCat("Invalid ", FieldLabel(field), ": ", message),
                      "ValidationException");
}

Substitutions::Substitutions(const NameMap* names, const AttributeMap* values)
    : names_(names), values_(values) {}

absl::StatusOr<std::string> Substitutions::Name(absl::string_view token, absl::string_view field,
                                                size_t position) {
  const std::string key(token);
  if (names_ != nullptr) {
    auto it = names_->find(key);
    if (it != names_->end()) {
      used_names_.insert(key);
      return it->second;
    }
  }
  return ExpressionError(
      field, absl::StrCat("An expression attribute name used in the document path is not "
                          "defined; attribute name: ",
                          token, " at position ", position));
}

absl::StatusOr<const v1::AttributeValue*> Substitutions::Value(absl::string_view token,
                                                               absl::string_view field,
                                                               size_t position) {
  const std::string key(token);
  if (values_ != nullptr) {
    auto it = values_->find(key);
    if (it != values_->end()) {
      used_values_.insert(key);
      return &it->second;
    }
  }
  return ExpressionError(
      field, absl::StrCat("An expression attribute value used in expression is not defined; "
                          "attribute value: ",
                          token, " at position ", position));
}

absl::Status Substitutions::CheckAllUsed() const {
  auto unused = [](const auto* map, const std::set<std::string>& used) {
    std::vector<std::string> keys;
    if (map == nullptr) return keys;
    for (const auto& [key, value] : *map) {
      if (used.count(key) == 0) keys.push_back(key);
    }
    std::sort(keys.begin(), keys.end());
    return keys;
  };
  std::vector<std::string> names = unused(names_, used_names_);
  if (!names.empty()) {
    return InvalidField("expression_attribute_names",
                        absl::StrCat("Value provided in ExpressionAttributeNames unused in "
                                     "expressions: keys: {",
                                     absl::StrJoin(names, ", "), "}"),
                        "ValidationException");
  }
  std::vector<std::string> values = unused(values_, used_values_);
  if (!values.empty()) {
    return InvalidField("expression_attribute_values",
                        absl::StrCat("Value provided in ExpressionAttributeValues unused in "
                                     "expressions: keys: {",
                                     absl::StrJoin(values, ", "), "}"),
                        "ValidationException");
  }
  return absl::OkStatus();
}

std::string PathToString(const Path& path) {
  std::string out;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i].is_index) {
      absl::StrAppend(&out, "[", path[i].index, "]");
    } else {
      absl::StrAppend(&out, i == 0 ? "" : ".", path[i].name);
    }
  }
  return out;
}

bool PathsOverlap(const Path& a, const Path& b) {
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    if (a[i].is_index != b[i].is_index) return false;
    if (a[i].is_index ? a[i].index != b[i].index : a[i].name != b[i].name) return false;
  }
  return true;
}

absl::Status CheckNoOverlap(const std::vector<Path>& paths, absl::string_view field) {
  for (size_t i = 0; i < paths.size(); ++i) {
    for (size_t j = i + 1; j < paths.size(); ++j) {
      if (PathsOverlap(paths[i], paths[j])) {
        return ExpressionError(
            field, absl::StrCat("Two document paths overlap with each other; must remove or "
                                "rewrite one of these paths; path one: [",
                                PathToString(paths[i]), "], path two: [", PathToString(paths[j]),
                                "]"));
      }
    }
  }
  return absl::OkStatus();
}

const v1::AttributeValue* Resolve(const AttributeMap& item, const Path& path) {
  if (path.empty() || path[0].is_index) return nullptr;
  auto it = item.find(path[0].name);
  if (it == item.end()) return nullptr;
  const v1::AttributeValue* v = &it->second;
  for (size_t i = 1; i < path.size(); ++i) {
    const PathElement& e = path[i];
    if (e.is_index) {
      if (v->value_case() != v1::AttributeValue::kL) return nullptr;
      if (e.index < 0 || e.index >= v->l().values_size()) return nullptr;
      v = &v->l().values(static_cast<int>(e.index));
    } else {
      if (v->value_case() != v1::AttributeValue::kM) return nullptr;
      auto f = v->m().fields().find(e.name);
      if (f == v->m().fields().end()) return nullptr;
      v = &f->second;
    }
  }
  return v;
}

}  // namespace thingtank::tables::expr
