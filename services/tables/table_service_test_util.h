#pragma once

// Fixture for TableService tests: a temp-dir RocksDB, a manual clock and an
// inline executor, with small builders. No sleeps: time moves by Advance.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "services/common/clock.h"
#include "services/common/executor.h"
#include "services/common/status.h"
#include "services/common/storage/db.h"
#include "services/common/testing/status_matchers.h"
#include "services/common/testing/temp_db.h"
#include "services/tables/table_service.h"

namespace thingtank::tables {

// Records every domain event.
class RecordingEvents final : public TableEvents {
 public:
  void OnConsumed(const std::string& t, double r, double w) override {
    absl::MutexLock lock(&mu_);
    read_[t] += r;
    write_[t] += w;
  }
  void OnThrottled(const std::string& t) override { Add("throttled", t, 1); }
  void OnConditionalCheckFailed(const std::string& t) override { Add("ccf", t, 1); }
  void OnTtlDeleted(const std::string& t, int64_t n) override { Add("ttl", t, n); }
  int64_t Get(const std::string& kind, const std::string& t) {
    absl::MutexLock lock(&mu_);
    return counts_[kind + "/" + t];
  }
  double Written(const std::string& t) {
    absl::MutexLock lock(&mu_);
    return write_[t];
  }

 private:
  void Add(const std::string& kind, const std::string& t, int64_t n) {
    absl::MutexLock lock(&mu_);
    counts_[kind + "/" + t] += n;
  }
  absl::Mutex mu_;
  std::map<std::string, int64_t> counts_;
  std::map<std::string, double> read_, write_;
};

inline v1::AttributeValue S(const std::string& s) {
  v1::AttributeValue v;
  v.set_s(s);
  return v;
}
inline v1::AttributeValue N(const std::string& n) {
  v1::AttributeValue v;
  v.set_n(n);
  return v;
}
inline v1::AttributeValue B(const std::string& b) {
  v1::AttributeValue v;
  v.set_b(b);
  return v;
}

using Attrs = std::map<std::string, v1::AttributeValue>;
inline AttributeMap Map(const Attrs& attrs) {
  AttributeMap m;
  for (const auto& [k, v] : attrs) m[k] = v;
  return m;
}

class TableServiceTest
    : public TempDbServiceTest<TableService, RecordingEvents, TableServiceOptions> {
 protected:
  TableServiceTest() : TempDbServiceTest("tt_tables_") {}

  // Creates a table (hash key `pk`, optional range key `sk`) and waits until
  // it is ACTIVE. Types "S", "N" or "B"; empty range type: no range key.
  void Create(const std::string& name, const std::string& hash_type = "S",
              const std::string& range_type = "", int64_t rcu = 0, int64_t wcu = 0) {
    v1::CreateTableRequest r = CreateRequest(name, hash_type, range_type, rcu, wcu);
    auto created = service_->CreateTable(r);
    ASSERT_TRUE(created.ok()) << created.status();
    clock_.Advance(absl::Milliseconds(150));
  }
  // Turns time to live on for `table`, expiry in attribute `attribute`.
  void EnableTtl(const std::string& table, const std::string& attribute) {
    v1::UpdateTimeToLiveRequest ttl;
    ttl.set_table_name(table);
    ttl.mutable_time_to_live_specification()->set_enabled(true);
    ttl.mutable_time_to_live_specification()->set_attribute_name(attribute);
    auto enabled = service_->UpdateTimeToLive(ttl);
    ASSERT_TRUE(enabled.ok()) << enabled.status();
  }
  static v1::ScalarAttributeType Type(const std::string& t) {
    return t == "N" ? v1::SCALAR_ATTRIBUTE_TYPE_N
                    : (t == "B" ? v1::SCALAR_ATTRIBUTE_TYPE_B : v1::SCALAR_ATTRIBUTE_TYPE_S);
  }
  static v1::CreateTableRequest CreateRequest(const std::string& name,
                                              const std::string& hash_type = "S",
                                              const std::string& range_type = "",
                                              int64_t rcu = 0, int64_t wcu = 0) {
    v1::CreateTableRequest r;
    r.set_table_name(name);
    auto* h = r.add_key_schema();
    h->set_attribute_name("pk");
    h->set_key_type(v1::KEY_TYPE_HASH);
    auto* hd = r.add_attribute_definitions();
    hd->set_attribute_name("pk");
    hd->set_attribute_type(Type(hash_type));
    if (!range_type.empty()) {
      auto* k = r.add_key_schema();
      k->set_attribute_name("sk");
      k->set_key_type(v1::KEY_TYPE_RANGE);
      auto* d = r.add_attribute_definitions();
      d->set_attribute_name("sk");
      d->set_attribute_type(Type(range_type));
    }
    if (rcu > 0) {
      r.set_billing_mode(v1::BILLING_MODE_PROVISIONED);
      r.mutable_provisioned_throughput()->set_read_capacity_units(rcu);
      r.mutable_provisioned_throughput()->set_write_capacity_units(wcu);
    } else {
      r.set_billing_mode(v1::BILLING_MODE_PAY_PER_REQUEST);
    }
    return r;
  }

  absl::Status Put(const std::string& table, const Attrs& item, const std::string& condition = "",
                   const Attrs& values = {}) {
    v1::PutItemRequest r;
    r.set_table_name(table);
    *r.mutable_item() = Map(item);
    r.set_condition_expression(condition);
    *r.mutable_expression_attribute_values() = Map(values);
    return service_->PutItem(r).status();
  }
  // The item (empty map when absent); fails the test on error.
  AttributeMap Get(const std::string& table, const Attrs& key) {
    v1::GetItemRequest r;
    r.set_table_name(table);
    *r.mutable_key() = Map(key);
    auto got = service_->GetItem(r);
    EXPECT_TRUE(got.ok()) << got.status();
    return got.ok() ? got->item() : AttributeMap();
  }
  v1::TableDescription Describe(const std::string& table) {
    v1::DescribeTableRequest r;
    r.set_table_name(table);
    auto d = service_->DescribeTable(r);
    EXPECT_TRUE(d.ok()) << d.status();
    return d.ok() ? d->table() : v1::TableDescription();
  }
};

}  // namespace thingtank::tables
