#include <set>

#include <gtest/gtest.h>

#include "services/tables/table_service_test_util.h"

namespace thingtank::tables {
namespace {

using absl::StatusCode;

class QueryTest : public TableServiceTest {
 protected:
  v1::QueryRequest Q(const std::string& range_condition = "", const Attrs& values = {}) {
    v1::QueryRequest q;
    q.set_table_name("tbl");
    q.set_key_condition_expression("pk = :h" +
                                   (range_condition.empty() ? "" : " AND " + range_condition));
    (*q.mutable_expression_attribute_values())[":h"] = S("dev");
    for (const auto& [k, v] : values) (*q.mutable_expression_attribute_values())[k] = v;
    return q;
  }
  static std::vector<std::string> RangeKeys(const v1::QueryResponse& r) {
    std::vector<std::string> out;
    for (const auto& item : r.items()) out.push_back(item.attributes().at("sk").n());
    return out;
  }
};

TEST_F(QueryTest, NumberRangeKeysSortNumerically) {
  Create("tbl", "S", "N");
  for (const char* n : {"10", "2", "-5", "1", "1.5", "-10", "100"}) {
    ASSERT_TRUE(Put("tbl", {{"pk", S("dev")}, {"sk", N(n)}, {"v", N(n)}}).ok());
  }
  ASSERT_TRUE(Put("tbl", {{"pk", S("other")}, {"sk", N("3")}}).ok());
  auto r = service_->Query(Q());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(RangeKeys(*r),
            (std::vector<std::string>{"-10", "-5", "1", "1.5", "2", "10", "100"}));
  auto q = Q();
  q.set_scan_index_forward(false);
  r = service_->Query(q);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(RangeKeys(*r).front(), "100");

  r = service_->Query(Q("sk BETWEEN :a AND :b", {{":a", N("-5")}, {":b", N("2")}}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(RangeKeys(*r), (std::vector<std::string>{"-5", "1", "1.5", "2"}));
  r = service_->Query(Q("sk > :a", {{":a", N("2")}}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(RangeKeys(*r), (std::vector<std::string>{"10", "100"}));
  r = service_->Query(Q("sk <= :a", {{":a", N("-5")}}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(RangeKeys(*r), (std::vector<std::string>{"-10", "-5"}));
  r = service_->Query(Q("sk = :a", {{":a", N("1.50")}}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(RangeKeys(*r), (std::vector<std::string>{"1.5"}));
  // Conjuncts in either order.
  auto swapped = Q("", {{":a", N("-5")}});
  swapped.set_key_condition_expression("sk = :a AND pk = :h");
  r = service_->Query(swapped);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(RangeKeys(*r), (std::vector<std::string>{"-5"}));
  swapped.set_key_condition_expression("sk < :a AND pk = :h");
  r = service_->Query(swapped);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(RangeKeys(*r), (std::vector<std::string>{"-10"}));
}

TEST_F(QueryTest, PaginationFilterCountProjection) {
  Create("tbl", "S", "N");
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(Put("tbl", {{"pk", S("dev")}, {"sk", N(std::to_string(i))},
                          {"even", N(std::to_string(i % 2))}, {"pad", S("x")}})
                    .ok());
  }
  std::vector<std::string> seen;
  auto q = Q();
  q.set_limit(3);
  int pages = 0;
  while (true) {
    auto r = service_->Query(q);
    ASSERT_TRUE(r.ok()) << r.status();
    ++pages;
    for (const auto& s : RangeKeys(*r)) seen.push_back(s);
    if (r->last_evaluated_key().empty()) break;
    *q.mutable_exclusive_start_key() = r->last_evaluated_key();
  }
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(pages, 4);

  auto f = Q("", {{":z", N("0")}});
  f.set_filter_expression("even = :z");
  f.set_limit(4);
  auto r = service_->Query(f);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->scanned_count(), 4);
  EXPECT_EQ(r->count(), 2);
  EXPECT_FALSE(r->last_evaluated_key().empty());

  auto c = Q();
  c.set_select(v1::SELECT_COUNT);
  r = service_->Query(c);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->count(), 10);
  EXPECT_EQ(r->items_size(), 0);

  auto p = Q();
  p.set_projection_expression("sk");
  r = service_->Query(p);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->items(0).attributes().size(), 1u);
}

TEST_F(QueryTest, KeyConditionErrors) {
  Create("tbl", "S", "S");
  ASSERT_TRUE(Put("tbl", {{"pk", S("dev")}, {"sk", S("2024-01-02")}}).ok());
  ASSERT_TRUE(Put("tbl", {{"pk", S("dev")}, {"sk", S("2023-12-31")}}).ok());
  auto r = service_->Query(Q("begins_with(sk, :p)", {{":p", S("2024")}}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->count(), 1);
  v1::QueryRequest wrong_key;
  wrong_key.set_table_name("tbl");
  wrong_key.set_key_condition_expression("sk = :h");
  (*wrong_key.mutable_expression_attribute_values())[":h"] = S("x");
  EXPECT_THAT(service_->Query(wrong_key).status(),
              IsStatus(StatusCode::kInvalidArgument, "ValidationException",
                       "key_condition_expression"));
  auto wrong_type = Q();
  (*wrong_type.mutable_expression_attribute_values())[":h"] = N("1");
  EXPECT_THAT(service_->Query(wrong_type).status(),
              IsStatus(StatusCode::kInvalidArgument, "ValidationException",
                       "key_condition_expression"));
}

TEST_F(QueryTest, ScanSegmentsCoverTheTableExactlyOnce) {
  Create("tbl", "S", "N");
  for (int i = 0; i < 60; ++i) {
    ASSERT_TRUE(
        Put("tbl", {{"pk", S("dev" + std::to_string(i % 7))}, {"sk", N(std::to_string(i))}}).ok());
  }
  std::multiset<std::string> seen;
  for (int seg = 0; seg < 4; ++seg) {
    v1::ScanRequest s;
    s.set_table_name("tbl");
    s.set_segment(seg);
    s.set_total_segments(4);
    s.set_limit(5);
    while (true) {
      auto r = service_->Scan(s);
      ASSERT_TRUE(r.ok()) << r.status();
      for (const auto& item : r->items()) {
        seen.insert(item.attributes().at("pk").s() + "/" + item.attributes().at("sk").n());
      }
      if (r->last_evaluated_key().empty()) break;
      *s.mutable_exclusive_start_key() = r->last_evaluated_key();
    }
  }
  EXPECT_EQ(seen.size(), 60u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 60u);
  v1::ScanRequest bad;
  bad.set_table_name("tbl");
  bad.set_segment(4);
  bad.set_total_segments(4);
  EXPECT_THAT(service_->Scan(bad).status(),
              IsStatus(StatusCode::kInvalidArgument, "ValidationException", "segment"));
  bad.set_total_segments(1000001);
  EXPECT_THAT(service_->Scan(bad).status(),
              IsStatus(StatusCode::kInvalidArgument, "ValidationException", "total_segments"));
}

TEST_F(QueryTest, NonBlockingQueryServesMemoryOrSaysItWouldBlock) {
  Create("tbl", "S", "N");
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Put("tbl", {{"pk", S("dev")}, {"sk", N(std::to_string(i))}}).ok());
  }
  auto hot = service_->QueryEncoded(Q(), /*non_blocking=*/true);
  ASSERT_TRUE(hot.ok()) << hot.status();
  EXPECT_EQ(hot->head.count(), 3);

  // Errors that need no disk come as they are.
  auto bad = Q();
  bad.set_limit(-1);
  EXPECT_EQ(service_->QueryEncoded(bad, true).status().code(), StatusCode::kInvalidArgument);

  // A page over 256 KiB is left to the executor, even from memory.
  const std::string big(100 * 1024, 'x');
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        Put("tbl", {{"pk", S("big")}, {"sk", N(std::to_string(i))}, {"data", S(big)}}).ok());
  }
  auto q = Q();
  (*q.mutable_expression_attribute_values())[":h"] = S("big");
  EXPECT_TRUE(IsWouldBlock(service_->QueryEncoded(q, true).status()));
  auto blocking = service_->Query(q);
  ASSERT_TRUE(blocking.ok()) << blocking.status();
  EXPECT_EQ(blocking->count(), 3);

  // On disk only, caches cold: it declines, charging nothing.
  for (const auto& cf : TableService::ColumnFamilies()) {
    ASSERT_TRUE(FromRocks(db_->raw()->Flush(rocksdb::FlushOptions(), db_->cf(cf))).ok());
  }
  Reopen();
  EXPECT_TRUE(IsWouldBlock(service_->QueryEncoded(Q(), true).status()));
  auto cold = service_->Query(Q());
  ASSERT_TRUE(cold.ok()) << cold.status();
  EXPECT_EQ(cold->count(), 3);
}

}  // namespace
}  // namespace thingtank::tables
