// Request validation as DynamoDB does it: table names on every call, item
// calls on tables that are not ACTIVE, canonical numbers, expression
// attribute values wherever they are used, Query filters on key attributes
// and the 32-level nesting limit.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "services/tables/table_service_test_util.h"

namespace thingtank::tables {
namespace {

using absl::StatusCode;

// A map nested `levels` deep: {m: {m: ... {}}}.
v1::AttributeValue Nest(int levels) {
  v1::AttributeValue v;
  v.mutable_m();
  for (int i = 1; i < levels; ++i) {
    v1::AttributeValue outer;
    (*outer.mutable_m()->mutable_fields())["m"] = v;
    v = outer;
  }
  return v;
}

v1::AttributeValue NS(const std::vector<std::string>& numbers) {
  v1::AttributeValue v;
  for (const std::string& n : numbers) v.mutable_ns()->add_values(n);
  return v;
}

v1::AttributeValue SS(const std::vector<std::string>& strings) {
  v1::AttributeValue v;
  for (const std::string& s : strings) v.mutable_ss()->add_values(s);
  return v;
}

class ValidationTest : public TableServiceTest {
 protected:
  // Every item call on `table` with the hash key `pk` = S("a"), each
  // expected to fail the same way.
  void ExpectEveryItemCall(const std::string& table, StatusCode code, const std::string& reason,
                           const std::string& field, const std::string& batch_field,
                           const std::string& transact_field) {
    const AttributeMap key = Map({{"pk", S("a")}});
    v1::GetItemRequest get;
    get.set_table_name(table);
    *get.mutable_key() = key;
    EXPECT_THAT(service_->GetItem(get).status(), IsStatus(code, reason, field));
    EXPECT_THAT(service_->GetItemNonBlocking(get).status(), IsStatus(code, reason, field));
    v1::PutItemRequest put;
    put.set_table_name(table);
    *put.mutable_item() = key;
    EXPECT_THAT(service_->PutItem(put).status(), IsStatus(code, reason, field));
    EXPECT_THAT(service_->PutItemNonBlocking(put).status(), IsStatus(code, reason, field));
    v1::UpdateItemRequest update;
    update.set_table_name(table);
    *update.mutable_key() = key;
    EXPECT_THAT(service_->UpdateItem(update).status(), IsStatus(code, reason, field));
    v1::DeleteItemRequest del;
    del.set_table_name(table);
    *del.mutable_key() = key;
    EXPECT_THAT(service_->DeleteItem(del).status(), IsStatus(code, reason, field));
    v1::QueryRequest query;
    query.set_table_name(table);
    query.set_key_condition_expression("pk = :h");
    (*query.mutable_expression_attribute_values())[":h"] = S("a");
    EXPECT_THAT(service_->Query(query).status(), IsStatus(code, reason, field));
    EXPECT_THAT(service_->QueryEncoded(query, /*non_blocking=*/true).status(),
                IsStatus(code, reason, field));
    v1::ScanRequest scan;
    scan.set_table_name(table);
    EXPECT_THAT(service_->Scan(scan).status(), IsStatus(code, reason, field));
    v1::BatchGetItemRequest batch_get;
    *(*batch_get.mutable_request_items())[table].add_keys()->mutable_attributes() = key;
    EXPECT_THAT(service_->BatchGetItem(batch_get).status(), IsStatus(code, reason, batch_field));
    v1::BatchWriteItemRequest batch_write;
    *(*batch_write.mutable_request_items())[table].add_requests()->mutable_put_request()
         ->mutable_item() = key;
    EXPECT_THAT(service_->BatchWriteItem(batch_write).status(),
                IsStatus(code, reason, batch_field));
    v1::TransactWriteItemsRequest tx;
    auto* tx_put = tx.add_transact_items()->mutable_put();
    tx_put->set_table_name(table);
    *tx_put->mutable_item() = key;
    EXPECT_THAT(service_->TransactWriteItems(tx).status(),
                IsStatus(code, reason,
                         transact_field.empty() ? "" : transact_field + ".put.table_name"));
    v1::TransactGetItemsRequest tg;
    auto* tg_get = tg.add_transact_items()->mutable_get();
    tg_get->set_table_name(table);
    *tg_get->mutable_key() = key;
    EXPECT_THAT(service_->TransactGetItems(tg).status(),
                IsStatus(code, reason,
                         transact_field.empty() ? "" : transact_field + ".get.table_name"));
  }

  absl::StatusOr<v1::UpdateItemResponse> Update(const std::string& table, const Attrs& key,
                                                const std::string& expression,
                                                const Attrs& values,
                                                const std::string& condition = "") {
    v1::UpdateItemRequest r;
    r.set_table_name(table);
    *r.mutable_key() = Map(key);
    r.set_update_expression(expression);
    r.set_condition_expression(condition);
    *r.mutable_expression_attribute_values() = Map(values);
    r.set_return_values(v1::RETURN_VALUE_ALL_NEW);
    return service_->UpdateItem(r);
  }
};

// ---- 8: item calls on a table that is not ACTIVE ----

TEST_F(ValidationTest, ItemCallsOnACreatingTableAreResourceNotFound) {
  ASSERT_TRUE(service_->CreateTable(CreateRequest("tbl")).ok());
  ExpectEveryItemCall("tbl", StatusCode::kNotFound, "ResourceNotFoundException", "", "", "");
  v1::GetItemRequest get;
  get.set_table_name("tbl");
  (*get.mutable_key())["pk"] = S("a");
  const absl::Status s = service_->GetItem(get).status();
  EXPECT_EQ(s.message(), "Requested resource not found: Table: tbl not found");

  // The control plane keeps ResourceInUseException; DescribeTable answers.
  v1::UpdateTableRequest ut;
  ut.set_table_name("tbl");
  ut.set_billing_mode(v1::BILLING_MODE_PAY_PER_REQUEST);
  EXPECT_THAT(service_->UpdateTable(ut).status(),
              IsStatus(StatusCode::kFailedPrecondition, "ResourceInUseException"));
  v1::UpdateTimeToLiveRequest ttl;
  ttl.set_table_name("tbl");
  ttl.mutable_time_to_live_specification()->set_enabled(true);
  ttl.mutable_time_to_live_specification()->set_attribute_name("exp");
  EXPECT_THAT(service_->UpdateTimeToLive(ttl).status(),
              IsStatus(StatusCode::kFailedPrecondition, "ResourceInUseException"));
  v1::DeleteTableRequest dt;
  dt.set_table_name("tbl");
  EXPECT_THAT(service_->DeleteTable(dt).status(),
              IsStatus(StatusCode::kFailedPrecondition, "ResourceInUseException"));
  EXPECT_EQ(Describe("tbl").table_status(), v1::TABLE_STATUS_CREATING);

  clock_.Advance(absl::Milliseconds(150));
  EXPECT_TRUE(service_->GetItem(get).ok());
}

// ---- 9: table names on every call ----

TEST_F(ValidationTest, TableNamesAreValidatedOnEveryCallBeforeAnyLookup) {
  Create("tbl");
  for (const std::string& bad :
       {std::string(), std::string("ab"), std::string(300, 'a'), std::string("bad name!"),
        std::string("tbl/x"), std::string(256, 'b')}) {
    SCOPED_TRACE("name of " + std::to_string(bad.size()) + " characters: " + bad.substr(0, 12));
    ExpectEveryItemCall(bad, StatusCode::kInvalidArgument, "ValidationException", "table_name",
                        "request_items", "transact_items[0]");
    v1::DescribeTableRequest d;
    d.set_table_name(bad);
    EXPECT_THAT(service_->DescribeTable(d).status(),
                IsStatus(StatusCode::kInvalidArgument, "ValidationException", "table_name"));
    v1::UpdateTableRequest ut;
    ut.set_table_name(bad);
    ut.set_billing_mode(v1::BILLING_MODE_PAY_PER_REQUEST);
    EXPECT_THAT(service_->UpdateTable(ut).status(),
                IsStatus(StatusCode::kInvalidArgument, "ValidationException", "table_name"));
    v1::DeleteTableRequest dt;
    dt.set_table_name(bad);
    EXPECT_THAT(service_->DeleteTable(dt).status(),
                IsStatus(StatusCode::kInvalidArgument, "ValidationException", "table_name"));
    v1::UpdateTimeToLiveRequest ttl;
    ttl.set_table_name(bad);
    ttl.mutable_time_to_live_specification()->set_enabled(true);
    ttl.mutable_time_to_live_specification()->set_attribute_name("exp");
    EXPECT_THAT(service_->UpdateTimeToLive(ttl).status(),
                IsStatus(StatusCode::kInvalidArgument, "ValidationException", "table_name"));
    v1::DescribeTimeToLiveRequest dttl;
    dttl.set_table_name(bad);
    EXPECT_THAT(service_->DescribeTimeToLive(dttl).status(),
                IsStatus(StatusCode::kInvalidArgument, "ValidationException", "table_name"));
  }
  // Names checked before lookups: a missing table listed first does not
  // hide a bad name after it.
  v1::BatchGetItemRequest bg;
  for (const char* name : {"aaa-missing", "tbl", "zz"}) {
    (*(*bg.mutable_request_items())[name].add_keys()->mutable_attributes())["pk"] = S("a");
  }
  EXPECT_THAT(service_->BatchGetItem(bg).status(),
              IsStatus(StatusCode::kInvalidArgument, "ValidationException", "request_items"));
  v1::TransactWriteItemsRequest tx;
  for (const char* name : {"missing", "tbl", "x"}) {
    auto* c = tx.add_transact_items()->mutable_condition_check();
    c->set_table_name(name);
    (*c->mutable_key())["pk"] = S(name);
    c->set_condition_expression("attribute_not_exists(pk)");
  }
  EXPECT_THAT(service_->TransactWriteItems(tx).status(),
              IsStatus(StatusCode::kInvalidArgument, "ValidationException",
                       "transact_items[2].condition_check.table_name"));
  // 3 and 255 characters are fine (NOT_FOUND: no such table).
  v1::DescribeTableRequest d;
  d.set_table_name(std::string(255, 'c'));
  EXPECT_THAT(service_->DescribeTable(d).status(),
              IsStatus(StatusCode::kNotFound, "ResourceNotFoundException"));
  d.set_table_name("a.-");
  EXPECT_THAT(service_->DescribeTable(d).status(),
              IsStatus(StatusCode::kNotFound, "ResourceNotFoundException"));
}

// ---- 7: numbers stored and returned in canonical form ----

TEST_F(ValidationTest, NumbersAreNormalizedAsKeysAndValues) {
  Create("nums", "N", "N");
  ASSERT_TRUE(Put("nums", {{"pk", N("01")},
                           {"sk", N("1.50")},
                           {"a", N("1e2")},
                           {"b", N("+5")},
                           {"c", N("-0")},
                           {"d", N("1E-2")},
                           {"set", NS({"1.0", "2.50", "-0.0"})}})
                  .ok());
  AttributeMap got = Get("nums", {{"pk", N("1")}, {"sk", N("1.5")}});
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.at("pk").n(), "1");
  EXPECT_EQ(got.at("sk").n(), "1.5");
  EXPECT_EQ(got.at("a").n(), "100");
  EXPECT_EQ(got.at("b").n(), "5");
  EXPECT_EQ(got.at("c").n(), "0");
  EXPECT_EQ(got.at("d").n(), "0.01");
  ASSERT_EQ(got.at("set").ns().values_size(), 3);
  EXPECT_EQ(got.at("set").ns().values(0), "1");
  EXPECT_EQ(got.at("set").ns().values(1), "2.5");
  EXPECT_EQ(got.at("set").ns().values(2), "0");

  // 1.0 and 1 are the same key: this overwrites.
  ASSERT_TRUE(Put("nums", {{"pk", N("1.0")}, {"sk", N("15E-1")}, {"a", N("7.0")}}).ok());
  EXPECT_EQ(Describe("nums").item_count(), 1);
  EXPECT_EQ(Get("nums", {{"pk", N("+1")}, {"sk", N("1.500")}}).at("a").n(), "7");

  // A number set with 1 and 1.0 holds a duplicate.
  EXPECT_THAT(Put("nums", {{"pk", N("1")}, {"sk", N("2")}, {"set", NS({"1", "1.0"})}}),
              IsStatus(StatusCode::kInvalidArgument, "ValidationException", "item.set"));

  // UpdateItem: the key of a new item and SET values are normalized too.
  auto updated = Update("nums", {{"pk", N("002")}, {"sk", N("3.0")}}, "SET v = :v, s = :s",
                        {{":v", N("1.50")}, {":s", NS({"010", "2e1"})}});
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->attributes().at("pk").n(), "2");
  EXPECT_EQ(updated->attributes().at("sk").n(), "3");
  EXPECT_EQ(updated->attributes().at("v").n(), "1.5");
  EXPECT_EQ(updated->attributes().at("s").ns().values(0), "10");
  EXPECT_EQ(updated->attributes().at("s").ns().values(1), "20");
  got = Get("nums", {{"pk", N("2")}, {"sk", N("3")}});
  EXPECT_EQ(got.at("pk").n(), "2");
  EXPECT_EQ(got.at("v").n(), "1.5");

  // Query and Scan return what is stored.
  v1::QueryRequest q;
  q.set_table_name("nums");
  q.set_key_condition_expression("pk = :h");
  (*q.mutable_expression_attribute_values())[":h"] = N("1.00");
  auto queried = service_->Query(q);
  ASSERT_TRUE(queried.ok()) << queried.status();
  ASSERT_EQ(queried->items_size(), 1);
  EXPECT_EQ(queried->items(0).attributes().at("sk").n(), "1.5");

  // Batch and transaction puts as well.
  v1::BatchWriteItemRequest bw;
  *(*bw.mutable_request_items())["nums"].add_requests()->mutable_put_request()->mutable_item() =
      Map({{"pk", N("3.0")}, {"sk", N("0")}, {"x", N("-1.10")}});
  ASSERT_TRUE(service_->BatchWriteItem(bw).ok());
  EXPECT_EQ(Get("nums", {{"pk", N("3")}, {"sk", N("0")}}).at("x").n(), "-1.1");
  v1::TransactWriteItemsRequest tx;
  auto* put = tx.add_transact_items()->mutable_put();
  put->set_table_name("nums");
  *put->mutable_item() = Map({{"pk", N("4e0")}, {"sk", N("0")}, {"x", N("0.50")}});
  ASSERT_TRUE(service_->TransactWriteItems(tx).ok());
  got = Get("nums", {{"pk", N("4")}, {"sk", N("0")}});
  EXPECT_EQ(got.at("pk").n(), "4");
  EXPECT_EQ(got.at("x").n(), "0.5");

  v1::ScanRequest scan;
  scan.set_table_name("nums");
  auto scanned = service_->Scan(scan);
  ASSERT_TRUE(scanned.ok());
  for (const v1::Item& item : scanned->items()) {
    for (const auto& [name, v] : item.attributes()) {
      if (v.value_case() == v1::AttributeValue::kN) {
        EXPECT_FALSE(absl::StrContains(v.n(), "e") || absl::StrContains(v.n(), "E") ||
                     absl::StrContains(v.n(), "+") || absl::EndsWith(v.n(), ".0"))
            << name << " = " << v.n();
      }
    }
  }
}

// ---- 6: Query filters on key attributes ----

TEST_F(ValidationTest, QueryRefusesFiltersOnKeyAttributesScanAllowsThem) {
  Create("tbl", "S", "N");
  ASSERT_TRUE(Put("tbl", {{"pk", S("a")}, {"sk", N("1")}, {"v", N("1")}}).ok());
  ASSERT_TRUE(Put("tbl", {{"pk", S("a")}, {"sk", N("2")}, {"v", N("2")}}).ok());
  struct Case {
    std::string filter;
    std::string key;
  };
  for (const Case& c : std::vector<Case>{{"sk > :x", "sk"},
                                         {"v = :x OR #k = :x", "sk"},
                                         {"attribute_exists(pk) AND v > :x", "pk"},
                                         {"size(pk) > :x", "pk"},
                                         {"NOT (v < :x AND sk BETWEEN :x AND :x)", "sk"}}) {
    v1::QueryRequest q;
    q.set_table_name("tbl");
    q.set_key_condition_expression("pk = :h");
    q.set_filter_expression(c.filter);
    (*q.mutable_expression_attribute_values())[":h"] = S("a");
    (*q.mutable_expression_attribute_values())[":x"] = N("1");
    if (absl::StrContains(c.filter, "#k")) (*q.mutable_expression_attribute_names())["#k"] = "sk";
    const absl::Status s = service_->Query(q).status();
    EXPECT_THAT(s,
                IsStatus(StatusCode::kInvalidArgument, "ValidationException", "filter_expression"));
    EXPECT_TRUE(absl::StrContains(
        s.message(),
        "Filter Expression can only contain non-primary key attributes: Primary key attribute: " +
            c.key))
        << c.filter << ": " << s;
  }
  v1::QueryRequest q;
  q.set_table_name("tbl");
  q.set_key_condition_expression("pk = :h");
  q.set_filter_expression("v > :x");
  (*q.mutable_expression_attribute_values())[":h"] = S("a");
  (*q.mutable_expression_attribute_values())[":x"] = N("1");
  auto r = service_->Query(q);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->count(), 1);

  v1::ScanRequest scan;
  scan.set_table_name("tbl");
  scan.set_filter_expression("sk > :x AND pk = :h");
  (*scan.mutable_expression_attribute_values())[":h"] = S("a");
  (*scan.mutable_expression_attribute_values())[":x"] = N("1");
  auto scanned = service_->Scan(scan);
  ASSERT_TRUE(scanned.ok()) << scanned.status();
  EXPECT_EQ(scanned->count(), 1);
}

// ---- 10: expression attribute values wherever they are used ----

TEST_F(ValidationTest, ExpressionAttributeValuesAreValidatedInEveryContext) {
  Create("tbl", "S", "N");
  ASSERT_TRUE(Put("tbl", {{"pk", S("a")}, {"sk", N("1")}, {"a", N("1")}}).ok());
  const std::vector<v1::AttributeValue> bad = {
      N(std::string(39, '1')), N("1e126"), N("1e-131"), N("NaN"), N("abc"), N(""),
      NS({}), SS({}), SS({"x", "x"}), NS({"1", "1.0"}), Nest(33), v1::AttributeValue()};
  for (const v1::AttributeValue& v : bad) {
    SCOPED_TRACE(v.ShortDebugString().substr(0, 80));
    // Errors name the value, or the nested document at fault in it.
    std::string field = "expression_attribute_values[\":v\"]";
    if (v.value_case() == v1::AttributeValue::kM) {
      for (int i = 1; i < 33; ++i) field += ".m";
    }
    // The conditional put from the issue: `a <> :v` held and the put went through.
    EXPECT_THAT(Put("tbl", {{"pk", S("a")}, {"sk", N("1")}, {"a", N("2")}}, "a <> :v", {{":v", v}}),
                IsStatus(StatusCode::kInvalidArgument, "ValidationException", field));
    v1::DeleteItemRequest del;
    del.set_table_name("tbl");
    *del.mutable_key() = Map({{"pk", S("a")}, {"sk", N("1")}});
    del.set_condition_expression("a <> :v");
    (*del.mutable_expression_attribute_values())[":v"] = v;
    EXPECT_THAT(service_->DeleteItem(del).status(),
                IsStatus(StatusCode::kInvalidArgument, "ValidationException", field));
    EXPECT_THAT(Update("tbl", {{"pk", S("a")}, {"sk", N("1")}}, "SET b = :w",
                       {{":w", N("1")}, {":v", v}}, "a <> :v")
                    .status(),
                IsStatus(StatusCode::kInvalidArgument, "ValidationException", field));
    EXPECT_THAT(Update("tbl", {{"pk", S("a")}, {"sk", N("1")}}, "SET b = :v", {{":v", v}})
                    .status(),
                IsStatus(StatusCode::kInvalidArgument, "ValidationException", field));

    v1::QueryRequest q;
    q.set_table_name("tbl");
    q.set_key_condition_expression("pk = :h AND sk = :v");
    (*q.mutable_expression_attribute_values())[":h"] = S("a");
    (*q.mutable_expression_attribute_values())[":v"] = v;
    EXPECT_THAT(service_->Query(q).status(),
                IsStatus(StatusCode::kInvalidArgument, "ValidationException", field));
    q.set_key_condition_expression("pk = :h");
    q.set_filter_expression("a <> :v");
    EXPECT_THAT(service_->Query(q).status(),
                IsStatus(StatusCode::kInvalidArgument, "ValidationException", field));
    v1::ScanRequest scan;
    scan.set_table_name("tbl");
    scan.set_filter_expression("a <> :v");
    (*scan.mutable_expression_attribute_values())[":v"] = v;
    EXPECT_THAT(service_->Scan(scan).status(),
                IsStatus(StatusCode::kInvalidArgument, "ValidationException", field));

    v1::TransactWriteItemsRequest tx;
    auto* check = tx.add_transact_items()->mutable_condition_check();
    check->set_table_name("tbl");
    *check->mutable_key() = Map({{"pk", S("a")}, {"sk", N("1")}});
    check->set_condition_expression("a <> :v");
    (*check->mutable_expression_attribute_values())[":v"] = v;
    EXPECT_THAT(service_->TransactWriteItems(tx).status(),
                IsStatus(StatusCode::kInvalidArgument, "ValidationException",
                         "transact_items[0].condition_check." + field));
    v1::TransactWriteItemsRequest tx_put;
    auto* put = tx_put.add_transact_items()->mutable_put();
    put->set_table_name("tbl");
    *put->mutable_item() = Map({{"pk", S("a")}, {"sk", N("1")}, {"a", N("3")}});
    put->set_condition_expression("a <> :v");
    (*put->mutable_expression_attribute_values())[":v"] = v;
    EXPECT_THAT(service_->TransactWriteItems(tx_put).status(),
                IsStatus(StatusCode::kInvalidArgument, "ValidationException",
                         "transact_items[0].put." + field));
  }
  // Nothing was written.
  EXPECT_EQ(Get("tbl", {{"pk", S("a")}, {"sk", N("1")}}).at("a").n(), "1");
  EXPECT_EQ(Get("tbl", {{"pk", S("a")}, {"sk", N("1")}}).count("b"), 0u);
}

// ---- 10: at most 32 levels of nested lists and maps ----

TEST_F(ValidationTest, ItemsNestAtMostThirtyTwoLevels) {
  Create("tbl");
  ASSERT_TRUE(Put("tbl", {{"pk", S("ok")}, {"doc", Nest(32)}}).ok());
  std::string deep_field = "item.doc";
  for (int i = 1; i < 33; ++i) deep_field += ".m";
  EXPECT_THAT(Put("tbl", {{"pk", S("deep")}, {"doc", Nest(33)}}),
              IsStatus(StatusCode::kInvalidArgument, "ValidationException", deep_field));

  // An update whose result nests too deep: 31 levels stored, a 2-level value
  // set inside the innermost map.
  ASSERT_TRUE(Put("tbl", {{"pk", S("u")}, {"doc", Nest(31)}}).ok());
  std::string path = "doc";
  for (int i = 1; i < 31; ++i) path += ".m";
  auto updated = Update("tbl", {{"pk", S("u")}}, "SET " + path + ".x = :v", {{":v", Nest(2)}});
  EXPECT_THAT(updated.status(),
              IsStatus(StatusCode::kInvalidArgument, "ValidationException",
                       "update_expression." + path + ".x.m"));
  // One level less fits.
  updated = Update("tbl", {{"pk", S("u")}}, "SET " + path + ".x = :v", {{":v", Nest(1)}});
  EXPECT_TRUE(updated.ok()) << updated.status();
}

}  // namespace
}  // namespace thingtank::tables
