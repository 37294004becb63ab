#pragma once

// Test fixtures: a temp directory, a RocksDB in it, a manual clock, and a
// service over both (TempDbServiceTest). Nothing here sleeps; time moves by
// clock_.Advance.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "services/common/clock.h"
#include "services/common/executor.h"
#include "services/common/storage/db.h"

namespace rocksdb {
class Env;
}

namespace thingtank {

// A fresh directory under the system temp directory, removed with everything
// in it on destruction. Crashes if it cannot be made (a broken test host).
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "tt_test_");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A fixture with a manual clock.
class ManualClockTest : public ::testing::Test {
 protected:
  ManualClock clock_;
};

// Opens a Db in a temp directory (column families `cfs`, optionally on a
// test Env such as FaultInjectionEnv's). For storage-level tests.
absl::StatusOr<std::unique_ptr<Db>> OpenTempDb(const TempDir& dir,
                                               std::vector<std::string> cfs = {},
                                               rocksdb::Env* env = nullptr);

// Fixture base: a service over a RocksDB in a fresh temp dir, with a manual
// clock, an inline executor and an events recorder. Open() opens the
// database and the service, Reopen() closes and reopens both (a restart),
// and the directory goes at the end. Set db_env_ before Open/Reopen to run on
// a test Env (e.g. FaultInjectionEnv).
//
// Service must have static ColumnFamilies() and
// static Open(Db*, Clock*, Executor*, Events*, Options) -> StatusOr<unique_ptr<Service>>.
template <typename Service, typename Events, typename Options>
class TempDbServiceTest : public ManualClockTest {
 protected:
  // `dir_prefix`: the temp directory's name before its random suffix.
  explicit TempDbServiceTest(std::string dir_prefix) : dir_prefix_(std::move(dir_prefix)) {}

  void SetUp() override {
    temp_dir_ = std::make_unique<TempDir>(dir_prefix_);
    dir_ = temp_dir_->path();
    Open();
  }
  void TearDown() override {
    service_.reset();
    db_.reset();
    temp_dir_.reset();
  }
  void Open() {
    auto db = OpenTempDb(*temp_dir_, Service::ColumnFamilies(), db_env_);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    auto service = Service::Open(db_.get(), &clock_, &executor_, &events_, options_);
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = *std::move(service);
  }
  // Closes and reopens the database and the service (a restart).
  void Reopen() {
    service_.reset();
    db_.reset();
    Open();
  }

  const std::string dir_prefix_;
  std::unique_ptr<TempDir> temp_dir_;
  std::string dir_;
  rocksdb::Env* db_env_ = nullptr;
  InlineExecutor executor_;
  Events events_;
  Options options_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<Service> service_;
};

}  // namespace thingtank
