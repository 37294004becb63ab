#include "tools/thingtank/cli/tables_format.h"

#include <algorithm>
#include <iomanip>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/util/time_util.h>

namespace thingtank::cli::tables {
namespace {

namespace v1 = thingtank::tables::v1;
using Rows = std::vector<std::pair<std::string, std::string>>;

void PrintRows(const Rows& rows, std::ostream& os) {
  size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.first.size());
  for (const auto& [key, value] : rows) {
    os << std::left << std::setw(static_cast<int>(width + 2)) << (key + ":") << value << "\n";
  }
}

std::string StatusName(v1::TableStatus status) {
  switch (status) {
    case v1::TABLE_STATUS_CREATING: return "CREATING";
    case v1::TABLE_STATUS_ACTIVE: return "ACTIVE";
    case v1::TABLE_STATUS_DELETING: return "DELETING";
    case v1::TABLE_STATUS_UPDATING: return "UPDATING";
    default: return "unknown";
  }
}

// "msgid (S)" for the key element of `role`, or "" when there is none.
std::string KeyOf(const v1::TableDescription& table, v1::KeyType role) {
  for (const auto& element : table.key_schema()) {
    if (element.key_type() != role) continue;
    std::string text = element.attribute_name();
    for (const auto& def : table.attribute_definitions()) {
      if (def.attribute_name() == text) text += " (" + TypeName(def.attribute_type()) + ")";
    }
    return text;
  }
  return "";
}

}  // namespace

std::string TypeName(v1::ScalarAttributeType type) {
  switch (type) {
    case v1::SCALAR_ATTRIBUTE_TYPE_S: return "S";
    case v1::SCALAR_ATTRIBUTE_TYPE_N: return "N";
    case v1::SCALAR_ATTRIBUTE_TYPE_B: return "B";
    default: return "?";
  }
}

void PrintTableDescription(const v1::TableDescription& table, std::ostream& os) {
  Rows rows = {
      {"name", table.table_name()},
      {"arn", table.table_arn()},
      {"status", StatusName(table.table_status())},
      {"hash key", KeyOf(table, v1::KEY_TYPE_HASH)},
  };
  const std::string range = KeyOf(table, v1::KEY_TYPE_RANGE);
  if (!range.empty()) rows.emplace_back("range key", range);
  if (table.billing_mode() == v1::BILLING_MODE_PAY_PER_REQUEST) {
    rows.emplace_back("billing", "on demand");
  } else {
    rows.emplace_back("billing", "provisioned");
    rows.emplace_back("read units",
                      std::to_string(table.provisioned_throughput().read_capacity_units()));
    rows.emplace_back("write units",
                      std::to_string(table.provisioned_throughput().write_capacity_units()));
  }
  rows.emplace_back("items", std::to_string(table.item_count()));
  rows.emplace_back("size", std::to_string(table.table_size_bytes()) + " bytes");
  if (table.has_creation_date_time()) {
    rows.emplace_back("created",
                      google::protobuf::util::TimeUtil::ToString(table.creation_date_time()));
  }
  const auto& ttl = table.time_to_live();
  rows.emplace_back("time to live",
                    ttl.time_to_live_status() == v1::TIME_TO_LIVE_STATUS_ENABLED
                        ? "enabled on " + ttl.attribute_name()
                        : "disabled");
  PrintRows(rows, os);
}

void PrintItems(const google::protobuf::RepeatedPtrField<v1::Item>& items, int32_t count,
                int32_t scanned_count, const AttributeMap& last_evaluated_key, bool count_only,
                bool plain, std::ostream& os) {
  if (!count_only) {
    for (const v1::Item& item : items) os << AttributeMapToJson(item.attributes(), plain) << "\n";
  }
  os << count << (count == 1 ? " item" : " items") << " (" << scanned_count << " scanned)\n";
  if (!last_evaluated_key.empty()) {
    os << "(more: --start-key '" << AttributeMapToJson(last_evaluated_key, plain) << "')\n";
  }
}

}  // namespace thingtank::cli::tables
