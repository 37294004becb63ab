#include "tools/thingtank/serve/bootstrap_yaml.h"

#include <gtest/gtest.h>

#include "thingtank/queues/v1/queues.pb.h"
#include "thingtank/tables/v1/tables.pb.h"

namespace thingtank::serve {
namespace {

using tables::v1::CreateTableRequest;

absl::Status Parse(const std::string& yaml, google::protobuf::Message* message,
                   const std::vector<absl::string_view>& extra_keys = {}) {
  return MessageFromYaml(YAML::Load(yaml), extra_keys, message);
}

TEST(MessageFromYamlTest, ShortEnumNamesAndNumbers) {
  CreateTableRequest request;
  ASSERT_TRUE(Parse(R"(
table_name: readings
key_schema: [{attribute_name: device, key_type: HASH}, {attribute_name: at, key_type: range}]
attribute_definitions:
  - {attribute_name: device, attribute_type: S}
  - {attributeName: at, attributeType: SCALAR_ATTRIBUTE_TYPE_N}
billing_mode: PROVISIONED
provisioned_throughput: {read_capacity_units: 5, write_capacity_units: "7"}
time_to_live_attribute: expires_at
)", &request, {"time_to_live_attribute"}).ok());
  EXPECT_EQ(request.table_name(), "readings");
  ASSERT_EQ(request.key_schema_size(), 2);
  EXPECT_EQ(request.key_schema(0).key_type(), tables::v1::KEY_TYPE_HASH);
  EXPECT_EQ(request.key_schema(1).key_type(), tables::v1::KEY_TYPE_RANGE);
  EXPECT_EQ(request.attribute_definitions(0).attribute_type(), tables::v1::SCALAR_ATTRIBUTE_TYPE_S);
  EXPECT_EQ(request.attribute_definitions(1).attribute_name(), "at");
  EXPECT_EQ(request.attribute_definitions(1).attribute_type(), tables::v1::SCALAR_ATTRIBUTE_TYPE_N);
  EXPECT_EQ(request.billing_mode(), tables::v1::BILLING_MODE_PROVISIONED);
  EXPECT_EQ(request.provisioned_throughput().read_capacity_units(), 5);
  EXPECT_EQ(request.provisioned_throughput().write_capacity_units(), 7);
}

TEST(MessageFromYamlTest, JsonIsYaml) {
  queues::v1::CreateQueueRequest request;
  ASSERT_TRUE(Parse(R"({"queue_name": "123", "attributes": {"visibility_timeout": "45s",
      "delay": 2, "maximum_message_size": 2048, "fifo_queue": false,
      "redrive_policy": {"dead_letter_queue_name": "dlq", "max_receive_count": 3}}})",
                    &request).ok());
  EXPECT_EQ(request.queue_name(), "123");
  EXPECT_EQ(request.attributes().visibility_timeout().seconds(), 45);
  EXPECT_EQ(request.attributes().delay().seconds(), 2);
  EXPECT_EQ(request.attributes().maximum_message_size(), 2048);
  EXPECT_TRUE(request.attributes().has_fifo_queue());
  EXPECT_FALSE(request.attributes().fifo_queue());
  EXPECT_EQ(request.attributes().redrive_policy().dead_letter_queue_name(), "dlq");
  EXPECT_EQ(request.attributes().redrive_policy().max_receive_count(), 3);
}

TEST(MessageFromYamlTest, StringFieldsTakeAnyScalarAsText) {
  queues::v1::CreateQueueRequest request;
  ASSERT_TRUE(Parse("queue_name: true", &request).ok());
  EXPECT_EQ(request.queue_name(), "true");
}

TEST(MessageFromYamlTest, ErrorsNameTheField) {
  struct Case {
    std::string yaml;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"table_name: t\nkey_schema: [{attribute_name: a, key_type: FOO}]",
       "key_schema[0].key_type: \"FOO\" is not one of HASH, RANGE"},
      {"table_name: t\nattribute_definitions: [{attribute_name: a, attribute_type: X}]",
       "attribute_definitions[0].attribute_type: \"X\" is not one of S, N, B"},
      {"table_name: t\nkey_shema: []",
       "key_shema: unknown field; known: table_name, key_schema, attribute_definitions, billing_mode, "
       "provisioned_throughput, time_to_live_attribute"},
      {"table_name: t\nprovisioned_throughput: {read_capacity_units: abc}",
       "provisioned_throughput.read_capacity_units: invalid value \"abc\" for type TYPE_INT64"},
      {"table_name: t\nkey_schema: {attribute_name: a}", "key_schema: must be a list"},
      {"table_name: t\nprovisioned_throughput: 5",
       "provisioned_throughput: must be a mapping (ProvisionedThroughput)"},
      {"table_name: [a, b]", "table_name: must be a single value, not a list or mapping"},
      {"- a", "must be a mapping of field names to values"},
  };
  for (const auto& c : cases) {
    CreateTableRequest request;
    absl::Status status = Parse(c.yaml, &request, {"time_to_live_attribute"});
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.yaml;
    EXPECT_EQ(status.message(), c.message) << c.yaml;
  }
}

TEST(MessageFromYamlTest, WellKnownTypeErrorsNameTheField) {
  queues::v1::CreateQueueRequest request;
  absl::Status status = Parse("queue_name: q\nattributes: {visibility_timeout: soon}", &request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message().rfind("attributes.visibility_timeout: ", 0), 0u) << status.message();
}

}  // namespace
}  // namespace thingtank::serve
