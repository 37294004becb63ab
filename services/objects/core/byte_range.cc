#include "services/objects/core/byte_range.h"

#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/objects/core/s3_errors.h"
#include "services/common/string_views.h"

namespace thingtank::objects {
namespace {

// Decimal digits only (at least one); saturates at the uint64 maximum.
bool ParseDigits(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    v = v > (kMax - d) / 10 ? kMax : v * 10 + d;
  }
  *out = v;
  return true;
}

}  // namespace

absl::StatusOr<std::optional<ByteRange>> ParseRange(std::string_view header, uint64_t object_size,
                                                    std::string_view field) {
  if (header.empty()) return std::nullopt;
  const auto malformed = [&](std::string_view why) {
    return s3::FieldError(field, "InvalidArgument",
                          absl::StrCat("Invalid range \"", Av(header), "\": ", Av(why)));
  };
  const auto unsatisfiable = [&] {
    return s3::Error("InvalidRange", "The requested range is not satisfiable",
                     {{"ActualObjectSize", absl::StrCat(object_size)},
                      {"RangeRequested", std::string(header)}});
  };
  constexpr std::string_view kUnit = "bytes=";
  if (!absl::StartsWith(Av(header), Av(kUnit))) return malformed("expected bytes=first-last");
  std::string_view spec = header.substr(kUnit.size());
  if (spec.find(',') != std::string_view::npos) return malformed("only one range is supported");
  const size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return malformed("expected first-last");
  const std::string_view first_text = spec.substr(0, dash);
  const std::string_view last_text = spec.substr(dash + 1);

  if (first_text.empty()) {  // bytes=-n: the last n bytes
    uint64_t n = 0;
    if (!ParseDigits(last_text, &n)) return malformed("expected a suffix length");
    if (n == 0) return malformed("a suffix length must be positive");
    if (object_size == 0) return unsatisfiable();
    const uint64_t length = n < object_size ? n : object_size;
    return ByteRange{object_size - length, object_size - 1};
  }
  uint64_t first = 0;
  if (!ParseDigits(first_text, &first)) return malformed("expected a first byte position");
  uint64_t last = std::numeric_limits<uint64_t>::max();
  if (!last_text.empty()) {
    if (!ParseDigits(last_text, &last)) return malformed("expected a last byte position");
    if (first > last) return malformed("the first byte position is after the last");
  }
  if (first >= object_size) return unsatisfiable();
  if (last > object_size - 1) last = object_size - 1;
  return ByteRange{first, last};
}

std::string ContentRange(const ByteRange& range, uint64_t size) {
  return absl::StrCat("bytes ", range.first, "-", range.last, "/", size);
}

}  // namespace thingtank::objects
