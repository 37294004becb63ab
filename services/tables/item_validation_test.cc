#include "services/tables/item_validation.h"

#include <gtest/gtest.h>

#include "services/common/status.h"
#include "services/tables/table_service_test_util.h"

namespace thingtank::tables {
namespace {

storage::KeySchema Schema() {
  storage::KeySchema s;
  s.hash_name = "pk";
  s.hash_type = v1::SCALAR_ATTRIBUTE_TYPE_S;
  s.range_name = "sk";
  s.range_type = v1::SCALAR_ATTRIBUTE_TYPE_N;
  return s;
}

TEST(ItemSizeTest, ScalarsAsDynamoDbCountsThem) {
  EXPECT_EQ(ItemSize(Map({{"a", S("abc")}})), 4);
  EXPECT_EQ(ItemSize(Map({{"n", N("123")}})), 1 + 3);     // 3 digits: 2 + 1
  EXPECT_EQ(ItemSize(Map({{"x", N("1500")}})), 1 + 2);    // "15": 1 + 1
  EXPECT_EQ(ItemSize(Map({{"x", N("-0.00120")}})), 1 + 2);  // "12"
  EXPECT_EQ(ItemSize(Map({{"x", N("0")}})), 1 + 1);
  EXPECT_EQ(ItemSize(Map({{"b", B(std::string(10, 'z'))}})), 11);
  v1::AttributeValue t;
  t.set_bool_value(true);
  v1::AttributeValue null;
  null.set_null_value(true);
  EXPECT_EQ(ItemSize(Map({{"t", t}, {"u", null}})), 4);
  EXPECT_EQ(ItemSize(Map({{"s", S("é")}})), 1 + 2);  // UTF-8 bytes
}

TEST(ItemSizeTest, DocumentsAndSets) {
  v1::AttributeValue list;
  *list.mutable_l()->add_values() = S("ab");
  *list.mutable_l()->add_values() = N("1");
  EXPECT_EQ(ValueSize(list), 3 + (1 + 2) + (1 + 2));
  v1::AttributeValue map;
  (*map.mutable_m()->mutable_fields())["k"] = S("v");
  EXPECT_EQ(ValueSize(map), 3 + 1 + 1 + 1);
  v1::AttributeValue ss;
  ss.mutable_ss()->add_values("a");
  ss.mutable_ss()->add_values("bc");
  EXPECT_EQ(ValueSize(ss), 3);
  v1::AttributeValue ns;
  ns.mutable_ns()->add_values("1");
  ns.mutable_ns()->add_values("12345");
  EXPECT_EQ(ValueSize(ns), 2 + 4);
}

TEST(ItemValidationTest, RejectsBadValuesNamingTheField) {
  v1::AttributeValue empty_set;
  empty_set.mutable_ss();
  EXPECT_EQ(ErrorField(ValidateValue(empty_set, "item.tags")), "item.tags");
  v1::AttributeValue dup;
  dup.mutable_ns()->add_values("1");
  dup.mutable_ns()->add_values("1.0");
  EXPECT_EQ(ValidateValue(dup, "f").code(), absl::StatusCode::kInvalidArgument);
  v1::AttributeValue null;
  null.set_null_value(false);
  EXPECT_EQ(ValidateValue(null, "f").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateValue(N("12abc"), "f").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateValue(v1::AttributeValue(), "f").code(), absl::StatusCode::kInvalidArgument);
  v1::AttributeValue deep = S("x");
  for (int i = 0; i < 33; ++i) {
    v1::AttributeValue outer;
    *outer.mutable_l()->add_values() = deep;
    deep = outer;
  }
  EXPECT_EQ(ValidateValue(deep, "f").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ValidateValue(S(""), "f").ok());  // empty strings fine outside keys
}

TEST(ItemValidationTest, KeysMustBePresentTypedAndNonEmpty) {
  const auto schema = Schema();
  EXPECT_TRUE(ValidateItem(Map({{"pk", S("a")}, {"sk", N("1")}}), schema, "item").ok());
  absl::Status missing = ValidateItem(Map({{"pk", S("a")}}), schema, "item");
  EXPECT_EQ(missing.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorReason(missing), "ValidationException");
  EXPECT_EQ(ErrorField(missing), "item");
  EXPECT_EQ(ErrorField(ValidateItem(Map({{"pk", S("a")}, {"sk", S("1")}}), schema, "item")),
            "item.sk");
  EXPECT_EQ(ErrorField(ValidateItem(Map({{"pk", S("")}, {"sk", N("1")}}), schema, "item")),
            "item.pk");
  EXPECT_EQ(ErrorField(ValidateKey(Map({{"pk", S("a")}, {"sk", N("1")}, {"x", S("y")}}), schema,
                                   "key")),
            "key");
  absl::Status big = ValidateItem(
      Map({{"pk", S("a")}, {"sk", N("1")}, {"blob", B(std::string(400 * 1024, 'x'))}}), schema,
      "item");
  EXPECT_EQ(big.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorField(big), "item");
}

}  // namespace
}  // namespace thingtank::tables
