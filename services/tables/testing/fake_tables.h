// In-memory tables on a FakeBackend, for the tests of services that write to
// tables (the wamp rules; later compute, objects, streams) without running
// the tables domain. It answers CreateTable (ACTIVE at once), DescribeTable
// and PutItem with the tables service's error names
// (ResourceNotFoundException, ResourceInUseException, ValidationException for
// a missing or mistyped key attribute); Items() shows what was put.
// Deliberately simple: no expressions, no capacity, no indexes.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "services/common/testing/fake_backend.h"
#include "thingtank/tables/v1/tables.pb.h"

namespace thingtank::tables {

class FakeTables {
 public:
  using Item = google::protobuf::Map<std::string, v1::AttributeValue>;

  // Registers the handlers on `backend`, which must outlive this object's use.
  explicit FakeTables(FakeBackend* backend);
  FakeTables(const FakeTables&) = delete;
  FakeTables& operator=(const FakeTables&) = delete;

  // The items of `table` in key order (empty when it does not exist).
  std::vector<Item> Items(const std::string& table) const;

 private:
  struct Table {
    v1::TableDescription description;
    std::map<std::string, Item> items;  // by the serialized key attributes
  };

  mutable absl::Mutex mu_;
  std::map<std::string, Table> tables_ ABSL_GUARDED_BY(mu_);
};

}  // namespace thingtank::tables
