#pragma once

// Listing rules shared by ListObjectsV2, ListObjectVersions and
// ListMultipartUploads: delimiter roll-ups into common prefixes, and the
// opaque continuation token.

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"

namespace thingtank::objects {

// The common prefix `key` rolls up into: when `delimiter` is non-empty, key
// starts with `prefix` and the delimiter occurs in key after the prefix,
// key up to and including the first such occurrence; else nullopt (the key
// is listed itself, or, without the prefix, not at all).
std::optional<std::string> RolledUpPrefix(std::string_view key, std::string_view prefix,
                                          std::string_view delimiter);

// An opaque continuation token: a version byte and the length-prefixed
// (varint) last key and last version, web-safe base64 without padding.
std::string EncodeListToken(std::string_view last_key, std::string_view last_version = "");

// The (last_key, last_version) of a token from EncodeListToken; anything
// else -> FieldError(field, "InvalidArgument", "The continuation token
// provided is incorrect").
absl::StatusOr<std::pair<std::string, std::string>> DecodeListToken(
    std::string_view token, std::string_view field = "continuation_token");

}  // namespace thingtank::objects
