// The fixture of the stream rules tests (rules_topic_to_stream_test.cc,
// rules_stream_to_topic_test.cc): a fake streams service
// (services/streams/testing/) on a fake backend, a real gRPC server on a free
// port; a router and a rule engine on a manual clock, so that backoffs,
// RetryInfo delays and the 200 ms polls happen only when a test moves time.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "prometheus/registry.h"
#include "services/common/clock.h"
#include "services/common/storage/db.h"
#include "services/common/testing/fake_backend.h"
#include "services/streams/testing/fake_streams.h"
#include "services/wamp/router/local_client.h"
#include "services/wamp/router/router.h"
#include "services/wamp/rules.h"
#include "thingtank/streams/v1/streams.grpc.pb.h"

namespace thingtank::wamp {

namespace sv1 = streams::v1;

inline std::string StreamsMethodName(const std::string& method) {
  return absl::StrCat(sv1::StreamsService::service_full_name(), ".", method);
}

inline v1::Rule TopicToStreamRule(const std::string& topic, const std::string& stream,
                                  const std::string& key_template = "") {
  v1::Rule rule;
  auto* r = rule.mutable_topic_to_stream();
  r->set_topic(topic);
  r->set_stream(stream);
  r->set_partition_key_template(key_template);
  return rule;
}

inline v1::Rule StreamToTopicRule(const std::string& stream, const std::string& topic,
                                  const std::string& position = "") {
  v1::Rule rule;
  auto* r = rule.mutable_stream_to_topic();
  r->set_stream(stream);
  r->set_topic(topic);
  r->set_starting_position(position);
  return rule;
}

// Events of one topic, collected by an in-process subscriber.
class Collector {
 public:
  Collector(Router* router, const std::string& topic) {
    client_ = LocalClient::Join(router->FindRealm("realm1"), "collector");
    EXPECT_TRUE(client_
                    ->Subscribe(topic, MatchPolicy::kExact,
                                [this](const EventData& e) {
                                  absl::MutexLock lock(&mu_);
                                  events_.push_back(e);
                                })
                    .ok());
  }
  ~Collector() { client_->Leave(); }
  std::vector<EventData> events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }
  size_t size() {
    absl::MutexLock lock(&mu_);
    return events_.size();
  }
  // The first positional argument of each event, as JSON text.
  std::vector<std::string> Payloads() {
    std::vector<std::string> out;
    for (const EventData& e : events()) out.push_back(e.args.empty() ? "" : e.args[0].dump());
    return out;
  }

 private:
  std::shared_ptr<LocalClient> client_;
  absl::Mutex mu_;
  std::vector<EventData> events_ ABSL_GUARDED_BY(mu_);
};

class StreamRulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "thingtank-wamp-stream-rules-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    backend_ = std::make_unique<FakeBackend>();
    ASSERT_NE(backend_->port(), 0);
    streams_ = std::make_unique<streams::FakeStreams>(backend_.get());
    channel_ = backend_->Channel();
    stub_ = sv1::StreamsService::NewStub(channel_);
    router_ = std::make_unique<Router>(DefaultWampConfig(), &clock_, &registry_);
    client_ = LocalClient::Join(router_->FindRealm("realm1"), "test");
    Db::Options o;
    o.path = dir_ + "/wamp";
    o.column_families = RuleEngine::ColumnFamilies();
    auto db = Db::Open(o);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    auto engine = RuleEngine::Open(db_.get(), router_.get(), &clock_);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
    engine_->SetChannel(channel_);
  }

  void TearDown() override {
    if (client_ != nullptr) client_->Leave();
    client_.reset();
    engine_.reset();
    db_.reset();
    backend_.reset();
    streams_.reset();
    router_.reset();
    std::filesystem::remove_all(dir_);
  }

  v1::Rule MustCreate(v1::Rule rule) {
    auto created = engine_->Create(std::move(rule));
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? *created : v1::Rule();
  }

  // Polls `condition` (real time, 10 s at most) without moving the clock.
  static bool WaitFor(const std::function<bool()>& condition) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      if (condition()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return condition();
  }

  // Moves the clock in `step`s until `condition` holds (10 s of real time at
  // most), letting the calls each step started run.
  bool AdvanceUntil(const std::function<bool()>& condition,
                    absl::Duration step = absl::Milliseconds(100)) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      if (condition()) return true;
      clock_.Advance(step);
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return condition();
  }

  int Calls(const std::string& method) { return backend_->calls(StreamsMethodName(method)); }

  void CreateStream(const std::string& name, int shards) {
    grpc::ClientContext ctx;
    sv1::CreateStreamRequest req;
    req.set_stream_name(name);
    req.set_shard_count(shards);
    sv1::CreateStreamResponse resp;
    grpc::Status s = stub_->CreateStream(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  void DeleteStream(const std::string& name) {
    grpc::ClientContext ctx;
    sv1::DeleteStreamRequest req;
    req.set_stream_name(name);
    sv1::DeleteStreamResponse resp;
    grpc::Status s = stub_->DeleteStream(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // Puts a record; returns its shard id.
  std::string Put(const std::string& stream, const std::string& data, const std::string& key,
                  const std::string& explicit_hash_key = "") {
    grpc::ClientContext ctx;
    sv1::PutRecordRequest req;
    req.set_stream_name(stream);
    req.set_data(data);
    req.set_partition_key(key);
    req.set_explicit_hash_key(explicit_hash_key);
    sv1::PutRecordResponse resp;
    grpc::Status s = stub_->PutRecord(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.shard_id();
  }

  grpc::Status Reshard(const std::string& stream, const std::string& shard,
                       const std::string& other_or_hash_key, bool split) {
    grpc::ClientContext ctx;
    if (split) {
      sv1::SplitShardRequest req;
      req.set_stream_name(stream);
      req.set_shard_to_split(shard);
      req.set_new_starting_hash_key(other_or_hash_key);
      sv1::SplitShardResponse resp;
      return stub_->SplitShard(&ctx, req, &resp);
    }
    sv1::MergeShardsRequest req;
    req.set_stream_name(stream);
    req.set_shard_to_merge(shard);
    req.set_adjacent_shard_to_merge(other_or_hash_key);
    sv1::MergeShardsResponse resp;
    return stub_->MergeShards(&ctx, req, &resp);
  }

  uint64_t Publish(const std::string& topic, Json args, Json kwargs) {
    auto publication = client_->Publish(topic, std::move(args), std::move(kwargs));
    EXPECT_TRUE(publication.ok()) << publication.status();
    return publication.ok() ? *publication : 0;
  }

  std::string dir_;
  ManualClock clock_;
  prometheus::Registry registry_;
  std::unique_ptr<FakeBackend> backend_;
  std::unique_ptr<streams::FakeStreams> streams_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<sv1::StreamsService::Stub> stub_;
  std::unique_ptr<Router> router_;
  std::shared_ptr<LocalClient> client_;
  std::unique_ptr<Db> db_;
  std::unique_ptr<RuleEngine> engine_;
};

}  // namespace thingtank::wamp
