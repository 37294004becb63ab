// Update expression grammar:
//   update   := clause+            (each of SET, REMOVE, ADD, DELETE at most once)
//   clause   := SET path '=' value (',' path '=' value)*
//             | REMOVE path (',' path)*
//             | ADD path :value (',' path :value)*
//             | DELETE path :value (',' path :value)*
//   value    := operand (('+' | '-') operand)?
//   operand  := path | :value | if_not_exists '(' path ',' operand ')'
//             | list_append '(' operand ',' operand ')'

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/tables/expression/parser.h"

namespace thingtank::tables::expr {
namespace {

constexpr int kMaxOperandDepth = 32;

bool IsClauseKeyword(const Parser& p) {
  return p.PeekKeyword("SET") || p.PeekKeyword("REMOVE") || p.PeekKeyword("ADD") ||
         p.PeekKeyword("DELETE");
}

bool IsSet(const v1::AttributeValue& v) {
  return v.value_case() == v1::AttributeValue::kSs || v.value_case() == v1::AttributeValue::kNs ||
         v.value_case() == v1::AttributeValue::kBs;
}

// DynamoDB's operand type names in messages.
std::string OperandTypeName(const v1::AttributeValue& v) {
  switch (v.value_case()) {
    case v1::AttributeValue::kS: return "STRING";
    case v1::AttributeValue::kN: return "NUMBER";
    case v1::AttributeValue::kB: return "BINARY";
    case v1::AttributeValue::kBoolValue: return "BOOLEAN";
    case v1::AttributeValue::kNullValue: return "NULL";
    case v1::AttributeValue::kL: return "LIST";
    case v1::AttributeValue::kM: return "MAP";
    default: return std::string(TypeName(v));
  }
}

absl::StatusOr<UpdateOperand> ParseUpdateOperand(Parser& p, int depth) {
  UpdateOperand operand;
  const Token& t = p.Peek();
  if (depth > kMaxOperandDepth) {
    return p.ErrorWithPosition("The expression is nested too deeply", t.position);
  }
  if (t.kind == TokenKind::kValueRef) {
    operand.kind = UpdateOperand::Kind::kValue;
    TT_ASSIGN_OR_RETURN(operand.value, p.ParseValueRef());
    return operand;
  }
  if (t.kind == TokenKind::kIdentifier && p.Peek(1).kind == TokenKind::kLParen) {
    const Token name = p.Next();
    p.Next();
    if (name.text == "if_not_exists") {
      operand.kind = UpdateOperand::Kind::kIfNotExists;
      TT_ASSIGN_OR_RETURN(operand.path, p.ParsePath());
    } else if (name.text == "list_append") {
      operand.kind = UpdateOperand::Kind::kListAppend;
      TT_ASSIGN_OR_RETURN(UpdateOperand first, ParseUpdateOperand(p, depth + 1));
      operand.args.push_back(std::move(first));
    } else {
      return p.ErrorWithPosition(absl::StrCat("Invalid function name; function: ", name.text),
                                 name.position);
    }
    TT_RETURN_IF_ERROR(p.Expect(TokenKind::kComma));
    TT_ASSIGN_OR_RETURN(UpdateOperand second, ParseUpdateOperand(p, depth + 1));
    operand.args.push_back(std::move(second));
    TT_RETURN_IF_ERROR(p.Expect(TokenKind::kRParen));
    return operand;
  }
  operand.kind = UpdateOperand::Kind::kPath;
  TT_ASSIGN_OR_RETURN(operand.path, p.ParsePath());
  return operand;
}

}  // namespace

Update::Update(Update&&) noexcept = default;
Update& Update::operator=(Update&&) noexcept = default;
Update::~Update() = default;

absl::StatusOr<Update> Update::Parse(absl::string_view text, absl::string_view field,
                                     Substitutions* subs) {
  Parser p(text, field, subs);
  TT_RETURN_IF_ERROR(p.Init());
  Update update;
  update.field_ = std::string(field);
  std::vector<std::string> seen;
  do {
    if (!IsClauseKeyword(p)) return p.ErrorAt(p.Peek());
    const Token keyword = p.Next();
    const std::string clause = absl::AsciiStrToUpper(keyword.text);
    if (std::find(seen.begin(), seen.end(), clause) != seen.end()) {
      return p.ErrorWithPosition(absl::StrCat("The \"", clause,
                                              "\" section can only be used once in an update "
                                              "expression;"),
                                 keyword.position);
    }
    seen.push_back(clause);
    while (true) {
      Action action;
      TT_ASSIGN_OR_RETURN(action.path, p.ParsePath());
      if (clause == "SET") {
        action.kind = Action::Kind::kSet;
        TT_RETURN_IF_ERROR(p.Expect(TokenKind::kEq));
        TT_ASSIGN_OR_RETURN(action.left, ParseUpdateOperand(p, 0));
        if (p.Peek().kind == TokenKind::kPlus || p.Peek().kind == TokenKind::kMinus) {
          action.op = p.Next().kind == TokenKind::kPlus ? '+' : '-';
          TT_ASSIGN_OR_RETURN(action.right, ParseUpdateOperand(p, 0));
        }
      } else if (clause == "REMOVE") {
        action.kind = Action::Kind::kRemove;
      } else {
        action.kind = clause == "ADD" ? Action::Kind::kAdd : Action::Kind::kDelete;
        const Token& value_token = p.Peek();
        TT_ASSIGN_OR_RETURN(action.value, p.ParseValueRef());
        const bool ok = action.kind == Action::Kind::kAdd
                            ? (IsSet(action.value) ||
                               action.value.value_case() == v1::AttributeValue::kN)
                            : IsSet(action.value);
        if (!ok) {
          return p.ErrorWithPosition(
              absl::StrCat("Incorrect operand type for operator or function; operator: ", clause,
                           ", operand type: ", OperandTypeName(action.value)),
              value_token.position);
        }
      }
      update.actions_.push_back(std::move(action));
      if (p.Peek().kind != TokenKind::kComma) break;
      p.Next();
    }
  } while (!p.AtEnd());
  std::vector<Path> paths;
  for (const Action& a : update.actions_) paths.push_back(a.path);
  TT_RETURN_IF_ERROR(CheckNoOverlap(paths, field));
  return update;
}

std::vector<std::string> Update::TopLevelNames() const {
  std::vector<std::string> names;
  for (const Action& a : actions_) {
    if (std::find(names.begin(), names.end(), a.path[0].name) == names.end()) {
      names.push_back(a.path[0].name);
    }
  }
  return names;
}

}  // namespace thingtank::tables::expr
