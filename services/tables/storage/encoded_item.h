// Reading a stored item (a serialized v1::Item) without parsing it into
// messages: its DynamoDB size and its TTL attribute. Query and Scan pages
// that neither filter nor project copy stored items into the response as
// they are (wire format), so they only need these two facts.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "absl/status/statusor.h"

namespace thingtank::tables::storage {

struct EncodedItemInfo {
  // As ItemSize() computes it from the parsed item.
  int64_t size = 0;
  // The text of the attribute named `ttl_attribute` when it is a number.
  std::optional<std::string_view> ttl_number;
};

// DATA_LOSS when `bytes` is not a well-formed Item.
absl::StatusOr<EncodedItemInfo> InspectEncodedItem(std::string_view bytes,
                                                   std::string_view ttl_attribute);

// Appends `item_bytes` as one element of a response's `repeated Item items =
// 1` (tag, length, bytes), so a response can be assembled from stored items.
void AppendItemField(std::string_view item_bytes, std::string* out);

}  // namespace thingtank::tables::storage
