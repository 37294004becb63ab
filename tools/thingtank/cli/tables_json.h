#pragma once

// JSON forms of DynamoDB attribute values for `thingtank tables ...`.
// Internal to tools/thingtank/cli.
//
// DynamoDB form (the default): every value is an object with one type key,
//   {"msgid": {"S": "1"}, "n": {"N": "5"}, "tags": {"SS": ["a"]},
//    "m": {"M": {...}}, "l": {"L": [...]}, "ok": {"BOOL": true},
//    "none": {"NULL": true}, "raw": {"B": "<base64>"}}
// "N" also accepts a bare JSON number ({"N": 5}); its literal text is kept.
//
// Plain form (--plain): strings are S, numbers N, booleans BOOL, null NULL,
// arrays L and objects M. Numbers keep their literal text (no rounding
// through double: "3.14159265358979323846264338327950288" stays exact).
// Output of binaries (B, BS) is base64 text and of sets (SS, NS, BS) arrays:
// the plain form cannot tell them apart from S and L, so a plain round trip
// of such values turns them into S and L.

#include <string>

#include <google/protobuf/map.h>
#include <google/protobuf/message.h>

#include "thingtank/tables/v1/tables.pb.h"

namespace thingtank::cli::tables {

using AttributeMap =
    google::protobuf::Map<std::string, thingtank::tables::v1::AttributeValue>;
using NameMap = google::protobuf::Map<std::string, std::string>;

// Parses a JSON object of attribute name to value (an item, a key, or
// expression attribute values) into `out`. False with a one-line `error`
// naming the attribute when malformed.
bool ParseAttributeMap(const std::string& json, bool plain, AttributeMap* out,
                       std::string* error);

// ParseAttributeMap for --item: also takes GetItem's output, {"Item": {...}},
// so that `tables get --json` output is valid input of `tables put --item`.
// The object counts as that envelope when "Item" is its only member and holds
// an object that is not a key value (S, N or B): an item whose only
// attribute is a map, list or set could never be put, so nothing is lost.
bool ParseItem(const std::string& json, bool plain, AttributeMap* out, std::string* error);

// Parses expression attribute names: a JSON object of "#token" to name.
bool ParseNameMap(const std::string& json, NameMap* out, std::string* error);

// Parses `json`, the value of request member `member` in DynamoDB's shape
// ("RequestItems" of BatchWriteItem, "TransactItems" of TransactWriteItems,
// ...), into that field of `out`. Member names are the proto fields in
// PascalCase (TableName, ConditionExpression, PutRequest, ...); items, keys
// and expression attribute values are attribute maps as above; a JSON array
// stands for a message with one repeated field (WriteRequestList). False with
// a one-line `error` naming the path (RequestItems.t[0].PutRequest.Itm).
bool ParseRequest(const std::string& json, const std::string& member, bool plain,
                  google::protobuf::Message* out, std::string* error);

// One-line JSON object of an item or key, attribute names sorted.
std::string AttributeMapToJson(const AttributeMap& map, bool plain);

// One attribute value as JSON ({"S": "x"}, or with `plain` "x").
std::string AttributeValueToJson(const thingtank::tables::v1::AttributeValue& value, bool plain);

// `text` as a JSON string literal, quoted and escaped.
std::string JsonString(const std::string& text);

}  // namespace thingtank::cli::tables
