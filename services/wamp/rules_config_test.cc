// Rules from the --wamp-config file: parsing, and RuleEngine::Ensure against
// fake queues and tables services.
#include "services/wamp/rules_test_fixture.h"

namespace thingtank::wamp {
namespace {

// ---- rules from the config file ---------------------------------------------

std::vector<v1::Rule> MustParse(const std::string& json) {
  auto rules = ParseConfigRules(json);
  EXPECT_TRUE(rules.ok()) << rules.status();
  return rules.ok() ? *std::move(rules) : std::vector<v1::Rule>();
}

std::vector<std::string> IdsOf(const std::vector<v1::Rule>& rules) {
  std::vector<std::string> out;
  for (const auto& r : rules) out.push_back(r.id());
  return out;
}

bool SameRules(const std::vector<v1::Rule>& a, const std::vector<v1::Rule>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!google::protobuf::util::MessageDifferencer::Equals(a[i], b[i])) return false;
  }
  return true;
}

TEST(ParseConfigRulesTest, ParsesTheRulesArrayAndIgnoresTheRest) {
  std::vector<v1::Rule> rules = MustParse(R"({
    "realms": [{"name": "realm1"}],
    "rules": [
      {"id": "sensors-to-queue",
       "topic_to_queue": {"topic": "sensors.", "match": "prefix", "queue": "readings"}},
      {"id": "inbox_1.x", "realm": "realm1", "queueToTopic": {"queue": "inbox", "topic": "a.b"}},
      {"id": "t", "topic_to_table": {"topic": "a.b", "table": "tab",
                                     "key_template": {"device": "{kwargs.device}"}}}
    ]})");
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0].id(), "sensors-to-queue");
  EXPECT_EQ(rules[0].topic_to_queue().topic(), "sensors.");
  EXPECT_EQ(rules[0].topic_to_queue().match(), "prefix");
  EXPECT_EQ(rules[0].topic_to_queue().queue(), "readings");
  EXPECT_EQ(rules[1].realm(), "realm1");
  EXPECT_EQ(rules[1].queue_to_topic().queue(), "inbox");
  EXPECT_EQ(rules[2].topic_to_table().key_template().at("device"), "{kwargs.device}");

  EXPECT_TRUE(MustParse(R"({"realms": []})").empty());
  EXPECT_TRUE(MustParse(R"({"rules": []})").empty());
}

TEST(ParseConfigRulesTest, ErrorsNameThePlace) {
  struct Case {
    std::string json;
    std::string field;  // ErrorField; the message starts with it
  };
  const std::string ok = R"({"id": "a", "topic_to_queue": {"topic": "a.b", "queue": "q"}})";
  const std::vector<Case> cases = {
      {R"({"rules": {}})", "rules"},
      {R"({"rules": [1]})", "rules[0]"},
      {R"({"rules": [{"id": "a", "topic_to_queue": {"topic": "a.b", "queue": "q", "x": 1}}]})",
       "rules[0]"},
      {R"({"rules": [{"id": "a", "topic_to_queue": {"topic": 5}}]})", "rules[0]"},
      {R"({"rules": [)" + ok + R"(, {"id": "b", "topic_to_queue": {"topic": "a.b"}}]})",
       "rules[1].topic_to_queue.queue"},
      {R"({"rules": [)" + ok + "," + ok + "]}", "rules[1].id"},
      {R"({"rules": [{"topic_to_queue": {"topic": "a.b", "queue": "q"}}]})", "rules[0].id"},
      {R"({"rules": [{"id": "a b", "topic_to_queue": {"topic": "a.b", "queue": "q"}}]})",
       "rules[0].id"},
      {R"({"rules": [{"id": ")" + std::string(65, 'x') +
           R"(", "topic_to_queue": {"topic": "a.b", "queue": "q"}}]})",
       "rules[0].id"},
      {R"({"rules": [{"id": "r-0123456789ab", "topic_to_queue": {"topic": "a.b", "queue": "q"}}]})",
       "rules[0].id"},
      {R"({"rules": [{"id": "a"}]})", "rules[0].kind"},
      {R"({"rules": [{"id": "a", "topic_to_table": {"topic": "a.b", "table": "tab",
            "key_template": {"k": "{nope}"}}}]})",
       "rules[0].topic_to_table.key_template[\"k\"]"},
  };
  for (const Case& c : cases) {
    auto rules = ParseConfigRules(c.json);
    ASSERT_EQ(rules.status().code(), absl::StatusCode::kInvalidArgument) << c.json;
    EXPECT_EQ(ErrorField(rules.status()), c.field) << rules.status();
    EXPECT_EQ(rules.status().message().rfind(c.field + ": ", 0), 0u) << rules.status();
  }
  EXPECT_EQ(ParseConfigRules("{").status().code(), absl::StatusCode::kInvalidArgument);
  // 64 characters is fine.
  EXPECT_EQ(MustParse(R"({"rules": [{"id": ")" + std::string(64, 'x') +
                      R"(", "topic_to_queue": {"topic": "a.b", "queue": "q"}}]})")
                .size(),
            1u);
}

TEST_F(RulesTest, EnsureCreatesRulesThatForward) {
  CreateQueue("readings");
  std::vector<v1::Rule> config = MustParse(R"({"rules": [
      {"id": "sensors-to-queue",
       "topic_to_queue": {"topic": "sensors.", "match": "prefix", "queue": "readings"}},
      {"id": "inbox", "queue_to_topic": {"queue": "inbox", "topic": "a.b"}}]})");
  ASSERT_TRUE(engine_->Ensure(config).ok());
  std::vector<v1::Rule> listed = engine_->List();
  EXPECT_EQ(IdsOf(listed), (std::vector<std::string>{"sensors-to-queue", "inbox"}));
  EXPECT_EQ(listed[0].realm(), "realm1");  // defaulted, like CreateRule

  const uint64_t pub = Publish("sensors.t1", Json::array({21.5}), Json::object());
  std::vector<std::string> bodies = ReceiveN("readings", 1);
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_EQ(bodies[0], absl::StrCat("{\"topic\":\"sensors.t1\",\"publication\":", pub,
                                    ",\"args\":[21.5],\"kwargs\":{}}"));
  EXPECT_TRUE(WaitFor([&] { return engine_->stats().forwarded == 1; }));

  OpenEngine();  // stored: back after a restart, and still forwarding
  EXPECT_TRUE(SameRules(engine_->List(), listed));
  Publish("sensors.t2", Json::array({1}), Json::object());
  EXPECT_EQ(ReceiveN("readings", 1).size(), 1u);
}

TEST_F(RulesTest, EnsureIsIdempotent) {
  CreateQueue("readings");
  const std::string json = R"({"rules": [
      {"id": "b", "topic_to_queue": {"topic": "com.example.x", "queue": "readings"}},
      {"id": "a", "topic_to_queue": {"topic": "com.example.y", "queue": "readings"}}]})";
  ASSERT_TRUE(engine_->Ensure(MustParse(json)).ok());
  const std::vector<v1::Rule> first = engine_->List();
  EXPECT_EQ(IdsOf(first), (std::vector<std::string>{"b", "a"}));  // config order

  // Again in the same engine: same list, same order.
  ASSERT_TRUE(engine_->Ensure(MustParse(json)).ok());
  EXPECT_TRUE(SameRules(engine_->List(), first));
  Publish("com.example.x", Json::array({1}), Json::object());
  EXPECT_EQ(ReceiveN("readings", 1).size(), 1u);
  EXPECT_TRUE(WaitFor([&] { return engine_->stats().forwarded == 1; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(engine_->stats().forwarded, 1u);  // one copy: one subscription
  EXPECT_TRUE(Receive("readings").empty());

  // As at startup: reopen, then the same config.
  OpenEngine();
  ASSERT_TRUE(engine_->Ensure(MustParse(json)).ok());
  EXPECT_TRUE(SameRules(engine_->List(), first));
}

TEST_F(RulesTest, EnsureDoesNotRestartAnUnchangedRule) {
  // A topic_to_table rule whose table is missing fails DescribeTable when it
  // starts, then once a second: a restart would fail again at once.
  const std::string json = R"({"rules": [{"id": "to-table", "topic_to_table": {
      "topic": "com.example.t", "table": "missing",
      "key_template": {"device": "{kwargs.device}"}}}]})";
  ASSERT_TRUE(engine_->Ensure(MustParse(json)).ok());
  ASSERT_TRUE(WaitFor([&] { return engine_->stats().failed == 1; }));
  ASSERT_TRUE(engine_->Ensure(MustParse(json)).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // < the 1 s backoff
  EXPECT_EQ(engine_->stats().failed, 1u);
  // Whereas a changed rule is restarted.
  ASSERT_TRUE(engine_->Ensure(MustParse(absl::StrReplaceAll(json, {{"com.example.t", "com.example.u"}})))
                  .ok());
  EXPECT_TRUE(WaitFor([&] { return engine_->stats().failed >= 2; }));
}

TEST_F(RulesTest, EnsureReplacesAChangedRuleInPlace) {
  CreateQueue("old");
  CreateQueue("new");
  const std::string before = R"({"rules": [
      {"id": "moving", "topic_to_queue": {"topic": "com.example.x", "queue": "old"}},
      {"id": "other", "topic_to_queue": {"topic": "com.example.z", "queue": "old"}}]})";
  ASSERT_TRUE(engine_->Ensure(MustParse(before)).ok());
  Publish("com.example.x", Json::array({1}), Json::object());
  EXPECT_EQ(ReceiveN("old", 1).size(), 1u);

  const std::string after = R"({"rules": [
      {"id": "moving", "topic_to_queue": {"topic": "com.example.x", "queue": "new"}},
      {"id": "other", "topic_to_queue": {"topic": "com.example.z", "queue": "old"}}]})";
  ASSERT_TRUE(engine_->Ensure(MustParse(after)).ok());
  std::vector<v1::Rule> listed = engine_->List();
  ASSERT_EQ(IdsOf(listed), (std::vector<std::string>{"moving", "other"}));  // same place
  EXPECT_EQ(listed[0].topic_to_queue().queue(), "new");

  Publish("com.example.x", Json::array({2}), Json::object());
  EXPECT_EQ(ReceiveN("new", 1).size(), 1u);
  EXPECT_TRUE(WaitFor([&] { return engine_->stats().forwarded == 2; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_TRUE(Receive("old").empty());  // the old version stopped
  EXPECT_EQ(engine_->stats().forwarded, 2u);

  OpenEngine();  // the replacement is durable
  EXPECT_TRUE(SameRules(engine_->List(), listed));
}

TEST_F(RulesTest, EnsureLeavesRpcRulesAlone) {
  CreateQueue("events");
  v1::Rule rpc = MustCreate(TopicToQueueRule("com.example.rpc", "events"));
  ASSERT_TRUE(engine_->Ensure(MustParse(R"({"rules": [
      {"id": "cfg", "topic_to_queue": {"topic": "com.example.cfg", "queue": "events"}}]})"))
                  .ok());
  EXPECT_EQ(IdsOf(engine_->List()), (std::vector<std::string>{rpc.id(), "cfg"}));
  // An empty config (or one without a rule) removes nothing.
  ASSERT_TRUE(engine_->Ensure({}).ok());
  EXPECT_EQ(IdsOf(engine_->List()), (std::vector<std::string>{rpc.id(), "cfg"}));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(engine_->List()[0], rpc));
  Publish("com.example.rpc", Json::array({1}), Json::object());
  EXPECT_EQ(ReceiveN("events", 1).size(), 1u);
}

TEST_F(RulesTest, EnsureChecksEverythingBeforeChangingAnything) {
  std::vector<v1::Rule> config = MustParse(R"({"rules": [
      {"id": "good", "topic_to_queue": {"topic": "com.example.x", "queue": "q"}},
      {"id": "elsewhere", "realm": "nope",
       "topic_to_queue": {"topic": "com.example.x", "queue": "q"}}]})");
  absl::Status s = engine_->Ensure(config);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorField(s), "rules[1].realm") << s;
  EXPECT_TRUE(engine_->List().empty());

  // Ensure validates as ParseConfigRules does (for callers that build rules).
  config.pop_back();
  config[0].mutable_topic_to_queue()->clear_queue();
  s = engine_->Ensure(config);
  EXPECT_EQ(ErrorField(s), "rules[0].topic_to_queue.queue") << s;
  config[0].mutable_topic_to_queue()->set_queue("q");
  config.push_back(config[0]);
  s = engine_->Ensure(config);
  EXPECT_EQ(ErrorField(s), "rules[1].id") << s;
  EXPECT_TRUE(engine_->List().empty());
}

}  // namespace
}  // namespace thingtank::wamp
