// A fixture for the streams domain's unit tests: a real RocksDB in a temp
// dir, a manual clock, and an executor that runs queued work only when the
// test says (Settle), so every step is deterministic.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/testing/status_matchers.h"
#include "services/common/testing/temp_db.h"
#include "services/streams/stream_service.h"

namespace thingtank::streams {

// Queues posted work; Run() runs it on the test's thread.
class QueueExecutor final : public Executor {
 public:
  bool Post(std::function<void()> fn) override {
    absl::MutexLock lock(&mu_);
    queue_.push_back(std::move(fn));
    return true;
  }
  // Runs everything queued, including what that queues; false if nothing ran.
  bool Run() {
    bool ran = false;
    while (true) {
      std::function<void()> fn;
      {
        absl::MutexLock lock(&mu_);
        if (queue_.empty()) return ran;
        fn = std::move(queue_.front());
        queue_.pop_front();
      }
      fn();
      ran = true;
    }
  }

 private:
  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_;
};

class RecordingEvents final : public StreamEvents {
 public:
  void OnPut(const std::string& stream, int64_t records, int64_t bytes) override {
    absl::MutexLock lock(&mu_);
    put_records += records;
    put_bytes += bytes;
  }
  void OnRead(const std::string&, int64_t records, int64_t, int64_t, bool) override {
    absl::MutexLock lock(&mu_);
    read_records += records;
  }
  void OnThrottled(const std::string&, const char* op) override {
    absl::MutexLock lock(&mu_);
    ++throttled[op];
  }
  void OnSubscriptions(int delta) override {
    absl::MutexLock lock(&mu_);
    subscriptions += delta;
  }
  absl::Mutex mu_;
  int64_t put_records = 0, put_bytes = 0, read_records = 0;
  int subscriptions = 0;
  std::map<std::string, int> throttled;
};

class StreamsTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void TearDown() override {
    service_.reset();
    db_.reset();
  }
  void Open() {
    auto db = OpenTempDb(dir_, StreamService::ColumnFamilies());
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    auto service = StreamService::Open(db_.get(), &clock_, &executor_, &events_, options_);
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = *std::move(service);
  }
  void Reopen() {
    service_.reset();
    executor_.Run();
    db_.reset();
    Open();
  }
  // Runs due timers and queued work until nothing is left.
  void Settle() {
    do {
      clock_.RunDue();
    } while (executor_.Run());
  }
  // Moves the clock and settles.
  void Advance(absl::Duration d) {
    clock_.Advance(d);
    Settle();
  }

  // A stream, ACTIVE.
  void Create(const std::string& name, int shards) {
    v1::CreateStreamRequest r;
    r.set_stream_name(name);
    r.set_shard_count(shards);
    ASSERT_THAT(service_->CreateStream(r), IsOk());
    Advance(options_.transition);
    ASSERT_EQ(Summary(name).stream_status(), v1::STREAM_STATUS_ACTIVE);
  }
  v1::StreamDescriptionSummary Summary(const std::string& name) {
    v1::DescribeStreamSummaryRequest r;
    r.set_stream_name(name);
    auto out = service_->DescribeStreamSummary(r);
    EXPECT_THAT(out, IsOk());
    return out.ok() ? out->stream_description_summary() : v1::StreamDescriptionSummary();
  }
  std::vector<v1::Shard> Shards(const std::string& name) {
    v1::ListShardsRequest r;
    r.set_stream_name(name);
    auto out = service_->ListShards(r);
    EXPECT_THAT(out, IsOk());
    return out.ok() ? std::vector<v1::Shard>(out->shards().begin(), out->shards().end()) : std::vector<v1::Shard>();
  }
  absl::StatusOr<v1::PutRecordResponse> Put(const std::string& name, const std::string& key, const std::string& data,
                                            const std::string& explicit_hash_key = "") {
    v1::PutRecordRequest r;
    r.set_stream_name(name);
    r.set_partition_key(key);
    r.set_data(data);
    r.set_explicit_hash_key(explicit_hash_key);
    return service_->PutRecord(r);
  }
  std::string Iterator(const std::string& name, const std::string& shard, v1::ShardIteratorType type,
                       const std::string& sequence = "") {
    v1::GetShardIteratorRequest r;
    r.set_stream_name(name);
    r.set_shard_id(shard);
    r.set_shard_iterator_type(type);
    r.set_starting_sequence_number(sequence);
    auto out = service_->GetShardIterator(r);
    EXPECT_THAT(out, IsOk());
    return out.ok() ? out->shard_iterator() : "";
  }
  absl::StatusOr<v1::GetRecordsResponse> Get(const std::string& iterator, int limit = 0) {
    v1::GetRecordsRequest r;
    r.set_shard_iterator(iterator);
    r.set_limit(limit);
    return service_->GetRecords(r);
  }
  // Every record's data from TRIM_HORIZON to the end of a shard.
  std::vector<std::string> ReadAll(const std::string& name, const std::string& shard) {
    std::vector<std::string> out;
    std::string it = Iterator(name, shard, v1::SHARD_ITERATOR_TYPE_TRIM_HORIZON);
    for (int i = 0; i < 100 && !it.empty(); ++i) {
      auto page = Get(it);
      EXPECT_THAT(page, IsOk());
      if (!page.ok()) break;
      for (const auto& rec : page->records()) out.push_back(rec.data());
      if (page->records().empty()) break;
      it = page->next_shard_iterator();
    }
    return out;
  }

  TempDir dir_{"tt_streams_"};
  ManualClock clock_{absl::FromUnixSeconds(1'760'000'000)};
  QueueExecutor executor_;
  RecordingEvents events_;
  StreamsOptions options_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<StreamService> service_;
};

}  // namespace thingtank::streams
