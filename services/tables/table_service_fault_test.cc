// TableService on a disk that fails writes on demand: a failed write leaves
// the old item and the table's counters as they are on disk (nothing
// half-applied), the call says UNAVAILABLE, and the next call once the disk is
// healthy works.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "services/common/testing/fault_injection_fs.h"
#include "services/tables/table_service_test_util.h"

namespace thingtank::tables {
namespace {

using absl::StatusCode;
using ::testing::HasSubstr;

class TableFaultTest : public TableServiceTest {
 protected:
  TableFaultTest() { db_env_ = fault_.env(); }

  static void ExpectDiskFault(const absl::Status& s) {
    EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr("injected write fault"));
  }
  std::string V(const std::string& table, const std::string& pk) {
    AttributeMap item = Get(table, {{"pk", S(pk)}});
    auto it = item.find("v");
    return it == item.end() ? "<absent>" : it->second.s();
  }

  FaultInjectionEnv fault_;  // outlives db_: TearDown closes it first
};

TEST_F(TableFaultTest, FailedPutLeavesTheOldItemAndTheCount) {
  Create("tbl");
  ASSERT_TRUE(Put("tbl", {{"pk", S("a")}, {"v", S("old")}}).ok());
  const int64_t size = Describe("tbl").table_size_bytes();

  fault_.FailWrites(true);
  ExpectDiskFault(Put("tbl", {{"pk", S("a")}, {"v", S("new, and longer than the old")}}));
  ExpectDiskFault(Put("tbl", {{"pk", S("b")}, {"v", S("lost")}}));
  // The reactor-thread path hands a failing disk to the blocking path, which
  // is where RocksDB may be resumed.
  v1::PutItemRequest put;
  put.set_table_name("tbl");
  *put.mutable_item() = Map({{"pk", S("c")}, {"v", S("lost")}});
  const absl::Status fast = service_->PutItemNonBlocking(put).status();
  EXPECT_TRUE(IsWouldBlock(fast)) << fast;
  v1::DeleteItemRequest del;
  del.set_table_name("tbl");
  (*del.mutable_key())["pk"] = S("a");
  ExpectDiskFault(service_->DeleteItem(del).status());
  EXPECT_GT(fault_.fs().injected_failures(), 0);
  fault_.FailWrites(false);

  EXPECT_EQ(V("tbl", "a"), "old");
  EXPECT_EQ(V("tbl", "b"), "<absent>");
  EXPECT_EQ(V("tbl", "c"), "<absent>");
  EXPECT_EQ(Describe("tbl").item_count(), 1);
  EXPECT_EQ(Describe("tbl").table_size_bytes(), size);

  // The next call works, and disk and memory agree after a restart.
  ASSERT_TRUE(Put("tbl", {{"pk", S("b")}, {"v", S("after")}}).ok());
  EXPECT_EQ(Describe("tbl").item_count(), 2);
  Reopen();
  EXPECT_EQ(V("tbl", "a"), "old");
  EXPECT_EQ(V("tbl", "b"), "after");
  EXPECT_EQ(Describe("tbl").item_count(), 2);
}

}  // namespace
}  // namespace thingtank::tables
