#pragma once

// The HTTP Range header as S3 reads it (RFC 9110 byte ranges, one range
// only), and the Content-Range of the answer.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace thingtank::objects {

struct ByteRange {
  uint64_t first;
  uint64_t last;  // inclusive
  uint64_t length() const { return last - first + 1; }
};

// Empty header -> nullopt (the whole object). Forms "bytes=a-b", "bytes=a-",
// "bytes=-n" (the last n bytes; n beyond the size: the whole object); b
// beyond the end is clamped to size-1. Malformed (no "bytes=", several ranges
// with ",", non-digits, spaces, a>b, "bytes=-0") -> FieldError(field,
// "InvalidArgument"). Unsatisfiable (a >= size, or any range on an empty
// object) -> s3::Error("InvalidRange", "The requested range is not
// satisfiable", {{"ActualObjectSize", size}, {"RangeRequested", header}})
// (OUT_OF_RANGE). Numbers too large for uint64 saturate (then clamp or fail
// as above).
absl::StatusOr<std::optional<ByteRange>> ParseRange(std::string_view header, uint64_t object_size,
                                                    std::string_view field = "range");

// "bytes a-b/size".
std::string ContentRange(const ByteRange& range, uint64_t size);

}  // namespace thingtank::objects
