// Key-condition expressions of Query, parsed with the condition grammar and
// then checked against the shapes DynamoDB allows:
//   hk = :v [AND (rk op :v | rk BETWEEN :a AND :b | begins_with(rk, :p))]
// with the two conjuncts in either order.

#include <utility>

#include "absl/strings/str_cat.h"
#include "services/tables/expression/parser.h"

namespace thingtank::tables::expr {
namespace {

using Node = Condition::Node;
using RangeOp = KeyCondition::RangeOp;

// One conjunct: a single top-level attribute compared with values.
struct KeyTerm {
  std::string name;
  RangeOp op = RangeOp::kNone;
  v1::AttributeValue low;
  v1::AttributeValue high;
};

absl::StatusOr<KeyTerm> ToTerm(const Parser& p, const Node& node) {
  auto attribute = [&](const Operand& o, KeyTerm* term) -> absl::Status {
    if (o.kind != Operand::Kind::kPath) {
      return p.ErrorWithPosition(
          "The key condition must compare a key attribute with an expression attribute value",
          o.position);
    }
    if (o.path.size() != 1) {
      return p.ErrorWithPosition("Nested attributes are not allowed in a key condition",
                                 o.position);
    }
    term->name = o.path[0].name;
    return absl::OkStatus();
  };
  auto value = [&](const Operand& o, v1::AttributeValue* out) -> absl::Status {
    if (o.kind != Operand::Kind::kValue) {
      return p.ErrorWithPosition(
          "The key condition must compare a key attribute with an expression attribute value",
          o.position);
    }
    *out = o.value;
    return absl::OkStatus();
  };
  KeyTerm term;
  switch (node.kind) {
    case Node::Kind::kCompare:
      switch (node.op) {
        case CompareOp::kEq: term.op = RangeOp::kEq; break;
        case CompareOp::kLt: term.op = RangeOp::kLt; break;
        case CompareOp::kLe: term.op = RangeOp::kLe; break;
        case CompareOp::kGt: term.op = RangeOp::kGt; break;
        case CompareOp::kGe: term.op = RangeOp::kGe; break;
        case CompareOp::kNe:
          return p.ErrorWithPosition("Unsupported operator in key condition: <>", node.position);
      }
      TT_RETURN_IF_ERROR(attribute(node.operands[0], &term));
      TT_RETURN_IF_ERROR(value(node.operands[1], &term.low));
      return term;
    case Node::Kind::kBetween:
      term.op = RangeOp::kBetween;
      TT_RETURN_IF_ERROR(attribute(node.operands[0], &term));
      TT_RETURN_IF_ERROR(value(node.operands[1], &term.low));
      TT_RETURN_IF_ERROR(value(node.operands[2], &term.high));
      return term;
    case Node::Kind::kFunction:
      if (node.function != Function::kBeginsWith) break;
      term.op = RangeOp::kBeginsWith;
      TT_RETURN_IF_ERROR(attribute(node.operands[0], &term));
      TT_RETURN_IF_ERROR(value(node.operands[1], &term.low));
      return term;
    default:
      break;
  }
  absl::string_view what = node.kind == Node::Kind::kOr    ? "OR"
                           : node.kind == Node::Kind::kNot ? "NOT"
                           : node.kind == Node::Kind::kIn  ? "IN"
                           : node.kind == Node::Kind::kAnd ? "AND"
                                                           : "function";
  return p.ErrorWithPosition(absl::StrCat("Invalid operator used in KeyConditionExpression: ", what),
                             node.position);
}

}  // namespace

absl::StatusOr<KeyCondition> KeyCondition::Parse(absl::string_view text, absl::string_view field,
                                                 Substitutions* subs) {
  Parser p(text, field, subs);
  TT_RETURN_IF_ERROR(p.Init());
  TT_ASSIGN_OR_RETURN(std::unique_ptr<Node> root, p.ParseCondition());
  TT_RETURN_IF_ERROR(p.ExpectEnd());
  std::vector<KeyTerm> terms;
  if (root->kind == Node::Kind::kAnd) {
    TT_ASSIGN_OR_RETURN(KeyTerm a, ToTerm(p, *root->left));
    TT_ASSIGN_OR_RETURN(KeyTerm b, ToTerm(p, *root->right));
    terms.push_back(std::move(a));
    terms.push_back(std::move(b));
  } else {
    TT_ASSIGN_OR_RETURN(KeyTerm a, ToTerm(p, *root));
    terms.push_back(std::move(a));
  }
  // The hash-key term is an equality; with two equalities the first is taken
  // as the hash key (the caller swaps them if the key schema says otherwise).
  size_t hash = terms[0].op == RangeOp::kEq ? 0 : 1;
  if (hash >= terms.size() || terms[hash].op != RangeOp::kEq) {
    return p.ErrorWithPosition("Query key condition not supported; the partition key requires "
                               "an equality condition",
                               0);
  }
  if (terms.size() == 2 && terms[0].name == terms[1].name) {
    return p.ErrorWithPosition(
        absl::StrCat("KeyConditionExpressions must only contain one condition per key; "
                     "attribute: ",
                     terms[0].name),
        0);
  }
  KeyCondition kc;
  kc.hash_name = std::move(terms[hash].name);
  kc.hash_value = std::move(terms[hash].low);
  if (terms.size() == 2) {
    KeyTerm& range = terms[1 - hash];
    kc.range_op = range.op;
    kc.range_name = std::move(range.name);
    kc.range_low = std::move(range.low);
    kc.range_high = std::move(range.high);
  }
  return kc;
}

void KeyCondition::AssumeHashKey(absl::string_view hash_key) {
  if (range_op == RangeOp::kEq && hash_name != hash_key && range_name == hash_key) {
    std::swap(hash_name, range_name);
    std::swap(hash_value, range_low);
  }
}

}  // namespace thingtank::tables::expr
