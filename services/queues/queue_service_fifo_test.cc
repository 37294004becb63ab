// QueueService on FIFO queues: group order and locking, deduplication
// window, sequence numbers, and their survival across restarts.

#include <gtest/gtest.h>

#include "services/queues/queue_service.h"
#include "services/queues/queue_service_test_util.h"

namespace thingtank::queues {
namespace {

using absl::StatusCode;

std::vector<std::string> Bodies(const v1::ReceiveMessagesResponse& r) {
  std::vector<std::string> out;
  for (const auto& m : r.messages()) out.push_back(m.body());
  return out;
}

class FifoTest : public QueueServiceTest {
 protected:
  void SetUp() override {
    QueueServiceTest::SetUp();
    v1::QueueAttributes a;
    *a.mutable_visibility_timeout() = Secs(30);
    Create("f.fifo", a);
  }
  v1::SendMessageResponse SendF(const std::string& body, const std::string& group,
                                const std::string& dedup) {
    return Send("f.fifo", body, std::nullopt, group, dedup);
  }
};

TEST_F(FifoTest, StrictOrderWithinGroupAndGroupLocking) {
  SendF("a1", "A", "1");
  SendF("b1", "B", "2");
  SendF("a2", "A", "3");
  auto first = Receive("f.fifo", 1);
  EXPECT_EQ(Bodies(first), std::vector<std::string>{"a1"});
  // A is locked while a1 is in flight: only B delivers.
  auto second = Receive("f.fifo", 10);
  EXPECT_EQ(Bodies(second), std::vector<std::string>{"b1"});
  EXPECT_EQ(Receive("f.fifo", 10).messages_size(), 0);
  ASSERT_TRUE(Delete("f.fifo", first.messages(0).receipt_handle()).ok());
  EXPECT_EQ(Bodies(Receive("f.fifo", 10)), std::vector<std::string>{"a2"});
}

TEST_F(FifoTest, OneReceiveReturnsConsecutiveMessagesOfAGroup) {
  SendF("a1", "A", "1");
  SendF("a2", "A", "2");
  SendF("b1", "B", "3");
  SendF("a3", "A", "4");
  auto got = Receive("f.fifo", 10);
  EXPECT_EQ(Bodies(got), (std::vector<std::string>{"a1", "a2", "a3", "b1"}));
}

TEST_F(FifoTest, VisibilityExpiryRedeliversInOrder) {
  SendF("a1", "A", "1");
  SendF("a2", "A", "2");
  EXPECT_EQ(Bodies(Receive("f.fifo", 1)), std::vector<std::string>{"a1"});
  clock_.Advance(absl::Seconds(30) - absl::Microseconds(1));
  EXPECT_EQ(Receive("f.fifo", 10).messages_size(), 0);
  clock_.Advance(absl::Microseconds(1));
  EXPECT_EQ(Bodies(Receive("f.fifo", 10)), (std::vector<std::string>{"a1", "a2"}));
}

TEST_F(FifoTest, DeduplicationWindowEvenAfterDelete) {
  auto original = SendF("m", "A", "dup");
  ASSERT_FALSE(original.sequence_number().empty());
  EXPECT_EQ(original.sequence_number().size(), 20u);
  auto dup = SendF("other body", "A", "dup");
  EXPECT_EQ(dup.message_id(), original.message_id());
  EXPECT_EQ(dup.sequence_number(), original.sequence_number());
  EXPECT_EQ(CountsOf("f.fifo"), std::make_tuple(1, 0, 0));
  auto got = Receive("f.fifo");
  ASSERT_TRUE(Delete("f.fifo", got.messages(0).receipt_handle()).ok());
  clock_.Advance(absl::Minutes(5) - absl::Microseconds(1));
  auto after_delete = SendF("m", "A", "dup");
  EXPECT_EQ(after_delete.message_id(), original.message_id());
  EXPECT_EQ(CountsOf("f.fifo"), std::make_tuple(0, 0, 0));
  clock_.Advance(absl::Microseconds(1));
  auto fresh = SendF("m", "A", "dup");
  EXPECT_NE(fresh.message_id(), original.message_id());
  EXPECT_GT(fresh.sequence_number(), original.sequence_number());
  EXPECT_EQ(CountsOf("f.fifo"), std::make_tuple(1, 0, 0));
}

TEST_F(FifoTest, DuplicateWithinOneBatchIsSuppressed) {
  v1::SendMessageBatchRequest req;
  req.set_queue_name("f.fifo");
  for (const char* id : {"e1", "e2"}) {
    auto* e = req.add_entries();
    e->set_id(id);
    e->set_message_body("x");
    e->set_message_group_id("g");
    e->set_message_deduplication_id("same");
  }
  auto r = service_->SendMessageBatch(req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->successful_size(), 2);
  EXPECT_EQ(r->successful(0).message_id(), r->successful(1).message_id());
  EXPECT_EQ(CountsOf("f.fifo"), std::make_tuple(1, 0, 0));
}

TEST_F(FifoTest, ContentBasedDeduplicationUsesBodyHash) {
  v1::QueueAttributes a;
  a.set_content_based_deduplication(true);
  Create("c.fifo", a);
  auto one = Send("c.fifo", "same", std::nullopt, "g");
  auto two = Send("c.fifo", "same", std::nullopt, "g");
  auto three = Send("c.fifo", "different", std::nullopt, "g");
  EXPECT_EQ(one.message_id(), two.message_id());
  EXPECT_NE(one.message_id(), three.message_id());
  auto got = Receive("c.fifo", 10);
  ASSERT_EQ(got.messages_size(), 2);
  EXPECT_EQ(got.messages(0).attributes().message_deduplication_id(),
            "0967115f2813a3541eaef77de9d9d5773f1c0c04314b0bbfe4ff3b3b1c55b5d5");
}

TEST_F(FifoTest, SequenceNumbersIncreaseAndSurviveRestartWithDedup) {
  auto s1 = SendF("a", "A", "1");
  auto s2 = SendF("b", "B", "2");
  EXPECT_LT(s1.sequence_number(), s2.sequence_number());
  auto got = Receive("f.fifo", 1);
  ASSERT_TRUE(Delete("f.fifo", got.messages(0).receipt_handle()).ok());
  Reopen();
  // Dedup entry of the deleted message survives the restart.
  auto dup = SendF("a", "A", "1");
  EXPECT_EQ(dup.message_id(), s1.message_id());
  auto s3 = SendF("c", "C", "3");
  EXPECT_GT(s3.sequence_number(), s2.sequence_number());
  auto rest = Receive("f.fifo", 10);
  EXPECT_EQ(Bodies(rest), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(rest.messages(0).attributes().sequence_number(), s2.sequence_number());
  EXPECT_EQ(rest.messages(0).attributes().message_group_id(), "B");
}

TEST_F(FifoTest, FifoRulesAreValidated) {
  v1::SendMessageRequest req;
  req.set_queue_name("f.fifo");
  req.set_message_body("x");
  req.set_message_deduplication_id("d");
  EXPECT_THAT(service_->SendMessage(req).status(),
              IsStatus(StatusCode::kInvalidArgument, "MissingParameter", "message_group_id"));
  req.set_message_group_id("g");
  req.clear_message_deduplication_id();
  EXPECT_THAT(service_->SendMessage(req).status(),
              IsStatus(StatusCode::kInvalidArgument, "InvalidParameterValue",
                       "message_deduplication_id"));
  req.set_message_deduplication_id("d");
  *req.mutable_delay() = Secs(5);
  EXPECT_THAT(service_->SendMessage(req).status(),
              IsStatus(StatusCode::kInvalidArgument, "InvalidParameterValue", "delay"));
  // A standard queue refuses FIFO-only fields.
  Create("std");
  req.set_queue_name("std");
  req.clear_delay();
  EXPECT_THAT(service_->SendMessage(req).status(),
              IsStatus(StatusCode::kInvalidArgument, "InvalidParameterValue", "message_group_id"));
  // Kinds must match between a queue and its dead-letter queue.
  v1::CreateQueueRequest create;
  create.set_queue_name("src.fifo");
  create.mutable_attributes()->set_fifo_queue(true);
  create.mutable_attributes()->mutable_redrive_policy()->set_dead_letter_queue_name("std");
  create.mutable_attributes()->mutable_redrive_policy()->set_max_receive_count(1);
  EXPECT_THAT(service_->CreateQueue(create).status(),
              IsStatus(StatusCode::kInvalidArgument, "InvalidAttributeValue",
                       "attributes.redrive_policy.dead_letter_queue_name"));
}

TEST_F(FifoTest, RedriveToFifoDeadLetterQueue) {
  v1::QueueAttributes a;
  a.mutable_redrive_policy()->set_dead_letter_queue_name("f.fifo");
  a.mutable_redrive_policy()->set_max_receive_count(1);
  *a.mutable_visibility_timeout() = Secs(1);
  Create("src.fifo", a);
  auto sent = Send("src.fifo", "m", std::nullopt, "g", "d");
  ASSERT_EQ(Receive("src.fifo").messages_size(), 1);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(Receive("src.fifo").messages_size(), 0);
  auto dead = Receive("f.fifo");
  ASSERT_EQ(dead.messages_size(), 1);
  EXPECT_EQ(dead.messages(0).message_id(), sent.message_id());
  EXPECT_EQ(dead.messages(0).attributes().message_group_id(), "g");
  EXPECT_EQ(events_.Get("redriven", "src.fifo"), 1);
}

}  // namespace
}  // namespace thingtank::queues
