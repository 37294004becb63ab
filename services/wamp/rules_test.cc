// The forwarding rules against fake queues and tables services: each
// kind forwarding, validation, storage, delete, drain.
#include "services/wamp/rules_test_fixture.h"

namespace thingtank::wamp {
namespace {

TEST_F(RulesTest, TopicToQueueSendsEachEventAsJson) {
  CreateQueue("events");
  v1::Rule rule = MustCreate(TopicToQueueRule("com.example.sensor", "events"));
  EXPECT_EQ(rule.realm(), "realm1");
  EXPECT_EQ(rule.id().size(), 14u);  // "r-" + 12 hex digits
  EXPECT_EQ(rule.id().rfind("r-", 0), 0u);

  std::set<std::string> expected;
  for (int i = 0; i < 3; ++i) {
    const uint64_t pub = Publish("com.example.sensor", Json::array({i, "x"}),
                                 Json::object({{"n", i}, {"ok", true}}));
    expected.insert(absl::StrCat("{\"topic\":\"com.example.sensor\",\"publication\":", pub,
                                 ",\"args\":[", i, ",\"x\"],\"kwargs\":{\"n\":", i,
                                 ",\"ok\":true}}"));
  }
  std::vector<std::string> bodies = ReceiveN("events", 3);
  EXPECT_EQ(std::set<std::string>(bodies.begin(), bodies.end()), expected);
  EXPECT_EQ(bodies.size(), 3u);
  EXPECT_TRUE(WaitFor([&] { return engine_->stats().forwarded == 3; }));
  EXPECT_EQ(engine_->stats().failed, 0u);
}

TEST_F(RulesTest, TopicToQueueWithPatternCarriesTheConcreteTopic) {
  CreateQueue("events");
  v1::Rule rule = TopicToQueueRule("com.example.", "events");
  rule.mutable_topic_to_queue()->set_match("prefix");
  MustCreate(rule);
  const uint64_t pub = Publish("com.example.a.b", Json::array(), Json::object());
  std::vector<std::string> bodies = ReceiveN("events", 1);
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_EQ(bodies[0], absl::StrCat("{\"topic\":\"com.example.a.b\",\"publication\":", pub,
                                    ",\"args\":[],\"kwargs\":{}}"));
}

TEST_F(RulesTest, TopicToQueueCountsFailuresWhenTheQueueIsMissing) {
  MustCreate(TopicToQueueRule("com.example.sensor", "no-such-queue"));
  Publish("com.example.sensor", Json::array({1}), Json::object());
  EXPECT_TRUE(WaitFor([&] { return engine_->stats().failed == 1; }));
  EXPECT_EQ(engine_->stats().forwarded, 0u);
}

TEST_F(RulesTest, QueueToTopicPublishesThenDeletes) {
  CreateQueue("commands");
  absl::Mutex mu;
  std::vector<EventData> events;
  auto subscriber = LocalClient::Join(router_->FindRealm("realm1"), "subscriber");
  ASSERT_TRUE(subscriber
                  ->Subscribe("com.example.commands", MatchPolicy::kExact,
                              [&](const EventData& e) {
                                absl::MutexLock lock(&mu);
                                events.push_back(e);
                              })
                  .ok());
  MustCreate(QueueToTopicRule("commands", "com.example.commands"));

  SendMessage("commands", R"({"args":[1,"two"],"kwargs":{"speed":3}})");
  SendMessage("commands", "plain text");
  SendMessage("commands", R"({"kwargs":{"only":"kw"}})");

  ASSERT_TRUE(WaitFor([&] {
    absl::MutexLock lock(&mu);
    return events.size() >= 3;
  }));
  std::set<std::string> got;
  {
    absl::MutexLock lock(&mu);
    EXPECT_EQ(events.size(), 3u);
    for (const EventData& e : events) {
      EXPECT_EQ(e.topic, "com.example.commands");
      got.insert(e.args.dump() + " " + e.kwargs.dump());
    }
  }
  EXPECT_EQ(got, (std::set<std::string>{R"([1,"two"] {"speed":3})", R"(["plain text"] {})",
                                        R"([] {"only":"kw"})"}));
  // Deleted after publishing: nothing visible, nothing in flight.
  EXPECT_TRUE(WaitFor([&] {
    auto a = QueueAttributes("commands");
    return a.approximate_number_of_messages() == 0 &&
           a.approximate_number_of_messages_not_visible() == 0;
  }));
  EXPECT_EQ(engine_->stats().forwarded, 3u);
  subscriber->Leave();
}

TEST_F(RulesTest, QueueToTopicBacksOffWhileTheQueueIsMissing) {
  MustCreate(QueueToTopicRule("later", "com.example.later"));
  ASSERT_TRUE(WaitFor([&] { return engine_->stats().failed >= 1; }));
  absl::Mutex mu;
  int received = 0;
  auto subscriber = LocalClient::Join(router_->FindRealm("realm1"), "subscriber");
  ASSERT_TRUE(subscriber
                  ->Subscribe("com.example.later", MatchPolicy::kExact,
                              [&](const EventData&) {
                                absl::MutexLock lock(&mu);
                                ++received;
                              })
                  .ok());
  CreateQueue("later");
  SendMessage("later", "hello");
  // The next attempt, 1 s later, finds the queue.
  EXPECT_TRUE(WaitFor([&] {
    absl::MutexLock lock(&mu);
    return received == 1;
  }));
  subscriber->Leave();
}

TEST_F(RulesTest, TopicToTablePutsKwargsAndTemplatedKeys) {
  {
    grpc::ClientContext ctx;
    tv1::CreateTableRequest req;
    req.set_table_name("readings");
    auto* h = req.add_key_schema();
    h->set_attribute_name("device");
    h->set_key_type(tv1::KEY_TYPE_HASH);
    auto* r = req.add_key_schema();
    r->set_attribute_name("ts");
    r->set_key_type(tv1::KEY_TYPE_RANGE);
    auto* hd = req.add_attribute_definitions();
    hd->set_attribute_name("device");
    hd->set_attribute_type(tv1::SCALAR_ATTRIBUTE_TYPE_S);
    auto* rd = req.add_attribute_definitions();
    rd->set_attribute_name("ts");
    rd->set_attribute_type(tv1::SCALAR_ATTRIBUTE_TYPE_N);
    req.set_billing_mode(tv1::BILLING_MODE_PAY_PER_REQUEST);
    tv1::CreateTableResponse resp;
    grpc::Status s = tables_stub_->CreateTable(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  ASSERT_TRUE(WaitFor([&] {
    grpc::ClientContext ctx;
    tv1::DescribeTableRequest req;
    req.set_table_name("readings");
    tv1::DescribeTableResponse resp;
    return tables_stub_->DescribeTable(&ctx, req, &resp).ok() &&
           resp.table().table_status() == tv1::TABLE_STATUS_ACTIVE;
  }));
  MustCreate(TopicToTableRule("com.example.temperature", "readings"));

  const int64_t before = absl::ToUnixMillis(clock_.Now());
  Publish("com.example.temperature", Json::array(),
          Json::object({{"device", "d1"},
                        {"temperature", 21.5},
                        {"count", 7},
                        {"ok", true},
                        {"note", nullptr},
                        {"tags", Json::array({"a", 1})},
                        {"meta", Json::object({{"x", "y"}})}}));

  std::vector<tables::FakeTables::Item> found;
  ASSERT_TRUE(WaitFor([&] {
    found = tables_->Items("readings");
    return found.size() == 1;
  }));
  const auto& item = found[0];
  EXPECT_EQ(item.at("device").s(), "d1");
  EXPECT_EQ(item.at("temperature").n(), "21.5");
  EXPECT_EQ(item.at("count").n(), "7");
  EXPECT_TRUE(item.at("ok").bool_value());
  EXPECT_TRUE(item.at("note").null_value());
  ASSERT_EQ(item.at("tags").l().values_size(), 2);
  EXPECT_EQ(item.at("tags").l().values(0).s(), "a");
  EXPECT_EQ(item.at("tags").l().values(1).n(), "1");
  EXPECT_EQ(item.at("meta").m().fields().at("x").s(), "y");
  ASSERT_EQ(item.at("ts").value_case(), tv1::AttributeValue::kN);
  int64_t ts = 0;
  ASSERT_TRUE(absl::SimpleAtoi(item.at("ts").n(), &ts));
  EXPECT_GE(ts, before);
  EXPECT_LE(ts, absl::ToUnixMillis(clock_.Now()));
  EXPECT_EQ(engine_->stats().failed, 0u);
}

TEST_F(RulesTest, ValidationNamesTheField) {
  struct Case {
    v1::Rule rule;
    absl::StatusCode code;
    std::string field;
  };
  std::vector<Case> cases;
  cases.push_back({v1::Rule(), absl::StatusCode::kInvalidArgument, "rule.kind"});
  {
    v1::Rule r = TopicToQueueRule("a.b", "q");
    r.set_realm("nope");
    cases.push_back({r, absl::StatusCode::kNotFound, ""});
  }
  cases.push_back({TopicToQueueRule("", "q"), absl::StatusCode::kInvalidArgument,
                   "rule.topic_to_queue.topic"});
  cases.push_back({TopicToQueueRule("a..b", "q"), absl::StatusCode::kInvalidArgument,
                   "rule.topic_to_queue.topic"});
  cases.push_back({TopicToQueueRule("a.b", ""), absl::StatusCode::kInvalidArgument,
                   "rule.topic_to_queue.queue"});
  {
    v1::Rule r = TopicToQueueRule("a.b", "q");
    r.mutable_topic_to_queue()->set_match("fuzzy");
    cases.push_back({r, absl::StatusCode::kInvalidArgument, "rule.topic_to_queue.match"});
  }
  {
    v1::Rule r = TopicToQueueRule("a..b", "q");
    r.mutable_topic_to_queue()->set_match("wildcard");  // valid as a wildcard pattern
    cases.push_back({r, absl::StatusCode::kOk, ""});
  }
  cases.push_back({QueueToTopicRule("", "a.b"), absl::StatusCode::kInvalidArgument,
                   "rule.queue_to_topic.queue"});
  cases.push_back({QueueToTopicRule("q", "a.b."), absl::StatusCode::kInvalidArgument,
                   "rule.queue_to_topic.topic"});
  cases.push_back({TopicToTableRule("a.b", ""), absl::StatusCode::kInvalidArgument,
                   "rule.topic_to_table.table"});
  // Target names follow the target service's naming rules (issue 10, bug 5).
  for (const std::string& bad : {std::string("bad queue name!"), std::string(81, 'q'),
                                 std::string("q.fifo.x"), std::string(".fifo"),
                                 std::string("caf\xc3\xa9")}) {
    cases.push_back({TopicToQueueRule("a.b", bad), absl::StatusCode::kInvalidArgument,
                     "rule.topic_to_queue.queue"});
    cases.push_back({QueueToTopicRule(bad, "a.b"), absl::StatusCode::kInvalidArgument,
                     "rule.queue_to_topic.queue"});
  }
  for (const std::string& good : {std::string(80, 'q'), std::string(75, 'q') + ".fifo",
                                  std::string("Q_-9")}) {
    cases.push_back({TopicToQueueRule("a.b", good), absl::StatusCode::kOk, ""});
  }
  for (const std::string& bad : {std::string("ab"), std::string(256, 't'),
                                 std::string("bad table!"), std::string("a/b/c")}) {
    cases.push_back({TopicToTableRule("a.b", bad), absl::StatusCode::kInvalidArgument,
                     "rule.topic_to_table.table"});
  }
  for (const std::string& good : {std::string("a.b"), std::string(255, 't'),
                                  std::string("A_b-c.9")}) {
    cases.push_back({TopicToTableRule("a.b", good), absl::StatusCode::kOk, ""});
  }
  {
    v1::Rule r = TopicToTableRule("a.b", "tab");
    r.mutable_topic_to_table()->clear_key_template();
    cases.push_back({r, absl::StatusCode::kInvalidArgument, "rule.topic_to_table.key_template"});
  }
  for (const char* bad : {"{nope}", "{kwargs.}", "{topic", "x}", ""}) {
    v1::Rule r = TopicToTableRule("a.b", "tab");
    (*r.mutable_topic_to_table()->mutable_key_template())["device"] = bad;
    cases.push_back({r, absl::StatusCode::kInvalidArgument,
                     "rule.topic_to_table.key_template[\"device\"]"});
  }
  {
    v1::Rule r = TopicToTableRule("a.b", "tab");
    (*r.mutable_topic_to_table()->mutable_key_template())["device"] =
        "{topic}/{publication}-{kwargs.x}";
    cases.push_back({r, absl::StatusCode::kOk, ""});
  }
  size_t created = 0;
  for (const Case& c : cases) {
    auto result = engine_->Create(c.rule);
    EXPECT_EQ(result.status().code(), c.code) << c.rule.ShortDebugString() << " " << result.status();
    if (!c.field.empty()) {
      EXPECT_EQ(ErrorField(result.status()), c.field) << result.status();
    }
    if (result.ok()) ++created;
  }
  EXPECT_EQ(engine_->List().size(), created);
}

TEST_F(RulesTest, RulesSurviveReopeningInCreationOrder) {
  CreateQueue("events");
  std::vector<std::string> ids;
  ids.push_back(MustCreate(TopicToTableRule("com.example.t", "readings")).id());
  ids.push_back(MustCreate(TopicToQueueRule("com.example.a", "events")).id());
  ids.push_back(MustCreate(QueueToTopicRule("inbox", "com.example.b")).id());
  ids.push_back(MustCreate(TopicToQueueRule("com.example.c", "events")).id());
  ASSERT_TRUE(engine_->Delete(ids[3]).ok());
  ids.pop_back();
  ids.push_back(MustCreate(TopicToQueueRule("com.example.d", "events")).id());

  auto ids_of = [](const std::vector<v1::Rule>& rules) {
    std::vector<std::string> out;
    for (const auto& r : rules) out.push_back(r.id());
    return out;
  };
  const std::vector<v1::Rule> before = engine_->List();
  EXPECT_EQ(ids_of(before), ids);

  OpenEngine();
  const std::vector<v1::Rule> after = engine_->List();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(after[i], before[i]))
        << after[i].ShortDebugString() << " vs " << before[i].ShortDebugString();
  }
  // Started again once the channel is set.
  const uint64_t pub = Publish("com.example.d", Json::array({1}), Json::object());
  std::vector<std::string> bodies = ReceiveN("events", 1);
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_EQ(bodies[0], absl::StrCat("{\"topic\":\"com.example.d\",\"publication\":", pub,
                                    ",\"args\":[1],\"kwargs\":{}}"));
  // A rule created after the restart comes after the loaded ones.
  ids.push_back(MustCreate(TopicToQueueRule("com.example.e", "events")).id());
  EXPECT_EQ(ids_of(engine_->List()), ids);
}

TEST_F(RulesTest, DeleteStopsForwarding) {
  CreateQueue("deleted");
  CreateQueue("kept");
  v1::Rule doomed = MustCreate(TopicToQueueRule("com.example.x", "deleted"));
  MustCreate(TopicToQueueRule("com.example.x", "kept"));

  Publish("com.example.x", Json::array({1}), Json::object());
  EXPECT_EQ(ReceiveN("deleted", 1).size(), 1u);
  EXPECT_EQ(ReceiveN("kept", 1).size(), 1u);

  ASSERT_TRUE(engine_->Delete(doomed.id()).ok());
  EXPECT_EQ(engine_->Delete(doomed.id()).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(engine_->List().size(), 1u);

  // The kept rule's copy of the event arrives; the deleted rule sends none.
  Publish("com.example.x", Json::array({2}), Json::object());
  EXPECT_EQ(ReceiveN("kept", 1).size(), 1u);
  EXPECT_TRUE(WaitFor([&] { return engine_->stats().forwarded == 3; }));
  EXPECT_TRUE(Receive("deleted").empty());
  EXPECT_EQ(engine_->stats().forwarded, 3u);

  OpenEngine();  // the deletion is durable
  EXPECT_EQ(engine_->List().size(), 1u);
}

TEST_F(RulesTest, DrainAndDestructionCancelTheLongPoll) {
  CreateQueue("idle");
  MustCreate(QueueToTopicRule("idle", "com.example.idle"));
  // Let the 20 s long poll begin, then stop it: both return at once.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const absl::Time start = absl::Now();
  engine_->Drain();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  // A queue rule created while draining is stored but does not poll.
  MustCreate(QueueToTopicRule("idle", "com.example.idle2"));
  EXPECT_EQ(engine_->List().size(), 2u);

  OpenEngine();  // polls again; destroying the engine cancels it
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const absl::Time start2 = absl::Now();
  engine_.reset();
  EXPECT_LT(absl::Now() - start2, absl::Seconds(5));
}

TEST_F(RulesTest, RulesStayIdleUntilTheChannelIsSet) {
  CreateQueue("events");
  engine_.reset();
  rules_db_.reset();
  rules_db_ = OpenDb(dir_ + "/wamp", RuleEngine::ColumnFamilies());
  auto engine = RuleEngine::Open(rules_db_.get(), router_.get(), &clock_);
  ASSERT_TRUE(engine.ok());
  engine_ = *std::move(engine);
  MustCreate(TopicToQueueRule("com.example.early", "events"));
  Publish("com.example.early", Json::array({"lost"}), Json::object());  // no one forwards it
  engine_->SetChannel(channel_);
  const uint64_t pub = Publish("com.example.early", Json::array({"kept"}), Json::object());
  std::vector<std::string> bodies = ReceiveN("events", 1);
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_EQ(bodies[0], absl::StrCat("{\"topic\":\"com.example.early\",\"publication\":", pub,
                                    ",\"args\":[\"kept\"],\"kwargs\":{}}"));
}

}  // namespace
}  // namespace thingtank::wamp
