// The non-blocking variants of the message calls (what the gRPC adapter runs
// on the reactor thread): the same answers as the blocking calls when they
// can answer, and WouldBlock() with nothing changed when they cannot.

#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "services/queues/queue_service_test_util.h"

namespace thingtank::queues {

// Reaches into a queue's state for the tests below.
class QueueServiceTestPeer {
 public:
  static absl::Mutex* QueueMutex(QueueService* service, const std::string& name) {
    QueueService::QueuePtr q = service->FindOrNull(name);
    return q ? &q->mu : nullptr;
  }
};

namespace {


// Holds a mutex on another thread for its lifetime.
class HeldElsewhere {
 public:
  explicit HeldElsewhere(absl::Mutex* mu)
      : thread_([this, mu] {
          mu->Lock();
          locked_.Notify();
          release_.WaitForNotification();
          mu->Unlock();
        }) {
    locked_.WaitForNotification();
  }
  ~HeldElsewhere() {
    release_.Notify();
    thread_.join();
  }

 private:
  absl::Notification locked_;
  absl::Notification release_;
  std::thread thread_;
};

MATCHER(IsWouldBlockStatus, "is WouldBlock()") { return IsWouldBlock(arg.status()); }

v1::SendMessageRequest SendRequest(const std::string& queue, const std::string& body,
                                   const std::string& group = "",
                                   const std::string& dedup = "") {
  v1::SendMessageRequest r;
  r.set_queue_name(queue);
  r.set_message_body(body);
  r.set_message_group_id(group);
  r.set_message_deduplication_id(dedup);
  return r;
}

v1::ReceiveMessagesRequest ReceiveRequest(const std::string& queue, int max, int64_t wait_s) {
  v1::ReceiveMessagesRequest r;
  r.set_queue_name(queue);
  r.set_max_number_of_messages(max);
  *r.mutable_wait_time() = Secs(wait_s);
  return r;
}

v1::DeleteMessageRequest DeleteRequest(const std::string& queue, const std::string& handle) {
  v1::DeleteMessageRequest r;
  r.set_queue_name(queue);
  r.set_receipt_handle(handle);
  return r;
}

v1::ChangeMessageVisibilityRequest VisibilityRequest(const std::string& queue,
                                                     const std::string& handle, int64_t s) {
  v1::ChangeMessageVisibilityRequest r;
  r.set_queue_name(queue);
  r.set_receipt_handle(handle);
  *r.mutable_visibility_timeout() = Secs(s);
  return r;
}

using QueueNonBlockingTest = QueueServiceTest;

TEST_F(QueueNonBlockingTest, SameAnswersAsTheBlockingCalls) {
  Create("nb");
  Create("b");
  auto nb_sent = service_->SendMessageNonBlocking(SendRequest("nb", "hello"));
  ASSERT_THAT(nb_sent, IsOk());
  auto b_sent = service_->SendMessage(SendRequest("b", "hello"));
  ASSERT_THAT(b_sent, IsOk());
  EXPECT_EQ(nb_sent->md5_of_message_body(), b_sent->md5_of_message_body());
  EXPECT_EQ(nb_sent->message_id().size(), b_sent->message_id().size());
  EXPECT_EQ(CountsOf("nb"), CountsOf("b"));
  EXPECT_EQ(events_.Get("sent", "nb"), 1);

  auto got = service_->ReceiveMessagesNonBlocking(ReceiveRequest("nb", 10, 0));
  ASSERT_THAT(got, IsOk());
  ASSERT_EQ(got->messages_size(), 1);
  EXPECT_EQ(got->messages(0).message_id(), nb_sent->message_id());
  EXPECT_EQ(got->messages(0).body(), "hello");
  EXPECT_EQ(got->messages(0).attributes().approximate_receive_count(), 1);
  auto b_got = Receive("b");
  ASSERT_EQ(b_got.messages_size(), 1);
  EXPECT_EQ(CountsOf("nb"), std::make_tuple(0, 1, 0));
  EXPECT_EQ(CountsOf("nb"), CountsOf("b"));
  EXPECT_EQ(events_.Get("received", "nb"), 1);

  const std::string handle = got->messages(0).receipt_handle();
  EXPECT_THAT(service_->ChangeMessageVisibilityNonBlocking(VisibilityRequest("nb", handle, 0)),
              IsOk());
  EXPECT_EQ(CountsOf("nb"), std::make_tuple(1, 0, 0));
  // A stale handle: the same error as the blocking call.
  auto again = service_->ReceiveMessagesNonBlocking(ReceiveRequest("nb", 1, 0));
  ASSERT_THAT(again, IsOk());
  ASSERT_EQ(again->messages_size(), 1);
  EXPECT_EQ(again->messages(0).attributes().approximate_receive_count(), 2);
  EXPECT_THAT(service_->ChangeMessageVisibilityNonBlocking(VisibilityRequest("nb", handle, 5)),
              IsStatus(absl::StatusCode::kFailedPrecondition, "MessageNotInflight"));
  EXPECT_THAT(service_->ChangeMessageVisibility(VisibilityRequest("nb", handle, 5)),
              IsStatus(absl::StatusCode::kFailedPrecondition, "MessageNotInflight"));

  EXPECT_THAT(service_->DeleteMessageNonBlocking(
                  DeleteRequest("nb", again->messages(0).receipt_handle())),
              IsOk());
  EXPECT_THAT(service_->DeleteMessage(DeleteRequest("b", b_got.messages(0).receipt_handle())),
              IsOk());
  EXPECT_EQ(CountsOf("nb"), std::make_tuple(0, 0, 0));
  EXPECT_EQ(CountsOf("nb"), CountsOf("b"));
  EXPECT_EQ(events_.Get("deleted", "nb"), 1);

  // Errors are answered, not deferred.
  EXPECT_THAT(service_->SendMessageNonBlocking(SendRequest("missing", "x")),
              IsStatus(absl::StatusCode::kNotFound, "QueueDoesNotExist"));
  EXPECT_THAT(service_->DeleteMessageNonBlocking(DeleteRequest("nb", "garbage")),
              IsStatus(absl::StatusCode::kInvalidArgument, "ReceiptHandleIsInvalid",
                       "receipt_handle"));
  EXPECT_THAT(service_->ReceiveMessagesNonBlocking(ReceiveRequest("nb", 11, 0)),
              IsStatus(absl::StatusCode::kInvalidArgument, "InvalidParameterValue",
                       "max_number_of_messages"));
}

TEST_F(QueueNonBlockingTest, BatchesGiveTheSameAnswers) {
  Create("q");
  v1::SendMessageBatchRequest send;
  send.set_queue_name("q");
  for (int i = 0; i < 3; ++i) {
    auto* e = send.add_entries();
    e->set_id("e" + std::to_string(i));
    e->set_message_body("m" + std::to_string(i));
  }
  auto sent = service_->SendMessageBatchNonBlocking(send);
  ASSERT_THAT(sent, IsOk());
  EXPECT_EQ(sent->successful_size(), 3);
  auto got = service_->ReceiveMessagesNonBlocking(ReceiveRequest("q", 10, 0));
  ASSERT_THAT(got, IsOk());
  ASSERT_EQ(got->messages_size(), 3);
  v1::DeleteMessageBatchRequest del;
  del.set_queue_name("q");
  for (int i = 0; i < 3; ++i) {
    auto* e = del.add_entries();
    e->set_id("d" + std::to_string(i));
    e->set_receipt_handle(got->messages(i).receipt_handle());
  }
  auto deleted = service_->DeleteMessageBatchNonBlocking(del);
  ASSERT_THAT(deleted, IsOk());
  EXPECT_EQ(deleted->successful_size(), 3);
  EXPECT_EQ(CountsOf("q"), std::make_tuple(0, 0, 0));
}

TEST_F(QueueNonBlockingTest, ReceiveThatMustWaitIsLeftToTheLongPoll) {
  Create("q");
  EXPECT_THAT(service_->ReceiveMessagesNonBlocking(ReceiveRequest("q", 1, 20)),
              IsWouldBlockStatus());
  // No waiter was left behind: the message stays visible.
  Send("q", "later");
  EXPECT_EQ(CountsOf("q"), std::make_tuple(1, 0, 0));
  // Wait 0 on an empty queue is answered at once, empty.
  Create("empty");
  auto none = service_->ReceiveMessagesNonBlocking(ReceiveRequest("empty", 1, 0));
  ASSERT_THAT(none, IsOk());
  EXPECT_EQ(none->messages_size(), 0);
}

TEST_F(QueueNonBlockingTest, SendServesAWaitingLongPoll) {
  Create("q");
  auto slot = StartReceive(ReceiveRequest("q", 1, 20));
  ASSERT_FALSE(slot->called);
  auto sent = service_->SendMessageNonBlocking(SendRequest("q", "wake"));
  ASSERT_THAT(sent, IsOk());
  ASSERT_TRUE(slot->called);
  ASSERT_THAT(slot->result, IsOk());
  ASSERT_EQ(slot->result->messages_size(), 1);
  EXPECT_EQ(slot->result->messages(0).message_id(), sent->message_id());
  EXPECT_EQ(CountsOf("q"), std::make_tuple(0, 1, 0));
}

TEST_F(QueueNonBlockingTest, BusyQueueLockWouldBlockAndChangesNothing) {
  Create("q");
  Send("q", "one");
  auto got = Receive("q", 1, 30);
  ASSERT_EQ(got.messages_size(), 1);
  const std::string handle = got.messages(0).receipt_handle();
  Send("q", "two");
  {
    HeldElsewhere busy(QueueServiceTestPeer::QueueMutex(service_.get(), "q"));
    EXPECT_THAT(service_->SendMessageNonBlocking(SendRequest("q", "three")), IsWouldBlockStatus());
    v1::SendMessageBatchRequest batch;
    batch.set_queue_name("q");
    batch.add_entries()->set_id("a");
    batch.mutable_entries(0)->set_message_body("four");
    EXPECT_THAT(service_->SendMessageBatchNonBlocking(batch), IsWouldBlockStatus());
    EXPECT_THAT(service_->ReceiveMessagesNonBlocking(ReceiveRequest("q", 10, 0)),
                IsWouldBlockStatus());
    EXPECT_THAT(service_->DeleteMessageNonBlocking(DeleteRequest("q", handle)),
                IsWouldBlockStatus());
    v1::DeleteMessageBatchRequest del;
    del.set_queue_name("q");
    auto* e = del.add_entries();
    e->set_id("d");
    e->set_receipt_handle(handle);
    EXPECT_THAT(service_->DeleteMessageBatchNonBlocking(del), IsWouldBlockStatus());
    EXPECT_THAT(service_->ChangeMessageVisibilityNonBlocking(VisibilityRequest("q", handle, 0)),
                IsWouldBlockStatus());
  }
  EXPECT_EQ(CountsOf("q"), std::make_tuple(1, 1, 0));
  EXPECT_EQ(events_.Get("sent", "q"), 2);
  EXPECT_EQ(events_.Get("received", "q"), 1);
  // The first message is still in flight under its handle.
  EXPECT_THAT(service_->ChangeMessageVisibility(VisibilityRequest("q", handle, 60)), IsOk());
  EXPECT_THAT(service_->DeleteMessageNonBlocking(DeleteRequest("q", handle)), IsOk());
  EXPECT_EQ(CountsOf("q"), std::make_tuple(1, 0, 0));
}

TEST_F(QueueNonBlockingTest, BusyDeadLetterQueueLockWouldBlock) {
  Create("dlq");
  v1::QueueAttributes a;
  a.mutable_redrive_policy()->set_dead_letter_queue_name("dlq");
  a.mutable_redrive_policy()->set_max_receive_count(1);
  *a.mutable_visibility_timeout() = Secs(5);
  Create("src", a);
  Send("src", "poison");
  ASSERT_EQ(Receive("src").messages_size(), 1);
  clock_.Advance(absl::Seconds(5));
  {
    HeldElsewhere busy(QueueServiceTestPeer::QueueMutex(service_.get(), "dlq"));
    EXPECT_THAT(service_->ReceiveMessagesNonBlocking(ReceiveRequest("src", 1, 0)),
                IsWouldBlockStatus());
    EXPECT_THAT(service_->SendMessageNonBlocking(SendRequest("src", "x")), IsWouldBlockStatus());
  }
  EXPECT_EQ(CountsOf("src"), std::make_tuple(1, 0, 0));
  // The second receive redrives, on the fast path too.
  auto moved = service_->ReceiveMessagesNonBlocking(ReceiveRequest("src", 1, 0));
  ASSERT_THAT(moved, IsOk());
  EXPECT_EQ(moved->messages_size(), 0);
  EXPECT_EQ(events_.Get("redriven", "src"), 1);
  EXPECT_EQ(CountsOf("src"), std::make_tuple(0, 0, 0));
  EXPECT_EQ(CountsOf("dlq"), std::make_tuple(1, 0, 0));
}

// A service over a database with sync_writes: every non-blocking write must
// refuse (an fsync blocks).
class SyncWritesNonBlockingTest : public QueueServiceTest {
 protected:
  void SetUp() override {
    temp_dir_ = std::make_unique<TempDir>(dir_prefix_);
    dir_ = temp_dir_->path();
    Db::Options o;
    o.path = dir_;
    o.column_families = QueueService::ColumnFamilies();
    o.sync_writes = true;
    auto db = Db::Open(o);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    auto service = QueueService::Open(db_.get(), &clock_, &executor_, &events_, options_);
    ASSERT_TRUE(service.ok()) << service.status();
    service_ = *std::move(service);
  }
};

TEST_F(SyncWritesNonBlockingTest, WouldBlockThenTheBlockingCallSucceeds) {
  Create("q");
  EXPECT_THAT(service_->SendMessageNonBlocking(SendRequest("q", "one")), IsWouldBlockStatus());
  EXPECT_EQ(CountsOf("q"), std::make_tuple(0, 0, 0));
  EXPECT_EQ(events_.Get("sent", "q"), 0);
  auto sent = service_->SendMessage(SendRequest("q", "one"));
  ASSERT_THAT(sent, IsOk());

  EXPECT_THAT(service_->ReceiveMessagesNonBlocking(ReceiveRequest("q", 1, 0)),
              IsWouldBlockStatus());
  EXPECT_EQ(CountsOf("q"), std::make_tuple(1, 0, 0));
  auto got = Receive("q", 1);
  ASSERT_EQ(got.messages_size(), 1);
  EXPECT_EQ(got.messages(0).message_id(), sent->message_id());
  // The refused attempt did not count as a receive.
  EXPECT_EQ(got.messages(0).attributes().approximate_receive_count(), 1);
  const std::string handle = got.messages(0).receipt_handle();

  EXPECT_THAT(service_->ChangeMessageVisibilityNonBlocking(VisibilityRequest("q", handle, 0)),
              IsWouldBlockStatus());
  EXPECT_EQ(CountsOf("q"), std::make_tuple(0, 1, 0));
  EXPECT_THAT(service_->ChangeMessageVisibility(VisibilityRequest("q", handle, 60)), IsOk());

  EXPECT_THAT(service_->DeleteMessageNonBlocking(DeleteRequest("q", handle)), IsWouldBlockStatus());
  EXPECT_EQ(CountsOf("q"), std::make_tuple(0, 1, 0));
  EXPECT_THAT(service_->DeleteMessage(DeleteRequest("q", handle)), IsOk());
  EXPECT_EQ(CountsOf("q"), std::make_tuple(0, 0, 0));
  EXPECT_EQ(events_.Get("deleted", "q"), 1);
}

TEST_F(SyncWritesNonBlockingTest, FifoDedupSendRetriedAfterWouldBlock) {
  Create("q.fifo");
  EXPECT_THAT(service_->SendMessageNonBlocking(SendRequest("q.fifo", "body", "g", "d1")),
              IsWouldBlockStatus());
  // The retry on the executor is the first send of d1; a later one is its duplicate.
  auto first = service_->SendMessage(SendRequest("q.fifo", "body", "g", "d1"));
  ASSERT_THAT(first, IsOk());
  auto dup = service_->SendMessage(SendRequest("q.fifo", "body", "g", "d1"));
  ASSERT_THAT(dup, IsOk());
  EXPECT_EQ(dup->message_id(), first->message_id());
  EXPECT_EQ(dup->sequence_number(), first->sequence_number());
  EXPECT_EQ(CountsOf("q.fifo"), std::make_tuple(1, 0, 0));
  // A duplicate needs no write, so the fast path answers it.
  auto fast_dup = service_->SendMessageNonBlocking(SendRequest("q.fifo", "body", "g", "d1"));
  ASSERT_THAT(fast_dup, IsOk());
  EXPECT_EQ(fast_dup->message_id(), first->message_id());

  // Past the window, a refused attempt leaves the expired entry to the retry,
  // which sends anew.
  clock_.Advance(absl::Minutes(6));
  EXPECT_THAT(service_->SendMessageNonBlocking(SendRequest("q.fifo", "body", "g", "d1")),
              IsWouldBlockStatus());
  auto fresh = service_->SendMessage(SendRequest("q.fifo", "body", "g", "d1"));
  ASSERT_THAT(fresh, IsOk());
  EXPECT_NE(fresh->message_id(), first->message_id());
  auto fresh_dup = service_->SendMessage(SendRequest("q.fifo", "body", "g", "d1"));
  ASSERT_THAT(fresh_dup, IsOk());
  EXPECT_EQ(fresh_dup->message_id(), fresh->message_id());
  EXPECT_EQ(CountsOf("q.fifo"), std::make_tuple(2, 0, 0));
  // After a restart the deduplication state is the same.
  Reopen();
  auto after = service_->SendMessage(SendRequest("q.fifo", "body", "g", "d1"));
  ASSERT_THAT(after, IsOk());
  EXPECT_EQ(after->message_id(), fresh->message_id());
}

TEST_F(QueueNonBlockingTest, FifoDedupOnTheFastPathMatchesTheBlockingPath) {
  Create("q.fifo");
  auto first = service_->SendMessageNonBlocking(SendRequest("q.fifo", "body", "g", "d1"));
  ASSERT_THAT(first, IsOk());
  auto dup = service_->SendMessageNonBlocking(SendRequest("q.fifo", "body", "g", "d1"));
  ASSERT_THAT(dup, IsOk());
  EXPECT_EQ(dup->message_id(), first->message_id());
  clock_.Advance(absl::Minutes(6));
  auto fresh = service_->SendMessageNonBlocking(SendRequest("q.fifo", "body", "g", "d1"));
  ASSERT_THAT(fresh, IsOk());
  EXPECT_NE(fresh->message_id(), first->message_id());
  EXPECT_EQ(CountsOf("q.fifo"), std::make_tuple(2, 0, 0));
  Reopen();
  auto after = service_->SendMessage(SendRequest("q.fifo", "body", "g", "d1"));
  ASSERT_THAT(after, IsOk());
  EXPECT_EQ(after->message_id(), fresh->message_id());
}

}  // namespace
}  // namespace thingtank::queues
