#pragma once

// Test-only fixture base: a service over a RocksDB in a fresh temp dir, with a
// manual clock, an inline executor and an events recorder. Open() opens the
// database and the service, Reopen() closes and reopens both (a restart), and
// TearDown removes the directory.
//
// Service must have static ColumnFamilies() and
// static Open(Db*, Clock*, Executor*, Events*, Options) -> StatusOr<unique_ptr<Service>>.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>

#include "services/common/clock.h"
#include "services/common/executor.h"
#include "services/common/storage/db.h"

namespace thingtank {

template <typename Service, typename Events, typename Options>
class TempDbServiceTest : public ::testing::Test {
 protected:
  // `dir_prefix`: the temp directory's name before its random suffix.
  explicit TempDbServiceTest(std::string dir_prefix) : dir_prefix_(std::move(dir_prefix)) {}

  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / (dir_prefix_ + "XXXXXX")).string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    Open();
  }
  void TearDown() override {
    service_.reset();
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open() {
    Db::Options o;
    o.path = dir_;
    o.column_families = Service::ColumnFamilies();
    auto db = Db::Open(o);
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
  std::string dir_;
  ManualClock clock_;
  InlineExecutor executor_;
  Events events_;
  Options options_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<Service> service_;
};

}  // namespace thingtank
