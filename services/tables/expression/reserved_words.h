#pragma once

#include <cstddef>

#include "absl/strings/string_view.h"

namespace thingtank::tables::expr {

// Whether `word` (any case) is one of DynamoDB's reserved words.
bool IsReservedWord(absl::string_view word);
// How many reserved words there are (for tests).
size_t ReservedWordCount();

}  // namespace thingtank::tables::expr
