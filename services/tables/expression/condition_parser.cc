// Condition (and filter) expression grammar:
//   condition := or
//   or        := and (OR and)*
//   and       := not (AND not)*
//   not       := NOT not | primary
//   primary   := '(' condition ')' | function '(' operands ')'
//              | operand comparator operand
//              | operand BETWEEN operand AND operand
//              | operand IN '(' operand (',' operand)* ')'
//   operand   := path | :value | size '(' path ')'
// Keywords are case-insensitive; function names are case-sensitive, as in
// DynamoDB.

#include <utility>

#include "absl/strings/str_cat.h"
#include "services/tables/expression/parser.h"

namespace thingtank::tables::expr {
namespace {

constexpr int kMaxDepth = 100;
constexpr size_t kMaxInOperands = 100;

using NodePtr = std::unique_ptr<Condition::Node>;

bool LookupFunction(absl::string_view name, Function* fn) {
  if (name == "attribute_exists") {
    *fn = Function::kAttributeExists;
  } else if (name == "attribute_not_exists") {
    *fn = Function::kAttributeNotExists;
  } else if (name == "attribute_type") {
    *fn = Function::kAttributeType;
  } else if (name == "begins_with") {
    *fn = Function::kBeginsWith;
  } else if (name == "contains") {
    *fn = Function::kContains;
  } else {
    return false;
  }
  return true;
}

NodePtr MakeBinary(Condition::Node::Kind kind, NodePtr left, NodePtr right) {
  auto node = std::make_unique<Condition::Node>();
  node->kind = kind;
  node->position = left->position;
  node->left = std::move(left);
  node->right = std::move(right);
  return node;
}

bool ComparatorOf(TokenKind kind, CompareOp* op) {
  switch (kind) {
    case TokenKind::kEq: *op = CompareOp::kEq; return true;
    case TokenKind::kNe: *op = CompareOp::kNe; return true;
    case TokenKind::kLt: *op = CompareOp::kLt; return true;
    case TokenKind::kLe: *op = CompareOp::kLe; return true;
    case TokenKind::kGt: *op = CompareOp::kGt; return true;
    case TokenKind::kGe: *op = CompareOp::kGe; return true;
    default: return false;
  }
}

}  // namespace

absl::StatusOr<NodePtr> Parser::ParseCondition() {
  if (++depth_ > kMaxDepth) {
    return ErrorWithPosition("The expression is nested too deeply", Peek().position);
  }
  auto result = ParseOr();
  --depth_;
  return result;
}

absl::StatusOr<NodePtr> Parser::ParseOr() {
  TT_ASSIGN_OR_RETURN(NodePtr left, ParseAnd());
  while (PeekKeyword("OR")) {
    Next();
    TT_ASSIGN_OR_RETURN(NodePtr right, ParseAnd());
    left = MakeBinary(Condition::Node::Kind::kOr, std::move(left), std::move(right));
  }
  return left;
}

absl::StatusOr<NodePtr> Parser::ParseAnd() {
  TT_ASSIGN_OR_RETURN(NodePtr left, ParseNot());
  while (PeekKeyword("AND")) {
    Next();
    TT_ASSIGN_OR_RETURN(NodePtr right, ParseNot());
    left = MakeBinary(Condition::Node::Kind::kAnd, std::move(left), std::move(right));
  }
  return left;
}

absl::StatusOr<NodePtr> Parser::ParseNot() {
  if (!PeekKeyword("NOT")) return ParsePrimary();
  size_t position = Next().position;
  if (++depth_ > kMaxDepth) {
    return ErrorWithPosition("The expression is nested too deeply", position);
  }
  auto inner = ParseNot();
  --depth_;
  if (!inner.ok()) return inner.status();
  auto node = std::make_unique<Condition::Node>();
  node->kind = Condition::Node::Kind::kNot;
  node->position = position;
  node->left = std::move(inner).value();
  return node;
}

absl::StatusOr<NodePtr> Parser::ParsePrimary() {
  const Token& first = Peek();
  if (first.kind == TokenKind::kLParen) {
    Next();
    TT_ASSIGN_OR_RETURN(NodePtr inner, ParseCondition());
    TT_RETURN_IF_ERROR(Expect(TokenKind::kRParen));
    return inner;
  }
  if (first.kind == TokenKind::kIdentifier && Peek(1).kind == TokenKind::kLParen &&
      first.text != "size") {
    return ParseFunction();
  }
  auto node = std::make_unique<Condition::Node>();
  node->position = first.position;
  TT_ASSIGN_OR_RETURN(Operand left, ParseOperand());
  node->operands.push_back(std::move(left));
  CompareOp op;
  if (ComparatorOf(Peek().kind, &op)) {
    Next();
    node->kind = Condition::Node::Kind::kCompare;
    node->op = op;
    TT_ASSIGN_OR_RETURN(Operand right, ParseOperand());
    node->operands.push_back(std::move(right));
    return node;
  }
  if (PeekKeyword("BETWEEN")) {
    size_t position = Next().position;
    node->kind = Condition::Node::Kind::kBetween;
    TT_ASSIGN_OR_RETURN(Operand low, ParseOperand());
    if (!PeekKeyword("AND")) return ErrorAt(Peek());
    Next();
    TT_ASSIGN_OR_RETURN(Operand high, ParseOperand());
    if (low.kind == Operand::Kind::kValue && high.kind == Operand::Kind::kValue) {
      auto order = CompareScalars(low.value, high.value);
      if (order && *order > 0) {
        return ErrorWithPosition(
            "The BETWEEN operator requires upper bound to be greater than or equal to lower "
            "bound",
            position);
      }
    }
    node->operands.push_back(std::move(low));
    node->operands.push_back(std::move(high));
    return node;
  }
  if (PeekKeyword("IN")) {
    size_t position = Next().position;
    node->kind = Condition::Node::Kind::kIn;
    TT_RETURN_IF_ERROR(Expect(TokenKind::kLParen));
    while (true) {
      TT_ASSIGN_OR_RETURN(Operand candidate, ParseOperand());
      node->operands.push_back(std::move(candidate));
      if (Peek().kind != TokenKind::kComma) break;
      Next();
    }
    TT_RETURN_IF_ERROR(Expect(TokenKind::kRParen));
    if (node->operands.size() - 1 > kMaxInOperands) {
      return ErrorWithPosition(
          absl::StrCat("The IN operator is provided with too many operands; number of operands: ",
                       node->operands.size() - 1),
          position);
    }
    return node;
  }
  return ErrorAt(Peek());
}

absl::StatusOr<NodePtr> Parser::ParseFunction() {
  const Token name = Next();
  auto node = std::make_unique<Condition::Node>();
  node->kind = Condition::Node::Kind::kFunction;
  node->position = name.position;
  if (!LookupFunction(name.text, &node->function)) {
    return ErrorWithPosition(absl::StrCat("Invalid function name; function: ", name.text),
                             name.position);
  }
  TT_RETURN_IF_ERROR(Expect(TokenKind::kLParen));
  while (true) {
    TT_ASSIGN_OR_RETURN(Operand arg, ParseOperand());
    node->operands.push_back(std::move(arg));
    if (Peek().kind != TokenKind::kComma) break;
    Next();
  }
  TT_RETURN_IF_ERROR(Expect(TokenKind::kRParen));
  const size_t want = (node->function == Function::kAttributeExists ||
                       node->function == Function::kAttributeNotExists)
                          ? 1
                          : 2;
  if (node->operands.size() != want) {
    return ErrorWithPosition(
        absl::StrCat("Incorrect number of operands for operator or function; operator or "
                     "function: ",
                     name.text, ", number of operands: ", node->operands.size()),
        name.position);
  }
  if (node->operands[0].kind != Operand::Kind::kPath) {
    return ErrorWithPosition(
        absl::StrCat("Operator or function requires a document path; operator or function: ",
                     name.text),
        name.position);
  }
  if (node->function == Function::kAttributeType) {
    const Operand& type = node->operands[1];
    if (type.kind != Operand::Kind::kValue ||
        type.value.value_case() != v1::AttributeValue::kS || !IsTypeName(type.value.s())) {
      std::string shown = type.kind == Operand::Kind::kValue && type.value.value_case() ==
                                                                     v1::AttributeValue::kS
                              ? type.value.s()
                              : std::string(TypeName(type.value));
      return ErrorWithPosition(
          absl::StrCat("Invalid attribute type name found; type: ", shown,
                       ", valid types: { B,NULL,SS,BOOL,L,BS,N,NS,S,M }"),
          type.position);
    }
  }
  return node;
}

absl::StatusOr<Operand> Parser::ParseOperand() {
  Operand operand;
  const Token& t = Peek();
  operand.position = t.position;
  if (t.kind == TokenKind::kValueRef) {
    operand.kind = Operand::Kind::kValue;
    TT_ASSIGN_OR_RETURN(operand.value, ParseValueRef());
    return operand;
  }
  if (t.kind == TokenKind::kIdentifier && Peek(1).kind == TokenKind::kLParen) {
    if (t.text != "size") {
      Function unused;
      if (LookupFunction(t.text, &unused)) {
        return ErrorWithPosition(
            absl::StrCat("The function is not allowed to be used this way in an expression; "
                         "function: ",
                         t.text),
            t.position);
      }
      return ErrorWithPosition(absl::StrCat("Invalid function name; function: ", t.text),
                               t.position);
    }
    Next();
    Next();
    operand.kind = Operand::Kind::kSize;
    TT_ASSIGN_OR_RETURN(operand.path, ParsePath());
    TT_RETURN_IF_ERROR(Expect(TokenKind::kRParen));
    return operand;
  }
  operand.kind = Operand::Kind::kPath;
  TT_ASSIGN_OR_RETURN(operand.path, ParsePath());
  return operand;
}

}  // namespace thingtank::tables::expr
