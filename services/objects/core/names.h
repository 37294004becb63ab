#pragma once

// S3's rules for names: bucket names, object keys, user metadata and tags.
// Each returns OK or an s3::FieldError naming the field and the rule broken.

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "google/protobuf/map.h"

namespace thingtank::objects {

// S3 general purpose bucket naming rules: 3-63 characters; only a-z 0-9 . -;
// begins and ends with a letter or digit; no ".."; not an IPv4 address form
// (four dot-separated groups of digits, e.g. 192.168.5.4); not prefixed
// "xn--", "sthree-", "amzn-s3-demo-"; not suffixed "-s3alias", "--ol-s3",
// ".mrap", "--x-s3", "--table-s3". Errors: FieldError("bucket",
// "InvalidBucketName", <the rule that failed>).
absl::Status ValidateBucketName(std::string_view name);

// An object key: 1 to 1,024 bytes of valid UTF-8 (no overlong forms, no
// surrogates). Empty -> InvalidArgument; too long -> KeyTooLongError;
// not UTF-8 -> InvalidArgument; all naming `field`.
absl::Status ValidateKey(std::string_view key, std::string_view field = "key");

// x-amz-meta-* pairs, names without the prefix. Names: non-empty HTTP tokens
// (RFC 9110 tchar), lowercase; values: UTF-8 without control characters
// (tab allowed) -> else InvalidArgument. Then the sum of name and value bytes
// over 2,048 -> MetadataTooLarge. Field "headers.metadata". Entries are
// checked in name order, so the error is the same on every run.
absl::Status ValidateUserMetadata(const google::protobuf::Map<std::string, std::string>& metadata);

// Tags on an object (max_tags 10) or a bucket (50). Over max_tags ->
// InvalidTag "Object tags cannot be greater than 10" (for 10) or "Bucket tag
// count cannot be greater than <max>" (otherwise). Keys: 1-128 characters of
// UTF-8 and not starting with "aws:" (any case); values: 0-256 characters of
// UTF-8 (characters are code points); control characters other than tab are
// refused. All InvalidTag naming `field`; checked in key order.
absl::Status ValidateTags(const google::protobuf::Map<std::string, std::string>& tags,
                          size_t max_tags, std::string_view field);

// Whether `s` is valid UTF-8 (RFC 3629: no overlongs, no surrogates, at most
// U+10FFFF); when so and `code_points` is given, stores their count there.
bool IsValidUtf8(std::string_view s, size_t* code_points = nullptr);

}  // namespace thingtank::objects
