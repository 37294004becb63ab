#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "google/protobuf/map.h"
#include "services/tables/storage/table_keys.h"
#include "thingtank/tables/v1/tables.pb.h"

namespace thingtank::tables {

using AttributeMap = google::protobuf::Map<std::string, v1::AttributeValue>;

// DynamoDB's limits on items.
inline constexpr int64_t kMaxItemBytes = 400 * 1024;
inline constexpr int kMaxNestingDepth = 32;
inline constexpr size_t kMaxHashKeyBytes = 2048;
inline constexpr size_t kMaxRangeKeyBytes = 1024;

// Checks one value: a case is set, numbers parse (Decimal), sets are non-empty
// and distinct, null_value is true, nesting depth at most 32. INVALID_ARGUMENT
// (ValidationException) naming `field`.
absl::Status ValidateValue(const v1::AttributeValue& v, const std::string& field, int depth = 1);

// Sizes as DynamoDB computes them: S UTF-8 bytes, N (significant digits + 1)/2
// + 1, B bytes, BOOL/NULL 1, L/M 3 + per element (1 + its size, map entries
// also their name), sets the sum of their members.
int64_t ValueSize(const v1::AttributeValue& v);
// The size of a number from its (valid) text.
int64_t NumberSize(std::string_view text);
// Sum over attributes of name bytes + value size.
int64_t ItemSize(const AttributeMap& item);

// A whole item for a put: every value valid, key attributes present with the
// defined type and non-empty, size at most 400 KB. Errors name `field`.
absl::Status ValidateItem(const AttributeMap& item, const storage::KeySchema& schema,
                          const std::string& field);
// A primary key: exactly the key attributes, with the defined types.
absl::Status ValidateKey(const AttributeMap& key, const storage::KeySchema& schema,
                         const std::string& field);
// The key attributes of `item`.
AttributeMap KeyOf(const AttributeMap& item, const storage::KeySchema& schema);

}  // namespace thingtank::tables
