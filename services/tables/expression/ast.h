#pragma once

// Parsed forms of the expression grammars, shared by the parsers and the
// evaluators. Internal to the expression module.

#include <memory>
#include <string>
#include <vector>

#include "services/tables/expression/expression.h"

namespace thingtank::tables::expr {

// An operand of a condition: a document path, an expression attribute value
// (copied, so the parsed expression outlives the request maps) or size(path).
struct Operand {
  enum class Kind { kPath, kValue, kSize };
  Kind kind = Kind::kPath;
  Path path;                 // kPath, kSize
  v1::AttributeValue value;  // kValue
  size_t position = 0;       // in the expression text, for errors
};

enum class CompareOp { kEq, kNe, kLt, kLe, kGt, kGe };

enum class Function {
  kAttributeExists,
  kAttributeNotExists,
  kAttributeType,
  kBeginsWith,
  kContains,
};

struct Condition::Node {
  enum class Kind { kAnd, kOr, kNot, kCompare, kBetween, kIn, kFunction };
  Kind kind = Kind::kCompare;
  std::unique_ptr<Node> left;   // kAnd, kOr, kNot
  std::unique_ptr<Node> right;  // kAnd, kOr
  CompareOp op = CompareOp::kEq;  // kCompare
  Function function = Function::kAttributeExists;  // kFunction
  // kCompare: 2; kBetween: value, low, high; kIn: value then candidates;
  // kFunction: the arguments.
  std::vector<Operand> operands;
  size_t position = 0;
};

// An operand of a SET value.
struct UpdateOperand {
  enum class Kind { kPath, kValue, kIfNotExists, kListAppend };
  Kind kind = Kind::kPath;
  Path path;                        // kPath, kIfNotExists
  v1::AttributeValue value;         // kValue
  std::vector<UpdateOperand> args;  // kIfNotExists: 1 (the default); kListAppend: 2
};

struct Update::Action {
  enum class Kind { kSet, kRemove, kAdd, kDelete };
  Kind kind = Kind::kSet;
  Path path;
  // kSet: left [op right]; op is 0, '+' or '-'.
  UpdateOperand left;
  char op = 0;
  UpdateOperand right;
  // kAdd, kDelete: the value.
  v1::AttributeValue value;
};

// "a.b[2]" for messages.
std::string PathToString(const Path& path);
// Whether one path is a prefix of the other (or they are equal).
bool PathsOverlap(const Path& a, const Path& b);
// INVALID_ARGUMENT if any two of `paths` overlap, with DynamoDB's message.
absl::Status CheckNoOverlap(const std::vector<Path>& paths, absl::string_view field);

// "condition_expression" -> "ConditionExpression" (the label DynamoDB uses).
std::string FieldLabel(absl::string_view field);
// INVALID_ARGUMENT, reason ValidationException: "Invalid <Label>: <message>".
absl::Status ExpressionError(absl::string_view field, absl::string_view message);

// Evaluation helpers (evaluate.cc).
// The DynamoDB type name of a value ("S", "N", ..., "" when unset).
absl::string_view TypeName(const v1::AttributeValue& value);
// Whether `value`'s type name is one attribute_type accepts.
bool IsTypeName(absl::string_view name);

}  // namespace thingtank::tables::expr
