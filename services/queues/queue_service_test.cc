// QueueService on standard queues: visibility, delay, retention, redrive,
// receipt handles, long polling, restart recovery.

#include "services/queues/queue_service.h"

#include <gtest/gtest.h>

#include "services/queues/queue_service_test_util.h"

namespace thingtank::queues {
namespace {

using absl::StatusCode;

TEST_F(QueueServiceTest, CreateIsIdempotentForIdenticalAttributes) {
  v1::QueueAttributes a;
  *a.mutable_visibility_timeout() = Secs(10);
  Create("q1", a);
  v1::CreateQueueRequest same;
  same.set_queue_name("q1");
  *same.mutable_attributes() = a;
  auto r = service_->CreateQueue(same);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->queue_url(), "http://localhost:4566/000000000000/q1");
  *same.mutable_attributes()->mutable_visibility_timeout() = Secs(11);
  EXPECT_THAT(service_->CreateQueue(same).status(),
              IsStatus(StatusCode::kAlreadyExists, "QueueAlreadyExists"));
  auto attrs = Attributes("q1");
  EXPECT_EQ(attrs.attributes().visibility_timeout().seconds(), 10);
  EXPECT_EQ(attrs.attributes().message_retention_period().seconds(), 4 * 24 * 3600);
  EXPECT_EQ(attrs.attributes().maximum_message_size(), 1 << 20);
  EXPECT_EQ(attrs.queue_arn(), "arn:aws:sqs:us-east-1:000000000000:q1");
}

TEST_F(QueueServiceTest, SendReceiveDelete) {
  Create("q");
  auto sent = Send("q", "hello");
  EXPECT_EQ(sent.md5_of_message_body(), "5d41402abc4b2a76b9719d911017c592");
  EXPECT_EQ(sent.message_id().size(), 36u);
  EXPECT_EQ(sent.message_id()[14], '4');  // UUID v4
  EXPECT_TRUE(sent.sequence_number().empty());
  auto got = Receive("q");
  ASSERT_EQ(got.messages_size(), 1);
  const auto& m = got.messages(0);
  EXPECT_EQ(m.message_id(), sent.message_id());
  EXPECT_EQ(m.body(), "hello");
  EXPECT_EQ(m.md5_of_body(), sent.md5_of_message_body());
  EXPECT_EQ(m.attributes().approximate_receive_count(), 1);
  EXPECT_EQ(m.attributes().sent_timestamp().seconds(), absl::ToUnixSeconds(clock_.Now()));
  EXPECT_EQ(CountsOf("q"), std::make_tuple(0, 1, 0));
  ASSERT_TRUE(Delete("q", m.receipt_handle()).ok());
  EXPECT_EQ(CountsOf("q"), std::make_tuple(0, 0, 0));
  EXPECT_EQ(events_.Get("sent", "q"), 1);
  EXPECT_EQ(events_.Get("received", "q"), 1);
  EXPECT_EQ(events_.Get("deleted", "q"), 1);
  // Deleting an already-deleted message succeeds.
  EXPECT_TRUE(Delete("q", m.receipt_handle()).ok());
  EXPECT_EQ(events_.Get("deleted", "q"), 1);
}

TEST_F(QueueServiceTest, MessageReappearsExactlyAfterVisibilityTimeout) {
  v1::QueueAttributes a;
  *a.mutable_visibility_timeout() = Secs(30);
  Create("q", a);
  Send("q", "m");
  ASSERT_EQ(Receive("q").messages_size(), 1);
  clock_.Advance(absl::Seconds(30) - absl::Microseconds(1));
  EXPECT_EQ(Receive("q").messages_size(), 0);
  EXPECT_EQ(CountsOf("q"), std::make_tuple(0, 1, 0));
  clock_.Advance(absl::Microseconds(1));
  auto again = Receive("q");
  ASSERT_EQ(again.messages_size(), 1);
  EXPECT_EQ(again.messages(0).attributes().approximate_receive_count(), 2);
  // The override on receive wins over the queue's timeout.
  clock_.Advance(absl::Seconds(30));
  ASSERT_EQ(Receive("q", 1, 5).messages_size(), 1);
  clock_.Advance(absl::Seconds(5));
  EXPECT_EQ(Receive("q").messages_size(), 1);
}

TEST_F(QueueServiceTest, StaleReceiptHandleDoesNotDelete) {
  v1::QueueAttributes a;
  *a.mutable_visibility_timeout() = Secs(10);
  Create("q", a);
  Send("q", "m");
  const std::string first = Receive("q").messages(0).receipt_handle();
  clock_.Advance(absl::Seconds(10));
  const std::string second = Receive("q").messages(0).receipt_handle();
  EXPECT_NE(first, second);
  EXPECT_TRUE(Delete("q", first).ok());  // succeeds, as SQS
  EXPECT_EQ(CountsOf("q"), std::make_tuple(0, 1, 0));  // but did not delete
  v1::ChangeMessageVisibilityRequest cv;
  cv.set_queue_name("q");
  cv.set_receipt_handle(first);
  *cv.mutable_visibility_timeout() = Secs(0);
  EXPECT_THAT(service_->ChangeMessageVisibility(cv).status(),
              IsStatus(StatusCode::kFailedPrecondition, "MessageNotInflight"));
  EXPECT_TRUE(Delete("q", second).ok());
  EXPECT_EQ(CountsOf("q"), std::make_tuple(0, 0, 0));
}

TEST_F(QueueServiceTest, ChangeVisibilityToZeroMakesVisibleAtOnce) {
  Create("q");
  Send("q", "m");
  auto got = Receive("q");
  v1::ChangeMessageVisibilityRequest cv;
  cv.set_queue_name("q");
  cv.set_receipt_handle(got.messages(0).receipt_handle());
  *cv.mutable_visibility_timeout() = Secs(0);
  ASSERT_TRUE(service_->ChangeMessageVisibility(cv).ok());
  EXPECT_EQ(CountsOf("q"), std::make_tuple(1, 0, 0));
  // Now visible, so no longer in flight.
  EXPECT_THAT(service_->ChangeMessageVisibility(cv).status(),
              IsStatus(StatusCode::kFailedPrecondition, "MessageNotInflight"));
  auto again = Receive("q", 1, 100);
  ASSERT_EQ(again.messages_size(), 1);
  v1::ChangeMessageVisibilityBatchRequest batch;
  batch.set_queue_name("q");
  auto* e = batch.add_entries();
  e->set_id("a");
  e->set_receipt_handle(again.messages(0).receipt_handle());
  *e->mutable_visibility_timeout() = Secs(3);
  auto* bad = batch.add_entries();
  bad->set_id("b");
  bad->set_receipt_handle("garbage");
  auto r = service_->ChangeMessageVisibilityBatch(batch);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->successful_size(), 1);
  ASSERT_EQ(r->failed_size(), 1);
  EXPECT_EQ(r->failed(0).id(), "b");
  EXPECT_EQ(r->failed(0).code(), "ReceiptHandleIsInvalid");
  EXPECT_TRUE(r->failed(0).sender_fault());
  clock_.Advance(absl::Seconds(3));
  EXPECT_EQ(Receive("q").messages_size(), 1);
}

TEST_F(QueueServiceTest, RedriveMovesMessageAfterMaxReceiveCount) {
  Create("dlq");
  v1::QueueAttributes a;
  *a.mutable_visibility_timeout() = Secs(5);
  a.mutable_redrive_policy()->set_dead_letter_queue_name("dlq");
  a.mutable_redrive_policy()->set_max_receive_count(2);
  Create("src", a);
  auto sent = Send("src", "poison");
  ASSERT_EQ(Receive("src").messages_size(), 1);
  clock_.Advance(absl::Seconds(5));
  auto second = Receive("src");
  ASSERT_EQ(second.messages_size(), 1);
  EXPECT_EQ(second.messages(0).attributes().approximate_receive_count(), 2);
  clock_.Advance(absl::Seconds(5));
  EXPECT_EQ(Receive("src").messages_size(), 0);  // third receive: moved instead
  EXPECT_EQ(CountsOf("src"), std::make_tuple(0, 0, 0));
  EXPECT_EQ(events_.Get("redriven", "src"), 1);
  auto dead = Receive("dlq");
  ASSERT_EQ(dead.messages_size(), 1);
  EXPECT_EQ(dead.messages(0).message_id(), sent.message_id());
  EXPECT_EQ(dead.messages(0).body(), "poison");
  EXPECT_EQ(dead.messages(0).attributes().approximate_receive_count(), 1);
  EXPECT_EQ(dead.messages(0).attributes().dead_letter_queue_source_arn(),
            "arn:aws:sqs:us-east-1:000000000000:src");
  v1::ListDeadLetterSourceQueuesRequest list;
  list.set_queue_name("dlq");
  auto sources = service_->ListDeadLetterSourceQueues(list);
  ASSERT_TRUE(sources.ok());
  ASSERT_EQ(sources->queues_size(), 1);
  EXPECT_EQ(sources->queues(0).name(), "src");
}

TEST_F(QueueServiceTest, PerMessageAndQueueDelay) {
  v1::QueueAttributes a;
  *a.mutable_delay() = Secs(5);
  Create("q", a);
  Send("q", "queue-delay");
  Send("q", "own-delay", 10);
  Send("q", "no-delay", 0);
  EXPECT_EQ(CountsOf("q"), std::make_tuple(1, 0, 2));
  auto now = Receive("q");
  ASSERT_EQ(now.messages_size(), 1);
  EXPECT_EQ(now.messages(0).body(), "no-delay");
  clock_.Advance(absl::Seconds(5) - absl::Microseconds(1));
  EXPECT_EQ(Receive("q").messages_size(), 0);
  clock_.Advance(absl::Microseconds(1));
  auto five = Receive("q");
  ASSERT_EQ(five.messages_size(), 1);
  EXPECT_EQ(five.messages(0).body(), "queue-delay");
  clock_.Advance(absl::Seconds(5) - absl::Microseconds(1));
  EXPECT_EQ(Receive("q").messages_size(), 0);
  clock_.Advance(absl::Microseconds(1));
  auto ten = Receive("q");
  ASSERT_EQ(ten.messages_size(), 1);
  EXPECT_EQ(ten.messages(0).body(), "own-delay");
}

TEST_F(QueueServiceTest, RetentionExpiresMessagesAndCountsThem) {
  v1::QueueAttributes a;
  *a.mutable_message_retention_period() = Secs(60);
  Create("q", a);
  Send("q", "a");
  clock_.Advance(absl::Seconds(30));
  Send("q", "b");
  Receive("q", 1);  // "a" in flight: it expires all the same
  clock_.Advance(absl::Seconds(30) - absl::Microseconds(1));
  EXPECT_EQ(events_.Get("expired", "q"), 0);
  clock_.Advance(absl::Microseconds(1));  // the timer fires: "a" expires
  EXPECT_EQ(events_.Get("expired", "q"), 1);
  EXPECT_EQ(CountsOf("q"), std::make_tuple(1, 0, 0));
  clock_.Advance(absl::Seconds(30));
  EXPECT_EQ(events_.Get("expired", "q"), 2);
  EXPECT_EQ(CountsOf("q"), std::make_tuple(0, 0, 0));
  EXPECT_EQ(Receive("q").messages_size(), 0);
}

TEST_F(QueueServiceTest, LongPollWakesOnSend) {
  Create("q");
  v1::ReceiveMessagesRequest req;
  req.set_queue_name("q");
  *req.mutable_wait_time() = Secs(20);
  auto pending = StartReceive(req);
  EXPECT_FALSE(pending->called);
  Send("q", "wake");
  ASSERT_TRUE(pending->called);
  ASSERT_TRUE(pending->result.ok()) << pending->result.status();
  ASSERT_EQ(pending->result->messages_size(), 1);
  EXPECT_EQ(pending->result->messages(0).body(), "wake");
  // The timeout timer was cancelled: advancing does not call again.
  clock_.Advance(absl::Seconds(30));
}

// A long poll whose caller went away (RPC cancelled) must not take the
// message: it would stay invisible for its visibility timeout for nobody.
TEST_F(QueueServiceTest, CancelledLongPollTakesNoMessage) {
  Create("q");
  v1::ReceiveMessagesRequest req;
  req.set_queue_name("q");
  *req.mutable_wait_time() = Secs(20);
  bool gone = false;
  auto abandoned = StartReceive(req, [&gone] { return gone; });
  auto live = StartReceive(req);
  gone = true;
  Send("q", "m");
  ASSERT_TRUE(abandoned->called);
  EXPECT_EQ(abandoned->result.status().code(), absl::StatusCode::kCancelled);
  ASSERT_TRUE(live->called) << "the next waiter gets the message";
  ASSERT_TRUE(live->result.ok());
  ASSERT_EQ(live->result->messages_size(), 1);
  EXPECT_EQ(live->result->messages(0).body(), "m");
  clock_.Advance(absl::Seconds(30));  // no timer of the abandoned waiter fires
}

TEST_F(QueueServiceTest, LongPollWakesWhenDelayPasses) {
  Create("q");
  Send("q", "later", 5);
  v1::ReceiveMessagesRequest req;
  req.set_queue_name("q");
  *req.mutable_wait_time() = Secs(20);
  auto pending = StartReceive(req);
  clock_.Advance(absl::Seconds(5) - absl::Microseconds(1));
  EXPECT_FALSE(pending->called);
  clock_.Advance(absl::Microseconds(1));
  ASSERT_TRUE(pending->called);
  ASSERT_TRUE(pending->result.ok());
  ASSERT_EQ(pending->result->messages_size(), 1);
  EXPECT_EQ(pending->result->messages(0).body(), "later");
}

TEST_F(QueueServiceTest, LongPollWakesWhenVisibilityExpires) {
  v1::QueueAttributes a;
  *a.mutable_visibility_timeout() = Secs(3);
  Create("q", a);
  Send("q", "m");
  Receive("q");
  v1::ReceiveMessagesRequest req;
  req.set_queue_name("q");
  *req.mutable_wait_time() = Secs(20);
  auto pending = StartReceive(req);
  EXPECT_FALSE(pending->called);
  clock_.Advance(absl::Seconds(3));
  ASSERT_TRUE(pending->called);
  ASSERT_EQ(pending->result->messages_size(), 1);
  EXPECT_EQ(pending->result->messages(0).attributes().approximate_receive_count(), 2);
}

TEST_F(QueueServiceTest, LongPollReturnsEmptyAtWaitTimeout) {
  v1::QueueAttributes a;
  *a.mutable_receive_message_wait_time() = Secs(20);  // queue default applies
  Create("q", a);
  v1::ReceiveMessagesRequest req;
  req.set_queue_name("q");
  auto pending = StartReceive(req);
  clock_.Advance(absl::Seconds(20) - absl::Microseconds(1));
  EXPECT_FALSE(pending->called);
  clock_.Advance(absl::Microseconds(1));
  ASSERT_TRUE(pending->called);
  ASSERT_TRUE(pending->result.ok());
  EXPECT_EQ(pending->result->messages_size(), 0);
  // A later send is not delivered to the finished poll.
  Send("q", "m");
  EXPECT_EQ(CountsOf("q"), std::make_tuple(1, 0, 0));
}

TEST_F(QueueServiceTest, DrainAnswersWaitingPollsEmptyAndKeepsMessages) {
  Create("q");
  v1::ReceiveMessagesRequest req;
  req.set_queue_name("q");
  *req.mutable_wait_time() = Secs(20);
  auto pending = StartReceive(req);
  EXPECT_FALSE(pending->called);
  service_->Drain();
  ASSERT_TRUE(pending->called);
  ASSERT_TRUE(pending->result.ok()) << pending->result.status();
  EXPECT_EQ(pending->result->messages_size(), 0);
  // The drained poll takes nothing sent afterwards.
  Send("q", "m");
  EXPECT_EQ(CountsOf("q"), std::make_tuple(1, 0, 0));
}

TEST_F(QueueServiceTest, DeleteQueueAnswersWaitersAndRecreateInvalidatesHandles) {
  Create("q");
  Send("q", "m");
  const std::string handle = Receive("q").messages(0).receipt_handle();
  v1::ReceiveMessagesRequest req;
  req.set_queue_name("q");
  *req.mutable_wait_time() = Secs(20);
  auto pending = StartReceive(req);
  v1::DeleteQueueRequest del;
  del.set_queue_name("q");
  ASSERT_TRUE(service_->DeleteQueue(del).ok());
  ASSERT_TRUE(pending->called);
  EXPECT_THAT(pending->result.status(), IsStatus(StatusCode::kNotFound, "QueueDoesNotExist"));
  EXPECT_THAT(Delete("q", handle), IsStatus(StatusCode::kNotFound, "QueueDoesNotExist"));
  Create("q");
  EXPECT_EQ(CountsOf("q"), std::make_tuple(0, 0, 0));
  EXPECT_THAT(Delete("q", handle),
              IsStatus(StatusCode::kInvalidArgument, "ReceiptHandleIsInvalid", "receipt_handle"));
}

TEST_F(QueueServiceTest, PurgeDeletesEveryMessage) {
  Create("q");
  Send("q", "a");
  Send("q", "b", 100);
  Send("q", "c");
  Receive("q", 1);
  v1::PurgeQueueRequest purge;
  purge.set_queue_name("q");
  auto r = service_->PurgeQueue(purge);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->purged_count(), 3);
  EXPECT_EQ(CountsOf("q"), std::make_tuple(0, 0, 0));
  Reopen();
  EXPECT_EQ(CountsOf("q"), std::make_tuple(0, 0, 0));
}

TEST_F(QueueServiceTest, InFlightLimitGivesOverLimit) {
  service_.reset();
  db_.reset();
  options_.max_in_flight_standard = 2;
  Open();
  Create("q");
  for (int i = 0; i < 3; ++i) Send("q", "m");
  EXPECT_EQ(Receive("q", 2).messages_size(), 2);
  EXPECT_THAT(TryReceive("q").status(), IsStatus(StatusCode::kResourceExhausted, "OverLimit"));
}

TEST_F(QueueServiceTest, RestartRecoversMessagesInFlightStateAndHandles) {
  v1::QueueAttributes a;
  *a.mutable_visibility_timeout() = Secs(30);
  Create("q", a);
  Send("q", "a");
  Send("q", "b");
  Send("q", "c", 60);
  auto got = Receive("q", 1);
  ASSERT_EQ(got.messages_size(), 1);
  EXPECT_EQ(got.messages(0).body(), "a");
  Reopen();
  EXPECT_EQ(CountsOf("q"), std::make_tuple(1, 1, 1));
  EXPECT_EQ(Receive("q", 10).messages(0).body(), "b");
  clock_.Advance(absl::Seconds(30));  // "a" comes back after its timeout
  auto back = Receive("q", 10);
  ASSERT_EQ(back.messages_size(), 2);  // a, and b again
  EXPECT_EQ(back.messages(0).body(), "a");
  EXPECT_EQ(back.messages(0).attributes().approximate_receive_count(), 2);
  EXPECT_EQ(back.messages(0).attributes().approximate_first_receive_timestamp().seconds(),
            got.messages(0).attributes().approximate_first_receive_timestamp().seconds());
  // A handle issued before a restart still deletes.
  const std::string handle = back.messages(0).receipt_handle();
  Reopen();
  ASSERT_TRUE(Delete("q", handle).ok());
  EXPECT_EQ(CountsOf("q"), std::make_tuple(0, 1, 1));
  clock_.Advance(absl::Seconds(30));
  auto c = Receive("q", 10);
  ASSERT_EQ(c.messages_size(), 2);  // b (visible again) and c (delay over)
}

TEST_F(QueueServiceTest, ListQueuesPagesInNameOrder) {
  for (const char* n : {"b2", "a1", "b1", "b3", "c1"}) Create(n);
  v1::ListQueuesRequest req;
  req.set_queue_name_prefix("b");
  req.set_page_size(2);
  auto p1 = service_->ListQueues(req);
  ASSERT_TRUE(p1.ok());
  ASSERT_EQ(p1->queues_size(), 2);
  EXPECT_EQ(p1->queues(0).name(), "b1");
  EXPECT_EQ(p1->queues(1).name(), "b2");
  ASSERT_FALSE(p1->next_page_token().empty());
  req.set_page_token(p1->next_page_token());
  auto p2 = service_->ListQueues(req);
  ASSERT_TRUE(p2.ok());
  ASSERT_EQ(p2->queues_size(), 1);
  EXPECT_EQ(p2->queues(0).name(), "b3");
  EXPECT_TRUE(p2->next_page_token().empty());
  v1::ListQueuesRequest all;
  auto everything = service_->ListQueues(all);
  ASSERT_TRUE(everything.ok());
  EXPECT_EQ(everything->queues_size(), 5);
  all.set_page_token("!!not-a-token!!");
  EXPECT_THAT(service_->ListQueues(all).status(),
              IsStatus(StatusCode::kInvalidArgument, "InvalidParameterValue", "page_token"));
}

TEST_F(QueueServiceTest, BatchSendReportsEntriesOnTheirOwn) {
  Create("q");
  v1::SendMessageBatchRequest req;
  req.set_queue_name("q");
  auto* ok = req.add_entries();
  ok->set_id("ok");
  ok->set_message_body("fine");
  auto* bad = req.add_entries();
  bad->set_id("bad");
  auto r = service_->SendMessageBatch(req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->successful_size(), 1);
  EXPECT_EQ(r->successful(0).id(), "ok");
  ASSERT_EQ(r->failed_size(), 1);
  EXPECT_EQ(r->failed(0).id(), "bad");
  EXPECT_EQ(r->failed(0).code(), "InvalidParameterValue");
  EXPECT_NE(r->failed(0).message().find("entries[1].message_body"), std::string::npos);
  EXPECT_TRUE(r->failed(0).sender_fault());

  auto got = Receive("q");
  v1::DeleteMessageBatchRequest del;
  del.set_queue_name("q");
  auto* e = del.add_entries();
  e->set_id("x");
  e->set_receipt_handle(got.messages(0).receipt_handle());
  auto d = service_->DeleteMessageBatch(del);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->successful_size(), 1);
  EXPECT_EQ(CountsOf("q"), std::make_tuple(0, 0, 0));
}

TEST_F(QueueServiceTest, MessageAttributesAreFilteredOnReceive) {
  Create("q");
  v1::SendMessageRequest req;
  req.set_queue_name("q");
  req.set_message_body("body");
  auto& attrs = *req.mutable_message_attributes();
  attrs["City"].set_data_type("String");
  attrs["City"].set_string_value("Any City");
  attrs["Population"].set_data_type("Number");
  attrs["Population"].set_string_value("1250800");
  auto sent = service_->SendMessage(req);
  ASSERT_TRUE(sent.ok()) << sent.status();
  EXPECT_EQ(sent->md5_of_message_attributes(), "bf1eb494fecc925abadc71de4be9785c");
  v1::ReceiveMessagesRequest r;
  r.set_queue_name("q");
  r.add_message_attribute_names("City");
  auto slot = StartReceive(r);
  ASSERT_TRUE(slot->called && slot->result.ok());
  const auto& m = slot->result->messages(0);
  EXPECT_EQ(m.message_attributes_size(), 1);
  EXPECT_EQ(m.message_attributes().at("City").string_value(), "Any City");
  EXPECT_EQ(m.md5_of_message_attributes(), "bf1eb494fecc925abadc71de4be9785c");
}

TEST_F(QueueServiceTest, SetQueueAttributesChangesOnlyWhatIsSet) {
  Create("q");
  Create("dlq.fifo");
  v1::SetQueueAttributesRequest req;
  req.set_queue_name("q");
  *req.mutable_attributes()->mutable_delay() = Secs(7);
  ASSERT_TRUE(service_->SetQueueAttributes(req).ok());
  auto a = Attributes("q");
  EXPECT_EQ(a.attributes().delay().seconds(), 7);
  EXPECT_EQ(a.attributes().visibility_timeout().seconds(), 30);
  req.mutable_attributes()->set_fifo_queue(true);
  EXPECT_THAT(service_->SetQueueAttributes(req).status(),
              IsStatus(StatusCode::kInvalidArgument, "InvalidAttributeValue",
                       "attributes.fifo_queue"));
  req.mutable_attributes()->clear_fifo_queue();
  req.mutable_attributes()->mutable_redrive_policy()->set_dead_letter_queue_name("dlq.fifo");
  req.mutable_attributes()->mutable_redrive_policy()->set_max_receive_count(3);
  EXPECT_THAT(service_->SetQueueAttributes(req).status(),
              IsStatus(StatusCode::kInvalidArgument, "InvalidAttributeValue",
                       "attributes.redrive_policy.dead_letter_queue_name"));
  req.mutable_attributes()->mutable_redrive_policy()->set_dead_letter_queue_name("missing");
  EXPECT_THAT(service_->SetQueueAttributes(req).status(),
              IsStatus(StatusCode::kInvalidArgument, "InvalidAttributeValue",
                       "attributes.redrive_policy.dead_letter_queue_name"));
}

TEST_F(QueueServiceTest, CountsListsEveryQueue) {
  Create("a");
  Create("b");
  Send("b", "x");
  Send("b", "y", 10);
  auto counts = service_->Counts();
  ASSERT_EQ(counts.size(), 2u);
  EXPECT_EQ(counts[1].queue, "b");
  EXPECT_EQ(counts[1].visible, 1);
  EXPECT_EQ(counts[1].delayed, 1);
}

}  // namespace
}  // namespace thingtank::queues
