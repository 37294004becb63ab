#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "thingtank/tables/v1/tables.pb.h"

namespace thingtank::tables::storage {

// Key layout of the tables service (see services/tables/README.md, Storage).
//
// items column family:
//   resource(id8) | resource(hash) | range
// where id8 is the table id as 8 big-endian bytes, resource() is the 4-byte
// length-prefixed form of keys::AppendResource, hash is the encoded hash-key
// value and range the encoded range-key value (absent without a range key).
// Encoded values: S and B their bytes; N Decimal::AppendOrderedKey (numeric
// order, equal numbers encode identically). The hash part is length-prefixed,
// so the items of one hash key are exactly the keys under
// resource(id8)|resource(hash), ordered by range key, as Query needs.
//
// meta column family:
//   "T" resource(name) -> TableRecord     "N" -> next table id (8 bytes BE)
//   "S" id8            -> TableCounters   "K" resource(token) -> TokenRecord
//
// Later indexes and change streams get their own column families keyed the
// same way (index id, index key, item key / table id, sequence): an index
// entry or a change record is then one more Put in the same WriteBatch as the
// item and its counters.
struct KeySchema {
  std::string hash_name;
  v1::ScalarAttributeType hash_type = v1::SCALAR_ATTRIBUTE_TYPE_UNSPECIFIED;
  std::string range_name;  // empty without a range key
  v1::ScalarAttributeType range_type = v1::SCALAR_ATTRIBUTE_TYPE_UNSPECIFIED;

  bool has_range() const { return !range_name.empty(); }
  bool IsKey(const std::string& name) const {
    return name == hash_name || (has_range() && name == range_name);
  }
  static KeySchema From(const v1::TableDescription& d);
};

// resource(id8): the prefix of every item key of a table.
std::string TablePrefix(uint64_t table_id);
// Appends the order-preserving encoding of a scalar key value (S, N or B).
// INVALID_ARGUMENT for a malformed number or a non-scalar.
absl::Status AppendScalar(const v1::AttributeValue& v, std::string* out);
// TablePrefix + resource(encoded hash value).
absl::StatusOr<std::string> HashPrefix(uint64_t table_id, const v1::AttributeValue& hash);
// The full item key of `item` (which holds the key attributes, validated).
absl::StatusOr<std::string> ItemKey(uint64_t table_id, const KeySchema& schema,
                                    const google::protobuf::Map<std::string, v1::AttributeValue>& item);
// The encoded hash part of an item key of a table with prefix length
// `prefix_len`; empty on malformed input.
std::string_view HashPart(std::string_view item_key, size_t prefix_len);
// Parallel-scan segment of an encoded hash value (FNV-1a 64 modulo total).
uint32_t SegmentOf(std::string_view encoded_hash, uint32_t total_segments);
// The immediate successor of `key` in bytewise order (key + '\0').
std::string Successor(std::string_view key);

// Meta keys.
std::string TableRecordKey(std::string_view name);
std::string NextTableIdKey();
std::string CountersKey(uint64_t table_id);
std::string TokenKey(std::string_view token);

}  // namespace thingtank::tables::storage
