// The forwarding rules against the real queues and tables services, served
// over a real gRPC socket on a free port.
#include "services/wamp/rules.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "prometheus/registry.h"
#include "services/common/clock.h"
#include "services/common/executor.h"
#include "services/common/rpc_metrics.h"
#include "services/common/server.h"
#include "services/common/status.h"
#include "services/common/storage/db.h"
#include "services/queues/grpc_service.h"
#include "services/queues/queue_service.h"
#include "services/tables/grpc_service.h"
#include "services/tables/table_service.h"
#include "services/wamp/router/local_client.h"
#include "services/wamp/router/router.h"

namespace thingtank::wamp {
namespace {

namespace qv1 = queues::v1;
namespace tv1 = tables::v1;

// Polls `condition` until it holds or 5 s pass.
bool WaitFor(const std::function<bool()>& condition, absl::Duration limit = absl::Seconds(5)) {
  const absl::Time deadline = absl::Now() + limit;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

std::unique_ptr<Db> OpenDb(const std::string& path, std::vector<std::string> cfs) {
  Db::Options o;
  o.path = path;
  o.column_families = std::move(cfs);
  auto db = Db::Open(o);
  EXPECT_TRUE(db.ok()) << db.status();
  return db.ok() ? *std::move(db) : nullptr;
}

v1::Rule TopicToQueueRule(const std::string& topic, const std::string& queue) {
  v1::Rule rule;
  rule.mutable_topic_to_queue()->set_topic(topic);
  rule.mutable_topic_to_queue()->set_queue(queue);
  return rule;
}

v1::Rule QueueToTopicRule(const std::string& queue, const std::string& topic) {
  v1::Rule rule;
  rule.mutable_queue_to_topic()->set_queue(queue);
  rule.mutable_queue_to_topic()->set_topic(topic);
  return rule;
}

v1::Rule TopicToTableRule(const std::string& topic, const std::string& table) {
  v1::Rule rule;
  auto* t = rule.mutable_topic_to_table();
  t->set_topic(topic);
  t->set_table(table);
  (*t->mutable_key_template())["device"] = "{kwargs.device}";
  (*t->mutable_key_template())["ts"] = "{timestamp_ms}";
  return rule;
}

class RulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "thingtank-wamp-rules-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;

    executor_ = std::make_unique<ThreadPool>("rules-test", 4, 10000);
    rpc_metrics_ = std::make_unique<RpcMetrics>(&registry_);

    queues_db_ = OpenDb(dir_ + "/queues", queues::QueueService::ColumnFamilies());
    ASSERT_NE(queues_db_, nullptr);
    auto queues = queues::QueueService::Open(queues_db_.get(), &clock_, executor_.get(), nullptr);
    ASSERT_TRUE(queues.ok()) << queues.status();
    queues_ = *std::move(queues);
    queues_runner_ = std::make_unique<UnaryRunner>(qv1::QueuesService::service_full_name(),
                                                   "queues", executor_.get(), rpc_metrics_.get(),
                                                   nullptr);
    queues_grpc_ = std::make_unique<queues::QueuesGrpcService>(queues_.get(), queues_runner_.get());

    tables_db_ = OpenDb(dir_ + "/tables", tables::TableService::ColumnFamilies());
    ASSERT_NE(tables_db_, nullptr);
    auto tables = tables::TableService::Open(tables_db_.get(), &clock_, executor_.get(), nullptr);
    ASSERT_TRUE(tables.ok()) << tables.status();
    tables_ = *std::move(tables);
    tables_runner_ = std::make_unique<UnaryRunner>(tv1::TablesService::service_full_name(),
                                                   "tables", executor_.get(), rpc_metrics_.get(),
                                                   nullptr);
    tables_grpc_ = std::make_unique<tables::TablesGrpcService>(tables_.get(), tables_runner_.get());

    auto server = GrpcServer::Start(GrpcServerOptions{},
                                    {queues_grpc_.get(), tables_grpc_.get()}, nullptr);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
    queues_stub_ = qv1::QueuesService::NewStub(channel_);
    tables_stub_ = tv1::TablesService::NewStub(channel_);

    router_ = std::make_unique<Router>(DefaultWampConfig(), &clock_, &registry_);
    client_ = LocalClient::Join(router_->FindRealm("realm1"), "test");
    OpenEngine();
  }

  void TearDown() override {
    if (client_ != nullptr) client_->Leave();
    client_.reset();
    engine_.reset();
    rules_db_.reset();
    // Answers the long polls the rules left waiting (a cancelled call's poll
    // stays registered in the domain until its wait ends), so the server's
    // shutdown need not wait for them.
    if (queues_ != nullptr) queues_->Drain();
    if (server_ != nullptr) server_->Shutdown(absl::ZeroDuration());
    server_.reset();
    queues_grpc_.reset();
    tables_grpc_.reset();
    queues_runner_.reset();
    tables_runner_.reset();
    queues_.reset();
    tables_.reset();
    executor_.reset();
    queues_db_.reset();
    tables_db_.reset();
    router_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Opens the rules database and the engine (again: a restart).
  void OpenEngine() {
    engine_.reset();
    rules_db_.reset();
    rules_db_ = OpenDb(dir_ + "/wamp", RuleEngine::ColumnFamilies());
    ASSERT_NE(rules_db_, nullptr);
    auto engine = RuleEngine::Open(rules_db_.get(), router_.get(), &clock_);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
    engine_->SetChannel(channel_);
  }

  v1::Rule MustCreate(v1::Rule rule) {
    auto created = engine_->Create(std::move(rule));
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? *created : v1::Rule();
  }

  void CreateQueue(const std::string& name) {
    grpc::ClientContext ctx;
    qv1::CreateQueueRequest req;
    req.set_queue_name(name);
    qv1::CreateQueueResponse resp;
    grpc::Status s = queues_stub_->CreateQueue(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // Receives (and deletes) what arrives within one short long poll.
  std::vector<std::string> Receive(const std::string& queue) {
    grpc::ClientContext ctx;
    qv1::ReceiveMessagesRequest req;
    req.set_queue_name(queue);
    req.set_max_number_of_messages(10);
    req.mutable_wait_time()->set_seconds(1);
    qv1::ReceiveMessagesResponse resp;
    grpc::Status s = queues_stub_->ReceiveMessages(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> bodies;
    for (const auto& m : resp.messages()) {
      bodies.push_back(m.body());
      grpc::ClientContext dctx;
      qv1::DeleteMessageRequest dreq;
      dreq.set_queue_name(queue);
      dreq.set_receipt_handle(m.receipt_handle());
      qv1::DeleteMessageResponse dresp;
      EXPECT_TRUE(queues_stub_->DeleteMessage(&dctx, dreq, &dresp).ok());
    }
    return bodies;
  }

  // Receives until `n` bodies arrived or 5 s passed.
  std::vector<std::string> ReceiveN(const std::string& queue, size_t n) {
    std::vector<std::string> all;
    WaitFor([&] {
      for (std::string& b : Receive(queue)) all.push_back(std::move(b));
      return all.size() >= n;
    });
    return all;
  }

  void SendMessage(const std::string& queue, const std::string& body) {
    grpc::ClientContext ctx;
    qv1::SendMessageRequest req;
    req.set_queue_name(queue);
    req.set_message_body(body);
    qv1::SendMessageResponse resp;
    grpc::Status s = queues_stub_->SendMessage(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  qv1::GetQueueAttributesResponse QueueAttributes(const std::string& queue) {
    grpc::ClientContext ctx;
    qv1::GetQueueAttributesRequest req;
    req.set_queue_name(queue);
    qv1::GetQueueAttributesResponse resp;
    EXPECT_TRUE(queues_stub_->GetQueueAttributes(&ctx, req, &resp).ok());
    return resp;
  }

  uint64_t Publish(const std::string& topic, Json args, Json kwargs) {
    auto publication = client_->Publish(topic, std::move(args), std::move(kwargs));
    EXPECT_TRUE(publication.ok()) << publication.status();
    return publication.ok() ? *publication : 0;
  }

  std::string dir_;
  RealClock clock_;
  prometheus::Registry registry_;
  std::unique_ptr<ThreadPool> executor_;
  std::unique_ptr<RpcMetrics> rpc_metrics_;
  std::unique_ptr<Db> queues_db_, tables_db_, rules_db_;
  std::unique_ptr<queues::QueueService> queues_;
  std::unique_ptr<tables::TableService> tables_;
  std::unique_ptr<UnaryRunner> queues_runner_, tables_runner_;
  std::unique_ptr<queues::QueuesGrpcService> queues_grpc_;
  std::unique_ptr<tables::TablesGrpcService> tables_grpc_;
  std::unique_ptr<GrpcServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<qv1::QueuesService::Stub> queues_stub_;
  std::unique_ptr<tv1::TablesService::Stub> tables_stub_;
  std::unique_ptr<Router> router_;
  std::shared_ptr<LocalClient> client_;
  std::unique_ptr<RuleEngine> engine_;
};

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

  tv1::QueryResponse found;
  ASSERT_TRUE(WaitFor([&] {
    grpc::ClientContext ctx;
    tv1::QueryRequest req;
    req.set_table_name("readings");
    req.set_key_condition_expression("device = :d");
    (*req.mutable_expression_attribute_values())[":d"].set_s("d1");
    found.Clear();
    return tables_stub_->Query(&ctx, req, &found).ok() && found.items_size() == 1;
  }));
  const auto& item = found.items(0).attributes();
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
