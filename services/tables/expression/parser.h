#pragma once

// Recursive-descent parser over the token stream, shared by the four
// grammars. Errors name the request field, the token and its position.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/status.h"
#include "services/tables/expression/ast.h"
#include "services/tables/expression/lexer.h"

namespace thingtank::tables::expr {

class Parser {
 public:
  // `subs` must outlive the parser.
  Parser(absl::string_view text, absl::string_view field, Substitutions* subs)
      : text_(text), field_(field), subs_(subs) {}

  // Tokenizes; INVALID_ARGUMENT for a bad character or an empty expression.
  absl::Status Init();

  const Token& Peek(size_t ahead = 0) const;
  const Token& Next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  bool AtEnd() const { return Peek().kind == TokenKind::kEnd; }
  // Whether the next token is the (case-insensitive) keyword.
  bool PeekKeyword(absl::string_view keyword, size_t ahead = 0) const;
  // Syntax error at `tok`.
  absl::Status ErrorAt(const Token& tok) const;
  // Consumes a token of `kind` or fails with a syntax error at the next one.
  absl::Status Expect(TokenKind kind);
  // "Invalid <Label>: <message> at position N".
  absl::Status ErrorWithPosition(absl::string_view message, size_t position) const;
  // Fails unless every token was consumed.
  absl::Status ExpectEnd() const;

  // path := element ('.' element | '[' digits ']')*, element := name | #name.
  absl::StatusOr<Path> ParsePath();
  // ":v" -> a copy of the value.
  absl::StatusOr<v1::AttributeValue> ParseValueRef();

  // Condition grammar (condition_parser.cc).
  absl::StatusOr<std::unique_ptr<Condition::Node>> ParseCondition();

  absl::string_view field() const { return field_; }
  absl::string_view text() const { return text_; }

 private:
  absl::StatusOr<std::unique_ptr<Condition::Node>> ParseOr();
  absl::StatusOr<std::unique_ptr<Condition::Node>> ParseAnd();
  absl::StatusOr<std::unique_ptr<Condition::Node>> ParseNot();
  absl::StatusOr<std::unique_ptr<Condition::Node>> ParsePrimary();
  absl::StatusOr<std::unique_ptr<Condition::Node>> ParseFunction();
  absl::StatusOr<Operand> ParseOperand();

  absl::string_view text_;
  absl::string_view field_;
  Substitutions* subs_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;  // nesting, bounded so hostile input cannot exhaust the stack
};

}  // namespace thingtank::tables::expr
