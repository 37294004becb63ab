#include "services/common/testing/fault_injection_fs.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "services/common/storage/db.h"
#include "services/common/testing/status_matchers.h"
#include "services/common/testing/temp_db.h"

namespace thingtank {
namespace {

using ::testing::HasSubstr;

TEST(FaultInjectionEnvTest, FailedWriteIsNotAppliedAndTheNextWriteWorks) {
  TempDir dir;
  FaultInjectionEnv fault;
  auto db = OpenTempDb(dir, {"data"}, fault.env());
  ASSERT_THAT(db, IsOk());
  rocksdb::ColumnFamilyHandle* cf = (*db)->cf("data");
  ASSERT_THAT((*db)->Put(cf, "a", "1"), IsOk());

  fault.FailWrites(true);
  const absl::Status failed = (*db)->Put(cf, "b", "2");
  EXPECT_EQ(failed.code(), absl::StatusCode::kUnavailable) << failed;
  EXPECT_THAT(std::string(failed.message()), HasSubstr("injected write fault"));
  EXPECT_GT(fault.fs().injected_failures(), 0);

  fault.FailWrites(false);
  auto b = (*db)->Get(cf, "b");
  ASSERT_THAT(b, IsOk());
  EXPECT_FALSE(b->has_value());
  EXPECT_THAT((*db)->Put(cf, "c", "3"), IsOk());
  auto c = (*db)->Get(cf, "c");
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->value_or(""), "3");

  // And it all survives a reopen.
  db->reset();
  db = OpenTempDb(dir, {"data"}, fault.env());
  ASSERT_THAT(db, IsOk());
  cf = (*db)->cf("data");
  EXPECT_EQ((*db)->Get(cf, "a")->value_or(""), "1");
  EXPECT_FALSE((*db)->Get(cf, "b")->has_value());
  EXPECT_EQ((*db)->Get(cf, "c")->value_or(""), "3");
}

}  // namespace
}  // namespace thingtank
