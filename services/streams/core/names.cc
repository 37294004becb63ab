#include "services/streams/core/names.h"

#include <cstddef>
#include <cstdint>

#include "services/streams/core/kinesis_errors.h"

namespace thingtank::streams {
namespace {

constexpr size_t kMaxNameLength = 128;
constexpr size_t kMaxPartitionKeyCharacters = 256;

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

// Counts the code points of valid UTF-8 (RFC 3629: no overlongs, no
// surrogates, at most U+10FFFF); false when `s` is not valid UTF-8.
bool CountUtf8(std::string_view s, size_t *code_points) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++n) {
    const auto b = static_cast<uint8_t>(s[i]);
    size_t len;
    uint32_t cp;
    if (b < 0x80) {
      ++i;
      continue;
    } else if ((b & 0xE0) == 0xC0) {
      len = 2, cp = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3, cp = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4, cp = b & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size())
      return false;
    for (size_t k = 1; k < len; ++k) {
      const auto c = static_cast<uint8_t>(s[i + k]);
      if ((c & 0xC0) != 0x80)
        return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  *code_points = n;
  return true;
}

} // namespace

absl::Status ValidateStreamName(std::string_view name, std::string_view field) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return FieldError(field, "InvalidArgumentException",
                      "must have length 1 to 128");
  }
  for (char c : name) {
    if (!IsNameChar(c)) {
      return FieldError(field, "InvalidArgumentException",
                        "must match the pattern [a-zA-Z0-9_.-]+");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidatePartitionKey(std::string_view key,
                                  std::string_view field) {
  size_t chars = 0;
  if (!CountUtf8(key, &chars)) {
    return FieldError(field, "InvalidArgumentException", "must be valid UTF-8");
  }
  if (chars == 0 || chars > kMaxPartitionKeyCharacters) {
    return FieldError(field, "InvalidArgumentException",
                      "must have length 1 to 256 Unicode characters");
  }
  return absl::OkStatus();
}

} // namespace thingtank::streams
