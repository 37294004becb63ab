#include "services/tables/expression/parser.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/tables/expression/reserved_words.h"

namespace thingtank::tables::expr {

absl::Status Parser::Init() {
  TT_ASSIGN_OR_RETURN(tokens_, Tokenize(text_, field_));
  if (tokens_.size() == 1) return ExpressionError(field_, "The expression can not be empty;");
  return absl::OkStatus();
}

const Token& Parser::Peek(size_t ahead) const {
  size_t i = pos_ + ahead;
  return tokens_[i < tokens_.size() ? i : tokens_.size() - 1];
}

bool Parser::PeekKeyword(absl::string_view keyword, size_t ahead) const {
  const Token& t = Peek(ahead);
  return t.kind == TokenKind::kIdentifier && absl::EqualsIgnoreCase(t.text, keyword);
}

absl::Status Parser::ErrorAt(const Token& tok) const {
  return SyntaxError(text_, field_, tok.text, tok.position);
}

absl::Status Parser::Expect(TokenKind kind) {
  if (Peek().kind != kind) return ErrorAt(Peek());
  Next();
  return absl::OkStatus();
}

absl::Status Parser::ErrorWithPosition(absl::string_view message, size_t position) const {
  return ExpressionError(field_, absl::StrCat(message, " at position ", position));
}

absl::Status Parser::ExpectEnd() const {
  if (!AtEnd()) return ErrorAt(Peek());
  return absl::OkStatus();
}

absl::StatusOr<Path> Parser::ParsePath() {
  Path path;
  auto element = [&]() -> absl::Status {
    const Token& t = Peek();
    PathElement e;
    if (t.kind == TokenKind::kNameRef) {
      TT_ASSIGN_OR_RETURN(e.name, subs_->Name(t.text, field_, t.position));
    } else if (t.kind == TokenKind::kIdentifier) {
      if (IsReservedWord(t.text)) {
        return ErrorWithPosition(
            absl::StrCat("Attribute name is a reserved keyword; reserved keyword: ", t.text),
            t.position);
      }
      e.name = t.text;
    } else {
      return ErrorAt(t);
    }
    Next();
    path.push_back(std::move(e));
    return absl::OkStatus();
  };
  TT_RETURN_IF_ERROR(element());
  while (true) {
    if (Peek().kind == TokenKind::kDot) {
      Next();
      TT_RETURN_IF_ERROR(element());
    } else if (Peek().kind == TokenKind::kLBracket) {
      Next();
      const Token& t = Peek();
      PathElement e;
      e.is_index = true;
      if (t.kind != TokenKind::kNumber || !absl::SimpleAtoi(t.text, &e.index)) {
        return ErrorAt(t);
      }
      Next();
      TT_RETURN_IF_ERROR(Expect(TokenKind::kRBracket));
      path.push_back(std::move(e));
    } else {
      return path;
    }
  }
}

absl::StatusOr<v1::AttributeValue> Parser::ParseValueRef() {
  const Token& t = Peek();
  if (t.kind != TokenKind::kValueRef) return ErrorAt(t);
  TT_ASSIGN_OR_RETURN(const v1::AttributeValue* v, subs_->Value(t.text, field_, t.position));
  Next();
  return *v;
}

}  // namespace thingtank::tables::expr
