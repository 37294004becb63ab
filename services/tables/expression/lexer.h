#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace thingtank::tables::expr {

enum class TokenKind {
  kEnd,
  kIdentifier,  // attribute names, keywords, function names
  kNameRef,     // #name
  kValueRef,    // :value
  kNumber,      // list index digits
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma,
  kDot,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kPlus,
  kMinus,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;  // as written; "<EOF>" for kEnd
  size_t position = 0;
};

// Splits an expression into tokens, ending with a kEnd token. A character
// that starts no token is a syntax error naming it and its position; `field`
// names the request field in that error.
absl::StatusOr<std::vector<Token>> Tokenize(absl::string_view text, absl::string_view field);

// DynamoDB-style syntax error: Invalid <Label>: Syntax error; token: "<tok>",
// near: "<context>" at position N.
absl::Status SyntaxError(absl::string_view text, absl::string_view field, absl::string_view token,
                         size_t position);

}  // namespace thingtank::tables::expr
