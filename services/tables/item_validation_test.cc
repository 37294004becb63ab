#include "services/tables/item_validation.h"

#include <gtest/gtest.h>

#include <random>
#include <utility>
#include <vector>

#include "absl/strings/match.h"

#include "services/common/status.h"
#include "services/tables/storage/encoded_item.h"
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

// ValidateItem on a copy.
absl::Status CheckItem(AttributeMap item, const storage::KeySchema& schema,
                       const std::string& field) {
  return ValidateItem(&item, schema, field);
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
  EXPECT_TRUE(CheckItem(Map({{"pk", S("a")}, {"sk", N("1")}}), schema, "item").ok());
  absl::Status missing = CheckItem(Map({{"pk", S("a")}}), schema, "item");
  EXPECT_EQ(missing.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorReason(missing), "ValidationException");
  EXPECT_EQ(ErrorField(missing), "item");
  EXPECT_EQ(ErrorField(CheckItem(Map({{"pk", S("a")}, {"sk", S("1")}}), schema, "item")),
            "item.sk");
  EXPECT_EQ(ErrorField(CheckItem(Map({{"pk", S("")}, {"sk", N("1")}}), schema, "item")),
            "item.pk");
  EXPECT_EQ(ErrorField(ValidateKey(Map({{"pk", S("a")}, {"sk", N("1")}, {"x", S("y")}}), schema,
                                   "key")),
            "key");
  absl::Status big = CheckItem(
      Map({{"pk", S("a")}, {"sk", N("1")}, {"blob", B(std::string(400 * 1024, 'x'))}}), schema,
      "item");
  EXPECT_EQ(big.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorField(big), "item");
}

TEST(ItemValidationTest, NumbersAreStoredInCanonicalForm) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"1.50", "1.5"}, {"01", "1"},       {"1e2", "100"}, {"+5", "5"},   {"-0", "0"},
      {"1E-2", "0.01"}, {"-007.000", "-7"}, {"0.0", "0"},  {"42", "42"}, {"-12", "-12"},
      {"1.5E+3", "1500"}, {".5", "0.5"}};
  for (const auto& [typed, stored] : cases) {
    v1::AttributeValue v = N(typed);
    ASSERT_TRUE(NormalizeValue(&v, "f").ok()) << typed;
    EXPECT_EQ(v.n(), stored) << typed;
  }
  // In sets, lists and maps, and in the key attributes of an item.
  v1::AttributeValue doc;
  doc.mutable_ns()->add_values("1.0");
  doc.mutable_ns()->add_values("2e0");
  v1::AttributeValue list;
  *list.mutable_l()->add_values() = doc;
  (*list.mutable_l()->add_values()->mutable_m()->mutable_fields())["x"] = N("+3.00");
  AttributeMap item = Map({{"pk", S("a")}, {"sk", N("10E-1")}, {"doc", list}});
  ASSERT_TRUE(ValidateItem(&item, Schema(), "item").ok());
  EXPECT_EQ(item.at("sk").n(), "1");
  const auto& l = item.at("doc").l();
  EXPECT_EQ(l.values(0).ns().values(0), "1");
  EXPECT_EQ(l.values(0).ns().values(1), "2");
  EXPECT_EQ(l.values(1).m().fields().at("x").n(), "3");
  // ValidateValue checks without rewriting.
  v1::AttributeValue keep = N("1.50");
  EXPECT_TRUE(ValidateValue(keep, "f").ok());
  EXPECT_EQ(keep.n(), "1.50");
}

TEST(ItemValidationTest, NumberSetDuplicatesAreNumeric) {
  v1::AttributeValue dup;
  dup.mutable_ns()->add_values("1");
  dup.mutable_ns()->add_values("1.0");
  absl::Status s = NormalizeValue(&dup, "item.ns");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorReason(s), "ValidationException");
  EXPECT_EQ(ErrorField(s), "item.ns");
  EXPECT_TRUE(absl::StrContains(s.message(), "Input collection contains duplicates")) << s;
}

// Lists and maps nest at most 32 levels (DynamoDB's limit).
TEST(ItemValidationTest, ThirtyTwoLevelsOfNestingAndNoMore) {
  auto nested = [](int levels) {
    v1::AttributeValue v = N("1");
    for (int i = 0; i < levels; ++i) {
      v1::AttributeValue outer;
      if (i % 2 == 0) {
        *outer.mutable_l()->add_values() = v;
      } else {
        (*outer.mutable_m()->mutable_fields())["m"] = v;
      }
      v = outer;
    }
    return v;
  };
  AttributeMap ok = Map({{"pk", S("a")}, {"sk", N("1")}, {"deep", nested(32)}});
  EXPECT_TRUE(ValidateItem(&ok, Schema(), "item").ok());
  AttributeMap too_deep = Map({{"pk", S("a")}, {"sk", N("1")}, {"deep", nested(33)}});
  absl::Status s = ValidateItem(&too_deep, Schema(), "item");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorReason(s), "ValidationException");
  // The 33rd document, inside 32: item.deep[0].m[0].m ... (16 [0] and 16 .m).
  std::string path = "item.deep";
  for (int i = 0; i < 16; ++i) path += "[0].m";
  EXPECT_EQ(ErrorField(s), path);
  EXPECT_TRUE(absl::StrContains(s.message(), "Nesting Levels have exceeded supported limits")) << s;
}

TEST(ItemValidationTest, ExpressionValuesNameTheirKey) {
  const std::vector<v1::AttributeValue> bad = {
      N(std::string(39, '1')), N("1e126"), N("1e-131"), N("NaN"), N("abc"), N(""),
      [] { v1::AttributeValue v; v.mutable_ns(); return v; }(),
      [] {
        v1::AttributeValue v;
        v.mutable_ss()->add_values("a");
        v.mutable_ss()->add_values("a");
        return v;
      }(),
      v1::AttributeValue()};
  for (const v1::AttributeValue& v : bad) {
    absl::Status s =
        ValidateValues(Map({{":ok", S("x")}, {":v", v}}), "expression_attribute_values");
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << v.DebugString();
    EXPECT_EQ(ErrorReason(s), "ValidationException");
    EXPECT_EQ(ErrorField(s), "expression_attribute_values[\":v\"]") << v.DebugString();
  }
  EXPECT_TRUE(ValidateValues(Map({{":v", N("1.50")}}), "expression_attribute_values").ok());
}

// A random value of every type, nested up to `depth`.
v1::AttributeValue RandomValue(std::mt19937_64& rng, int depth) {
  v1::AttributeValue v;
  auto text = [&] { return std::string(rng() % 20, static_cast<char>('a' + rng() % 26)); };
  auto number = [&] {
    static const char* kNumbers[] = {"0", "-5", "10", "123.4500", "0.000001", "1e10", "-9.99E-3"};
    return std::string(kNumbers[rng() % 7]);
  };
  switch (rng() % (depth > 0 ? 10 : 5)) {
    case 0: v.set_s(text()); break;
    case 1: v.set_n(number()); break;
    case 2: v.set_b(text()); break;
    case 3: v.set_bool_value(rng() % 2 == 0); break;
    case 4: v.set_null_value(true); break;
    case 5: for (int i = rng() % 4; i > 0; --i) *v.mutable_l()->add_values() = RandomValue(rng, depth - 1); break;
    case 6: for (int i = rng() % 4; i > 0; --i) (*v.mutable_m()->mutable_fields())[text()] = RandomValue(rng, depth - 1); break;
    case 7: for (int i = 1 + rng() % 3; i > 0; --i) v.mutable_ss()->add_values(text() + std::to_string(i)); break;
    case 8: for (int i = 1 + rng() % 3; i > 0; --i) v.mutable_ns()->add_values(number()); break;
    default: for (int i = 1 + rng() % 3; i > 0; --i) v.mutable_bs()->add_values(text() + std::to_string(i)); break;
  }
  return v;
}

// Query and Scan read stored items without parsing them: the wire-format
// walk must give exactly ItemSize() and find the TTL number.
TEST(EncodedItemTest, SizeFromWireFormatEqualsItemSize) {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 2000; ++round) {
    v1::Item item;
    for (int i = rng() % 6; i > 0; --i) {
      (*item.mutable_attributes())["a" + std::to_string(i)] = RandomValue(rng, 3);
    }
    const bool with_ttl = rng() % 2 == 0;
    if (with_ttl) (*item.mutable_attributes())["expires"].set_n("1700000000");
    const std::string bytes = item.SerializeAsString();
    absl::StatusOr<storage::EncodedItemInfo> info = storage::InspectEncodedItem(bytes, "expires");
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->size, ItemSize(item.attributes())) << item.DebugString();
    if (with_ttl) {
      ASSERT_TRUE(info->ttl_number.has_value());
      EXPECT_EQ(*info->ttl_number, "1700000000");
    } else {
      EXPECT_FALSE(info->ttl_number.has_value());
    }
  }
  const std::string truncated = {0x0a, 0x05, 'a', 'b'};  // says 5 bytes, has 2
  EXPECT_FALSE(storage::InspectEncodedItem(truncated, "").ok());
}

TEST(EncodedItemTest, AppendedItemsParseAsTheResponseField) {
  v1::Item a, b;
  (*a.mutable_attributes())["pk"].set_s("x");
  (*b.mutable_attributes())["pk"].set_s(std::string(300, 'y'));  // two-byte length varint
  v1::QueryResponse head;
  head.set_count(2);
  std::string bytes = head.SerializeAsString();
  storage::AppendItemField(a.SerializeAsString(), &bytes);
  storage::AppendItemField(b.SerializeAsString(), &bytes);
  v1::QueryResponse parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  EXPECT_EQ(parsed.count(), 2);
  ASSERT_EQ(parsed.items_size(), 2);
  EXPECT_EQ(parsed.items(1).attributes().at("pk").s(), std::string(300, 'y'));
}

}  // namespace
}  // namespace thingtank::tables
