// stream_to_topic against a fake streams service on a manual clock: records
// published with their details, starting positions, the 200 ms poll, child
// shards after a split and a merge, expired iterators, throttling, a stream
// that is missing or deleted, drain.
#include "services/common/status.h"
#include "services/wamp/rules_streams_test_fixture.h"

namespace thingtank::wamp {
namespace {

// 2^127 as a decimal: the middle of the hash key space.
constexpr char kMiddle[] = "170141183460469231731687303715884105728";

class StreamToTopicTest : public StreamRulesTest {
 protected:
  // Creates the rule and waits until it polls each of the `shards` shards
  // (its LATEST iterators are taken).
  void StartRule(const std::string& stream, const std::string& topic, int shards,
                 const std::string& position = "") {
    MustCreate(StreamToTopicRule(stream, topic, position));
    ASSERT_TRUE(backend_->AwaitCalls(StreamsMethodName("GetRecords"), shards, absl::Seconds(10)));
  }
};

TEST_F(StreamToTopicTest, PublishesEachRecordWithItsDetails) {
  CreateStream("commands", 2);
  Collector got(router_.get(), "devices.commands");
  StartRule("commands", "devices.commands", 2);

  const std::string shard = Put("commands", R"({"speed": 3})", "d1", "0");
  Put("commands", "plain text", "d1", "0");
  Put("commands", "42", "d1", "0");
  Put("commands", std::string("\xff\x00\x01", 3), "d1", "0");
  ASSERT_TRUE(AdvanceUntil([&] { return got.size() == 4; }));
  EXPECT_EQ(got.Payloads(), (std::vector<std::string>{R"({"speed":3})", R"("plain text")", "42",
                                                      R"({"bytes":[255,0,1],"subtype":null})"}));
  const std::vector<EventData> events = got.events();
  EXPECT_TRUE(events[3].args[0].is_binary());
  const auto records = streams_->Records("commands");
  ASSERT_EQ(records.size(), 4u);
  for (size_t i = 0; i < events.size(); ++i) {
    const Json& kw = events[i].kwargs;
    EXPECT_EQ(events[i].args.size(), 1u);
    EXPECT_EQ(kw.at("stream"), "commands");
    EXPECT_EQ(kw.at("shard_id"), shard);
    EXPECT_EQ(kw.at("sequence_number"), records[i].sequence_number);
    EXPECT_EQ(kw.at("partition_key"), "d1");
    EXPECT_GT(kw.at("approximate_arrival_timestamp_ms").get<int64_t>(), 1'600'000'000'000);
  }
  EXPECT_TRUE(WaitFor([&] { return engine_->stats().forwarded == 4; }));
  EXPECT_EQ(engine_->stats().failed, 0u);
}

TEST_F(StreamToTopicTest, LatestSkipsWhatWasThereTrimHorizonReadsIt) {
  CreateStream("s", 1);
  Put("s", "\"old\"", "k");
  Collector latest(router_.get(), "t.latest");
  Collector horizon(router_.get(), "t.horizon");
  StartRule("s", "t.latest", 1);
  StartRule("s", "t.horizon", 2, "TRIM_HORIZON");
  Put("s", "\"new\"", "k");
  ASSERT_TRUE(AdvanceUntil([&] { return latest.size() == 1 && horizon.size() == 2; }));
  EXPECT_EQ(latest.Payloads(), (std::vector<std::string>{"\"new\""}));
  EXPECT_EQ(horizon.Payloads(), (std::vector<std::string>{"\"old\"", "\"new\""}));
}

TEST_F(StreamToTopicTest, PollsAShardAtMostEvery200Milliseconds) {
  CreateStream("s", 1);
  const size_t timers_before = clock_.pending_timers();
  StartRule("s", "t", 1);
  auto poll_scheduled = [&] { return clock_.pending_timers() == timers_before + 1; };
  for (int n = 1; n <= 3; ++n) {  // idle: 200 ms after each empty answer
    ASSERT_TRUE(WaitFor(poll_scheduled));
    clock_.Advance(absl::Milliseconds(199));
    EXPECT_EQ(Calls("GetRecords"), n);
    clock_.Advance(absl::Milliseconds(1));
    ASSERT_TRUE(backend_->AwaitCalls(StreamsMethodName("GetRecords"), n + 1, absl::Seconds(10)));
  }
  // With records: the next call 200 ms after the previous one began (here,
  // where the clock stands), never sooner: 5 calls a second at most.
  for (int i = 0; i < 3; ++i) Put("s", absl::StrCat(i), "k");
  ASSERT_TRUE(WaitFor(poll_scheduled));
  clock_.Advance(absl::Milliseconds(200));  // returns the three records
  ASSERT_TRUE(backend_->AwaitCalls(StreamsMethodName("GetRecords"), 5, absl::Seconds(10)));
  ASSERT_TRUE(WaitFor([&] { return engine_->stats().forwarded == 3 && poll_scheduled(); }));
  clock_.Advance(absl::Milliseconds(199));
  EXPECT_EQ(Calls("GetRecords"), 5);
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_TRUE(backend_->AwaitCalls(StreamsMethodName("GetRecords"), 6, absl::Seconds(10)));
}

TEST_F(StreamToTopicTest, FollowsChildShardsAfterASplitAndAMerge) {
  CreateStream("s", 1);
  Collector got(router_.get(), "t");
  StartRule("s", "t", 1);
  Put("s", "\"before\"", "k", "0");
  ASSERT_TRUE(Reshard("s", "shardId-000000000000", kMiddle, /*split=*/true).ok());
  const std::string low = Put("s", "\"low\"", "k", "1");
  const std::string high = Put("s", "\"high\"", "k", kMiddle);
  EXPECT_EQ(low, "shardId-000000000001");
  EXPECT_EQ(high, "shardId-000000000002");
  ASSERT_TRUE(AdvanceUntil([&] { return got.size() == 3; }));
  std::vector<std::string> payloads = got.Payloads();
  EXPECT_EQ(payloads[0], "\"before\"");  // the parent first
  std::sort(payloads.begin() + 1, payloads.end());
  EXPECT_EQ(payloads, (std::vector<std::string>{"\"before\"", "\"high\"", "\"low\""}));
  EXPECT_EQ(got.events()[0].kwargs.at("shard_id"), "shardId-000000000000");

  ASSERT_TRUE(Reshard("s", low, high, /*split=*/false).ok());
  EXPECT_EQ(Put("s", "\"merged\"", "k", "5"), "shardId-000000000003");
  ASSERT_TRUE(AdvanceUntil([&] { return got.size() == 4; }));
  EXPECT_EQ(got.Payloads()[3], "\"merged\"");
  EXPECT_EQ(got.events()[3].kwargs.at("shard_id"), "shardId-000000000003");
  EXPECT_EQ(engine_->stats().failed, 0u);
  // The merged shard is read once, though both parents list it.
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(got.size(), 4u);
  EXPECT_EQ(Calls("GetShardIterator"), 4);
}

TEST_F(StreamToTopicTest, ReplacesAnExpiredIteratorAfterTheLastRecord) {
  CreateStream("s", 1);
  Collector got(router_.get(), "t");
  StartRule("s", "t", 1);
  Put("s", "1", "k");
  ASSERT_TRUE(AdvanceUntil([&] { return got.size() == 1; }));
  streams_->ExpireIterators();
  Put("s", "2", "k");
  ASSERT_TRUE(AdvanceUntil([&] { return got.size() == 2; }));
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(got.Payloads(), (std::vector<std::string>{"1", "2"}));  // no duplicate
  EXPECT_EQ(engine_->stats().failed, 1u);
  EXPECT_EQ(Calls("GetShardIterator"), 2);
}

TEST_F(StreamToTopicTest, ThrottledReadsWaitForRetryInfo) {
  CreateStream("s", 1);
  Collector got(router_.get(), "t");
  // The async client tries 4 times 3 s apart, then the rule waits 3 s more.
  streams_->FailNext("GetRecords", 5, streams::FakeStreams::Throttled(absl::Seconds(3)));
  MustCreate(StreamToTopicRule("s", "t", "TRIM_HORIZON"));
  Put("s", "\"x\"", "k");
  ASSERT_TRUE(AdvanceUntil([&] { return engine_->stats().failed == 1; }));
  EXPECT_EQ(Calls("GetRecords"), 4);
  const absl::Time failed_at = clock_.Now();
  ASSERT_TRUE(AdvanceUntil([&] { return got.size() == 1; }));
  // Two RetryInfo delays (the rule's, then the client's); the failure may
  // have been seen a step after the rule's timer was set.
  EXPECT_GE(clock_.Now() - failed_at, absl::Milliseconds(5900));
  EXPECT_EQ(engine_->stats().failed, 1u);
}

TEST_F(StreamToTopicTest, AStreamCreatedLaterIsReadFromItsStart) {
  Collector got(router_.get(), "t");
  MustCreate(StreamToTopicRule("later", "t"));  // LATEST, but the stream is new
  ASSERT_TRUE(WaitFor([&] { return engine_->stats().failed == 1; }));  // NOT_FOUND
  CreateStream("later", 1);
  Put("later", "\"first\"", "k");
  ASSERT_TRUE(AdvanceUntil([&] { return got.size() == 1; }));
  EXPECT_EQ(got.Payloads()[0], "\"first\"");

  // Deleted and created again: found missing, then read from the start.
  DeleteStream("later");
  ASSERT_TRUE(AdvanceUntil([&] { return engine_->stats().failed >= 2; }));
  CreateStream("later", 2);
  Put("later", "\"again\"", "k", "0");
  ASSERT_TRUE(AdvanceUntil([&] { return got.size() == 2; }));
  EXPECT_EQ(got.Payloads()[1], "\"again\"");
}

TEST_F(StreamToTopicTest, OtherFailuresRetryTheSameCallWithBackoff) {
  CreateStream("s", 1);
  Collector got(router_.get(), "t");
  streams_->FailNext("GetShardIterator", 2,
                     ErrorWithReason(absl::StatusCode::kInternal, "InternalFailure", "boom"));
  const size_t timers = clock_.pending_timers();
  auto backoff_set = [&] { return clock_.pending_timers() == timers + 1; };
  MustCreate(StreamToTopicRule("s", "t", "TRIM_HORIZON"));
  Put("s", "\"x\"", "k");
  ASSERT_TRUE(WaitFor([&] { return engine_->stats().failed == 1 && backoff_set(); }));
  clock_.Advance(absl::Milliseconds(999));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(Calls("GetShardIterator"), 1);
  clock_.Advance(absl::Milliseconds(1));  // 1 s, then 2 s
  ASSERT_TRUE(WaitFor([&] { return engine_->stats().failed == 2 && backoff_set(); }));
  clock_.Advance(absl::Milliseconds(1999));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(Calls("GetShardIterator"), 2);
  clock_.Advance(absl::Milliseconds(1));
  ASSERT_TRUE(AdvanceUntil([&] { return got.size() == 1; }));
  EXPECT_EQ(Calls("ListShards"), 1);
}

TEST_F(StreamToTopicTest, DrainStopsReading) {
  CreateStream("s", 1);
  StartRule("s", "t", 1);
  engine_->Drain();
  const int calls = Calls("GetRecords");
  clock_.Advance(absl::Seconds(2));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(Calls("GetRecords"), calls);
}

}  // namespace
}  // namespace thingtank::wamp
