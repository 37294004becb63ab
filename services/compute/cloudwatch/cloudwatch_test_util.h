#pragma once

// Fixtures of the CloudWatch tests: a RocksDB in a temp dir, a manual clock at
// 2026-02-12 10:00:00 UTC, the metric store, the alarms and a recording sink.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "services/common/status.h"
#include "services/common/testing/status_matchers.h"
#include "services/common/testing/temp_db.h"
#include "services/compute/cloudwatch/alarms.h"
#include "services/compute/cloudwatch/metric_store.h"
#include "services/compute/proto_time.h"

namespace thingtank::compute {

inline absl::Time T0() {
  return absl::FromCivil(absl::CivilSecond(2026, 2, 12, 10, 0, 0), absl::UTCTimeZone());
}

// Refuses ARNs containing "missing"; repeats arn:aws:autoscaling: ARNs;
// fails actions whose ARN contains "fail".
class RecordingSink : public AlarmActionSink {
 public:
  struct Run {
    std::string arn;
    AlarmActionEvent event;
  };
  absl::Status CheckAction(const std::string& arn) override {
    if (absl::StrContains(arn, "missing")) {
      return ErrorWithReason(absl::StatusCode::kInvalidArgument, "ValidationError",
                             "the scaling policy does not exist");
    }
    return absl::OkStatus();
  }
  bool RepeatsWhileInAlarm(const std::string& arn) override {
    return absl::StartsWith(arn, "arn:aws:autoscaling:");
  }
  absl::Status RunAction(const std::string& arn, const AlarmActionEvent& event) override {
    absl::MutexLock l(&mu_);
    runs_.push_back({arn, event});
    if (absl::StrContains(arn, "fail")) return absl::UnavailableError("policy unreachable");
    return absl::OkStatus();
  }
  std::vector<Run> TakeRuns() {
    absl::MutexLock l(&mu_);
    return std::exchange(runs_, {});
  }

 private:
  absl::Mutex mu_;
  std::vector<Run> runs_ ABSL_GUARDED_BY(mu_);
};

class CloudWatchTest : public ::testing::Test {
 protected:
  CloudWatchTest() : clock_(T0()) {}
  void SetUp() override {
    dir_ = std::make_unique<TempDir>("tt_cloudwatch_");
    Open();
  }
  void TearDown() override { Close(); }

  void Open() {
    std::vector<std::string> cfs = MetricStore::ColumnFamilies();
    for (auto& cf : Alarms::ColumnFamilies()) cfs.push_back(cf);
    auto db = OpenTempDb(*dir_, cfs);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    auto store = MetricStore::Open(db_.get(), &clock_, store_options_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    auto alarms = Alarms::Open(db_.get(), &clock_, store_.get(), &sink_, alarm_options_);
    ASSERT_TRUE(alarms.ok()) << alarms.status();
    alarms_ = *std::move(alarms);
  }
  void Close() {
    alarms_.reset();
    store_.reset();
    db_.reset();
  }
  void Reopen() {
    Close();
    Open();
  }

  static v1::MetricDatum Datum(const std::string& name, double value, absl::Time t,
                               std::vector<std::pair<std::string, std::string>> dims = {}) {
    v1::MetricDatum d;
    d.set_metric_name(name);
    d.set_value(value);
    *d.mutable_timestamp() = ToProto(t);
    for (auto& [n, v] : dims) {
      auto* dim = d.add_dimensions();
      dim->set_name(n);
      dim->set_value(v);
    }
    return d;
  }
  // Puts one value of "App"/name at t.
  void PutValue(const std::string& name, double value, absl::Time t,
                std::vector<std::pair<std::string, std::string>> dims = {},
                const std::string& ns = "App") {
    v1::PutMetricDataRequest r;
    r.set_namespace_(ns);
    *r.add_metric_data() = Datum(name, value, t, std::move(dims));
    ASSERT_THAT(store_->PutInternal(r), IsOk());
  }

  ManualClock clock_;
  std::unique_ptr<TempDir> dir_;
  MetricStoreOptions store_options_;
  AlarmOptions alarm_options_;
  RecordingSink sink_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<MetricStore> store_;
  std::unique_ptr<Alarms> alarms_;
};

}  // namespace thingtank::compute
