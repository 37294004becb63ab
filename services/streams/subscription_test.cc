// SubscribeToShard: pushed on write, one event in flight, heartbeats,
// lifetime, closed shards.
#include "services/streams/core/hash_key.h"
#include "services/streams/streams_test_util.h"
#include "services/streams/subscription.h"

namespace thingtank::streams {
namespace {

using ::testing::SizeIs;

class SubscriptionTest : public StreamsTest {
 protected:
  std::string Consumer() {
    v1::RegisterStreamConsumerRequest r;
    r.set_stream_arn("arn:aws:kinesis:us-east-1:000000000000:stream/s");
    r.set_consumer_name("app");
    auto out = service_->RegisterStreamConsumer(r);
    EXPECT_THAT(out, IsOk());
    Advance(options_.transition);
    return out.ok() ? out->consumer().consumer_arn() : "";
  }
  absl::StatusOr<std::shared_ptr<Subscription>> Subscribe(const std::string& arn, v1::ShardIteratorType type) {
    v1::SubscribeToShardRequest r;
    r.set_consumer_arn(arn);
    r.set_shard_id("shardId-000000000000");
    r.mutable_starting_position()->set_type(type);
    StreamService::SubscriptionSink sink;
    sink.deliver = [this](v1::SubscribeToShardResponse e) { events.push_back(std::move(e)); };
    sink.end = [this](absl::Status s) { ended = s; };
    return service_->SubscribeToShard(r, sink);
  }
  std::vector<v1::SubscribeToShardResponse> events;
  std::optional<absl::Status> ended;
};

TEST_F(SubscriptionTest, PushedOnWriteOneEventAtATime) {
  Create("s", 1);
  const std::string arn = Consumer();
  auto sub = Subscribe(arn, v1::SHARD_ITERATOR_TYPE_LATEST);
  ASSERT_THAT(sub, IsOk());
  Settle();
  ASSERT_THAT(events, SizeIs(1));  // the first event, at once, empty
  EXPECT_THAT(events[0].records(), SizeIs(0));
  auto put = Put("s", "k", "one");
  ASSERT_THAT(put, IsOk());
  Settle();
  EXPECT_THAT(events, SizeIs(1));  // the first is not written yet
  (*sub)->Delivered();
  Settle();
  ASSERT_THAT(events, SizeIs(2));
  ASSERT_THAT(events[1].records(), SizeIs(1));
  EXPECT_EQ(events[1].records(0).data(), "one");
  EXPECT_EQ(events[1].continuation_sequence_number(), put->sequence_number());
  EXPECT_EQ(events[1].millis_behind_latest(), 0);
  // A slow subscriber: many writes while one event is out make one event.
  for (int i = 0; i < 50; ++i) ASSERT_THAT(Put("s", "k", std::to_string(i)), IsOk());
  Settle();
  EXPECT_THAT(events, SizeIs(2));
  (*sub)->Delivered();
  Settle();
  ASSERT_THAT(events, SizeIs(3));
  EXPECT_THAT(events[2].records(), SizeIs(50));
  EXPECT_EQ(events_.subscriptions, 1);
  (*sub)->Cancel();
  EXPECT_EQ(events_.subscriptions, 0);
  ASSERT_THAT(Put("s", "k", "late"), IsOk());
  (*sub)->Delivered();
  Settle();
  EXPECT_THAT(events, SizeIs(3));
}

TEST_F(SubscriptionTest, HeartbeatAndLifetime) {
  Create("s", 1);
  auto sub = Subscribe(Consumer(), v1::SHARD_ITERATOR_TYPE_TRIM_HORIZON);
  ASSERT_THAT(sub, IsOk());
  Settle();
  ASSERT_THAT(events, SizeIs(1));
  (*sub)->Delivered();
  Advance(absl::Seconds(4));
  EXPECT_THAT(events, SizeIs(1));
  Advance(absl::Seconds(2));
  ASSERT_THAT(events, SizeIs(2));  // a heartbeat
  (*sub)->Delivered();
  EXPECT_FALSE(ended.has_value());
  Advance(absl::Minutes(5));
  ASSERT_TRUE(ended.has_value());
  EXPECT_THAT(*ended, IsOk());
  (*sub)->Cancel();
}

TEST_F(SubscriptionTest, ClosedShardEndsWithChildren) {
  Create("s", 1);
  auto sub = Subscribe(Consumer(), v1::SHARD_ITERATOR_TYPE_TRIM_HORIZON);
  ASSERT_THAT(sub, IsOk());
  Settle();
  (*sub)->Delivered();
  ASSERT_THAT(Put("s", "k", "last"), IsOk());
  v1::SplitShardRequest split;
  split.set_stream_name("s");
  split.set_shard_to_split("shardId-000000000000");
  split.set_new_starting_hash_key(FormatHashKey(HashKey{1} << 127));
  ASSERT_THAT(service_->SplitShard(split), IsOk());
  Settle();
  ASSERT_THAT(events, SizeIs(2));
  ASSERT_THAT(events[1].records(), SizeIs(1));
  EXPECT_THAT(events[1].child_shards(), SizeIs(2));
  EXPECT_FALSE(ended.has_value());
  (*sub)->Delivered();
  Settle();
  ASSERT_TRUE(ended.has_value());
  EXPECT_THAT(*ended, IsOk());
  (*sub)->Cancel();
}

TEST_F(SubscriptionTest, NeedsAnActiveConsumer) {
  Create("s", 1);
  EXPECT_THAT(Subscribe("arn:aws:kinesis:us-east-1:000000000000:stream/s/consumer/none:1",
                        v1::SHARD_ITERATOR_TYPE_LATEST),
              IsStatus(absl::StatusCode::kNotFound, "ResourceNotFoundException"));
  EXPECT_THAT(Subscribe("garbage", v1::SHARD_ITERATOR_TYPE_LATEST),
              IsStatus(absl::StatusCode::kInvalidArgument, "InvalidArgumentException", "consumer_arn"));
  const std::string arn = Consumer();
  auto sub = Subscribe(arn, v1::SHARD_ITERATOR_TYPE_LATEST);
  ASSERT_THAT(sub, IsOk());
  Settle();
  // Deregistering ends the subscription.
  v1::DeregisterStreamConsumerRequest d;
  d.set_consumer_arn(arn);
  ASSERT_THAT(service_->DeregisterStreamConsumer(d), IsOk());
  (*sub)->Delivered();
  Settle();
  ASSERT_TRUE(ended.has_value());
  EXPECT_THAT(*ended, IsStatus(absl::StatusCode::kNotFound, "ResourceNotFoundException"));
  (*sub)->Cancel();
}

}  // namespace
}  // namespace thingtank::streams
