#include "services/objects/notify/notifications.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpcpp/client_context.h"
#include "nlohmann/json.hpp"
#include "prometheus/registry.h"
#include "services/common/storage/key_codec.h"
#include "services/common/testing/fake_backend.h"
#include "services/common/testing/status_matchers.h"
#include "services/common/testing/temp_db.h"
#include "services/objects/notify/event_json.h"
#include "services/objects/object_service.h"
#include "services/objects/storage/object_keys.h"
#include "services/queues/testing/fake_queues.h"
#include "thingtank/queues/v1/queues.grpc.pb.h"
#include "thingtank/wamp/v1/wamp.pb.h"

namespace thingtank::objects {
namespace {

using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

constexpr char kQueueArn[] = "arn:aws:sqs:us-east-1:000000000000:";

// ---------------------------------------------------------------------------
// Pure functions.

TEST(EventMatchesTest, Table) {
  struct Row {
    const char* configured;
    const char* event;
    bool matches;
  };
  const Row rows[] = {
      {"s3:ObjectCreated:*", "ObjectCreated:Put", true},
      {"s3:ObjectCreated:*", "ObjectCreated:Copy", true},
      {"s3:ObjectCreated:*", "ObjectCreated:CompleteMultipartUpload", true},
      {"s3:ObjectCreated:*", "ObjectRemoved:Delete", false},
      {"s3:ObjectCreated:Put", "ObjectCreated:Put", true},
      {"s3:ObjectCreated:Put", "ObjectCreated:Copy", false},
      {"s3:ObjectCreated:Copy", "ObjectCreated:Copy", true},
      {"s3:ObjectCreated:CompleteMultipartUpload", "ObjectCreated:CompleteMultipartUpload", true},
      {"s3:ObjectRemoved:*", "ObjectRemoved:Delete", true},
      {"s3:ObjectRemoved:*", "ObjectRemoved:DeleteMarkerCreated", true},
      {"s3:ObjectRemoved:*", "ObjectCreated:Put", false},
      {"s3:ObjectRemoved:*", "LifecycleExpiration:Delete", false},
      {"s3:ObjectRemoved:Delete", "ObjectRemoved:Delete", true},
      {"s3:ObjectRemoved:Delete", "ObjectRemoved:DeleteMarkerCreated", false},
      {"s3:ObjectRemoved:DeleteMarkerCreated", "ObjectRemoved:DeleteMarkerCreated", true},
      {"s3:LifecycleExpiration:*", "LifecycleExpiration:Delete", true},
      {"s3:LifecycleExpiration:*", "LifecycleExpiration:DeleteMarkerCreated", true},
      {"s3:LifecycleExpiration:*", "ObjectRemoved:Delete", false},
      {"ObjectCreated:Put", "ObjectCreated:Put", false},  // without "s3:"
      {"s3:*", "ObjectCreated:Put", false},
      {"s3:ObjectCreated", "ObjectCreated:Put", false},
  };
  for (const Row& row : rows) {
    EXPECT_EQ(notify::EventMatches(row.configured, row.event), row.matches)
        << row.configured << " vs " << row.event;
  }
}

TEST(ConfigurationMatchesTest, EventsPrefixAndSuffix) {
  v1::NotificationConfiguration c;
  c.add_events("s3:ObjectRemoved:Delete");
  c.add_events("s3:ObjectCreated:*");
  EXPECT_TRUE(notify::ConfigurationMatches(c, "ObjectCreated:Copy", "any/key"));
  EXPECT_TRUE(notify::ConfigurationMatches(c, "ObjectRemoved:Delete", "any/key"));
  EXPECT_FALSE(notify::ConfigurationMatches(c, "ObjectRemoved:DeleteMarkerCreated", "any/key"));
  c.set_prefix("images/");
  c.set_suffix(".jpg");
  EXPECT_TRUE(notify::ConfigurationMatches(c, "ObjectCreated:Put", "images/cat.jpg"));
  EXPECT_TRUE(notify::ConfigurationMatches(c, "ObjectCreated:Put", "images/.jpg"));
  EXPECT_FALSE(notify::ConfigurationMatches(c, "ObjectCreated:Put", "images/cat.png"));
  EXPECT_FALSE(notify::ConfigurationMatches(c, "ObjectCreated:Put", "docs/cat.jpg"));
  EXPECT_FALSE(notify::ConfigurationMatches(c, "ObjectCreated:Put", "Images/cat.jpg"));
}

TEST(EncodeKeyTest, AsS3WritesKeysInEvents) {
  EXPECT_EQ(notify::EncodeKey("photos/2024/cat.jpg"), "photos/2024/cat.jpg");
  EXPECT_EQ(notify::EncodeKey("my cat (1)+x.jpg"), "my+cat+%281%29%2Bx.jpg");
  EXPECT_EQ(notify::EncodeKey("a=b&c?d#e%f~g"), "a%3Db%26c%3Fd%23e%25f%7Eg");
  EXPECT_EQ(notify::EncodeKey("caf\xC3\xA9"), "caf%C3%A9");
  EXPECT_EQ(notify::EncodeKey("-_.*"), "-_.*");
}

storage::BucketRecord Bucket(const std::string& name, const std::string& region) {
  storage::BucketRecord b;
  b.set_name(name);
  b.set_region(region);
  return b;
}

v1::NotificationConfiguration Configuration(const std::string& id, const std::string& arn,
                                            std::vector<std::string> events,
                                            const std::string& prefix = "",
                                            const std::string& suffix = "") {
  v1::NotificationConfiguration c;
  c.set_id(id);
  c.set_destination_arn(arn);
  for (std::string& e : events) c.add_events(std::move(e));
  c.set_prefix(prefix);
  c.set_suffix(suffix);
  return c;
}

TEST(EventJsonTest, PutInAnUnversionedBucket) {
  storage::VersionRecord v;
  v.set_key("my cat.jpg");
  v.set_version_id("null");
  v.set_size(42);
  v.set_etag("9e107d9d372bb6826bd81d3542a419d6");
  const std::string json = notify::EventJson(notify::MessageFor(
      Bucket("photos", "eu-west-1"), Configuration("new-jpegs", "arn:x", {"s3:ObjectCreated:*"}),
      "ObjectCreated:Put", v, absl::FromUnixMillis(1'700'000'000'123), 7));
  EXPECT_EQ(json,
            R"({"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"eu-west-1",)"
            R"("eventTime":"2023-11-14T22:13:20.123Z","eventName":"ObjectCreated:Put",)"
            R"("userIdentity":{"principalId":"thingtank"},)"
            R"("requestParameters":{"sourceIPAddress":"127.0.0.1"},)"
            R"("responseElements":{"x-amz-request-id":"0000000000000007",)"
            R"("x-amz-id-2":"dGhpbmd0YW5rLzAwMDAwMDAwMDAwMDAwMDc="},)"
            R"("s3":{"s3SchemaVersion":"1.0","configurationId":"new-jpegs",)"
            R"("bucket":{"name":"photos","ownerIdentity":{"principalId":"thingtank"},)"
            R"("arn":"arn:aws:s3:::photos"},)"
            R"("object":{"key":"my+cat.jpg","size":42,"eTag":"9e107d9d372bb6826bd81d3542a419d6",)"
            R"("sequencer":"0000000000000007"}}}]})");
}

TEST(EventJsonTest, DeleteMarkerInAVersionedBucket) {
  storage::VersionRecord marker;
  marker.set_key("docs/report.pdf");
  marker.set_version_id("0000000000000009abcdef0123456789");
  marker.set_delete_marker(true);
  const std::string json = notify::EventJson(notify::MessageFor(
      Bucket("archive", ""), Configuration("removals", "arn:x", {"s3:ObjectRemoved:*"}),
      "ObjectRemoved:DeleteMarkerCreated", marker, absl::FromUnixSeconds(1'700'000'000), 10));
  EXPECT_EQ(json,
            R"({"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",)"
            R"("eventTime":"2023-11-14T22:13:20.000Z","eventName":"ObjectRemoved:DeleteMarkerCreated",)"
            R"("userIdentity":{"principalId":"thingtank"},)"
            R"("requestParameters":{"sourceIPAddress":"127.0.0.1"},)"
            R"("responseElements":{"x-amz-request-id":"000000000000000A",)"
            R"("x-amz-id-2":"dGhpbmd0YW5rLzAwMDAwMDAwMDAwMDAwMEE="},)"
            R"("s3":{"s3SchemaVersion":"1.0","configurationId":"removals",)"
            R"("bucket":{"name":"archive","ownerIdentity":{"principalId":"thingtank"},)"
            R"("arn":"arn:aws:s3:::archive"},)"
            R"("object":{"key":"docs/report.pdf","versionId":"0000000000000009abcdef0123456789",)"
            R"("sequencer":"000000000000000A"}}}]})");
}

TEST(EventJsonTest, DeleteOfAVersionHasNoSizeNorETag) {
  storage::VersionRecord v;
  v.set_key("k");
  v.set_version_id("00000000000000030123456789abcdef");
  v.set_size(5);
  v.set_etag("abc");
  notify::EventMessage m = notify::MessageFor(
      Bucket("b", "us-east-1"), Configuration("c", "arn:x", {"s3:ObjectRemoved:*"}),
      "ObjectRemoved:Delete", v, absl::UnixEpoch(), 300);
  EXPECT_FALSE(m.size.has_value());
  EXPECT_EQ(m.etag, "");
  EXPECT_EQ(m.version_id, "00000000000000030123456789abcdef");
  auto json = nlohmann::json::parse(notify::EventJson(m));
  const auto& object = json["Records"][0]["s3"]["object"];
  EXPECT_FALSE(object.contains("size"));
  EXPECT_FALSE(object.contains("eTag"));
  EXPECT_EQ(object["sequencer"], "000000000000012C");
  EXPECT_EQ(json["Records"][0]["eventTime"], "1970-01-01T00:00:00.000Z");
}

// ---------------------------------------------------------------------------
// Staging and delivery over a temp RocksDB, a real fake queues server and a
// manual clock.

bool Eventually(const std::function<bool()>& condition, absl::Duration limit = absl::Seconds(20)) {
  const absl::Time end = absl::Now() + limit;
  while (absl::Now() < end) {
    if (condition()) return true;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return condition();
}

double CounterValue(prometheus::Registry& registry, const std::string& name) {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name == name && !family.metric.empty()) return family.metric[0].counter.value;
  }
  return -1;
}

class NotificationsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = OpenTempDb(dir_, Catalog::ColumnFamilies());
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    queues_stub_ = queues::v1::QueuesService::NewStub(backend_.Channel());
  }
  void TearDown() override {
    service_.reset();
    notifications_.reset();
  }

  void OpenNotifications(Notifications::Options options = Notifications::Options()) {
    notifications_ = std::make_unique<Notifications>(db_.get(), &clock_, &executor_, &metrics_, options);
  }
  void OpenService() {
    ObjectService::Options options;
    options.blob_root = dir_.path() + "/blobs";
    options.events = notifications_.get();
    auto service = ObjectService::Open(db_.get(), &clock_, options);
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = *std::move(service);
  }
  void Connect() {
    notifications_->Start();
    notifications_->SetChannel(backend_.Channel(), nullptr);
  }

  void CreateBucket(const std::string& name, std::vector<v1::NotificationConfiguration> configs,
                    bool versioned = false) {
    v1::CreateBucketRequest create;
    create.set_bucket(name);
    ASSERT_THAT(service_->buckets->CreateBucket(create), IsOk());
    if (versioned) {
      v1::PutBucketVersioningRequest versioning;
      versioning.set_bucket(name);
      versioning.set_status(v1::VERSIONING_STATUS_ENABLED);
      ASSERT_THAT(service_->buckets->PutBucketVersioning(versioning), IsOk());
    }
    if (configs.empty()) return;
    v1::PutBucketNotificationConfigurationRequest put;
    put.set_bucket(name);
    for (auto& c : configs) *put.add_configurations() = std::move(c);
    ASSERT_THAT(service_->buckets->PutBucketNotificationConfiguration(put), IsOk());
  }
  void Put(const std::string& bucket, const std::string& key, const std::string& content) {
    v1::PutObjectHeader header;
    header.set_bucket(bucket);
    header.set_key(key);
    auto session = service_->objects->StartPut(header);
    ASSERT_THAT(session, IsOk());
    ASSERT_THAT((*session)->Append(content), IsOk());
    ASSERT_THAT((*session)->Finish(), IsOk());
  }
  void Delete(const std::string& bucket, const std::string& key) {
    v1::DeleteObjectRequest r;
    r.set_bucket(bucket);
    r.set_key(key);
    ASSERT_THAT(service_->objects->DeleteObject(r), IsOk());
  }

  std::vector<std::pair<uint64_t, storage::OutboxRecord>> Outbox() {
    std::vector<std::pair<uint64_t, storage::OutboxRecord>> out;
    auto it = db_->Scan(db_->cf(keys::kOutbox), "");
    for (; it->Valid(); it->Next()) {
      std::string_view key = it->suffix();
      std::optional<uint64_t> seq = thingtank::keys::ConsumeUint64(&key);
      EXPECT_TRUE(seq.has_value());
      storage::OutboxRecord record;
      EXPECT_TRUE(record.ParseFromString(std::string(it->value().ToString())));
      out.emplace_back(seq.value_or(0), std::move(record));
    }
    EXPECT_THAT(it->status(), IsOk());
    return out;
  }

  void CreateQueue(const std::string& name) {
    grpc::ClientContext context;
    queues::v1::CreateQueueRequest request;
    request.set_queue_name(name);
    queues::v1::CreateQueueResponse response;
    ASSERT_TRUE(queues_stub_->CreateQueue(&context, request, &response).ok());
  }
  std::vector<std::string> Receive(const std::string& queue) {
    grpc::ClientContext context;
    queues::v1::ReceiveMessagesRequest request;
    request.set_queue_name(queue);
    request.set_max_number_of_messages(10);
    request.mutable_wait_time()->set_seconds(0);
    queues::v1::ReceiveMessagesResponse response;
    grpc::Status status = queues_stub_->ReceiveMessages(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> bodies;
    for (const auto& m : response.messages()) bodies.push_back(m.body());
    return bodies;
  }

  double Sent() { return CounterValue(registry_, "thingtank_objects_notifications_sent_total"); }
  double Failed() { return CounterValue(registry_, "thingtank_objects_notifications_failed_total"); }
  int SendCalls() { return backend_.calls("thingtank.queues.v1.QueuesService.SendMessage"); }

  TempDir dir_{"tt_notify_"};
  std::unique_ptr<Db> db_;
  ManualClock clock_;
  FakeBackend backend_;
  queues::FakeQueues fake_queues_{&backend_};
  std::unique_ptr<queues::v1::QueuesService::Stub> queues_stub_;
  prometheus::Registry registry_;
  ObjectsMetrics metrics_{&registry_, 10};
  // Declared after what it uses, so it goes first; the services before it.
  ThreadPool executor_{"notify-test", 2, 1000};
  std::unique_ptr<Notifications> notifications_;
  std::unique_ptr<ObjectService> service_;
};

TEST_F(NotificationsTest, StagesOutboxRecordsOnlyWhenConfigured) {
  OpenNotifications();  // not started: nothing is delivered
  OpenService();
  CreateBucket("plain", {});
  CreateBucket("watched",
               {Configuration("jpegs", std::string(kQueueArn) + "uploads", {"s3:ObjectCreated:*"},
                              "img/", ".jpg"),
                Configuration("removals", "arn:thingtank:wamp::objects.removed",
                              {"s3:ObjectRemoved:*"})});

  Put("plain", "img/a.jpg", "hello");
  EXPECT_THAT(Outbox(), IsEmpty());

  Put("watched", "img/a.jpg", "hello");
  auto outbox = Outbox();
  ASSERT_THAT(outbox, SizeIs(1));
  EXPECT_EQ(outbox[0].second.destination_arn(), std::string(kQueueArn) + "uploads");
  EXPECT_EQ(outbox[0].second.attempts(), 0);
  auto event = nlohmann::json::parse(outbox[0].second.event_json())["Records"][0];
  EXPECT_EQ(event["eventName"], "ObjectCreated:Put");
  EXPECT_EQ(event["eventTime"], "2023-11-14T22:13:20.000Z");  // the manual clock's start
  EXPECT_EQ(event["s3"]["configurationId"], "jpegs");
  EXPECT_EQ(event["s3"]["object"]["key"], "img/a.jpg");
  EXPECT_EQ(event["s3"]["object"]["size"], 5);
  EXPECT_EQ(event["s3"]["object"]["eTag"], "5d41402abc4b2a76b9719d911017c592");  // md5("hello")
  EXPECT_FALSE(event["s3"]["object"].contains("versionId"));

  Put("watched", "img/a.png", "x");   // suffix does not match
  Put("watched", "doc/a.jpg", "x");   // prefix does not match
  EXPECT_THAT(Outbox(), SizeIs(1));

  Delete("watched", "img/a.jpg");
  outbox = Outbox();
  ASSERT_THAT(outbox, SizeIs(2));
  EXPECT_LT(outbox[0].first, outbox[1].first);
  EXPECT_EQ(outbox[1].second.destination_arn(), "arn:thingtank:wamp::objects.removed");
  auto removed = nlohmann::json::parse(outbox[1].second.event_json())["Records"][0];
  EXPECT_EQ(removed["eventName"], "ObjectRemoved:Delete");
  EXPECT_FALSE(removed["s3"]["object"].contains("size"));
  EXPECT_GT(removed["s3"]["object"]["sequencer"].get<std::string>(),
            event["s3"]["object"]["sequencer"].get<std::string>());
}

TEST_F(NotificationsTest, VersionedDeleteStagesADeleteMarkerEvent) {
  OpenNotifications();
  OpenService();
  CreateBucket("versioned", {Configuration("all", std::string(kQueueArn) + "q",
                                           {"s3:ObjectCreated:Put", "s3:ObjectRemoved:*"})},
               /*versioned=*/true);
  Put("versioned", "k", "v1");
  Delete("versioned", "k");
  auto outbox = Outbox();
  ASSERT_THAT(outbox, SizeIs(2));
  auto put = nlohmann::json::parse(outbox[0].second.event_json())["Records"][0];
  auto marker = nlohmann::json::parse(outbox[1].second.event_json())["Records"][0];
  EXPECT_EQ(put["s3"]["object"]["versionId"].get<std::string>().size(), 32u);
  EXPECT_EQ(marker["eventName"], "ObjectRemoved:DeleteMarkerCreated");
  EXPECT_EQ(marker["s3"]["object"]["versionId"].get<std::string>().size(), 32u);
  EXPECT_NE(marker["s3"]["object"]["versionId"], put["s3"]["object"]["versionId"]);
}

TEST_F(NotificationsTest, DeliversToTheQueueThenRemovesTheRecord) {
  CreateQueue("uploads");
  OpenNotifications();
  OpenService();
  Connect();
  CreateBucket("bkt", {Configuration("c", std::string(kQueueArn) + "uploads", {"s3:ObjectCreated:*"})});
  Put("bkt", "a b.txt", "hi");

  ASSERT_TRUE(Eventually([&] { return Sent() == 1; }));
  EXPECT_THAT(Outbox(), IsEmpty());
  EXPECT_EQ(Failed(), 0);
  std::vector<std::string> bodies = Receive("uploads");
  ASSERT_THAT(bodies, SizeIs(1));
  auto event = nlohmann::json::parse(bodies[0])["Records"][0];
  EXPECT_EQ(event["eventName"], "ObjectCreated:Put");
  EXPECT_EQ(event["s3"]["bucket"]["name"], "bkt");
  EXPECT_EQ(event["s3"]["object"]["key"], "a+b.txt");
}

TEST_F(NotificationsTest, PublishesOnTheWampTopicInTheDefaultRealm) {
  absl::Mutex mu;
  std::vector<wamp::v1::PublishRequest> published;
  backend_.On<wamp::v1::PublishRequest, wamp::v1::PublishResponse>(
      "thingtank.wamp.v1.WampService.Publish",
      [&](const FakeCall&, const wamp::v1::PublishRequest& r, wamp::v1::PublishResponse*) {
        absl::MutexLock lock(&mu);
        published.push_back(r);
        return absl::OkStatus();
      });
  OpenNotifications();
  OpenService();
  Connect();
  CreateBucket("bkt", {Configuration("c", "arn:thingtank:wamp::objects.events", {"s3:ObjectCreated:*"})});
  Put("bkt", "k", "x");
  ASSERT_TRUE(Eventually([&] { return Sent() == 1; }));
  absl::MutexLock lock(&mu);
  ASSERT_THAT(published, SizeIs(1));
  EXPECT_EQ(published[0].realm(), "");  // the wamp service's default: realm1
  EXPECT_EQ(published[0].topic(), "objects.events");
  EXPECT_EQ(nlohmann::json::parse(published[0].kwargs_json())["Records"][0]["eventName"],
            "ObjectCreated:Put");
  EXPECT_EQ(published[0].args_json(), "");
}

TEST_F(NotificationsTest, RetriesAFailingDestinationWithBackoffOnTheClock) {
  CreateQueue("live");
  OpenNotifications();
  OpenService();
  Connect();
  CreateBucket("bkt", {Configuration("late", std::string(kQueueArn) + "late", {"s3:ObjectCreated:*"}),
                     Configuration("live", std::string(kQueueArn) + "live", {"s3:ObjectCreated:*"})});
  Put("bkt", "k", "x");

  // The live queue gets its message; the missing one fails and waits 1 s.
  ASSERT_TRUE(Eventually([&] { return Sent() == 1 && Failed() == 1; }));
  EXPECT_THAT(Receive("live"), SizeIs(1));
  auto outbox = Outbox();
  ASSERT_THAT(outbox, SizeIs(1));
  EXPECT_EQ(outbox[0].second.destination_arn(), std::string(kQueueArn) + "late");
  EXPECT_EQ(outbox[0].second.attempts(), 1);
  EXPECT_EQ(SendCalls(), 2);

  clock_.Advance(absl::Milliseconds(999));
  EXPECT_EQ(SendCalls(), 2);  // not due yet
  clock_.Advance(absl::Milliseconds(1));
  ASSERT_TRUE(Eventually([&] { return Failed() == 2; }));
  EXPECT_EQ(SendCalls(), 3);
  EXPECT_EQ(Outbox()[0].second.attempts(), 2);

  // The second wait is 2 s; meanwhile the queue appears.
  CreateQueue("late");
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(SendCalls(), 3);
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(Eventually([&] { return Sent() == 2; }));
  EXPECT_THAT(Outbox(), IsEmpty());
  EXPECT_EQ(Failed(), 2);
  std::vector<std::string> bodies = Receive("late");
  ASSERT_THAT(bodies, SizeIs(1));
  EXPECT_EQ(nlohmann::json::parse(bodies[0])["Records"][0]["s3"]["configurationId"], "late");
}

TEST_F(NotificationsTest, ADeadDestinationDoesNotHoldUpLaterRecords) {
  CreateQueue("live");
  Notifications::Options options;
  options.max_in_flight = 1;  // one send at a time
  OpenNotifications(options);
  OpenService();
  Connect();
  CreateBucket("bkt", {Configuration("dead", std::string(kQueueArn) + "dead", {"s3:ObjectCreated:*"},
                                     "dead/"),
                       Configuration("live", std::string(kQueueArn) + "live", {"s3:ObjectCreated:*"},
                                     "live/")});
  Put("bkt", "dead/0", "x");
  for (int i = 0; i < 5; ++i) Put("bkt", "live/" + std::to_string(i), "x");
  ASSERT_TRUE(Eventually([&] { return Sent() == 5 && Failed() == 1; }));
  EXPECT_THAT(Receive("live"), SizeIs(5));
  auto outbox = Outbox();
  ASSERT_THAT(outbox, SizeIs(1));
  EXPECT_EQ(outbox[0].second.destination_arn(), std::string(kQueueArn) + "dead");
}

TEST_F(NotificationsTest, DropsARecordAfterMaxAttempts) {
  Notifications::Options options;
  options.max_attempts = 3;
  OpenNotifications(options);
  OpenService();
  Connect();
  CreateBucket("bkt", {Configuration("c", std::string(kQueueArn) + "missing", {"s3:ObjectCreated:*"})});
  Put("bkt", "k", "x");
  ASSERT_TRUE(Eventually([&] { return Failed() == 1; }));
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(Eventually([&] { return Failed() == 2; }));
  clock_.Advance(absl::Seconds(2));
  ASSERT_TRUE(Eventually([&] { return Failed() == 3 && Outbox().empty(); }));
  EXPECT_EQ(Sent(), 0);
  EXPECT_EQ(SendCalls(), 3);
  EXPECT_EQ(clock_.pending_timers(), 0u);
}

TEST_F(NotificationsTest, BackoffDoublesUpToTheCap) {
  Notifications::Options options;
  options.initial_backoff = absl::Seconds(1);
  options.max_backoff = absl::Seconds(10);
  notify::Deliverer deliverer(db_.get(), &clock_, &executor_, nullptr, options);
  EXPECT_EQ(deliverer.Backoff(1), absl::Seconds(1));
  EXPECT_EQ(deliverer.Backoff(2), absl::Seconds(2));
  EXPECT_EQ(deliverer.Backoff(4), absl::Seconds(8));
  EXPECT_EQ(deliverer.Backoff(5), absl::Seconds(10));
  EXPECT_EQ(deliverer.Backoff(100), absl::Seconds(10));
}

TEST_F(NotificationsTest, ARestartDeliversWhatWasLeft) {
  CreateQueue("q");
  OpenNotifications();  // never connected: everything stays in the outbox
  OpenService();
  CreateBucket("bkt", {Configuration("c", std::string(kQueueArn) + "q", {"s3:ObjectCreated:*"})});
  Put("bkt", "one", "1");
  Put("bkt", "two", "2");
  ASSERT_THAT(Outbox(), SizeIs(2));
  service_.reset();
  notifications_.reset();

  OpenNotifications();
  Connect();
  ASSERT_TRUE(Eventually([&] { return Sent() == 2; }));
  EXPECT_THAT(Outbox(), IsEmpty());
  std::vector<std::string> keys;
  for (const std::string& body : Receive("q")) {
    keys.push_back(nlohmann::json::parse(body)["Records"][0]["s3"]["object"]["key"].get<std::string>());
  }
  EXPECT_THAT(keys, UnorderedElementsAre("one", "two"));  // two sends in flight at once
}

TEST_F(NotificationsTest, ShutdownLeavesUndeliveredRecordsInPlace) {
  OpenNotifications();
  OpenService();
  Connect();
  CreateBucket("bkt", {Configuration("c", std::string(kQueueArn) + "nowhere", {"s3:ObjectCreated:*"})});
  Put("bkt", "k", "x");
  ASSERT_TRUE(Eventually([&] { return Failed() == 1; }));
  notifications_->Shutdown();
  notifications_->Shutdown();  // idempotent
  EXPECT_EQ(clock_.pending_timers(), 0u);
  Put("bkt", "k2", "y");  // staged after shutdown: kept for the next run
  EXPECT_THAT(Outbox(), SizeIs(2));
  clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(SendCalls(), 1);
}

}  // namespace
}  // namespace thingtank::objects
