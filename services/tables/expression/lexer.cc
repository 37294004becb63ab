#include "services/tables/expression/lexer.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/tables/expression/ast.h"

namespace thingtank::tables::expr {
namespace {

bool IsNameStart(char c) { return absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsNameChar(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_'; }

}  // namespace

absl::Status SyntaxError(absl::string_view text, absl::string_view field, absl::string_view token,
                         size_t position) {
  // "near" shows the token with a little context on each side, as DynamoDB does.
  size_t begin = position > 10 ? position - 10 : 0;
  size_t end = std::min(text.size(), position + std::max<size_t>(token.size(), 1) + 10);
  absl::string_view near = begin < text.size() ? text.substr(begin, end - begin) : "";
  return ExpressionError(field, absl::StrCat("Syntax error; token: \"", token, "\", near: \"",
                                             near, "\" at position ", position));
}

absl::StatusOr<std::vector<Token>> Tokenize(absl::string_view text, absl::string_view field) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    Token tok;
    tok.position = i;
    size_t len = 1;
    auto two = [&](char next) { return i + 1 < text.size() && text[i + 1] == next; };
    if (IsNameStart(c)) {
      tok.kind = TokenKind::kIdentifier;
      while (i + len < text.size() && IsNameChar(text[i + len])) ++len;
    } else if (c == '#' || c == ':') {
      tok.kind = c == '#' ? TokenKind::kNameRef : TokenKind::kValueRef;
      while (i + len < text.size() && IsNameChar(text[i + len])) ++len;
      if (len == 1) return SyntaxError(text, field, text.substr(i, 1), i);
    } else if (absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      tok.kind = TokenKind::kNumber;
      while (i + len < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[i + len]))) {
        ++len;
      }
    } else {
      switch (c) {
        case '(': tok.kind = TokenKind::kLParen; break;
        case ')': tok.kind = TokenKind::kRParen; break;
        case '[': tok.kind = TokenKind::kLBracket; break;
        case ']': tok.kind = TokenKind::kRBracket; break;
        case ',': tok.kind = TokenKind::kComma; break;
        case '.': tok.kind = TokenKind::kDot; break;
        case '=': tok.kind = TokenKind::kEq; break;
        case '+': tok.kind = TokenKind::kPlus; break;
        case '-': tok.kind = TokenKind::kMinus; break;
        case '<':
          if (two('>')) {
            tok.kind = TokenKind::kNe;
            len = 2;
          } else if (two('=')) {
            tok.kind = TokenKind::kLe;
            len = 2;
          } else {
            tok.kind = TokenKind::kLt;
          }
          break;
        case '>':
          if (two('=')) {
            tok.kind = TokenKind::kGe;
            len = 2;
          } else {
            tok.kind = TokenKind::kGt;
          }
          break;
        default:
          return SyntaxError(text, field, text.substr(i, 1), i);
      }
    }
    tok.text = std::string(text.substr(i, len));
    tokens.push_back(std::move(tok));
    i += len;
  }
  Token end;
  end.kind = TokenKind::kEnd;
  end.text = "<EOF>";
  end.position = text.size();
  tokens.push_back(std::move(end));
  return tokens;
}

}  // namespace thingtank::tables::expr
