// Streams, records, iterators, routing, retention and restarts, on a manual clock.
#include <set>

#include "services/streams/core/hash_key.h"
#include "services/streams/core/sequence_number.h"
#include "services/streams/stream_state.h"
#include "services/streams/streams_test_util.h"

namespace thingtank::streams {
namespace {

using ::testing::ElementsAre;
using ::testing::SizeIs;

TEST_F(StreamsTest, CreatingThenActiveAndDataCallsWaitForIt) {
  v1::CreateStreamRequest r;
  r.set_stream_name("temperature");
  r.set_shard_count(1);
  ASSERT_THAT(service_->CreateStream(r), IsOk());
  EXPECT_EQ(Summary("temperature").stream_status(), v1::STREAM_STATUS_CREATING);
  EXPECT_THAT(Put("temperature", "IoTExample", "x"),
              IsStatus(absl::StatusCode::kNotFound, "ResourceNotFoundException"));
  EXPECT_THAT(service_->CreateStream(r), IsStatus(absl::StatusCode::kFailedPrecondition, "ResourceInUseException"));
  Advance(options_.transition);
  EXPECT_EQ(Summary("temperature").stream_status(), v1::STREAM_STATUS_ACTIVE);
  EXPECT_EQ(Summary("temperature").open_shard_count(), 1);
  EXPECT_THAT(Put("temperature", "IoTExample", "x"), IsOk());
}

TEST_F(StreamsTest, BadInputNamesTheField) {
  v1::CreateStreamRequest r;
  r.set_stream_name("bad name!");
  r.set_shard_count(1);
  EXPECT_THAT(service_->CreateStream(r),
              IsStatus(absl::StatusCode::kInvalidArgument, "InvalidArgumentException", "stream_name"));
  r.set_stream_name("ok");
  r.set_shard_count(0);
  EXPECT_THAT(service_->CreateStream(r),
              IsStatus(absl::StatusCode::kInvalidArgument, "InvalidArgumentException", "shard_count"));
  Create("s", 1);
  EXPECT_THAT(Put("s", "", "x"),
              IsStatus(absl::StatusCode::kInvalidArgument, "InvalidArgumentException", "partition_key"));
  EXPECT_THAT(Put("s", std::string(257, 'k'), "x"),
              IsStatus(absl::StatusCode::kInvalidArgument, "InvalidArgumentException", "partition_key"));
  EXPECT_THAT(Put("s", "k", std::string((1 << 20) - 0, 'd')),
              IsStatus(absl::StatusCode::kInvalidArgument, "InvalidArgumentException", "data"));
  EXPECT_THAT(Put("s", "k", "x", "340282366920938463463374607431768211456"),  // 2^128
              IsStatus(absl::StatusCode::kInvalidArgument, "InvalidArgumentException", "explicit_hash_key"));
  v1::PutRecordsRequest many;
  many.set_stream_name("s");
  for (int i = 0; i < 501; ++i) {
    auto* e = many.add_records();
    e->set_partition_key("k");
    e->set_data("d");
  }
  EXPECT_THAT(service_->PutRecords(many),
              IsStatus(absl::StatusCode::kInvalidArgument, "InvalidArgumentException", "records"));
  many.mutable_records()->DeleteSubrange(0, 499);
  many.mutable_records(1)->set_partition_key("");
  EXPECT_THAT(service_->PutRecords(many),
              IsStatus(absl::StatusCode::kInvalidArgument, "InvalidArgumentException", "records[1].partition_key"));
  EXPECT_THAT(Get("not-an-iterator"),
              IsStatus(absl::StatusCode::kInvalidArgument, "InvalidArgumentException", "shard_iterator"));
  EXPECT_EQ(ReadAll("s", "shardId-000000000000"), std::vector<std::string>{});  // nothing was written
}

TEST_F(StreamsTest, SequenceNumbersIncreaseAndIteratorsPosition) {
  options_.limits = false;  // many reads in a second
  Reopen();
  Create("s", 1);
  std::vector<std::string> seqs;
  for (int i = 0; i < 5; ++i) {
    auto put = Put("s", "IoTExample", "r" + std::to_string(i));
    ASSERT_THAT(put, IsOk());
    EXPECT_EQ(put->shard_id(), "shardId-000000000000");
    seqs.push_back(put->sequence_number());
    if (i == 2) clock_.Advance(absl::Seconds(1));
  }
  for (size_t i = 1; i < seqs.size(); ++i) {
    EXPECT_LT(CompareSequenceNumbers(seqs[i - 1], seqs[i]), 0) << i;
    EXPECT_LT(seqs[i - 1], seqs[i]);  // fixed width: string order too
  }
  EXPECT_EQ(ReadAll("s", "shardId-000000000000"), (std::vector<std::string>{"r0", "r1", "r2", "r3", "r4"}));
  auto at = Get(Iterator("s", "shardId-000000000000", v1::SHARD_ITERATOR_TYPE_AT_SEQUENCE_NUMBER, seqs[3]));
  ASSERT_THAT(at, IsOk());
  ASSERT_THAT(at->records(), SizeIs(2));
  EXPECT_EQ(at->records(0).data(), "r3");
  auto after = Get(Iterator("s", "shardId-000000000000", v1::SHARD_ITERATOR_TYPE_AFTER_SEQUENCE_NUMBER, seqs[3]));
  ASSERT_THAT(after, IsOk());
  ASSERT_THAT(after->records(), SizeIs(1));
  EXPECT_EQ(after->records(0).data(), "r4");
  EXPECT_EQ(after->millis_behind_latest(), 0);
  // LATEST sees only what comes after it; the next iterator continues.
  auto latest = Get(Iterator("s", "shardId-000000000000", v1::SHARD_ITERATOR_TYPE_LATEST));
  ASSERT_THAT(latest, IsOk());
  EXPECT_THAT(latest->records(), SizeIs(0));
  ASSERT_THAT(Put("s", "IoTExample", "r5"), IsOk());
  auto next = Get(latest->next_shard_iterator());
  ASSERT_THAT(next, IsOk());
  ASSERT_THAT(next->records(), SizeIs(1));
  EXPECT_EQ(next->records(0).data(), "r5");
  // A limit pages, with MillisBehindLatest while behind.
  auto page = Get(Iterator("s", "shardId-000000000000", v1::SHARD_ITERATOR_TYPE_TRIM_HORIZON), 2);
  ASSERT_THAT(page, IsOk());
  EXPECT_THAT(page->records(), SizeIs(2));
  EXPECT_EQ(page->millis_behind_latest(), 1000);
  // A sequence number of another shard or form is refused.
  v1::GetShardIteratorRequest bad;
  bad.set_stream_name("s");
  bad.set_shard_id("shardId-000000000000");
  bad.set_shard_iterator_type(v1::SHARD_ITERATOR_TYPE_AT_SEQUENCE_NUMBER);
  bad.set_starting_sequence_number("12345");
  EXPECT_THAT(service_->GetShardIterator(bad),
              IsStatus(absl::StatusCode::kInvalidArgument, "InvalidArgumentException", "starting_sequence_number"));
}

TEST_F(StreamsTest, AtTimestamp) {
  Create("s", 1);
  ASSERT_THAT(Put("s", "k", "before"), IsOk());
  clock_.Advance(absl::Seconds(10));
  const absl::Time t = clock_.Now();
  ASSERT_THAT(Put("s", "k", "at"), IsOk());
  clock_.Advance(absl::Seconds(1));
  ASSERT_THAT(Put("s", "k", "after"), IsOk());
  v1::GetShardIteratorRequest r;
  r.set_stream_name("s");
  r.set_shard_id("shardId-000000000000");
  r.set_shard_iterator_type(v1::SHARD_ITERATOR_TYPE_AT_TIMESTAMP);
  *r.mutable_timestamp() = ToTimestamp(t);
  auto it = service_->GetShardIterator(r);
  ASSERT_THAT(it, IsOk());
  auto got = Get(it->shard_iterator());
  ASSERT_THAT(got, IsOk());
  ASSERT_THAT(got->records(), SizeIs(2));
  EXPECT_EQ(got->records(0).data(), "at");
  EXPECT_EQ(got->records(0).approximate_arrival_timestamp().seconds(), absl::ToUnixSeconds(t));
}

TEST_F(StreamsTest, IteratorsExpireAfterFiveMinutesAndCannotBeForged) {
  Create("s", 1);
  const std::string it = Iterator("s", "shardId-000000000000", v1::SHARD_ITERATOR_TYPE_TRIM_HORIZON);
  clock_.Advance(absl::Minutes(5));
  EXPECT_THAT(Get(it), IsOk());
  clock_.Advance(absl::Seconds(1));
  EXPECT_THAT(Get(it), IsStatus(absl::StatusCode::kFailedPrecondition, "ExpiredIteratorException"));
  std::string forged = Iterator("s", "shardId-000000000000", v1::SHARD_ITERATOR_TYPE_TRIM_HORIZON);
  forged[forged.size() / 2] = forged[forged.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_THAT(Get(forged), IsStatus(absl::StatusCode::kInvalidArgument, "InvalidArgumentException", "shard_iterator"));
}

TEST_F(StreamsTest, HashKeysRouteToTheShardHoldingThem) {
  Create("s", 4);
  const std::vector<v1::Shard> shards = Shards("s");
  ASSERT_THAT(shards, SizeIs(4));
  for (const v1::Shard& shard : shards) {
    // Both ends of every range land in that shard.
    for (const std::string& key : {shard.hash_key_range().starting_hash_key(), shard.hash_key_range().ending_hash_key()}) {
      auto put = Put("s", "ignored", "x", key);
      ASSERT_THAT(put, IsOk());
      EXPECT_EQ(put->shard_id(), shard.shard_id()) << key;
    }
  }
  EXPECT_EQ(shards[3].hash_key_range().ending_hash_key(), "340282366920938463463374607431768211455");
  // A partition key goes where its MD5 falls.
  for (const std::string key : {"IoTExample", "device-1", "device-2", "ü"}) {
    const HashKey h = HashOfPartitionKey(key);
    auto put = Put("s", key, "x");
    ASSERT_THAT(put, IsOk());
    const auto expected = std::find_if(shards.begin(), shards.end(), [&](const v1::Shard& s) {
      return *ParseHashKey(s.hash_key_range().starting_hash_key(), "") <= h &&
             h <= *ParseHashKey(s.hash_key_range().ending_hash_key(), "");
    });
    EXPECT_EQ(put->shard_id(), expected->shard_id()) << key;
  }
}

TEST_F(StreamsTest, PutRecordsAnswersPerRecordInOrder) {
  Create("s", 2);
  v1::PutRecordsRequest r;
  r.set_stream_name("s");
  for (int i = 0; i < 10; ++i) {
    auto* e = r.add_records();
    e->set_partition_key("k" + std::to_string(i));
    e->set_data("d" + std::to_string(i));
  }
  auto out = service_->PutRecords(r);
  ASSERT_THAT(out, IsOk());
  EXPECT_EQ(out->failed_record_count(), 0);
  ASSERT_THAT(out->records(), SizeIs(10));
  int total = 0;
  for (const v1::Shard& shard : Shards("s")) total += static_cast<int>(ReadAll("s", shard.shard_id()).size());
  EXPECT_EQ(total, 10);
  EXPECT_EQ(events_.put_records, 10);
}

TEST_F(StreamsTest, RetentionTrimsOnTheClockAndTrimHorizonMoves) {
  Create("s", 1);
  ASSERT_THAT(Put("s", "k", "old"), IsOk());
  Advance(absl::Hours(23));
  ASSERT_THAT(Put("s", "k", "new"), IsOk());
  EXPECT_EQ(ReadAll("s", "shardId-000000000000"), (std::vector<std::string>{"old", "new"}));
  Advance(absl::Hours(1) + absl::Minutes(1));
  EXPECT_EQ(ReadAll("s", "shardId-000000000000"), (std::vector<std::string>{"new"}));
  // Retention bounds and direction.
  v1::IncreaseStreamRetentionPeriodRequest inc;
  inc.set_stream_name("s");
  inc.set_retention_period_hours(8761);
  EXPECT_THAT(service_->IncreaseStreamRetentionPeriod(inc),
              IsStatus(absl::StatusCode::kInvalidArgument, "InvalidArgumentException", "retention_period_hours"));
  inc.set_retention_period_hours(24);  // must be longer than now
  EXPECT_THAT(service_->IncreaseStreamRetentionPeriod(inc),
              IsStatus(absl::StatusCode::kInvalidArgument, "InvalidArgumentException", "retention_period_hours"));
  inc.set_retention_period_hours(48);
  EXPECT_THAT(service_->IncreaseStreamRetentionPeriod(inc), IsOk());
  v1::DecreaseStreamRetentionPeriodRequest dec;
  dec.set_stream_name("s");
  dec.set_retention_period_hours(72);
  EXPECT_THAT(service_->DecreaseStreamRetentionPeriod(dec),
              IsStatus(absl::StatusCode::kInvalidArgument, "InvalidArgumentException", "retention_period_hours"));
  // With 48 h, a record 30 h old stays.
  Advance(absl::Hours(30));
  EXPECT_EQ(ReadAll("s", "shardId-000000000000"), (std::vector<std::string>{"new"}));
}

TEST_F(StreamsTest, RecordsAndOrderSurviveARestart) {
  Create("s", 2);
  std::map<std::string, std::string> last_by_shard;
  for (int i = 0; i < 20; ++i) {
    auto put = Put("s", "k" + std::to_string(i % 3), std::to_string(i));
    ASSERT_THAT(put, IsOk());
    last_by_shard[put->shard_id()] = put->sequence_number();
  }
  // After a restart each shard goes on from its last sequence number.
  Reopen();
  for (const auto& [shard, last] : last_by_shard) {
    auto put = Put("s", "x", "after", shard == "shardId-000000000000" ? "0" : "340282366920938463463374607431768211455");
    ASSERT_THAT(put, IsOk());
    EXPECT_EQ(put->shard_id(), shard);
    EXPECT_GT(put->sequence_number(), last);
  }
  int total = 0;
  for (const v1::Shard& shard : Shards("s")) total += static_cast<int>(ReadAll("s", shard.shard_id()).size());
  EXPECT_EQ(total, 22);
}

TEST_F(StreamsTest, DeleteStreamWithConsumersNeedsEnforce) {
  Create("s", 1);
  v1::RegisterStreamConsumerRequest reg;
  reg.set_stream_arn("arn:aws:kinesis:us-east-1:000000000000:stream/s");
  reg.set_consumer_name("app");
  ASSERT_THAT(service_->RegisterStreamConsumer(reg), IsOk());
  v1::DeleteStreamRequest del;
  del.set_stream_name("s");
  EXPECT_THAT(service_->DeleteStream(del), IsStatus(absl::StatusCode::kFailedPrecondition, "ResourceInUseException"));
  del.set_enforce_consumer_deletion(true);
  ASSERT_THAT(service_->DeleteStream(del), IsOk());
  EXPECT_EQ(Summary("s").stream_status(), v1::STREAM_STATUS_DELETING);
  Advance(options_.transition);
  v1::DescribeStreamSummaryRequest d;
  d.set_stream_name("s");
  EXPECT_THAT(service_->DescribeStreamSummary(d), IsStatus(absl::StatusCode::kNotFound, "ResourceNotFoundException"));
  // A new stream of the same name starts empty.
  Create("s", 1);
  EXPECT_EQ(ReadAll("s", "shardId-000000000000"), std::vector<std::string>{});
}

TEST_F(StreamsTest, ShardQuota) {
  options_.shard_limit = 5;
  Reopen();
  Create("a", 3);
  v1::CreateStreamRequest r;
  r.set_stream_name("b");
  r.set_shard_count(3);
  EXPECT_THAT(service_->CreateStream(r), IsStatus(absl::StatusCode::kResourceExhausted, "LimitExceededException"));
  r.set_shard_count(2);
  EXPECT_THAT(service_->CreateStream(r), IsOk());
  auto limits = service_->DescribeLimits({});
  ASSERT_THAT(limits, IsOk());
  EXPECT_EQ(limits->open_shard_count(), 5);
  EXPECT_EQ(limits->shard_limit(), 5);
}

}  // namespace
}  // namespace thingtank::streams
