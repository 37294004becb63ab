#pragma once

// Fixture for QueueService tests: a temp-dir RocksDB, a manual clock and an
// inline executor, with small helpers. No sleeps: time moves by Advance.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/synchronization/mutex.h"
#include "services/common/clock.h"
#include "services/common/executor.h"
#include "services/common/status.h"
#include "services/common/storage/db.h"
#include "services/common/testing/status_matchers.h"
#include "services/common/testing/temp_db.h"
#include "services/queues/queue_service.h"

namespace thingtank::queues {

// Records every domain event.
class RecordingEvents final : public QueueEvents {
 public:
  void OnSent(const std::string& q, int64_t n) override { Add("sent", q, n); }
  void OnReceived(const std::string& q, int64_t n) override { Add("received", q, n); }
  void OnDeleted(const std::string& q, int64_t n) override { Add("deleted", q, n); }
  void OnRedriven(const std::string& q, int64_t n) override { Add("redriven", q, n); }
  void OnExpired(const std::string& q, int64_t n) override { Add("expired", q, n); }
  int64_t Get(const std::string& kind, const std::string& q) {
    absl::MutexLock lock(&mu_);
    return counts_[kind + "/" + q];
  }

 private:
  void Add(const std::string& kind, const std::string& q, int64_t n) {
    absl::MutexLock lock(&mu_);
    counts_[kind + "/" + q] += n;
  }
  absl::Mutex mu_;
  std::map<std::string, int64_t> counts_;
};

inline google::protobuf::Duration Secs(int64_t s) {
  google::protobuf::Duration d;
  d.set_seconds(s);
  return d;
}

// The result slot of an asynchronous receive.
struct PendingReceive {
  bool called = false;
  absl::StatusOr<v1::ReceiveMessagesResponse> result;
};

class QueueServiceTest
    : public TempDbServiceTest<QueueService, RecordingEvents, QueueServiceOptions> {
 protected:
  QueueServiceTest() : TempDbServiceTest("tt_queues_") {}

  void Create(const std::string& name, v1::QueueAttributes attrs = {}) {
    v1::CreateQueueRequest req;
    req.set_queue_name(name);
    *req.mutable_attributes() = std::move(attrs);
    if (name.size() > 5 && name.substr(name.size() - 5) == ".fifo") {
      req.mutable_attributes()->set_fifo_queue(true);
    }
    auto r = service_->CreateQueue(req);
    ASSERT_TRUE(r.ok()) << r.status();
  }
  v1::SendMessageResponse Send(const std::string& queue, const std::string& body,
                               std::optional<int64_t> delay_s = std::nullopt,
                               const std::string& group = "", const std::string& dedup = "") {
    v1::SendMessageRequest req;
    req.set_queue_name(queue);
    req.set_message_body(body);
    if (delay_s) *req.mutable_delay() = Secs(*delay_s);
    req.set_message_group_id(group);
    req.set_message_deduplication_id(dedup);
    auto r = service_->SendMessage(req);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : v1::SendMessageResponse();
  }
  // Starts a receive; the slot fills when the callback runs.
  std::shared_ptr<PendingReceive> StartReceive(v1::ReceiveMessagesRequest req,
                                               std::function<bool()> cancelled = nullptr) {
    auto slot = std::make_shared<PendingReceive>();
    service_->ReceiveMessages(
        req,
        [slot](absl::StatusOr<v1::ReceiveMessagesResponse> r) {
          EXPECT_FALSE(slot->called) << "callback called twice";
          slot->called = true;
          slot->result = std::move(r);
        },
        std::move(cancelled));
    return slot;
  }
  // A receive that must answer at once (wait 0).
  absl::StatusOr<v1::ReceiveMessagesResponse> TryReceive(
      const std::string& queue, int max = 10, std::optional<int64_t> visibility_s = std::nullopt) {
    v1::ReceiveMessagesRequest req;
    req.set_queue_name(queue);
    req.set_max_number_of_messages(max);
    *req.mutable_wait_time() = Secs(0);
    if (visibility_s) *req.mutable_visibility_timeout() = Secs(*visibility_s);
    auto slot = StartReceive(req);
    EXPECT_TRUE(slot->called);
    return slot->result;
  }
  v1::ReceiveMessagesResponse Receive(const std::string& queue, int max = 10,
                                      std::optional<int64_t> visibility_s = std::nullopt) {
    auto r = TryReceive(queue, max, visibility_s);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : v1::ReceiveMessagesResponse();
  }
  absl::Status Delete(const std::string& queue, const std::string& handle) {
    v1::DeleteMessageRequest req;
    req.set_queue_name(queue);
    req.set_receipt_handle(handle);
    return service_->DeleteMessage(req).status();
  }
  v1::GetQueueAttributesResponse Attributes(const std::string& queue) {
    v1::GetQueueAttributesRequest req;
    req.set_queue_name(queue);
    auto r = service_->GetQueueAttributes(req);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : v1::GetQueueAttributesResponse();
  }
  // visible / in flight / delayed.
  std::tuple<int64_t, int64_t, int64_t> CountsOf(const std::string& queue) {
    auto a = Attributes(queue);
    return {a.approximate_number_of_messages(), a.approximate_number_of_messages_not_visible(),
            a.approximate_number_of_messages_delayed()};
  }
};

}  // namespace thingtank::queues
