// Projection expressions: comma-separated document paths.

#include <map>
#include <utility>

#include "services/tables/expression/parser.h"

namespace thingtank::tables::expr {
namespace {

// The paths merged into a tree, so several paths into one map or list build a
// single projected value. A node marked `whole` copies its value entirely.
struct ProjectionNode {
  bool whole = false;
  std::map<std::string, ProjectionNode> names;
  std::map<int64_t, ProjectionNode> indexes;  // ordered: projected lists keep index order
};

// Projects `value` through `node`; false when nothing of it is selected.
bool ProjectValue(const ProjectionNode& node, const v1::AttributeValue& value,
                  v1::AttributeValue* out) {
  if (node.whole) {
    *out = value;
    return true;
  }
  if (value.value_case() == v1::AttributeValue::kM && !node.names.empty()) {
    auto* fields = out->mutable_m()->mutable_fields();
    for (const auto& [name, child] : node.names) {
      auto it = value.m().fields().find(name);
      if (it == value.m().fields().end()) continue;
      v1::AttributeValue projected;
      if (ProjectValue(child, it->second, &projected)) (*fields)[name] = std::move(projected);
    }
    if (fields->empty()) return false;
    return true;
  }
  if (value.value_case() == v1::AttributeValue::kL && !node.indexes.empty()) {
    auto* values = out->mutable_l()->mutable_values();
    for (const auto& [index, child] : node.indexes) {
      if (index < 0 || index >= value.l().values_size()) continue;
      v1::AttributeValue projected;
      if (ProjectValue(child, value.l().values(static_cast<int>(index)), &projected)) {
        *values->Add() = std::move(projected);
      }
    }
    return !values->empty();
  }
  return false;
}

}  // namespace

absl::StatusOr<Projection> Projection::Parse(absl::string_view text, absl::string_view field,
                                             Substitutions* subs) {
  Parser p(text, field, subs);
  TT_RETURN_IF_ERROR(p.Init());
  Projection projection;
  while (true) {
    TT_ASSIGN_OR_RETURN(Path path, p.ParsePath());
    projection.paths_.push_back(std::move(path));
    if (p.Peek().kind != TokenKind::kComma) break;
    p.Next();
  }
  TT_RETURN_IF_ERROR(p.ExpectEnd());
  TT_RETURN_IF_ERROR(CheckNoOverlap(projection.paths_, field));
  return projection;
}

AttributeMap Projection::Apply(const AttributeMap& item) const {
  ProjectionNode root;
  for (const Path& path : paths_) {
    ProjectionNode* node = &root;
    for (const PathElement& e : path) {
      node = e.is_index ? &node->indexes[e.index] : &node->names[e.name];
    }
    node->whole = true;
  }
  AttributeMap out;
  for (const auto& [name, child] : root.names) {
    auto it = item.find(name);
    if (it == item.end()) continue;
    v1::AttributeValue projected;
    if (ProjectValue(child, it->second, &projected)) out[name] = std::move(projected);
  }
  return out;
}

}  // namespace thingtank::tables::expr
