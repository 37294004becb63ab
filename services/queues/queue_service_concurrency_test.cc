// QueueService under real threads and a real clock: many senders, receivers
// and long polls at once, including two queues that redrive into each other
// (the lock-order case). Waits on conditions with deadlines, never sleeps.

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "services/common/clock.h"
#include "services/common/executor.h"
#include "services/common/storage/db.h"
#include "services/common/testing/temp_db.h"
#include "services/queues/queue_service.h"

namespace thingtank::queues {
namespace {

google::protobuf::Duration Secs(int64_t s) {
  google::protobuf::Duration d;
  d.set_seconds(s);
  return d;
}

class ConcurrencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = *OpenTempDb(dir_, QueueService::ColumnFamilies());
    service_ = *QueueService::Open(db_.get(), &clock_, &pool_, nullptr);
  }
  void TearDown() override {
    service_.reset();
    db_.reset();
  }
  void Create(const std::string& name, v1::QueueAttributes a = {}) {
    v1::CreateQueueRequest req;
    req.set_queue_name(name);
    *req.mutable_attributes() = a;
    ASSERT_TRUE(service_->CreateQueue(req).ok());
  }

  TempDir dir_{"tt_queues_cc_"};
  RealClock clock_;
  ThreadPool pool_{"queues-test", 4, 100000};
  std::unique_ptr<Db> db_;
  std::unique_ptr<QueueService> service_;
};

TEST_F(ConcurrencyTest, EverySentMessageIsReceivedAndDeletedOnce) {
  Create("q");
  constexpr int kSenders = 4, kPerSender = 250, kTotal = kSenders * kPerSender;
  absl::Mutex mu;
  std::set<std::string> bodies;
  int deleted = 0;
  std::atomic<bool> stop{false};

  std::vector<std::thread> threads;
  for (int r = 0; r < 3; ++r) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        v1::ReceiveMessagesRequest req;
        req.set_queue_name("q");
        req.set_max_number_of_messages(10);
        *req.mutable_wait_time() = Secs(1);  // long poll: woken by sends
        absl::Notification done;
        absl::StatusOr<v1::ReceiveMessagesResponse> result;
        service_->ReceiveMessages(req, [&](absl::StatusOr<v1::ReceiveMessagesResponse> r) {
          result = std::move(r);
          done.Notify();
        });
        done.WaitForNotification();
        ASSERT_TRUE(result.ok()) << result.status();
        for (const auto& m : result->messages()) {
          v1::DeleteMessageRequest del;
          del.set_queue_name("q");
          del.set_receipt_handle(m.receipt_handle());
          ASSERT_TRUE(service_->DeleteMessage(del).ok());
          absl::MutexLock lock(&mu);
          EXPECT_TRUE(bodies.insert(m.body()).second) << "received twice: " << m.body();
          ++deleted;
        }
      }
    });
  }
  for (int s = 0; s < kSenders; ++s) {
    threads.emplace_back([&, s] {
      for (int i = 0; i < kPerSender; ++i) {
        v1::SendMessageRequest req;
        req.set_queue_name("q");
        req.set_message_body("m" + std::to_string(s) + "-" + std::to_string(i));
        ASSERT_TRUE(service_->SendMessage(req).ok());
      }
    });
  }
  {
    absl::MutexLock lock(&mu);
    auto all_in = [&] { return deleted >= kTotal; };
    EXPECT_TRUE(mu.AwaitWithTimeout(absl::Condition(&all_in), absl::Seconds(60)));
  }
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(bodies.size(), static_cast<size_t>(kTotal));
}

TEST_F(ConcurrencyTest, QueuesRedrivingIntoEachOtherDoNotDeadlock) {
  Create("a");
  v1::QueueAttributes to_a;
  to_a.mutable_redrive_policy()->set_dead_letter_queue_name("a");
  to_a.mutable_redrive_policy()->set_max_receive_count(1);
  *to_a.mutable_visibility_timeout() = Secs(0);
  Create("b", to_a);
  v1::SetQueueAttributesRequest set;
  set.set_queue_name("a");
  set.mutable_attributes()->mutable_redrive_policy()->set_dead_letter_queue_name("b");
  set.mutable_attributes()->mutable_redrive_policy()->set_max_receive_count(1);
  *set.mutable_attributes()->mutable_visibility_timeout() = Secs(0);
  ASSERT_TRUE(service_->SetQueueAttributes(set).ok());
  for (int i = 0; i < 50; ++i) {
    v1::SendMessageRequest req;
    req.set_queue_name(i % 2 ? "a" : "b");
    req.set_message_body("bounce");
    ASSERT_TRUE(service_->SendMessage(req).ok());
  }
  std::vector<std::thread> threads;
  std::atomic<int> receives{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        v1::ReceiveMessagesRequest req;
        req.set_queue_name(t % 2 ? "a" : "b");
        req.set_max_number_of_messages(10);
        *req.mutable_wait_time() = Secs(0);
        absl::Notification done;
        service_->ReceiveMessages(req, [&](absl::StatusOr<v1::ReceiveMessagesResponse> r) {
          EXPECT_TRUE(r.ok()) << r.status();
          done.Notify();
        });
        done.WaitForNotification();
        receives.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(receives.load(), 1200);
  // Messages only moved between the queues: none lost.
  int64_t total = 0;
  for (const auto& c : service_->Counts()) total += c.visible + c.in_flight + c.delayed;
  EXPECT_EQ(total, 50);
}

}  // namespace
}  // namespace thingtank::queues
