#pragma once

#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "google/protobuf/message.h"
#include "yaml-cpp/yaml.h"

namespace thingtank::serve {

// Fills `message` from a YAML mapping (JSON is YAML) whose keys are the
// message's proto field names (or their lowerCamel JSON names), as the proto
// JSON mapping has them: the mapping is turned into proto JSON, guided by the
// message's descriptor, and parsed with JsonStringToMessage.
//
// Beyond the proto JSON mapping, for people writing the file by hand:
// - an enum value may be written without its type prefix, in any case
//   (`HASH` for KEY_TYPE_HASH, `pay_per_request` for BILLING_MODE_PAY_PER_REQUEST);
// - a google.protobuf.Duration may be a number of seconds (`30` for "30s");
// - a string field takes any scalar as text (a queue named `123`).
//
// Top-level keys listed in `extra_keys` are skipped (the caller reads them).
// Errors are INVALID_ARGUMENT "<field path>: <what>", e.g.
// "key_schema[0].key_type: \"FOO\" is not one of HASH, RANGE" or
// "key_shema: unknown field; known: table_name, key_schema, ...".
absl::Status MessageFromYaml(const YAML::Node& node, const std::vector<absl::string_view>& extra_keys,
                             google::protobuf::Message* message);

}  // namespace thingtank::serve
