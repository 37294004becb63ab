// topic_to_stream against a fake streams service on a manual clock:
// forwarding, partition key templates, retries (RetryInfo, backoff, giving
// up), refused records; and the validation and config of both stream kinds.
#include "services/common/status.h"
#include "services/wamp/rules_streams_test_fixture.h"

namespace thingtank::wamp {
namespace {

std::string EventJsonOf(const std::string& topic, uint64_t publication, const std::string& args,
                        const std::string& kwargs) {
  return absl::StrCat("{\"topic\":\"", topic, "\",\"publication\":", publication,
                      ",\"args\":", args, ",\"kwargs\":", kwargs, "}");
}

TEST_F(StreamRulesTest, TopicToStreamWritesEachEventInOrderWithTheTemplatedKey) {
  CreateStream("readings", 2);
  v1::Rule rule = TopicToStreamRule("sensors.", "readings", "dev-{kwargs.device}");
  rule.mutable_topic_to_stream()->set_match("prefix");
  MustCreate(rule);

  std::vector<std::string> expected;
  for (int i = 0; i < 5; ++i) {
    const std::string device = i % 2 == 0 ? "d1" : "d2";
    const uint64_t pub = Publish("sensors.temp", Json::array({i}),
                                 Json::object({{"device", device}, {"t", 20 + i}}));
    expected.push_back(
        EventJsonOf("sensors.temp", pub, absl::StrCat("[", i, "]"),
                    absl::StrCat("{\"device\":\"", device, "\",\"t\":", 20 + i, "}")));
  }
  ASSERT_TRUE(WaitFor([&] { return streams_->Records("readings").size() == 5; }));
  const auto records = streams_->Records("readings");  // in sequence number order
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].data, expected[i]);
    EXPECT_EQ(records[i].partition_key, i % 2 == 0 ? "dev-d1" : "dev-d2");
  }
  EXPECT_TRUE(WaitFor([&] { return engine_->stats().forwarded == 5; }));
  EXPECT_EQ(engine_->stats().failed, 0u);
}

TEST_F(StreamRulesTest, TopicToStreamKeysByTopicWithoutATemplate) {
  CreateStream("events", 1);
  MustCreate(TopicToStreamRule("com.example.a", "events"));
  const uint64_t pub = Publish("com.example.a", Json::array(), Json::object());
  ASSERT_TRUE(WaitFor([&] { return streams_->Records("events").size() == 1; }));
  EXPECT_EQ(streams_->Records("events")[0].partition_key, "com.example.a");
  EXPECT_EQ(streams_->Records("events")[0].data, EventJsonOf("com.example.a", pub, "[]", "{}"));
}

TEST_F(StreamRulesTest, TopicToStreamCountsEventsWhoseKeyCannotBeMade) {
  CreateStream("events", 1);
  MustCreate(TopicToStreamRule("com.example.a", "events", "{kwargs.device}"));
  Publish("com.example.a", Json::array(), Json::object());                  // no device
  Publish("com.example.a", Json::array(), Json::object({{"device", ""}}));  // empty key
  Publish("com.example.a", Json::array(), Json::object({{"device", std::string(257, 'k')}}));
  Publish("com.example.a", Json::array(), Json::object({{"device", std::string(256, 'k')}}));
  Publish("com.example.a", Json::array(), Json::object({{"device", 7}}));  // as JSON text
  ASSERT_TRUE(WaitFor([&] { return streams_->Records("events").size() == 2; }));
  EXPECT_EQ(streams_->Records("events")[0].partition_key, std::string(256, 'k'));
  EXPECT_EQ(streams_->Records("events")[1].partition_key, "7");
  EXPECT_EQ(engine_->stats().failed, 3u);
  EXPECT_EQ(Calls("PutRecord"), 2);
}

TEST_F(StreamRulesTest, TopicToStreamRetriesThrottledPutsAfterRetryInfo) {
  CreateStream("events", 1);
  MustCreate(TopicToStreamRule("com.example.a", "events"));
  // The async client tries 4 times (waiting the 2 s RetryInfo delay between
  // tries), then the rule counts a failure and tries again 2 s later.
  streams_->FailNext("PutRecord", 5, streams::FakeStreams::Throttled(absl::Seconds(2)));
  Publish("com.example.a", Json::array({1}), Json::object());
  Publish("com.example.a", Json::array({2}), Json::object());

  ASSERT_TRUE(AdvanceUntil([&] { return engine_->stats().failed == 1; }));
  EXPECT_EQ(Calls("PutRecord"), 4);
  // Past the rule's own 1 s backoff but before the RetryInfo delay: nothing.
  clock_.Advance(absl::Milliseconds(1500));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(Calls("PutRecord"), 4);
  ASSERT_TRUE(AdvanceUntil([&] { return Calls("PutRecord") == 5; }));

  ASSERT_TRUE(AdvanceUntil([&] { return streams_->Records("events").size() == 2; }));
  const auto records = streams_->Records("events");
  EXPECT_NE(records[0].data.find("\"args\":[1]"), std::string::npos) << records[0].data;
  EXPECT_NE(records[1].data.find("\"args\":[2]"), std::string::npos) << records[1].data;
  EXPECT_EQ(engine_->stats().failed, 1u);
  EXPECT_TRUE(WaitFor([&] { return engine_->stats().forwarded == 2; }));
}

TEST_F(StreamRulesTest, TopicToStreamWaitsForAStreamCreatedLater) {
  MustCreate(TopicToStreamRule("com.example.a", "later"));
  const size_t timers = clock_.pending_timers();
  Publish("com.example.a", Json::array({"early"}), Json::object());
  ASSERT_TRUE(WaitFor([&] { return engine_->stats().failed == 1; }));  // NOT_FOUND
  ASSERT_TRUE(WaitFor([&] { return clock_.pending_timers() == timers + 1; }));
  CreateStream("later", 1);
  clock_.Advance(absl::Seconds(1));  // the first backoff
  ASSERT_TRUE(WaitFor([&] { return streams_->Records("later").size() == 1; }));
  EXPECT_NE(streams_->Records("later")[0].data.find("early"), std::string::npos);
  EXPECT_EQ(engine_->stats().failed, 1u);
}

TEST_F(StreamRulesTest, TopicToStreamBacksOffThenDropsARecordAfterEightAttempts) {
  CreateStream("events", 1);
  MustCreate(TopicToStreamRule("com.example.a", "events"));
  streams_->FailNext("PutRecord", 8,
                     ErrorWithReason(absl::StatusCode::kInternal, "InternalFailure", "boom"));
  const size_t timers = clock_.pending_timers();
  Publish("com.example.a", Json::array({"lost"}), Json::object());
  Publish("com.example.a", Json::array({"kept"}), Json::object());
  // Backoffs of 1, 2, 4, 8, 16, 30 and 30 s between the eight attempts.
  const int backoff_s[] = {1, 2, 4, 8, 16, 30, 30};
  for (int k = 1; k <= 7; ++k) {
    ASSERT_TRUE(WaitFor([&] {
      return engine_->stats().failed == static_cast<uint64_t>(k) &&
             clock_.pending_timers() == timers + 1;
    })) << "failure " << k;
    clock_.Advance(absl::Seconds(backoff_s[k - 1]) - absl::Milliseconds(1));
    EXPECT_EQ(clock_.pending_timers(), timers + 1);  // not yet
    EXPECT_EQ(Calls("PutRecord"), k);
    clock_.Advance(absl::Milliseconds(1));
    ASSERT_TRUE(backend_->AwaitCalls(StreamsMethodName("PutRecord"), k + 1, absl::Seconds(10)));
  }
  // The eighth failure drops "lost"; "kept" is put at once.
  ASSERT_TRUE(WaitFor([&] { return streams_->Records("events").size() == 1; }));
  EXPECT_NE(streams_->Records("events")[0].data.find("kept"), std::string::npos);
  EXPECT_EQ(engine_->stats().failed, 8u);
  EXPECT_EQ(Calls("PutRecord"), 9);
}

TEST_F(StreamRulesTest, TopicToStreamDropsARecordTheServiceRefuses) {
  CreateStream("events", 1);
  MustCreate(TopicToStreamRule("com.example.a", "events"));
  streams_->FailNext("PutRecord", 1,
                     InvalidField("data", "the record is too large", "InvalidArgumentException"));
  Publish("com.example.a", Json::array({"refused"}), Json::object());
  Publish("com.example.a", Json::array({"kept"}), Json::object());
  ASSERT_TRUE(WaitFor([&] { return streams_->Records("events").size() == 1; }));
  EXPECT_NE(streams_->Records("events")[0].data.find("kept"), std::string::npos);
  EXPECT_EQ(engine_->stats().failed, 1u);
  EXPECT_EQ(Calls("PutRecord"), 2);  // not retried
}

TEST_F(StreamRulesTest, ValidationNamesTheField) {
  struct Case {
    v1::Rule rule;
    std::string field;  // empty: valid
  };
  std::vector<Case> cases = {
      {TopicToStreamRule("a.b", ""), "rule.topic_to_stream.stream"},
      {TopicToStreamRule("a.b", "bad stream!"), "rule.topic_to_stream.stream"},
      {TopicToStreamRule("a.b", std::string(129, 's')), "rule.topic_to_stream.stream"},
      {TopicToStreamRule("", "s"), "rule.topic_to_stream.topic"},
      {TopicToStreamRule("a..b", "s"), "rule.topic_to_stream.topic"},
      {TopicToStreamRule("a.b", "s", "{nope}"), "rule.topic_to_stream.partition_key_template"},
      {TopicToStreamRule("a.b", "s", "{kwargs.x"), "rule.topic_to_stream.partition_key_template"},
      {TopicToStreamRule("a.b", std::string(128, 's'), "{topic}-{kwargs.x}"), ""},
      {TopicToStreamRule("a.b", "A_b-c.9"), ""},
      {StreamToTopicRule("", "a.b"), "rule.stream_to_topic.stream"},
      {StreamToTopicRule("s/x", "a.b"), "rule.stream_to_topic.stream"},
      {StreamToTopicRule("s", ""), "rule.stream_to_topic.topic"},
      {StreamToTopicRule("s", "a.b."), "rule.stream_to_topic.topic"},
      {StreamToTopicRule("s", "a.b", "latest"), "rule.stream_to_topic.starting_position"},
      {StreamToTopicRule("s", "a.b", "AT_TIMESTAMP"), "rule.stream_to_topic.starting_position"},
      {StreamToTopicRule("s", "a.b", "LATEST"), ""},
      {StreamToTopicRule("s", "a.b", "TRIM_HORIZON"), ""},
  };
  {
    v1::Rule r = TopicToStreamRule("a.b", "s");
    r.mutable_topic_to_stream()->set_match("fuzzy");
    cases.push_back({r, "rule.topic_to_stream.match"});
  }
  for (const Case& c : cases) {
    auto result = engine_->Create(c.rule);
    if (c.field.empty()) {
      EXPECT_TRUE(result.ok()) << c.rule.ShortDebugString() << " " << result.status();
    } else {
      EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument)
          << c.rule.ShortDebugString();
      EXPECT_EQ(ErrorField(result.status()), c.field) << result.status();
    }
  }
}

TEST(StreamConfigRulesTest, ParsesBothKindsAndNamesTheirFields) {
  auto rules = ParseConfigRules(R"({"rules": [
      {"id": "to-stream", "topic_to_stream": {"topic": "sensors.", "match": "prefix",
                                              "stream": "readings",
                                              "partition_key_template": "{kwargs.device}"}},
      {"id": "from-stream", "streamToTopic": {"stream": "commands", "topic": "devices.commands",
                                              "startingPosition": "TRIM_HORIZON"}}]})");
  ASSERT_TRUE(rules.ok()) << rules.status();
  ASSERT_EQ(rules->size(), 2u);
  EXPECT_EQ((*rules)[0].topic_to_stream().partition_key_template(), "{kwargs.device}");
  EXPECT_EQ((*rules)[0].topic_to_stream().match(), "prefix");
  EXPECT_EQ((*rules)[1].stream_to_topic().stream(), "commands");
  EXPECT_EQ((*rules)[1].stream_to_topic().starting_position(), "TRIM_HORIZON");

  auto bad = ParseConfigRules(R"({"rules": [{"id": "x", "stream_to_topic": {
      "stream": "s", "topic": "a.b", "starting_position": "EARLIEST"}}]})");
  EXPECT_EQ(ErrorField(bad.status()), "rules[0].stream_to_topic.starting_position") << bad.status();
  bad = ParseConfigRules(R"({"rules": [{"id": "x", "topic_to_stream": {"topic": "a.b"}}]})");
  EXPECT_EQ(ErrorField(bad.status()), "rules[0].topic_to_stream.stream") << bad.status();
  EXPECT_EQ(bad.status().message(), "rules[0].topic_to_stream.stream: is required");
}

}  // namespace
}  // namespace thingtank::wamp
