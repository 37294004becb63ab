// Condition and filter expressions: parsing entry point and evaluation.
//
// Missing attributes: every comparison (=, <, <=, >, >=, BETWEEN, IN) with a
// missing operand is false, as are comparisons of mismatched types. `<>` is the
// negation of `=`, so `a <> :v` is TRUE when `a` is missing or of another type;
// that is what DynamoDB does (a filter `#s <> :deleted` keeps items that have
// no #s). NOT flips any result.

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "services/tables/expression/parser.h"

namespace thingtank::tables::expr {
namespace {

// An evaluated operand: points into the item, at the parsed value, or at
// `storage` (size()); null when missing.
struct Resolved {
  const v1::AttributeValue* value = nullptr;
  v1::AttributeValue storage;
};

// size(): bytes of S and B, element count of sets, lists and maps.
bool SizeOf(const v1::AttributeValue& v, int64_t* size) {
  switch (v.value_case()) {
    case v1::AttributeValue::kS: *size = static_cast<int64_t>(v.s().size()); return true;
    case v1::AttributeValue::kB: *size = static_cast<int64_t>(v.b().size()); return true;
    case v1::AttributeValue::kL: *size = v.l().values_size(); return true;
    case v1::AttributeValue::kM: *size = v.m().fields_size(); return true;
    case v1::AttributeValue::kSs: *size = v.ss().values_size(); return true;
    case v1::AttributeValue::kNs: *size = v.ns().values_size(); return true;
    case v1::AttributeValue::kBs: *size = v.bs().values_size(); return true;
    default: return false;
  }
}

void Evaluate(const Operand& operand, const AttributeMap& item, Resolved* out) {
  switch (operand.kind) {
    case Operand::Kind::kValue:
      out->value = &operand.value;
      return;
    case Operand::Kind::kPath:
      out->value = Resolve(item, operand.path);
      return;
    case Operand::Kind::kSize: {
      const v1::AttributeValue* v = Resolve(item, operand.path);
      int64_t size;
      if (v == nullptr || !SizeOf(*v, &size)) {
        out->value = nullptr;
        return;
      }
      out->storage.set_n(std::to_string(size));
      out->value = &out->storage;
      return;
    }
  }
}

bool Compare(CompareOp op, const v1::AttributeValue* a, const v1::AttributeValue* b) {
  const bool present = a != nullptr && b != nullptr;
  if (op == CompareOp::kEq) return present && Equal(*a, *b);
  if (op == CompareOp::kNe) return !(present && Equal(*a, *b));
  if (!present) return false;
  std::optional<int> c = CompareScalars(*a, *b);
  if (!c) return false;
  switch (op) {
    case CompareOp::kLt: return *c < 0;
    case CompareOp::kLe: return *c <= 0;
    case CompareOp::kGt: return *c > 0;
    case CompareOp::kGe: return *c >= 0;
    default: return false;
  }
}

bool Contains(const v1::AttributeValue& haystack, const v1::AttributeValue& needle) {
  auto in = [&](const auto& values, auto matches) {
    for (const auto& v : values) {
      if (matches(v)) return true;
    }
    return false;
  };
  switch (haystack.value_case()) {
    case v1::AttributeValue::kS:
      return needle.value_case() == v1::AttributeValue::kS &&
             absl::StrContains(haystack.s(), needle.s());
    case v1::AttributeValue::kB:
      return needle.value_case() == v1::AttributeValue::kB &&
             absl::StrContains(haystack.b(), needle.b());
    case v1::AttributeValue::kSs:
      return needle.value_case() == v1::AttributeValue::kS &&
             in(haystack.ss().values(), [&](const std::string& s) { return s == needle.s(); });
    case v1::AttributeValue::kBs:
      return needle.value_case() == v1::AttributeValue::kB &&
             in(haystack.bs().values(), [&](const std::string& s) { return s == needle.b(); });
    case v1::AttributeValue::kNs:
      return needle.value_case() == v1::AttributeValue::kN &&
             in(haystack.ns().values(), [&](const std::string& s) {
               v1::AttributeValue n;
               n.set_n(s);
               return Equal(n, needle);
             });
    case v1::AttributeValue::kL:
      return in(haystack.l().values(), [&](const v1::AttributeValue& v) { return Equal(v, needle); });
    default:
      return false;
  }
}

bool EvaluateFunction(const Condition::Node& node, const AttributeMap& item) {
  const v1::AttributeValue* target = Resolve(item, node.operands[0].path);
  switch (node.function) {
    case Function::kAttributeExists: return target != nullptr;
    case Function::kAttributeNotExists: return target == nullptr;
    case Function::kAttributeType:
      return target != nullptr && TypeName(*target) == node.operands[1].value.s();
    case Function::kBeginsWith:
    case Function::kContains: {
      Resolved arg;
      Evaluate(node.operands[1], item, &arg);
      if (target == nullptr || arg.value == nullptr) return false;
      if (node.function == Function::kContains) return Contains(*target, *arg.value);
      if (target->value_case() != arg.value->value_case()) return false;
      if (target->value_case() == v1::AttributeValue::kS) {
        return absl::StartsWith(target->s(), arg.value->s());
      }
      if (target->value_case() == v1::AttributeValue::kB) {
        return absl::StartsWith(target->b(), arg.value->b());
      }
      return false;
    }
  }
  return false;
}

bool EvaluateNode(const Condition::Node& node, const AttributeMap& item) {
  using Kind = Condition::Node::Kind;
  switch (node.kind) {
    case Kind::kAnd: return EvaluateNode(*node.left, item) && EvaluateNode(*node.right, item);
    case Kind::kOr: return EvaluateNode(*node.left, item) || EvaluateNode(*node.right, item);
    case Kind::kNot: return !EvaluateNode(*node.left, item);
    case Kind::kFunction: return EvaluateFunction(node, item);
    case Kind::kCompare: {
      Resolved a, b;
      Evaluate(node.operands[0], item, &a);
      Evaluate(node.operands[1], item, &b);
      return Compare(node.op, a.value, b.value);
    }
    case Kind::kBetween: {
      Resolved v, low, high;
      Evaluate(node.operands[0], item, &v);
      Evaluate(node.operands[1], item, &low);
      Evaluate(node.operands[2], item, &high);
      return Compare(CompareOp::kGe, v.value, low.value) &&
             Compare(CompareOp::kLe, v.value, high.value);
    }
    case Kind::kIn: {
      Resolved v;
      Evaluate(node.operands[0], item, &v);
      if (v.value == nullptr) return false;
      for (size_t i = 1; i < node.operands.size(); ++i) {
        Resolved candidate;
        Evaluate(node.operands[i], item, &candidate);
        if (candidate.value != nullptr && Equal(*v.value, *candidate.value)) return true;
      }
      return false;
    }
  }
  return false;
}

}  // namespace

Condition::Condition(std::unique_ptr<Node> root) : root_(std::move(root)) {}
Condition::Condition(Condition&&) noexcept = default;
Condition& Condition::operator=(Condition&&) noexcept = default;
Condition::~Condition() = default;

absl::StatusOr<Condition> Condition::Parse(absl::string_view text, absl::string_view field,
                                           Substitutions* subs) {
  Parser parser(text, field, subs);
  TT_RETURN_IF_ERROR(parser.Init());
  TT_ASSIGN_OR_RETURN(std::unique_ptr<Node> root, parser.ParseCondition());
  TT_RETURN_IF_ERROR(parser.ExpectEnd());
  return Condition(std::move(root));
}

bool Condition::Evaluate(const AttributeMap& item) const { return EvaluateNode(*root_, item); }

namespace {
void CollectNames(const Condition::Node& node, std::vector<std::string>* names) {
  if (node.left) CollectNames(*node.left, names);
  if (node.right) CollectNames(*node.right, names);
  for (const Operand& o : node.operands) {
    if (o.kind == Operand::Kind::kValue || o.path.empty() || o.path[0].is_index) continue;
    if (std::find(names->begin(), names->end(), o.path[0].name) == names->end()) {
      names->push_back(o.path[0].name);
    }
  }
}
}  // namespace

std::vector<std::string> Condition::TopLevelNames() const {
  std::vector<std::string> names;
  CollectNames(*root_, &names);
  return names;
}

}  // namespace thingtank::tables::expr
