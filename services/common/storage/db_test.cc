#include "services/common/storage/db.h"

#include <filesystem>
#include <random>

#include "gtest/gtest.h"
#include "services/common/status.h"

namespace thingtank {
namespace {

class DbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tt_db_test_" + std::to_string(std::random_device()()));
    Open();
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open() {
    db_.reset();
    auto db = Db::Open({dir_.string(), {"data"}, false});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
  }
  std::filesystem::path dir_;
  std::unique_ptr<Db> db_;
};

TEST_F(DbTest, NonBlockingGetServesMemoryAndSaysWhenItWouldReadAFile) {
  ASSERT_TRUE(db_->Put(db_->cf("data"), "k", "v").ok());
  // In the memtable: answered without blocking.
  auto from_memtable = db_->Get(db_->cf("data"), "k", /*non_blocking=*/true);
  ASSERT_TRUE(from_memtable.ok()) << from_memtable.status();
  EXPECT_EQ(**from_memtable, "v");

  // Flushed to a file and reopened (cold caches): the non-blocking read would
  // have to read the file, so it says so instead.
  ASSERT_TRUE(FromRocks(db_->raw()->Flush(rocksdb::FlushOptions(), db_->cf("data"))).ok());
  Open();
  auto cold = db_->Get(db_->cf("data"), "k", /*non_blocking=*/true);
  EXPECT_TRUE(IsWouldBlock(cold.status())) << cold.status();

  // A blocking read loads it; then it is in the block cache.
  auto blocking = db_->Get(db_->cf("data"), "k");
  ASSERT_TRUE(blocking.ok()) << blocking.status();
  EXPECT_EQ(**blocking, "v");
  auto warm = db_->Get(db_->cf("data"), "k", /*non_blocking=*/true);
  ASSERT_TRUE(warm.ok()) << warm.status();
  EXPECT_EQ(**warm, "v");
}

TEST_F(DbTest, MissingKeyIsNulloptNotAnError) {
  auto missing = db_->Get(db_->cf("data"), "nope", /*non_blocking=*/true);
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_FALSE(missing->has_value());
}

TEST_F(DbTest, NonBlockingWriteLandsUnlessWritesAreSynced) {
  rocksdb::WriteBatch batch;
  batch.Put(db_->cf("data"), "k", "v");
  ASSERT_TRUE(db_->Write(&batch, /*non_blocking=*/true).ok());
  auto got = db_->Get(db_->cf("data"), "k");
  ASSERT_TRUE(got.ok() && got->has_value()) << got.status();
  EXPECT_EQ(**got, "v");

  // With fsync on every write there is no non-blocking write: nothing lands.
  db_.reset();
  auto synced = Db::Open({dir_.string(), {"data"}, /*sync_writes=*/true});
  ASSERT_TRUE(synced.ok()) << synced.status();
  rocksdb::WriteBatch second;
  second.Put((*synced)->cf("data"), "k2", "v2");
  EXPECT_TRUE(IsWouldBlock((*synced)->Write(&second, /*non_blocking=*/true)));
  auto absent = (*synced)->Get((*synced)->cf("data"), "k2");
  ASSERT_TRUE(absent.ok()) << absent.status();
  EXPECT_FALSE(absent->has_value());
}

TEST(WouldBlockTest, OnlyTheMarkedStatusCounts) {
  EXPECT_TRUE(IsWouldBlock(WouldBlock()));
  EXPECT_FALSE(IsWouldBlock(absl::UnavailableError("would block on storage")));
  EXPECT_FALSE(IsWouldBlock(absl::OkStatus()));
}

}  // namespace
}  // namespace thingtank
