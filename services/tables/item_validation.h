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
// and distinct (numbers compared as numbers: 1 and 1.0 are duplicates),
// null_value is true, lists and maps nest at most 32 levels. INVALID_ARGUMENT
// (ValidationException) naming `field` (or the nested path at fault).
absl::Status ValidateValue(const v1::AttributeValue& v, const std::string& field);
// The same, and rewrites every number in `v` (in sets, lists and maps too) to
// the canonical text DynamoDB stores and returns: "1.50" -> "1.5", "01" ->
// "1", "1e2" -> "100", "+5" -> "5", "-0" -> "0" (Decimal::ToString).
absl::Status NormalizeValue(v1::AttributeValue* v, const std::string& field);
// Every value of an expression_attribute_values map, as ValidateValue; errors
// name `field`[":v"], e.g. expression_attribute_values[":v"].
absl::Status ValidateValues(const AttributeMap& values, const std::string& field);

// Sizes as DynamoDB computes them: S UTF-8 bytes, N (significant digits + 1)/2
// + 1, B bytes, BOOL/NULL 1, L/M 3 + per element (1 + its size, map entries
// also their name), sets the sum of their members.
int64_t ValueSize(const v1::AttributeValue& v);
// The size of a number from its (valid) text.
int64_t NumberSize(std::string_view text);
// Sum over attributes of name bytes + value size.
int64_t ItemSize(const AttributeMap& item);

// A whole item for a put: every value valid (and normalized in place, as
// NormalizeValue), key attributes present with the defined type and
// non-empty, size at most 400 KB. Errors name `field`.
absl::Status ValidateItem(AttributeMap* item, const storage::KeySchema& schema,
                          const std::string& field);
// A primary key: exactly the key attributes, with the defined types. Not
// normalized: the key encoding is the same for every spelling of a number.
absl::Status ValidateKey(const AttributeMap& key, const storage::KeySchema& schema,
                         const std::string& field);
// The key attributes of `item`.
AttributeMap KeyOf(const AttributeMap& item, const storage::KeySchema& schema);

}  // namespace thingtank::tables
