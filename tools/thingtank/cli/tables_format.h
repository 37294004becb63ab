#pragma once

// Human-readable output of tables responses (the --json form is in
// tables_output.h). Internal to tools/thingtank/cli.

#include <ostream>
#include <string>

#include "thingtank/tables/v1/tables.pb.h"
#include "tools/thingtank/cli/tables_json.h"

namespace thingtank::cli::tables {

// "key: value" lines: name, ARN, status, keys, billing, throughput, counts,
// creation time, time to live.
void PrintTableDescription(const thingtank::tables::v1::TableDescription& table,
                           std::ostream& os);

// One JSON object per item, then "N items (M scanned)" and, when there is
// more, the --start-key to continue with. With `count_only` just the counts.
void PrintItems(const google::protobuf::RepeatedPtrField<thingtank::tables::v1::Item>& items,
                int32_t count, int32_t scanned_count, const AttributeMap& last_evaluated_key,
                bool count_only, bool plain, std::ostream& os);

// "S", "N" or "B".
std::string TypeName(thingtank::tables::v1::ScalarAttributeType type);

}  // namespace thingtank::cli::tables
