// The fixture of the forwarding rules tests (rules_test.cc, rules_config_test.cc):
// fake queues and tables (services/*/testing/) on one fake backend, a real
// gRPC server on a free port, as the monolith serves both; a router and a
// rule engine. The rules reach them over a real socket, as in production; the
// queues and tables domains are not linked.
#pragma once

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
#include "prometheus/registry.h"
#include "services/common/clock.h"
#include "services/common/status.h"
#include "services/common/storage/db.h"
#include "services/common/testing/fake_backend.h"
#include "services/queues/testing/fake_queues.h"
#include "services/tables/testing/fake_tables.h"
#include "services/wamp/router/local_client.h"
#include "services/wamp/router/router.h"
#include "thingtank/queues/v1/queues.grpc.pb.h"
#include "thingtank/tables/v1/tables.grpc.pb.h"

namespace thingtank::wamp {

namespace qv1 = queues::v1;
namespace tv1 = tables::v1;

// Polls `condition` until it holds or 5 s pass.
inline bool WaitFor(const std::function<bool()>& condition, absl::Duration limit = absl::Seconds(5)) {
  const absl::Time deadline = absl::Now() + limit;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return condition();
}

inline std::unique_ptr<Db> OpenDb(const std::string& path, std::vector<std::string> cfs) {
  Db::Options o;
  o.path = path;
  o.column_families = std::move(cfs);
  auto db = Db::Open(o);
  EXPECT_TRUE(db.ok()) << db.status();
  return db.ok() ? *std::move(db) : nullptr;
}

inline v1::Rule TopicToQueueRule(const std::string& topic, const std::string& queue) {
  v1::Rule rule;
  rule.mutable_topic_to_queue()->set_topic(topic);
  rule.mutable_topic_to_queue()->set_queue(queue);
  return rule;
}

inline v1::Rule QueueToTopicRule(const std::string& queue, const std::string& topic) {
  v1::Rule rule;
  rule.mutable_queue_to_topic()->set_queue(queue);
  rule.mutable_queue_to_topic()->set_topic(topic);
  return rule;
}

inline v1::Rule TopicToTableRule(const std::string& topic, const std::string& table) {
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

    backend_ = std::make_unique<FakeBackend>();
    ASSERT_NE(backend_->port(), 0);
    queues_ = std::make_unique<queues::FakeQueues>(backend_.get());
    tables_ = std::make_unique<tables::FakeTables>(backend_.get());
    channel_ = backend_->Channel();
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
    // Ends the long polls the rules left waiting and stops the server, before
    // the fakes its handlers use go.
    backend_.reset();
    queues_.reset();
    tables_.reset();
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
  std::unique_ptr<Db> rules_db_;
  std::unique_ptr<FakeBackend> backend_;
  std::unique_ptr<queues::FakeQueues> queues_;
  std::unique_ptr<tables::FakeTables> tables_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<qv1::QueuesService::Stub> queues_stub_;
  std::unique_ptr<tv1::TablesService::Stub> tables_stub_;
  std::unique_ptr<Router> router_;
  std::shared_ptr<LocalClient> client_;
  std::unique_ptr<RuleEngine> engine_;
};

}  // namespace thingtank::wamp
