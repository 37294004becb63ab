#pragma once

// The --json output of `thingtank tables ...`: the response in DynamoDB's
// JSON shape, as the AWS CLI prints it, so that a person sees one dialect and
// the output of one command is valid input of the next. Internal to
// tools/thingtank/cli.
//
//   GetItem        {"Item": {"id": {"S": "a"}}}            ({} when missing)
//   Query / Scan   {"Items": [{...}], "Count": 1, "ScannedCount": 1,
//                   "LastEvaluatedKey": {...}}             (key when more)
//   DescribeTable  {"Table": {"TableName": "t", "TableArn": "...",
//                   "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
//                   "AttributeDefinitions": [{"AttributeName": "id",
//                   "AttributeType": "S"}], "TableStatus": "ACTIVE",
//                   "CreationDateTime": 1700000000.5, "ItemCount": 0,
//                   "TableSizeBytes": 0, "BillingModeSummary":
//                   {"BillingMode": "PAY_PER_REQUEST"}, ...}}
//
// Driven by the descriptors: member names are the proto fields in
// PascalCase; attribute maps are in DynamoDB's form (with `plain`, plain
// JSON, see tables_json.h); enums drop their prefix (TABLE_STATUS_ACTIVE is
// "ACTIVE"); an Item is its attribute map; a message whose only field is
// repeated (ItemList, WriteRequestList) is that list; timestamps are epoch
// seconds. Absent messages, empty strings, unset enums and empty attribute
// maps are left out; counts and lists are always there.

#include <string>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

namespace thingtank::cli::tables {

// One-line DynamoDB JSON of a tables response (or any tables message).
std::string ResponseToJson(const google::protobuf::Message& message, bool plain);

// "ACTIVE" for TABLE_STATUS_ACTIVE, "PAY_PER_REQUEST" for
// BILLING_MODE_PAY_PER_REQUEST: the value name without the enum's prefix.
std::string DynamoEnumName(const google::protobuf::EnumValueDescriptor* value);

}  // namespace thingtank::cli::tables
