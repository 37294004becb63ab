// Per-shard throughput limits on the manual clock.
#include "services/streams/streams_test_util.h"

namespace thingtank::streams {
namespace {

using ::testing::SizeIs;

v1::PutRecordsRequest Batch(int n, size_t bytes, const std::string& hash_key = "0") {
  v1::PutRecordsRequest r;
  r.set_stream_name("s");
  for (int i = 0; i < n; ++i) {
    auto* e = r.add_records();
    e->set_partition_key("k");
    e->set_explicit_hash_key(hash_key);  // the first shard
    e->set_data(std::string(bytes - 1, 'd'));  // + 1 byte of key
  }
  return r;
}

TEST_F(StreamsTest, WriteRecordsPerSecond) {
  Create("s", 1);
  auto first = service_->PutRecords(Batch(500, 10));
  auto second = service_->PutRecords(Batch(500, 10));
  auto third = service_->PutRecords(Batch(10, 10));
  ASSERT_THAT(first, IsOk());
  ASSERT_THAT(second, IsOk());
  ASSERT_THAT(third, IsOk());  // a partial failure is not a call failure
  EXPECT_EQ(first->failed_record_count(), 0);
  EXPECT_EQ(second->failed_record_count(), 0);
  EXPECT_EQ(third->failed_record_count(), 10);
  EXPECT_EQ(third->records(0).error_code(), "ProvisionedThroughputExceededException");
  EXPECT_EQ(third->records(0).sequence_number(), "");
  EXPECT_EQ(events_.throttled["PutRecords"], 10);
  // PutRecord alone fails the call, with RetryInfo.
  auto one = Put("s", "k", "x", "0");
  EXPECT_THAT(one, IsStatus(absl::StatusCode::kResourceExhausted, "ProvisionedThroughputExceededException"));
  clock_.Advance(absl::Milliseconds(10));  // refills 10 records
  auto refilled = service_->PutRecords(Batch(12, 10));
  ASSERT_THAT(refilled, IsOk());
  EXPECT_EQ(refilled->failed_record_count(), 2);
}

TEST_F(StreamsTest, WriteBytesPerSecond) {
  Create("s", 1);
  auto big = service_->PutRecords(Batch(4, 256 << 10));  // 1 MiB
  ASSERT_THAT(big, IsOk());
  EXPECT_EQ(big->failed_record_count(), 0);
  auto over = service_->PutRecords(Batch(1, 1024));
  ASSERT_THAT(over, IsOk());
  EXPECT_EQ(over->failed_record_count(), 1);
  clock_.Advance(absl::Seconds(1));
  auto again = service_->PutRecords(Batch(1, 1024));
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->failed_record_count(), 0);
}

TEST_F(StreamsTest, LimitsArePerShard) {
  Create("s", 2);
  auto low = service_->PutRecords(Batch(500, 10));
  ASSERT_THAT(low, IsOk());
  ASSERT_THAT(service_->PutRecords(Batch(500, 10)), IsOk());
  // The other shard has its own budget.
  auto other = Put("s", "x", "y", "340282366920938463463374607431768211455");
  EXPECT_THAT(other, IsOk());
}

TEST_F(StreamsTest, ReadCallsPerSecond) {
  Create("s", 1);
  const std::string it = Iterator("s", "shardId-000000000000", v1::SHARD_ITERATOR_TYPE_TRIM_HORIZON);
  for (int i = 0; i < 5; ++i) EXPECT_THAT(Get(it), IsOk()) << i;
  auto sixth = Get(it);
  EXPECT_THAT(sixth, IsStatus(absl::StatusCode::kResourceExhausted, "ProvisionedThroughputExceededException"));
  EXPECT_EQ(events_.throttled["GetRecords"], 1);
  clock_.Advance(absl::Milliseconds(200));
  EXPECT_THAT(Get(it), IsOk());
}

TEST_F(StreamsTest, ReadBytesPerSecondDelaysTheNextRead) {
  Create("s", 1);
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(absl::Seconds(1));
    ASSERT_THAT(service_->PutRecords(Batch(4, 256 << 10)), IsOk());  // 1 MiB a second
  }
  auto got = Get(Iterator("s", "shardId-000000000000", v1::SHARD_ITERATOR_TYPE_TRIM_HORIZON));
  ASSERT_THAT(got, IsOk());
  EXPECT_THAT(got->records(), SizeIs(12));  // 3 MiB in one call: the bucket goes 1 MiB into debt
  auto next = Get(got->next_shard_iterator());
  EXPECT_THAT(next, IsStatus(absl::StatusCode::kResourceExhausted, "ProvisionedThroughputExceededException"));
  clock_.Advance(absl::Milliseconds(600));  // the debt is paid after 0.5 s
  EXPECT_THAT(Get(got->next_shard_iterator()), IsOk());
}

TEST_F(StreamsTest, LimitsOff) {
  options_.limits = false;
  Reopen();
  Create("s", 1);
  for (int i = 0; i < 5; ++i) {
    auto out = service_->PutRecords(Batch(500, 100));
    ASSERT_THAT(out, IsOk());
    EXPECT_EQ(out->failed_record_count(), 0);
  }
  const std::string it = Iterator("s", "shardId-000000000000", v1::SHARD_ITERATOR_TYPE_TRIM_HORIZON);
  for (int i = 0; i < 20; ++i) ASSERT_THAT(Get(it), IsOk());
}

}  // namespace
}  // namespace thingtank::streams
