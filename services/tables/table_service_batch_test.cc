#include <gtest/gtest.h>

#include "services/tables/table_service_test_util.h"

namespace thingtank::tables {
namespace {

using absl::StatusCode;

v1::WriteRequest PutReq(const Attrs& item) {
  v1::WriteRequest w;
  *w.mutable_put_request()->mutable_item() = Map(item);
  return w;
}

TEST_F(TableServiceTest, BatchLimitsAndDuplicates) {
  Create("tbl");
  v1::BatchWriteItemRequest bw;
  for (int i = 0; i < 26; ++i) {
    *(*bw.mutable_request_items())["tbl"].add_requests() = PutReq({{"pk", S(std::to_string(i))}});
  }
  EXPECT_THAT(service_->BatchWriteItem(bw).status(),
              IsStatus(StatusCode::kInvalidArgument, "ValidationException", "request_items"));
  bw.mutable_request_items()->at("tbl").mutable_requests()->RemoveLast();
  auto written = service_->BatchWriteItem(bw);
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_TRUE(written->unprocessed_items().empty());
  EXPECT_EQ(Describe("tbl").item_count(), 25);

  v1::BatchWriteItemRequest dup;
  *(*dup.mutable_request_items())["tbl"].add_requests() = PutReq({{"pk", S("a")}});
  *(*dup.mutable_request_items())["tbl"].add_requests() = PutReq({{"pk", S("a")}});
  EXPECT_EQ(service_->BatchWriteItem(dup).status().code(), StatusCode::kInvalidArgument);

  v1::BatchGetItemRequest bg;
  for (int i = 0; i < 101; ++i) {
    (*(*bg.mutable_request_items())["tbl"].add_keys()->mutable_attributes())["pk"] =
        S(std::to_string(i));
  }
  EXPECT_THAT(service_->BatchGetItem(bg).status(),
              IsStatus(StatusCode::kInvalidArgument, "ValidationException", "request_items"));
  bg.mutable_request_items()->at("tbl").mutable_keys()->DeleteSubrange(30, 71);
  auto got = service_->BatchGetItem(bg);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->responses().at("tbl").items_size(), 25);  // 26..29 absent
}

TEST_F(TableServiceTest, BatchReturnsUnprocessedWhenThrottled) {
  options_.burst_seconds = 1;
  Reopen();
  Create("tbl", "S", "", 2, 3);  // 3 write units of burst
  v1::BatchWriteItemRequest bw;
  for (int i = 0; i < 5; ++i) {
    *(*bw.mutable_request_items())["tbl"].add_requests() = PutReq({{"pk", S(std::to_string(i))}});
  }
  auto r = service_->BatchWriteItem(bw);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->unprocessed_items().at("tbl").requests_size(), 2);
  EXPECT_EQ(Describe("tbl").item_count(), 3);
  // Nothing can be processed: the whole call is throttled.
  EXPECT_THAT(service_->BatchWriteItem(bw).status(),
              IsStatus(StatusCode::kResourceExhausted, "ProvisionedThroughputExceededException"));
  clock_.Advance(absl::Seconds(1));
  *bw.mutable_request_items() = r->unprocessed_items();
  r = service_->BatchWriteItem(bw);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->unprocessed_items().empty());
  EXPECT_EQ(Describe("tbl").item_count(), 5);
}

TEST_F(TableServiceTest, TransactionsAreAllOrNothing) {
  Create("tbl");
  Create("tbu", "S", "N");
  ASSERT_TRUE(Put("tbl", {{"pk", S("acct")}, {"balance", N("10")}}).ok());
  v1::TransactWriteItemsRequest tx;
  auto* upd = tx.add_transact_items()->mutable_update();
  upd->set_table_name("tbl");
  (*upd->mutable_key())["pk"] = S("acct");
  upd->set_update_expression("SET balance = balance - :amt");
  upd->set_condition_expression("balance >= :amt");
  (*upd->mutable_expression_attribute_values())[":amt"] = N("15");
  auto* put = tx.add_transact_items()->mutable_put();
  put->set_table_name("tbu");
  (*put->mutable_item())["pk"] = S("ledger");
  (*put->mutable_item())["sk"] = N("1");
  auto failed = service_->TransactWriteItems(tx);
  EXPECT_EQ(failed.status().code(), StatusCode::kAborted);
  EXPECT_EQ(ErrorReason(failed.status()), "TransactionCanceledException");
  EXPECT_NE(failed.status().message().find("[ConditionalCheckFailed, None]"), std::string::npos)
      << failed.status();
  EXPECT_EQ(Describe("tbu").item_count(), 0);
  EXPECT_EQ(Get("tbl", {{"pk", S("acct")}}).at("balance").n(), "10");

  (*upd->mutable_expression_attribute_values())[":amt"] = N("4");
  tx.set_client_request_token("token-a");
  ASSERT_TRUE(service_->TransactWriteItems(tx).ok());
  EXPECT_EQ(Get("tbl", {{"pk", S("acct")}}).at("balance").n(), "6");
  EXPECT_EQ(Describe("tbu").item_count(), 1);
  // Retried with the same token: succeeds without applying again.
  ASSERT_TRUE(service_->TransactWriteItems(tx).ok());
  EXPECT_EQ(Get("tbl", {{"pk", S("acct")}}).at("balance").n(), "6");
  // After 10 minutes the token is forgotten.
  clock_.Advance(absl::Minutes(11));
  ASSERT_TRUE(service_->TransactWriteItems(tx).ok());
  EXPECT_EQ(Get("tbl", {{"pk", S("acct")}}).at("balance").n(), "2");

  // Two actions on one item.
  v1::TransactWriteItemsRequest twice;
  *twice.add_transact_items() = tx.transact_items(0);
  *twice.add_transact_items() = tx.transact_items(0);
  EXPECT_THAT(service_->TransactWriteItems(twice).status(),
              IsStatus(StatusCode::kInvalidArgument, "ValidationException",
                       "transact_items[1].update"));

  v1::TransactGetItemsRequest tg;
  auto* g = tg.add_transact_items()->mutable_get();
  g->set_table_name("tbl");
  (*g->mutable_key())["pk"] = S("acct");
  auto* g2 = tg.add_transact_items()->mutable_get();
  g2->set_table_name("tbl");
  (*g2->mutable_key())["pk"] = S("none");
  auto got = service_->TransactGetItems(tg);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->responses_size(), 2);
  EXPECT_EQ(got->responses(0).attributes().at("balance").n(), "2");
  EXPECT_TRUE(got->responses(1).attributes().empty());
}

}  // namespace
}  // namespace thingtank::tables
