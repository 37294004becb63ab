#include "services/tables/table_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "services/tables/table_service_test_util.h"

namespace thingtank::tables {
namespace {

using absl::StatusCode;

TEST_F(TableServiceTest, CreatingThenActiveAndDescribe) {
  auto created = service_->CreateTable(CreateRequest("things", "S", "N", 5, 5));
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->table_description().table_status(), v1::TABLE_STATUS_CREATING);
  // Item calls on a table that is not ACTIVE: ResourceNotFoundException, as
  // in DynamoDB (table_service_validation_test.cc covers every call).
  EXPECT_THAT(Put("things", {{"pk", S("a")}, {"sk", N("1")}}),
              IsStatus(StatusCode::kNotFound, "ResourceNotFoundException"));
  EXPECT_THAT(service_->CreateTable(CreateRequest("things")).status(),
              IsStatus(StatusCode::kAlreadyExists, "ResourceInUseException"));
  clock_.Advance(absl::Milliseconds(150));
  EXPECT_EQ(Describe("things").table_status(), v1::TABLE_STATUS_ACTIVE);
  ASSERT_TRUE(Put("things", {{"pk", S("a")}, {"sk", N("1")}, {"v", S("hello")}}).ok());
  const v1::TableDescription d = Describe("things");
  EXPECT_EQ(d.item_count(), 1);
  EXPECT_EQ(d.table_size_bytes(), 2 + 1 + 2 + 2 + 1 + 5);
  EXPECT_EQ(d.provisioned_throughput().read_capacity_units(), 5);
  EXPECT_EQ(d.key_schema_size(), 2);

  v1::ListTablesRequest list;
  Create("alpha");
  list.set_page_size(1);
  auto page = service_->ListTables(list);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->table_names_size(), 1);
  EXPECT_EQ(page->table_names(0), "alpha");
  list.set_page_token(page->next_page_token());
  page = service_->ListTables(list);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->table_names(0), "things");

  v1::DeleteTableRequest del;
  del.set_table_name("things");
  auto deleted = service_->DeleteTable(del);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(deleted->table_description().table_status(), v1::TABLE_STATUS_DELETING);
  v1::DescribeTableRequest describe;
  describe.set_table_name("things");
  EXPECT_THAT(service_->DescribeTable(describe).status(),
              IsStatus(StatusCode::kNotFound, "ResourceNotFoundException"));
}

TEST_F(TableServiceTest, BadTableDefinitions) {
  EXPECT_THAT(service_->CreateTable(CreateRequest("ab")).status(),
              IsStatus(StatusCode::kInvalidArgument, "ValidationException", "table_name"));
  EXPECT_THAT(service_->CreateTable(CreateRequest("bad name")).status(),
              IsStatus(StatusCode::kInvalidArgument, "ValidationException", "table_name"));
  auto r = CreateRequest("good");
  r.add_attribute_definitions()->set_attribute_name("extra");
  r.mutable_attribute_definitions(1)->set_attribute_type(v1::SCALAR_ATTRIBUTE_TYPE_S);
  EXPECT_THAT(service_->CreateTable(r).status(),
              IsStatus(StatusCode::kInvalidArgument, "ValidationException",
                       "attribute_definitions[1]"));
  r = CreateRequest("good");
  r.clear_attribute_definitions();
  EXPECT_THAT(service_->CreateTable(r).status(),
              IsStatus(StatusCode::kInvalidArgument, "ValidationException",
                       "attribute_definitions"));
  r = CreateRequest("good");
  r.mutable_key_schema(0)->set_key_type(v1::KEY_TYPE_RANGE);
  EXPECT_THAT(service_->CreateTable(r).status(),
              IsStatus(StatusCode::kInvalidArgument, "ValidationException",
                       "key_schema[0].key_type"));
  r = CreateRequest("good", "S", "", 1, 0);
  EXPECT_THAT(service_->CreateTable(r).status(),
              IsStatus(StatusCode::kInvalidArgument, "ValidationException",
                       "provisioned_throughput.write_capacity_units"));
}

TEST_F(TableServiceTest, ItemErrorsNameTheField) {
  Create("tbl", "S", "N");
  EXPECT_THAT(Put("missing", {{"pk", S("a")}}),
              IsStatus(StatusCode::kNotFound, "ResourceNotFoundException"));
  EXPECT_THAT(Put("tbl", {{"pk", S("a")}}),
              IsStatus(StatusCode::kInvalidArgument, "ValidationException", "item"));
  EXPECT_THAT(Put("tbl", {{"pk", N("1")}, {"sk", N("1")}}),
              IsStatus(StatusCode::kInvalidArgument, "ValidationException", "item.pk"));
  EXPECT_THAT(Put("tbl", {{"pk", S("a")}, {"sk", N("1")}, {"big", S(std::string(410000, 'x'))}}),
              IsStatus(StatusCode::kInvalidArgument, "ValidationException", "item"));
  v1::GetItemRequest get;
  get.set_table_name("tbl");
  (*get.mutable_key())["pk"] = S("a");
  EXPECT_THAT(service_->GetItem(get).status(),
              IsStatus(StatusCode::kInvalidArgument, "ValidationException", "key"));
}

TEST_F(TableServiceTest, ConditionalWritesChangeNothingOnFailure) {
  Create("tbl");
  ASSERT_TRUE(Put("tbl", {{"pk", S("a")}, {"v", N("1")}}, "attribute_not_exists(pk)").ok());
  EXPECT_THAT(Put("tbl", {{"pk", S("a")}, {"v", N("2")}}, "attribute_not_exists(pk)"),
              IsStatus(StatusCode::kFailedPrecondition, "ConditionalCheckFailedException"));
  EXPECT_EQ(Get("tbl", {{"pk", S("a")}}).at("v").n(), "1");
  EXPECT_EQ(events_.Get("ccf", "tbl"), 1);
  ASSERT_TRUE(Put("tbl", {{"pk", S("a")}, {"v", N("2")}}, "v = :one", {{":one", N("1")}}).ok());
  EXPECT_EQ(Get("tbl", {{"pk", S("a")}}).at("v").n(), "2");

  v1::DeleteItemRequest del;
  del.set_table_name("tbl");
  (*del.mutable_key())["pk"] = S("a");
  del.set_condition_expression("v = :x");
  (*del.mutable_expression_attribute_values())[":x"] = N("5");
  EXPECT_THAT(service_->DeleteItem(del).status(),
              IsStatus(StatusCode::kFailedPrecondition, "ConditionalCheckFailedException"));
  (*del.mutable_expression_attribute_values())[":x"] = N("2");
  del.set_return_values(v1::RETURN_VALUE_ALL_OLD);
  auto deleted = service_->DeleteItem(del);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_EQ(deleted->attributes().at("v").n(), "2");
  EXPECT_TRUE(Get("tbl", {{"pk", S("a")}}).empty());
  EXPECT_EQ(Describe("tbl").item_count(), 0);
  EXPECT_EQ(Describe("tbl").table_size_bytes(), 0);

  // Unused substitutions are errors.
  EXPECT_EQ(Put("tbl", {{"pk", S("b")}}, "", {{":unused", N("1")}}).code(),
            StatusCode::kInvalidArgument);
}

TEST_F(TableServiceTest, UpdateItemSemantics) {
  Create("tbl", "S", "N");
  v1::UpdateItemRequest u;
  u.set_table_name("tbl");
  (*u.mutable_key())["pk"] = S("dev");
  (*u.mutable_key())["sk"] = N("1");
  u.set_update_expression("SET #c = if_not_exists(#c, :zero) + :one, tag = :t");
  (*u.mutable_expression_attribute_names())["#c"] = "count";
  (*u.mutable_expression_attribute_values())[":zero"] = N("0");
  (*u.mutable_expression_attribute_values())[":one"] = N("1");
  (*u.mutable_expression_attribute_values())[":t"] = S("x");
  u.set_return_values(v1::RETURN_VALUE_ALL_NEW);
  auto r = service_->UpdateItem(u);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->attributes().at("count").n(), "1");
  EXPECT_EQ(r->attributes().at("pk").s(), "dev");  // created with its key
  u.set_return_values(v1::RETURN_VALUE_UPDATED_OLD);
  r = service_->UpdateItem(u);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->attributes().size(), 2u);
  EXPECT_EQ(r->attributes().at("count").n(), "1");
  EXPECT_EQ(Get("tbl", {{"pk", S("dev")}, {"sk", N("1")}}).at("count").n(), "2");

  v1::UpdateItemRequest key_change = u;
  key_change.set_update_expression("SET sk = :one");
  key_change.clear_expression_attribute_names();
  key_change.mutable_expression_attribute_values()->erase(":zero");
  key_change.mutable_expression_attribute_values()->erase(":t");
  EXPECT_THAT(service_->UpdateItem(key_change).status(),
              IsStatus(StatusCode::kInvalidArgument, "ValidationException", "update_expression"));

  v1::UpdateItemRequest cond = u;
  cond.set_condition_expression("#c > :one");
  (*cond.mutable_expression_attribute_values())[":one"] = N("5");
  EXPECT_THAT(service_->UpdateItem(cond).status(),
              IsStatus(StatusCode::kFailedPrecondition, "ConditionalCheckFailedException"));
  EXPECT_EQ(Get("tbl", {{"pk", S("dev")}, {"sk", N("1")}}).at("count").n(), "2");
}

TEST_F(TableServiceTest, TtlHidesAtOnceAndSweeperDeletes) {
  options_.ttl_sweep_interval = absl::Seconds(60);
  Reopen();
  Create("tbl");
  EnableTtl("tbl", "expires");
  const int64_t now = absl::ToUnixSeconds(clock_.Now());
  ASSERT_TRUE(Put("tbl", {{"pk", S("soon")}, {"expires", N(std::to_string(now + 10))}}).ok());
  ASSERT_TRUE(Put("tbl", {{"pk", S("later")}, {"expires", N(std::to_string(now + 1000))}}).ok());
  ASSERT_TRUE(Put("tbl", {{"pk", S("never")}, {"expires", S("not a number")}}).ok());
  // Expired at its second: invisible at once, before any sweep.
  clock_.Advance(absl::Seconds(10));
  EXPECT_TRUE(Get("tbl", {{"pk", S("soon")}}).empty());
  EXPECT_FALSE(Get("tbl", {{"pk", S("later")}}).empty());
  EXPECT_EQ(Describe("tbl").item_count(), 3);
  EXPECT_EQ(events_.Get("ttl", "tbl"), 0);
  clock_.Advance(absl::Seconds(60));
  EXPECT_EQ(events_.Get("ttl", "tbl"), 1);
  EXPECT_EQ(Describe("tbl").item_count(), 2);
  v1::DescribeTimeToLiveRequest d;
  d.set_table_name("tbl");
  EXPECT_EQ(service_->DescribeTimeToLive(d)->time_to_live_description().attribute_name(),
            "expires");
}

TEST_F(TableServiceTest, TtlSweepLooksAtABoundedNumberOfItemsAndGoesOnWhereItStopped) {
  options_.ttl_sweep_interval = absl::Seconds(1);
  options_.ttl_max_scanned_per_sweep = 10;
  Reopen();
  Create("tbl");
  EnableTtl("tbl", "expires");
  const std::string soon = std::to_string(absl::ToUnixSeconds(clock_.Now()) + 1);
  // Keys of one length sort by their bytes: 10 live items a00..a09, then 15
  // expiring ones k00..k14.
  auto key = [](char c, int i) {
    return std::string(1, c) + (i < 10 ? "0" : "") + std::to_string(i);
  };
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(Put("tbl", {{"pk", S(key('a', i))}}).ok());
  for (int i = 0; i < 15; ++i) {
    ASSERT_TRUE(Put("tbl", {{"pk", S(key('k', i))}, {"expires", N(soon)}}).ok());
  }
  // 10 items looked at per sweep, each sweep going on from the last: the
  // live ten, then ten expired, then the last five (a sweep starting over
  // each time would never get past the live ones).
  for (int64_t want : {0, 10, 15}) {
    clock_.Advance(absl::Seconds(1));
    EXPECT_EQ(events_.Get("ttl", "tbl"), want);
    EXPECT_EQ(Describe("tbl").item_count(), 25 - want);
  }
  // The table's end was reached: the next pass starts over, and finds an
  // expired item after the live ten one sweep later.
  ASSERT_TRUE(Put("tbl", {{"pk", S(key('a', 10))}, {"expires", N(soon)}}).ok());
  clock_.Advance(absl::Seconds(1));  // a00..a09
  EXPECT_EQ(events_.Get("ttl", "tbl"), 15);
  clock_.Advance(absl::Seconds(1));  // a10
  EXPECT_EQ(events_.Get("ttl", "tbl"), 16);
  EXPECT_EQ(Describe("tbl").item_count(), 10);
}

TEST_F(TableServiceTest, ThrottlingOnTheManualClock) {
  options_.burst_seconds = 5;
  Reopen();
  Create("tbl", "S", "", 1, 2);  // burst: 5 reads, 10 writes
  int ok = 0;
  absl::Status last;
  for (int i = 0; i < 20; ++i) {
    last = Put("tbl", {{"pk", S("k" + std::to_string(i))}});
    if (!last.ok()) break;
    ++ok;
  }
  EXPECT_EQ(ok, 10);
  EXPECT_THAT(last,
              IsStatus(StatusCode::kResourceExhausted, "ProvisionedThroughputExceededException"));
  EXPECT_EQ(events_.Get("throttled", "tbl"), 1);
  clock_.Advance(absl::Seconds(1));  // refills 2 units
  EXPECT_TRUE(Put("tbl", {{"pk", S("again")}}).ok());
  // Raising the rate applies at once.
  v1::UpdateTableRequest up;
  up.set_table_name("tbl");
  up.mutable_provisioned_throughput()->set_read_capacity_units(1);
  up.mutable_provisioned_throughput()->set_write_capacity_units(100);
  ASSERT_TRUE(service_->UpdateTable(up).ok());
  clock_.Advance(absl::Seconds(1));
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(Put("tbl", {{"pk", S("b" + std::to_string(i))}}).ok());
}

// What the per-table metrics read: consumed units and throttled requests per
// table and operation, and the provisioned capacity (0 when on-demand).
TEST_F(TableServiceTest, StatsPerTableForMetrics) {
  options_.burst_seconds = 1;
  Reopen();
  Create("prov", "S", "", 2, 3);  // burst: 2 reads, 3 writes
  Create("ondemand");
  int writes = 0;
  while (Put("prov", {{"pk", S("k" + std::to_string(writes))}}).ok()) ++writes;
  EXPECT_EQ(writes, 3);
  EXPECT_FALSE(Put("prov", {{"pk", S("x")}}).ok());  // a second refusal
  int reads = 0;
  for (int i = 0; i < 4; ++i) {
    v1::GetItemRequest get;
    get.set_table_name("prov");
    (*get.mutable_key())["pk"] = S("k0");
    get.set_consistent_read(true);
    if (service_->GetItem(get).ok()) ++reads;
  }
  EXPECT_EQ(reads, 2);  // and 2 throttled
  ASSERT_TRUE(Put("ondemand", {{"pk", S("a")}}).ok());
  ASSERT_TRUE(Put("ondemand", {{"pk", S("b")}}).ok());
  const std::vector<TableStats> stats = service_->Stats();
  ASSERT_EQ(stats.size(), 2u);
  const TableStats& od = stats[0];
  const TableStats& prov = stats[1];
  EXPECT_EQ(od.table, "ondemand");
  EXPECT_EQ(od.write_units_consumed, 2);
  EXPECT_EQ(od.read_units_consumed, 0);
  EXPECT_EQ(od.throttled_reads + od.throttled_writes, 0);
  EXPECT_EQ(od.provisioned_read_units, 0);
  EXPECT_EQ(od.provisioned_write_units, 0);
  EXPECT_EQ(prov.table, "prov");
  EXPECT_EQ(prov.write_units_consumed, 3);
  EXPECT_EQ(prov.read_units_consumed, 2);
  EXPECT_EQ(prov.throttled_writes, 2);
  EXPECT_EQ(prov.throttled_reads, 2);
  EXPECT_EQ(prov.provisioned_read_units, 2);
  EXPECT_EQ(prov.provisioned_write_units, 3);
  // The process-wide events agree with the per-table figures.
  EXPECT_EQ(events_.Get("throttled", "prov"), 4);
  EXPECT_EQ(events_.Written("prov"), 3);
}

TEST_F(TableServiceTest, RestartRecoversItemsCountsTtlAndTokens) {
  Create("tbl");
  ASSERT_TRUE(Put("tbl", {{"pk", S("a")}, {"v", S("1")}}).ok());
  ASSERT_TRUE(Put("tbl", {{"pk", S("b")}, {"v", S("2")}}).ok());
  EnableTtl("tbl", "exp");
  v1::TransactWriteItemsRequest tx;
  tx.set_client_request_token("tok-1");
  auto* put = tx.add_transact_items()->mutable_put();
  put->set_table_name("tbl");
  (*put->mutable_item())["pk"] = S("c");
  ASSERT_TRUE(service_->TransactWriteItems(tx).ok());
  const int64_t size = Describe("tbl").table_size_bytes();

  Reopen();
  EXPECT_EQ(Describe("tbl").item_count(), 3);
  EXPECT_EQ(Describe("tbl").table_size_bytes(), size);
  EXPECT_EQ(Describe("tbl").time_to_live().attribute_name(), "exp");
  EXPECT_EQ(Get("tbl", {{"pk", S("a")}}).at("v").s(), "1");
  // Same token, different request: mismatch, remembered across the restart.
  (*put->mutable_item())["x"] = S("y");
  EXPECT_THAT(service_->TransactWriteItems(tx).status(),
              IsStatus(StatusCode::kInvalidArgument, "IdempotentParameterMismatchException"));
}

TEST_F(TableServiceTest, ConcurrentConditionalWritesApplyOnce) {
  Create("tbl");
  std::atomic<int> created{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < 20; ++k) {
        if (Put("tbl", {{"pk", S("key" + std::to_string(k))}, {"by", N(std::to_string(i))}},
                "attribute_not_exists(pk)")
                .ok()) {
          ++created;
        }
        v1::UpdateItemRequest u;
        u.set_table_name("tbl");
        (*u.mutable_key())["pk"] = S("counter");
        u.set_update_expression("ADD n :one");
        (*u.mutable_expression_attribute_values())[":one"] = N("1");
        EXPECT_TRUE(service_->UpdateItem(u).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 20);
  EXPECT_EQ(Get("tbl", {{"pk", S("counter")}}).at("n").n(), "160");
  EXPECT_EQ(Describe("tbl").item_count(), 21);
}

TEST_F(TableServiceTest, ConsumedCapacityAsDynamoDbCountsIt) {
  Create("tbl", "S", "", 100, 100);
  v1::PutItemRequest put;
  put.set_table_name("tbl");
  (*put.mutable_item())["pk"] = S("a");
  (*put.mutable_item())["body"] = S(std::string(1500, 'x'));
  put.set_return_consumed_capacity(v1::RETURN_CONSUMED_CAPACITY_TOTAL);
  auto p = service_->PutItem(put);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->consumed_capacity().write_capacity_units(), 2);  // 1.5 KB -> 2 units
  EXPECT_EQ(p->consumed_capacity().table_name(), "tbl");
  v1::GetItemRequest get;
  get.set_table_name("tbl");
  (*get.mutable_key())["pk"] = S("a");
  get.set_return_consumed_capacity(v1::RETURN_CONSUMED_CAPACITY_TOTAL);
  auto g = service_->GetItem(get);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->consumed_capacity().read_capacity_units(), 0.5);
  get.set_consistent_read(true);
  g = service_->GetItem(get);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->consumed_capacity().read_capacity_units(), 1);
  get.clear_return_consumed_capacity();
  g = service_->GetItem(get);
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->has_consumed_capacity());
}

TEST_F(TableServiceTest, DeleteRemovesDataAndCreatingSurvivesRestart) {
  Create("tbl");
  ASSERT_TRUE(Put("tbl", {{"pk", S("a")}}).ok());
  v1::DeleteTableRequest del;
  del.set_table_name("tbl");
  ASSERT_TRUE(service_->DeleteTable(del).ok());
  ASSERT_TRUE(service_->CreateTable(CreateRequest("tbl")).ok());
  Reopen();  // still CREATING on disk: activated after the delay
  EXPECT_EQ(Describe("tbl").table_status(), v1::TABLE_STATUS_CREATING);
  clock_.Advance(absl::Milliseconds(150));
  EXPECT_EQ(Describe("tbl").table_status(), v1::TABLE_STATUS_ACTIVE);
  EXPECT_TRUE(Get("tbl", {{"pk", S("a")}}).empty());
  EXPECT_EQ(Describe("tbl").item_count(), 0);
}

TEST_F(TableServiceTest, ExpiredItemsHiddenFromEveryRead) {
  options_.ttl_sweep_interval = absl::Hours(1);
  Reopen();
  Create("tbl", "S", "N");
  EnableTtl("tbl", "exp");
  const std::string past = std::to_string(absl::ToUnixSeconds(clock_.Now()) - 1);
  ASSERT_TRUE(Put("tbl", {{"pk", S("d")}, {"sk", N("1")}, {"exp", N(past)}}).ok());
  ASSERT_TRUE(Put("tbl", {{"pk", S("d")}, {"sk", N("2")}}).ok());
  v1::QueryRequest q;
  q.set_table_name("tbl");
  q.set_key_condition_expression("pk = :h");
  (*q.mutable_expression_attribute_values())[":h"] = S("d");
  EXPECT_EQ(service_->Query(q)->count(), 1);
  v1::ScanRequest scan;
  scan.set_table_name("tbl");
  EXPECT_EQ(service_->Scan(scan)->count(), 1);
  v1::BatchGetItemRequest bg;
  auto* key = (*bg.mutable_request_items())["tbl"].add_keys()->mutable_attributes();
  (*key)["pk"] = S("d");
  (*key)["sk"] = N("1");
  auto got = service_->BatchGetItem(bg);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->responses().empty());
  // A conditional put sees the expired item as absent.
  EXPECT_TRUE(Put("tbl", {{"pk", S("d")}, {"sk", N("1")}}, "attribute_not_exists(pk)").ok());
  EXPECT_EQ(Describe("tbl").item_count(), 2);
}

}  // namespace
}  // namespace thingtank::tables

namespace thingtank::tables {
namespace {

TEST_F(TableServiceTest, NonBlockingGetAnswersFromMemoryOrSaysItWouldBlock) {
  Create("nbt");
  ASSERT_TRUE(Put("nbt", {{"pk", S("a")}, {"v", N("7")}}).ok());
  v1::GetItemRequest get;
  get.set_table_name("nbt");
  (*get.mutable_key())["pk"] = S("a");
  auto hot = service_->GetItemNonBlocking(get);
  ASSERT_TRUE(hot.ok()) << hot.status();
  EXPECT_EQ(hot->item().at("v").n(), "7");

  // On disk only, with cold caches: the non-blocking read declines.
  for (const auto& cf : TableService::ColumnFamilies()) {
    ASSERT_TRUE(FromRocks(db_->raw()->Flush(rocksdb::FlushOptions(), db_->cf(cf))).ok());
  }
  Reopen();
  EXPECT_TRUE(IsWouldBlock(service_->GetItemNonBlocking(get).status()));
  auto cold = service_->GetItem(get);
  ASSERT_TRUE(cold.ok()) << cold.status();
  EXPECT_EQ(cold->item().at("v").n(), "7");

  // Errors that need no disk come from the non-blocking read as they are.
  get.set_table_name("missing");
  EXPECT_EQ(service_->GetItemNonBlocking(get).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(TableServiceTest, NonBlockingWritesCommitFromMemoryOrSayTheyWouldBlock) {
  Create("nbw");
  v1::PutItemRequest put;
  put.set_table_name("nbw");
  *put.mutable_item() = Map({{"pk", S("a")}, {"v", N("7")}});
  ASSERT_TRUE(service_->PutItemNonBlocking(put).ok());
  EXPECT_EQ(Describe("nbw").item_count(), 1);
  EXPECT_EQ(events_.Written("nbw"), 1);

  // Answers that need no disk come as they are: a failed condition...
  put.set_condition_expression("attribute_not_exists(pk)");
  absl::Status failed = service_->PutItemNonBlocking(put).status();
  EXPECT_EQ(failed.code(), absl::StatusCode::kFailedPrecondition) << failed;
  EXPECT_EQ(events_.Get("ccf", "nbw"), 1);
  // ... an update and a delete.
  v1::UpdateItemRequest update;
  update.set_table_name("nbw");
  (*update.mutable_key())["pk"] = S("a");
  update.set_update_expression("SET v = v + :one");
  (*update.mutable_expression_attribute_values())[":one"] = N("1");
  update.set_return_values(v1::RETURN_VALUE_UPDATED_NEW);
  auto updated = service_->UpdateItemNonBlocking(update);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->attributes().at("v").n(), "8");
  v1::DeleteItemRequest del;
  del.set_table_name("nbw");
  (*del.mutable_key())["pk"] = S("a");
  ASSERT_TRUE(service_->DeleteItemNonBlocking(del).ok());
  EXPECT_EQ(Describe("nbw").item_count(), 0);

  // The old item on disk only, caches cold: the write declines, and nothing
  // is written or charged; the blocking write then does it.
  ASSERT_TRUE(Put("nbw", {{"pk", S("b")}, {"v", N("1")}}).ok());
  for (const auto& cf : TableService::ColumnFamilies()) {
    ASSERT_TRUE(FromRocks(db_->raw()->Flush(rocksdb::FlushOptions(), db_->cf(cf))).ok());
  }
  Reopen();
  const double written = events_.Written("nbw");
  put.clear_condition_expression();
  *put.mutable_item() = Map({{"pk", S("b")}, {"v", N("2")}});
  EXPECT_TRUE(IsWouldBlock(service_->PutItemNonBlocking(put).status()));
  EXPECT_EQ(events_.Written("nbw"), written);
  v1::GetItemRequest get;
  get.set_table_name("nbw");
  (*get.mutable_key())["pk"] = S("b");
  EXPECT_EQ(service_->GetItem(get)->item().at("v").n(), "1");
  ASSERT_TRUE(service_->PutItem(put).ok());
  EXPECT_EQ(service_->GetItem(get)->item().at("v").n(), "2");
  EXPECT_EQ(Describe("nbw").item_count(), 1);
}

TEST_F(TableServiceTest, NonBlockingWritesRacingBlockingOnesLoseNoIncrement) {
  // What the gRPC face does: try the non-blocking write (it declines when
  // another thread holds the table's write lock), else the blocking one.
  Create("race");
  constexpr int kThreads = 4, kEach = 300;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      v1::UpdateItemRequest add;
      add.set_table_name("race");
      (*add.mutable_key())["pk"] = S("counter");
      add.set_update_expression("ADD n :one");
      (*add.mutable_expression_attribute_values())[":one"] = N("1");
      for (int i = 0; i < kEach; ++i) {
        absl::Status s = service_->UpdateItemNonBlocking(add).status();
        if (IsWouldBlock(s)) s = service_->UpdateItem(add).status();
        ASSERT_TRUE(s.ok()) << s;
      }
    });
  }
  for (auto& t : threads) t.join();
  v1::GetItemRequest get;
  get.set_table_name("race");
  (*get.mutable_key())["pk"] = S("counter");
  EXPECT_EQ(service_->GetItem(get)->item().at("n").n(), std::to_string(kThreads * kEach));
  EXPECT_EQ(Describe("race").item_count(), 1);
}

}  // namespace
}  // namespace thingtank::tables
